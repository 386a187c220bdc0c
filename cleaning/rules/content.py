"""Content rules: untranslated copies, numbers/symbols only, too few letters, repeated words/characters."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cleaning.rules.base import PairBatch, Rule, Side, at_least, at_most, register_rule

_NON_WORD = re.compile(r"[\W\d_]+")


@dataclass
class IdenticalParams:
    # Pairs this short that are equal on both sides are usually names ("LibreOffice", "XML"): keep them.
    min_chars: int = 4
    # Compare ignoring case, digits and punctuation, so "Chapter 3." / "chapter 3" is still a copy.
    max_similarity: float = 0.999


@register_rule("identical", IdenticalParams, pair=True)
class Identical(Rule):
    """Untranslated pair: the target is the source (bicleaner `no_identical`)."""

    def score(self, batch: PairBatch) -> np.ndarray:
        out = np.zeros(len(batch))
        for i, (s, t) in enumerate(zip(batch.src.texts, batch.tgt.texts)):
            # Copies start alike and have about the same length: most pairs leave at these cheap checks.
            if (len(s) < self.params.min_chars or s[:2].casefold() != t[:2].casefold()
                    or abs(len(s) - len(t)) > 0.3 * max(len(s), len(t)) + 3):
                continue
            a = _NON_WORD.sub("", s).casefold()
            b = _NON_WORD.sub("", t).casefold()
            if a and a == b:
                out[i] = 1.0
        return out

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return at_most(scores, self.params.max_similarity)


@dataclass
class AlphaRatioParams:
    # Spreadsheet formulas are legitimately symbol-heavy (=SUM(A1:B2)): keep the bar low.
    min_ratio: float = 0.25
    # Below this many non-space characters a short code ("F1", "%s") is judged by `only_symbols` instead.
    min_chars: int = 6


@register_rule("alpha_ratio", AlphaRatioParams)
class AlphaRatio(Rule):
    """Share of letters among non-space characters (OpusFilter AlphabetRatioFilter)."""

    def score(self, side: Side) -> np.ndarray:
        letters = side.feature("letters")
        nonspace = side.feature("nonspace")
        ratio = letters / np.maximum(nonspace, 1)
        return np.where(nonspace < self.params.min_chars, 1.0, ratio)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return at_least(scores, self.params.min_ratio)


@dataclass
class OnlySymbolsParams:
    min_letters: int = 1


@register_rule("only_symbols", OnlySymbolsParams)
class OnlySymbols(Rule):
    """No letters at all: only numbers, punctuation or symbols (bicleaner `no_only_numbers/symbols`)."""

    def score(self, side: Side) -> np.ndarray:
        return side.feature("letters")

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return at_least(scores, self.params.min_letters)


@dataclass
class RepeatedWordsParams:
    max_repeats: int = 3  # the same word more than this many times in a row
    max_share: float = 0.5  # or one word making up more than half of a ≥8-word segment
    min_words: int = 8


@register_rule("repeated_words", RepeatedWordsParams)
class RepeatedWords(Rule):
    """Crawl debris like "home home home home" (bicleaner `no_repeated_words`, OpusFilter RepetitionFilter)."""

    def score(self, side: Side) -> np.ndarray:
        out = np.zeros(len(side))
        max_repeats, max_share, min_words = self.params.max_repeats, self.params.max_share, self.params.min_words
        for i, toks in enumerate(side.feature("tokens")):
            n = len(toks)
            if n < 2:
                continue
            score = 0.0
            # Cheap C-level checks first: most segments have no word twice in a row and no dominant word.
            if any(map(str.__eq__, toks, toks[1:])):
                run, best = 1, 1
                for a, b in zip(toks, toks[1:]):
                    run = run + 1 if a == b and a.isalpha() else 1
                    best = max(best, run)
                score = best / (max_repeats + 1)  # ≥ 1 means a run longer than allowed
            if n >= min_words and len(set(toks)) <= n * (1 - max_share) + 1:
                top = max(map(toks.count, set(toks)))
                score = max(score, top / n / max_share * (1 - 1e-9))
            out[i] = score
        return out

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores < 1.0


@dataclass
class RepeatedCharsParams:
    max_run: int = 8  # one character repeated this many times ("!!!!!!!!", "aaaaaaaaa")


@register_rule("repeated_chars", RepeatedCharsParams)
class RepeatedChars(Rule):
    # Dots, dashes and underscores form leaders and rules in real text ("Insert ......... 3"): not noise.
    LEADERS = ".-_=·… "

    def score(self, side: Side) -> np.ndarray:
        return side.feature("charview").max_run_at_least(self.params.max_run, self.LEADERS).astype(np.float64)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores < 0.5
