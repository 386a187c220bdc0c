"""Mean ℓ_g(w) − ℓ_g(u) per source over equal windows of a bilevel weight log (benchmarks/testbed/null_run.sh).

    python3 benchmarks/testbed/signal_gap.py runs/why/null-interval2/weights.jsonl 300   # three windows of 100

In a null run (dev term off, λ frozen) w and u share one objective, so every mean should stay ≈ 0.
"""

from __future__ import annotations

import statistics
import sys

from volctrans.plot import read_weight_log


def window_gaps(records: list[dict], updates: int, windows: int = 3) -> list[tuple[int, int, dict[str, float]]]:
    """(first update, last update, {source: mean ℓ(w) − ℓ(u)}) for each window of updates/windows updates."""
    width = max(1, updates // windows)
    result = []
    for start in range(0, updates, width):
        gaps: dict[str, list[float]] = {}
        for record in records:
            if start < record["update"] <= start + width:
                for group, loss in record.get("loss_w", {}).items():
                    if group in record.get("loss_u", {}):
                        gaps.setdefault(group, []).append(loss - record["loss_u"][group])
        result.append((start + 1, start + width, {g: statistics.mean(v) for g, v in sorted(gaps.items())}))
    return result


if __name__ == "__main__":
    for first, last, means in window_gaps(read_weight_log(sys.argv[1]), int(sys.argv[2])):
        print(f"updates {first}-{last}: mean l(w) - l(u) " + ", ".join(f"{g} {m:+.3f}" for g, m in means.items()))
