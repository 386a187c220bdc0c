"""The `learned` rule: linear constraints from a rectifier network trained on clean vs corrupted pairs (cleaning/learned.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaning.features import pair_features
from cleaning.learned import Constraints, default_path, load
from cleaning.rules.base import Rule, register_rule
from cleaning.views import PairBatch


@dataclass
class LearnedParams:
    path: str | None = None  # constraints file; None = the one shipped with the package
    slack: float = 0.0  # tolerated violation: > 0 keeps more pairs


@register_rule("learned", LearnedParams, pair=True)
class Learned(Rule):
    """Linear constraints learned from clean pairs vs synthetic misaligned/glued/truncated ones."""

    def __init__(self, params, context):
        super().__init__(params, context)
        key = ("learned", params.path)
        if key not in context.resources:
            context.resources[key] = load(params.path or default_path())
        self._constraints: Constraints = context.resources[key]

    def score(self, batch: PairBatch) -> np.ndarray:
        return self._constraints.violation(pair_features(batch))

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores <= self.params.slack
