"""One-line summaries of the artifacts a pipeline leaves behind: what recipes print between stages and what a user
types to see what a folder holds (`volctrans show PATH`). Each artifact is recognised by its contract file
(volctrans.artifacts, volctrans.data.corpus): a prepared folder, a corpus folder, a training save_dir, a bilevel
weight log, a scores JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from volctrans.artifacts import PREPARED, TRAIN_SUMMARY, load_prepared
from volctrans.data.corpus import MANIFEST, Manifest
from volctrans.errors import InputError, VolctransError
from volctrans.plot import read_weight_log


def prepared_lines(directory: Path) -> list[str]:
    prepared = load_prepared(directory)
    counts = {name: sum(c["train"] for c in source["pairs"].values()) for name, source in prepared["sources"].items()}
    return [f"binarized train pairs: {counts} | vocabulary {prepared['vocabulary']}"]


def corpus_lines(directory: Path) -> list[str]:
    manifest = Manifest.load(directory)
    counts = {pair: splits.get("train", 0) for pair, splits in manifest.pairs.items()}
    return [f"{manifest.name}: train pairs {counts}"]


def training_lines(directory: Path) -> list[str]:
    summary = _json(directory / TRAIN_SUMMARY)
    missing = [key for key in ("max_update", "wall_seconds", "peak_rss_mb") if key not in summary]
    if missing:
        raise InputError(str(directory / TRAIN_SUMMARY), None, f"missing {', '.join(missing)}")
    line = (f"{directory.name}: {summary['max_update']} updates ({summary.get('weighting', '?')} weighting) in "
            f"{summary['wall_seconds']:.0f} s, peak RSS {summary['peak_rss_mb']:.0f} MB")
    return [line + (" (resumed)" if summary.get("resumed") else "")]


def weight_lines(records: list[dict], rows: int = 6) -> list[str]:
    """About `rows` evenly spaced records of a bilevel weight log, always with the last one."""
    if not records:
        return []
    shown = records[:: max(1, len(records) // max(1, rows - 1))]
    if shown[-1] is not records[-1]:
        shown.append(records[-1])
    return [f"update {r['update']:>5}: " + ", ".join(f"{group}={weight:.3f}" for group, weight in r["weights"].items())
            for r in shown]


def score_lines(scores: dict) -> list[str]:
    """Per system: the average chrF++ over its pairs, then each pair's chrF++/BLEU."""
    systems: dict[str, list[dict]] = {}
    for pair in scores["pairs"]:
        systems.setdefault(pair["system"], []).append(pair)
    width = max((len(name) for name in systems), default=0)
    lines = []
    for name, pairs in systems.items():
        mean = sum(p["chrf"] for p in pairs) / len(pairs)
        cells = ", ".join(f"{p['pair']} {p['chrf']:.1f}/{p['bleu']:.1f}" for p in pairs)
        lines.append(f"{name:<{width}}  avg chrF++ {mean:5.1f}   ({cells})")
    return lines


def describe(path: str | Path, rows: int = 6) -> list[str]:
    path = Path(path)
    if path.is_dir():
        if (path / PREPARED).exists():
            return prepared_lines(path)
        if (path / MANIFEST).exists():
            return corpus_lines(path)
        if (path / TRAIN_SUMMARY).exists():
            return training_lines(path)
        raise VolctransError(f"{path}: not a prepared folder ({PREPARED}), corpus ({MANIFEST}) or finished "
                             f"training run ({TRAIN_SUMMARY})")
    if not path.exists():
        raise VolctransError(f"{path}: no such file or folder")
    if path.suffix == ".jsonl":  # a bilevel weight log (WEIGHT_LOG, or another name given to --bilevel-log)
        return weight_lines(read_weight_log(path), rows)
    data = _json(path)
    if isinstance(data, dict) and isinstance(data.get("pairs"), list):
        return score_lines(data)
    raise InputError(str(path), None, "not a bilevel weight log (.jsonl) or a scores JSON (from `volctrans eval`)")


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(str(path), error.lineno, f"invalid JSON: {error.msg}") from None
