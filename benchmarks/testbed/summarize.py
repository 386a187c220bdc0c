"""Summarise a testbed run folder (benchmarks/testbed/run.sh): learning curve and seed spread, as markdown.

    python3 benchmarks/testbed/summarize.py runs/testbed [CONFIG]   →  markdown on stdout, JSON next to the runs
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

VALID = re.compile(r"valid on 'valid' subset \| loss ([\d.]+) \|.*\| num_updates (\d+)")


def updates_of(checkpoint: str, max_update: int) -> int:
    """checkpoint_E_U → U; checkpoint_last → the run's final update."""
    match = re.fullmatch(r"checkpoint_\d+_(\d+)", checkpoint)
    return int(match.group(1)) if match else max_update


def spread(values: list[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def read_run(run: Path) -> dict:
    summary = json.loads((run / "train_summary.json").read_text()) if (run / "train_summary.json").exists() else {}
    max_update = summary.get("max_update", 0)
    valid = {}
    if (run / "train.log").exists():
        for line in (run / "train.log").read_text(errors="replace").splitlines():
            match = VALID.search(line)
            if match:
                valid[int(match.group(2))] = float(match.group(1))
    scores = defaultdict(dict)  # (updates, split, direction) -> {"bleu", "chrf"}
    if (run / "scores.tsv").exists():
        for line in (run / "scores.tsv").read_text().splitlines():
            checkpoint, split, direction, bleu, chrf = line.split("\t")
            scores[(updates_of(checkpoint, max_update), split, direction)] = {"bleu": float(bleu), "chrf": float(chrf)}
    return {"seed": run.name, "max_update": max_update, "wall_seconds": summary.get("wall_seconds"),
            "resumed": summary.get("resumed"), "valid_loss": valid, "scores": dict(scores),
            "load": (run / ".done").read_text().strip() if (run / ".done").exists() else None}


def main(folder: str, config: str = "") -> None:
    runs = [read_run(run) for run in sorted(Path(folder).glob("seed*")) if run.is_dir()]
    if not runs:
        sys.exit(f"{folder}: no seed* runs")
    directions = sorted({key[2] for run in runs for key in run["scores"]})
    final = max(run["max_update"] for run in runs)
    print(f"### Testbed: {folder} ({config or 'config not given'})\n")
    print(f"Seeds: {', '.join(r['seed'] for r in runs)}; {final} updates.\n")
    print("| seed | wall (train) | " + " | ".join(f"test {d} chrF++ / BLEU" for d in directions) + " |")
    print("|---|---|" + "---|" * len(directions))
    for run in runs:
        cells = []
        for direction in directions:
            score = run["scores"].get((run["max_update"], "test", direction))
            cells.append(f"{score['chrf']:.1f} / {score['bleu']:.1f}" if score else "–")
        wall = f"{run['wall_seconds'] / 60:.1f} min" + (" (resumed)" if run["resumed"] else "") if run["wall_seconds"] else "–"
        print(f"| {run['seed']} | {wall} | " + " | ".join(cells) + " |")
    for direction in directions:
        chrf = [r["scores"][(r["max_update"], "test", direction)]["chrf"] for r in runs
                if (r["max_update"], "test", direction) in r["scores"]]
        bleu = [r["scores"][(r["max_update"], "test", direction)]["bleu"] for r in runs
                if (r["max_update"], "test", direction) in r["scores"]]
        print(f"\n**{direction}, test, final ({final} updates), mean ± sd (min–max) over {len(chrf)} seeds:** "
              f"chrF++ {spread(chrf)}, BLEU {spread(bleu)}")
    print("\nLearning curve (mean over seeds; dev loss is fairseq's label-smoothed loss in base 2):\n")
    print("| updates | dev loss | " + " | ".join(f"dev {d} chrF++ | test {d} chrF++ | test {d} BLEU" for d in directions) + " |")
    print("|---|---|" + "---|---|---|" * len(directions))
    steps = sorted({key[0] for run in runs for key in run["scores"]} | {u for run in runs for u in run["valid_loss"]})
    for step in steps:
        losses = [r["valid_loss"][step] for r in runs if step in r["valid_loss"]]
        cells = [f"{statistics.mean(losses):.3f}" if losses else "–"]
        for direction in directions:
            for split, metric in (("dev", "chrf"), ("test", "chrf"), ("test", "bleu")):
                values = [r["scores"][(step, split, direction)][metric] for r in runs if (step, split, direction) in r["scores"]]
                cells.append(f"{statistics.mean(values):.1f}" if values else "–")
        print(f"| {step} | " + " | ".join(cells) + " |")
    Path(folder, "results.json").write_text(json.dumps(
        [{**r, "scores": {f"{k[0]}/{k[1]}/{k[2]}": v for k, v in r["scores"].items()}} for r in runs], indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
