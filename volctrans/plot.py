"""Plot learned source weights (the bilevel JSONL log) over training updates."""

from __future__ import annotations

import json
from pathlib import Path

from volctrans.errors import InputError
from volctrans.io import iter_lines


def read_weight_log(path: str | Path) -> list[dict]:
    records = []
    for line, text in iter_lines(path):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(str(path), line, f"invalid JSON: {error.msg}") from None
        if "update" not in record or "weights" not in record:
            raise InputError(str(path), line, "record needs 'update' and 'weights'")
        records.append(record)
    return records


def plot_weights(log_path: str | Path, out_path: str | Path, title: str | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    records = read_weight_log(log_path)
    groups = sorted({group for record in records for group in record["weights"]})
    figure, axis = plt.subplots(figsize=(7, 4), dpi=120)
    for group in groups:
        points = [(r["update"], r["weights"][group]) for r in records if group in r["weights"]]
        axis.plot([u for u, _ in points], [w for _, w in points], label=group, linewidth=1.8)
    axis.set_xlabel("update")
    axis.set_ylabel("weight (softmax λ)")
    axis.set_ylim(0, 1)
    axis.grid(alpha=0.3)
    axis.legend()
    axis.set_title(title or f"learned source weights — {Path(log_path).parent.name}")
    figure.tight_layout()
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.tmp.png")
    figure.savefig(temp)
    plt.close(figure)
    temp.replace(out)
    return out
