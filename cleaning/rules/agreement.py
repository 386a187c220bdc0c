"""Cross-lingual agreement: numbers, terminal punctuation, sentence count, copied entities.

These are the cheap signals for misaligned pairs and pairs with a sentence glued on, where length-only
rules are blind: a translation keeps numbers, names and the sentence structure of its source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaning.features import entity_overlap, number_jaccard, terminal_mismatch
from cleaning.rules.base import Rule, register_rule
from cleaning.views import PairBatch


@dataclass
class NumberMismatchParams:
    min_jaccard: float = 0.5


@register_rule("number_mismatch", NumberMismatchParams, pair=True)
class NumberMismatch(Rule):
    """The two sides carry different numbers (bicleaner `no_number_inconsistencies`)."""

    def score(self, batch: PairBatch) -> np.ndarray:
        return number_jaccard(batch.src.feature("numbers"), batch.tgt.feature("numbers"))

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.params.min_jaccard


@dataclass
class PunctMismatchParams:
    # Which disagreements reject: "question" (only ?/! differ), "stop" (also a full stop vs none).
    level: str = "stop"

    def validate(self) -> list[str]:
        return [] if self.level in ("question", "stop") else [f"level: expected 'question' or 'stop', got {self.level!r}"]


@register_rule("punct_mismatch", PunctMismatchParams, pair=True)
class PunctMismatch(Rule):
    """Terminal punctuation differs: "Is it?" / "Es ist." or a truncated side that lost its full stop."""

    def score(self, batch: PairBatch) -> np.ndarray:
        return terminal_mismatch(batch.src.feature("terminal"), batch.tgt.feature("terminal"))

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores < (2.0 if self.params.level == "question" else 1.0)


@dataclass
class SentenceCountParams:
    max_diff: int = 0


@register_rule("sentence_count", SentenceCountParams, pair=True)
class SentenceCount(Rule):
    """Different number of sentences: the classic sign of a sentence glued on to one side."""

    def score(self, batch: PairBatch) -> np.ndarray:
        return np.abs(batch.src.feature("sentences") - batch.tgt.feature("sentences")).astype(np.float64)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores <= self.params.max_diff


@dataclass
class EntityMismatchParams:
    min_overlap: float = 0.3
    # One stray entity says little: only judge pairs with at least this many distinct entities overall.
    min_entities: int = 2


@register_rule("entity_mismatch", EntityMismatchParams, pair=True)
class EntityMismatch(Rule):
    """Names, variables and paths that should be copied across are not."""

    def score(self, batch: PairBatch) -> np.ndarray:
        return entity_overlap(batch.src.feature("entities"), batch.tgt.feature("entities"), self.params.min_entities)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.params.min_overlap
