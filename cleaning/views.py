"""The two views rules score: one side of a batch (`Side`) or the pair (`PairBatch`), with per-text features.

A feature (character counts, words, numbers, copied entities...) is computed once per side and shared by every rule
that reads it; `take(idx)` carries the computed features over to the rows that are still alive.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Sequence

import numpy as np

from cleaning import text as T


class Side:
    """The texts of one side of a batch plus per-text features, each computed once and shared by all rules.

    `take(idx)` returns the survivors with the features already computed, so cheaper rules that run first
    never pay twice and expensive rules (language ID) only see the rows that are still alive.
    """

    def __init__(self, texts: Sequence[str], lang: str, raw: Sequence[str] | None = None, tag: str = "src"):
        self.texts = list(texts)
        self.raw = list(raw) if raw is not None else self.texts  # before normalization: for encoding-noise rules
        self.lang = lang
        self.tag = tag
        self._cache: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def feature(self, name: str) -> Any:
        """A cached per-text feature array (see `FEATURES`)."""
        value = self._cache.get(name)
        if value is None:
            value = FEATURES[name](self)
            self._cache[name] = value
        return value

    def take(self, idx: np.ndarray) -> "Side":
        pick = _picker(idx)
        sub = Side(pick(self.texts), self.lang, pick(self.raw) if self.raw is not self.texts else None, self.tag)
        for name, value in self._cache.items():
            if isinstance(value, np.ndarray):
                sub._cache[name] = value[idx]
            elif isinstance(value, list):
                sub._cache[name] = pick(value)
            # other cached objects (the batch code-point view) are rebuilt for the survivors on demand
        return sub


def _picker(idx: np.ndarray) -> Callable[[list], list]:
    """list → [list[i] for i in idx], with the indexing done by `operator.itemgetter` (C speed, Python ints)."""
    positions = idx.tolist()
    if len(positions) == 1:
        only = positions[0]
        return lambda values: [values[only]]
    if not positions:
        return lambda values: []
    get = operator.itemgetter(*positions)
    return lambda values: list(get(values))


def _feature_table() -> dict[str, Callable[[Side], Any]]:
    def chars(side: Side) -> np.ndarray:
        return np.fromiter(map(len, side.texts), dtype=np.int64, count=len(side))

    def charview(side: Side) -> T.CharView:
        return T.CharView(side.texts)

    def tokens(side: Side) -> list[list[str]]:
        return list(map(str.split, side.texts))

    def words(side: Side) -> np.ndarray:
        if T.is_unspaced(side.lang):
            return T.unspaced_word_estimate(side.texts)
        # Normalized text has single spaces: words = spaces + 1 (0 for empty), no token lists needed.
        spaces = side.feature("charview").count(side.feature("charview").has_bit(T.SPACE_BIT))
        return np.where(side.feature("chars") > 0, spaces + 1, 0)

    def letters(side: Side) -> np.ndarray:
        return side.feature("charview").count(side.feature("charview").has_bit(T.LETTER_BIT))

    def nonspace(side: Side) -> np.ndarray:
        return side.feature("chars") - side.feature("charview").count(side.feature("charview").has_bit(T.SPACE_BIT))

    def has_digit(side: Side) -> np.ndarray:
        return side.feature("charview").count(side.feature("charview").has_bit(T.DIGIT_BIT)) > 0

    def script_letters(side: Side) -> np.ndarray:
        view = side.feature("charview")
        return view.count(view.in_scripts(T.scripts_of(side.lang)) & view.has_bit(T.LETTER_BIT))

    def eff_chars(side: Side) -> np.ndarray:
        # Chinese/Japanese characters carry ~3 times more content than alphabetic ones: weight them so that
        # length ratios between a CJK side and a Latin side centre on 1. Only CJK characters are weighted:
        # the Latin names, paths and numbers inside CJK text are as long as in the source.
        weight = T.char_weight(side.lang)
        chars = side.feature("chars")
        if weight == 1.0:
            return chars.astype(np.float64)
        view = side.feature("charview")
        cjk = view.count(view.in_scripts(("han", "kana", "hangul")))
        return (chars - cjk) + cjk * weight

    def numbers(side: Side) -> list[frozenset[str]]:
        empty: frozenset[str] = frozenset()
        return [T.numbers(t) if d else empty for t, d in zip(side.texts, side.feature("has_digit"))]

    def entities(side: Side) -> list[frozenset[str]]:
        return [T.entities(tokens) for tokens in side.feature("tokens")]

    def sentences(side: Side) -> np.ndarray:
        return T.sentence_counts(side.texts)

    def terminal(side: Side) -> np.ndarray:
        return T.terminal_codes(side.texts)

    return {"terminal": terminal, "entities": entities, "sentences": sentences, "chars": chars, "charview": charview,
            "tokens": tokens, "words": words, "letters": letters,
            "nonspace": nonspace, "has_digit": has_digit, "script_letters": script_letters, "eff_chars": eff_chars,
            "numbers": numbers}


FEATURES = _feature_table()


class PairBatch:
    """Both sides of a batch, aligned row by row."""

    def __init__(self, src: Side, tgt: Side):
        self.src = src
        self.tgt = tgt

    def __len__(self) -> int:
        return len(self.src)

    def take(self, idx: np.ndarray) -> "PairBatch":
        return PairBatch(self.src.take(idx), self.tgt.take(idx))

    @classmethod
    def of(cls, src: Sequence[str], tgt: Sequence[str], src_lang: str, tgt_lang: str) -> "PairBatch":
        return cls(Side(src, src_lang, tag="src"), Side(tgt, tgt_lang, tag="tgt"))
