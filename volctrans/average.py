"""Checkpoint averaging (the last N interval checkpoints), as WMT systems do before export.

fairseq's own scripts/average_checkpoints.py is not shipped in its wheel; this does the same: the model parameters
of N checkpoints are averaged in float64 and written into a copy of the newest checkpoint (so its training
arguments and task state stay with it).
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from volctrans.artifacts import load_checkpoint
from volctrans.errors import VolctransError
from volctrans.io import atomic_write

_INTERVAL = re.compile(r"checkpoint_(\d+)_(\d+)\.pt$")


def last_checkpoints(save_dir: str | Path, count: int) -> list[Path]:
    """The `count` newest update-interval checkpoints (checkpoint_EPOCH_UPDATES.pt), newest first."""
    found = []
    for path in Path(save_dir).glob("checkpoint_*_*.pt"):
        match = _INTERVAL.search(path.name)
        if match:
            found.append((int(match.group(2)), path))
    found.sort(reverse=True)
    if len(found) < count:
        raise VolctransError(f"{save_dir}: {len(found)} interval checkpoints, {count} needed "
                             "(raise keep_interval_updates in the train config)")
    return [path for _, path in found[:count]]


def average_checkpoints(paths: list[Path], out: str | Path) -> Path:
    if not paths:
        raise VolctransError("no checkpoints to average")
    total: dict[str, torch.Tensor] = {}
    newest = None
    for path in paths:
        state = load_checkpoint(path)
        newest = newest or state
        model = state["model"]
        if total and set(model) != set(total):
            raise VolctransError(f"{path}: parameters differ from {paths[0]} (not the same model)")
        for name, value in model.items():
            total[name] = total.get(name, 0) + value.to(torch.float64)
    averaged = {name: (value / len(paths)).to(newest["model"][name].dtype) for name, value in total.items()}
    newest["model"] = averaged
    newest["volctrans_averaged_from"] = [str(p) for p in paths]
    for key in ("last_optimizer_state",):  # the optimizer state belongs to one checkpoint, not the average
        newest.pop(key, None)
    out = Path(out)
    with atomic_write(out, binary=True) as handle:
        torch.save(newest, handle)
    return out

