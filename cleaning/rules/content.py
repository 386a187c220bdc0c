"""Content rules: untranslated copies, numbers/symbols only, too few letters, repeated words/characters."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cleaning.rules.base import NoParams, Rule, at_least, at_most, floats, register_rule
from cleaning.text import is_unspaced
from cleaning.views import PairBatch, Side

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
        src, tgt = batch.src.texts, batch.tgt.texts
        # Copies have about the same length and start alike: most pairs leave at these cheap checks (the
        # length test for the whole batch at once).
        ls, lt = batch.src.feature("chars"), batch.tgt.feature("chars")
        similar = (ls >= self.params.min_chars) & (np.abs(ls - lt) <= 0.3 * np.maximum(ls, lt) + 3)
        for i in np.flatnonzero(similar).tolist():
            s, t = src[i], tgt[i]
            if s[:2].casefold() != t[:2].casefold():
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
        tokens = side.feature("tokens")
        # Only texts with a word twice (set size < word count, at C speed) can score above 0, unless the share
        # test below can hold for all-distinct words (max_share ≤ 1/n).
        todo = [(i, distinct) for i, toks in enumerate(tokens) if len(toks) >= 2 and (
            (distinct := len(set(toks))) < len(toks)
            or (len(toks) >= min_words and len(toks) <= len(toks) * (1 - max_share) + 1))]
        for i, distinct in todo:
            toks = tokens[i]
            n = len(toks)
            score = 0.0
            # Cheap C-level checks first: most segments have no word twice in a row and no dominant word.
            if any(map(str.__eq__, toks, toks[1:])):
                run, best = 1, 1
                for a, b in zip(toks, toks[1:]):
                    run = run + 1 if a == b and a.isalpha() else 1
                    best = max(best, run)
                score = best / (max_repeats + 1)  # ≥ 1 means a run longer than allowed
            if n >= min_words and distinct <= n * (1 - max_share) + 1:
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
    LEADERS = ".-_=·… 0123456789"  # ... and digits: 0,9999999999 and 1000000 are numbers, not noise

    def score(self, side: Side) -> np.ndarray:
        return side.feature("charview").max_run_at_least(self.params.max_run, self.LEADERS).astype(np.float64)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores < 0.5


@dataclass
class LongWordParams:
    max_chars: int = 40  # OpusFilter LongWordFilter default


@register_rule("long_word", LongWordParams)
class LongWord(Rule):
    """A token longer than any real word: glued text or binary debris (OpusFilter LongWordFilter).

    URLs, paths and dotted identifiers (com.sun.star.text.TextField) are long by nature and not counted.
    """

    def score(self, side: Side) -> np.ndarray:
        limit = self.params.max_chars
        out = np.zeros(len(side))
        if is_unspaced(side.lang):  # a Chinese/Japanese sentence is one "token"
            return out
        for i, (text, toks) in enumerate(zip(side.texts, side.feature("tokens"))):
            if len(text) > limit:  # no token can be longer than its text
                long = (t.strip(".,;:!?()\"'") for t in toks if len(t) > limit)
                out[i] = max((len(t) for t in long if not any(c in t for c in "/.\\_:=")), default=0)
        return out

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores <= self.params.max_chars


@dataclass
class AverageWordLengthParams:
    min_chars: float = 2.0  # "T h i s  i s" spaced-out text
    max_chars: float = 20.0  # OpusFilter AverageWordLengthFilter defaults
    min_words: int = 3


@register_rule("avg_word_length", AverageWordLengthParams)
class AverageWordLength(Rule):
    """Mean characters per word out of range (spaced-out letters, glued words). Not for unspaced scripts."""

    def score(self, side: Side) -> np.ndarray:
        words = side.feature("words")
        mean = (side.feature("nonspace") / np.maximum(words, 1)).astype(np.float64)
        judge = (words >= self.params.min_words) & (not is_unspaced(side.lang))
        return np.where(judge, mean, (self.params.min_chars + self.params.max_chars) / 2)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return (scores >= self.params.min_chars) & (scores <= self.params.max_chars)


_CRUMB = re.compile(r"\s(?:>|»|›|\||/|::)\s")


@dataclass
class BreadcrumbsParams:
    max_separators: int = 2  # "Home > Help > Calc > Functions" has 3


@register_rule("breadcrumbs", BreadcrumbsParams)
class Breadcrumbs(Rule):
    """Navigation trails from web pages (bicleaner `no_breadcrumbs`)."""

    def score(self, side: Side) -> np.ndarray:
        findall = _CRUMB.findall
        return floats(len(findall(t)) if (">" in t or "»" in t or "|" in t or "›" in t or " / " in t or "::" in t)
                      else 0 for t in side.texts)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores <= self.params.max_separators


@register_rule("unbalanced_brackets", NoParams)
class UnbalancedBrackets(Rule):
    """More closing than opening brackets, or an opening one never closed (bicleaner `no_paren`, loosely):
    a segment cut out of the middle of a longer text."""

    def score(self, side: Side) -> np.ndarray:
        out = np.zeros(len(side))
        for i, t in enumerate(side.texts):
            if "(" in t or ")" in t or "[" in t or "]" in t:
                out[i] = abs(t.count("(") - t.count(")")) + abs(t.count("[") - t.count("]"))
        return out

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores == 0
