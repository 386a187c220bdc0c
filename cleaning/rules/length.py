"""Length rules: empty, too short/long, and the two length ratios (characters, script-aware; words)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaning.rules.base import NoParams, Rule, at_least, at_most, register_rule
from cleaning.views import PairBatch, Side


@register_rule("empty", NoParams)
class Empty(Rule):
    """Nothing but whitespace on a side (bicleaner `no_empty`)."""

    def score(self, side: Side) -> np.ndarray:
        return side.feature("chars")

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return at_least(scores, 1)


@dataclass
class TooShortParams:
    min_chars: int = 1
    min_words: int = 1


@register_rule("too_short", TooShortParams)
class TooShort(Rule):
    """Fewer characters/words than the minimum. Defaults are low: 1-word help titles are real pairs."""

    def score(self, side: Side) -> np.ndarray:
        return np.stack([side.feature("eff_chars"), side.feature("words")], axis=1)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return (scores[:, 0] >= self.params.min_chars) & (scores[:, 1] >= self.params.min_words)


@dataclass
class TooLongParams:
    max_chars: int = 1024
    max_words: int = 250


@register_rule("too_long", TooLongParams)
class TooLong(Rule):
    """Longer than an NMT training example should be (M2M-100 and bicleaner cut at 1024 characters)."""

    def score(self, side: Side) -> np.ndarray:
        return np.stack([side.feature("chars"), side.feature("words")], axis=1)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return (scores[:, 0] <= self.params.max_chars) & (scores[:, 1] <= self.params.max_words)


def smoothed_ratio(a: np.ndarray, b: np.ndarray, smoothing: float) -> np.ndarray:
    """max/min of two lengths after adding `smoothing` to both (≥ 1; 1 = equal)."""
    a, b = a + smoothing, b + smoothing
    return np.maximum(a, b) / np.minimum(a, b)


@dataclass
class LengthRatioParams:
    max_ratio: float = 2.0
    # Short segments have noisy ratios ("OK" / "Aceptar"): add this many characters to both sides first.
    smoothing: float = 8.0


@register_rule("length_ratio", LengthRatioParams, pair=True)
class LengthRatio(Rule):
    """max(len_s, len_t) / min(...) on characters, CJK characters weighted (see text.CHAR_WEIGHT)."""

    def score(self, batch: PairBatch) -> np.ndarray:
        return smoothed_ratio(batch.src.feature("eff_chars"), batch.tgt.feature("eff_chars"), self.params.smoothing)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return at_most(scores, self.params.max_ratio)


@dataclass
class WordRatioParams:
    max_ratio: float = 2.5
    smoothing: float = 2.0


@register_rule("word_ratio", WordRatioParams, pair=True)
class WordRatio(Rule):
    """Word-count ratio (OpusFilter LengthRatioFilter, unit=word); CJK words estimated from characters."""

    def score(self, batch: PairBatch) -> np.ndarray:
        return smoothed_ratio(batch.src.feature("words"), batch.tgt.feature("words"), self.params.smoothing)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return at_most(scores, self.params.max_ratio)
