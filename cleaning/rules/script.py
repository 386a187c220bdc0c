"""Wrong script: the letters of a side are not (mostly) in the script(s) of its language."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaning import text as T
from cleaning.rules.base import Rule, Side, floats, register_rule


@dataclass
class WrongScriptParams:
    # Chinese/Japanese/Russian help text is full of Latin product names, so the bar is "a fair share".
    min_ratio: float = 0.3
    min_letters: int = 3  # "OK", "PDF": too few letters to judge


@register_rule("wrong_script", WrongScriptParams)
class WrongScript(Rule):
    """Share of letters in the expected script (bicleaner `no_script_inconsistencies`, M2M-100 script filter)."""

    def __init__(self, params, context):
        super().__init__(params, context)
        self._patterns: dict[str, object] = {}

    def score(self, side: Side) -> np.ndarray:
        pattern = self._patterns.get(side.lang)
        if pattern is None:
            pattern = self._patterns[side.lang] = T.script_pattern(side.lang)
        findall = pattern.findall
        letters = side.feature("letters")
        expected = floats(len(findall(t)) for t in side.texts)
        ratio = expected / np.maximum(letters, 1)
        return np.where(letters < self.params.min_letters, 1.0, ratio)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.params.min_ratio
