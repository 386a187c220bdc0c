"""Cross-lingual agreement: numbers, terminal punctuation, sentence count, copied entities.

These are the cheap signals for misaligned pairs and pairs with a sentence glued on, where length-only
rules are blind: a translation keeps numbers, names and the sentence structure of its source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaning import text as T
from cleaning.rules.base import PairBatch, Rule, register_rule


@dataclass
class NumberMismatchParams:
    min_jaccard: float = 0.5


def number_jaccard(src_numbers: list[frozenset[str]], tgt_numbers: list[frozenset[str]]) -> np.ndarray:
    """Jaccard overlap of the digit sequences of each pair; 1 when neither side has any."""
    out = np.ones(len(src_numbers))
    for i in [i for i, (a, b) in enumerate(zip(src_numbers, tgt_numbers)) if a or b]:
        a, b = src_numbers[i], tgt_numbers[i]
        out[i] = len(a & b) / len(a | b)
    return out


@register_rule("number_mismatch", NumberMismatchParams, pair=True)
class NumberMismatch(Rule):
    """The two sides carry different numbers (bicleaner `no_number_inconsistencies`)."""

    def score(self, batch: PairBatch) -> np.ndarray:
        return number_jaccard(batch.src.feature("numbers"), batch.tgt.feature("numbers"))

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.params.min_jaccard


def terminal_mismatch(src_codes: np.ndarray, tgt_codes: np.ndarray) -> np.ndarray:
    """0 same final punctuation class, 1 one side has none, 2 question/exclamation versus anything else.

    Takes the `terminal` feature of both sides (codes of `text.terminal_class`). '.', ':' and ';' trade places
    across languages, so they only count against a missing mark.
    """
    question = (T.TERMINAL_CODES["?"], T.TERMINAL_CODES["!"])
    src_q, tgt_q = np.isin(src_codes, question), np.isin(tgt_codes, question)
    missing = (src_codes == 0) != (tgt_codes == 0)
    return np.where(src_codes == tgt_codes, 0.0, np.where(src_q != tgt_q, 2.0, np.where(missing, 1.0, 0.0)))


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


_STRIP = ".,;:!?()[]{}\"'«»“”„‘’"


def entities(tokens: list[str]) -> frozenset[str]:
    """Tokens translators copy verbatim: CamelCase/ALLCAPS names, %VARIABLES%, paths, identifiers (ASCII only).

    Plain lower-case and title-case words (punctuation does not affect islower/istitle) are dropped by a
    comprehension of C-level string tests; only the few remaining tokens get the slower checks.
    """
    out = []
    for tok in [t for t in tokens if not t.islower() and not t.istitle()]:
        tok = tok.strip(_STRIP)
        if "-" in tok and tok.replace("-", "").isalpha():
            tok = tok.replace("-", "")  # "Right-click" is a word; "Ctrl-Z" stays a (folded) name
        if len(tok) < 2 or not tok.isascii() or tok.isdigit() or (tok.isalpha() and (tok.islower() or tok.istitle())):
            continue
        out.append(tok)
    return frozenset(out)


def entity_overlap(src: list[frozenset[str]], tgt: list[frozenset[str]], min_entities: int = 1) -> np.ndarray:
    """Share of copyable tokens (union of both sides) present on both sides; 1 when fewer than min_entities."""
    out = np.ones(len(src))
    for i, (a, b) in enumerate(zip(src, tgt)):
        if a or b:
            union = a | b
            if len(union) >= min_entities:
                out[i] = len(a & b) / len(union)
    return out


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
