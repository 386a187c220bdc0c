"""Keep decisions against the labels: precision/recall/F1 of keeping clean rows, recall per noise type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from cleaning.bench.builder import CLEAN, BenchRow
from cleaning.corrupt import NOISE_TYPES
from cleaning.dedup import DedupParams, Deduplicator, keys


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    clean_kept: float  # share of clean rows kept (= recall of keep)
    noise_recall: dict[str, float]  # per noise type: share rejected
    counts: dict[str, int]


def evaluate(rows: Sequence[BenchRow], keep: np.ndarray) -> Scores:
    gold = np.array([r.noise == CLEAN for r in rows])
    tp = float((keep & gold).sum())
    precision = tp / max(keep.sum(), 1)
    recall = tp / max(gold.sum(), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    noise_recall, counts = {}, {}
    for kind in (CLEAN, *NOISE_TYPES):
        mask = np.array([r.noise == kind for r in rows])
        counts[kind] = int(mask.sum())
        if kind != CLEAN and mask.any():
            noise_recall[kind] = float((~keep[mask]).mean())
    return Scores(precision, recall, f1, recall, noise_recall, counts)


def apply_dedup(rows: Sequence[BenchRow], keep: np.ndarray) -> np.ndarray:
    """Our dedup step after a peer's decisions: the first kept occurrence wins."""
    dedup = Deduplicator(DedupParams("normalized"))
    row_keys = keys([r.src for r in rows], [r.tgt for r in rows], "normalized")
    out = keep.copy()
    for i in np.flatnonzero(keep):
        if dedup.check(row_keys[i]):
            out[i] = False
    return out
