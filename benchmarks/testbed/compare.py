"""Compare testbed arms at their final update: test chrF++/BLEU mean ± sd over seeds, and each arm against the first.

    python3 benchmarks/testbed/compare.py runs/tb-bilevel/uniform runs/tb-bilevel/temperature runs/tb-bilevel/bilevel
    python3 benchmarks/testbed/compare.py --at 750 runs/testbed runs/testbed-bt/bt   # every arm at update 750

`--at N` reads each seed's score at update N instead of its final one: an arm trained longer is compared through its
interval checkpoint at N. That is the same model as a run stopped at N because the testbed's schedule
(inverse_sqrt, no decay to a planned end) does not depend on max_update.

Each ARM folder holds seed*/ runs written by benchmarks/testbed/run.sh. A difference is called real here only
when it exceeds the larger of the two arms' seed ranges (max − min); with 2–3 seeds nothing finer is claimed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from summarize import read_run, spread  # noqa: E402


def final_scores(arm: Path, direction: str, metric: str, at: int | None = None) -> list[float]:
    values = []
    for run_dir in sorted(arm.glob("seed*")):
        run = read_run(run_dir)
        score = run["scores"].get((at or run["max_update"], "test", direction))
        if score:
            values.append(score[metric])
    return values


def final_weights(arm: Path) -> str:
    weights = []
    for log in sorted(arm.glob("seed*/weights.jsonl")):
        lines = log.read_text().splitlines()
        if lines:
            weights.append(json.loads(lines[-1])["weights"])
    if not weights:
        return "–"
    return ", ".join(f"{k} {statistics.mean(w[k] for w in weights):.2f}" for k in weights[0])


def seconds_per_update(arm: Path) -> str:
    values = []
    for summary in sorted(arm.glob("seed*/train_summary.json")):
        data = json.loads(summary.read_text())
        if not data.get("resumed") and data.get("max_update"):
            values.append(data["wall_seconds"] / data["max_update"])
    return f"{statistics.mean(values):.2f}" if values else "–"


def main(arms: list[str], at: int | None = None) -> None:
    arms_paths = [Path(a) for a in arms]
    directions = sorted({line.split("\t")[2] for arm in arms_paths for f in arm.glob("seed*/scores.tsv")
                         for line in f.read_text().splitlines()})
    for direction in directions:
        when = f"update {at}" if at else "final"
        print(f"\n| arm ({direction}, test, {when}) | seeds | chrF++ mean ± sd (min–max) | BLEU mean ± sd | Δ chrF++ vs {arms_paths[0].name} | beyond seed range? | s/update | final weights |")
        print("|---|---|---|---|---|---|---|---|")
        reference = final_scores(arms_paths[0], direction, "chrf", at)
        for arm in arms_paths:
            chrf = final_scores(arm, direction, "chrf", at)
            bleu = final_scores(arm, direction, "bleu", at)
            if chrf and reference and arm != arms_paths[0]:
                delta = statistics.mean(chrf) - statistics.mean(reference)
                noise = max(max(chrf) - min(chrf), max(reference) - min(reference))
                verdict = "yes" if abs(delta) > noise else "no"
                delta_text = f"{delta:+.1f}"
            else:
                delta_text, verdict = "–", "–"
            print(f"| {arm.name} | {len(chrf)} | {spread(chrf)} | {spread(bleu)} | {delta_text} | {verdict} | "
                  f"{seconds_per_update(arm)} | {final_weights(arm)} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="compare testbed arms (folders of seed*/ runs)")
    parser.add_argument("arms", nargs="+", help="arm folders; the first is the reference")
    parser.add_argument("--at", type=int, default=None, help="read every arm at this update instead of its final one")
    options = parser.parse_args()
    main(options.arms, options.at)
