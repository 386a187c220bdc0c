"""Wrong script: the letters of a side are not (mostly) in the script(s) of its language."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaning.rules.base import Rule, register_rule
from cleaning.views import Side


@dataclass
class WrongScriptParams:
    # Chinese/Japanese/Russian help text is full of Latin product names, so the bar is "a fair share".
    min_ratio: float = 0.15
    min_letters: int = 3  # "OK", "PDF": too few letters to judge


@register_rule("wrong_script", WrongScriptParams)
class WrongScript(Rule):
    """Share of letters in the expected script (bicleaner `no_script_inconsistencies`, M2M-100 script filter)."""

    def score(self, side: Side) -> np.ndarray:
        letters = side.feature("letters")
        ratio = side.feature("script_letters") / np.maximum(letters, 1)
        return np.where(letters < self.params.min_letters, 1.0, ratio)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.params.min_ratio
