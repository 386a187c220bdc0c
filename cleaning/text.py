"""Shared text primitives (regexes, scripts, number extraction). Compiled once at import; all pure functions."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

DIGIT_RUN = re.compile(r"\d+(?:[.,]\d+)*")

# Script ranges for the languages we ship defaults for; any other language falls back to "letters of any
# script", which makes the script rule a no-op rather than a silent false reject.
SCRIPT_CHARS = {
    "latin": "A-Za-z\u00c0-\u024f\u1e00-\u1eff",
    "cyrillic": "\u0400-\u04ff\u0500-\u052f",
    "greek": "\u0370-\u03ff\u1f00-\u1fff",
    "han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff",
    "kana": "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "hangul": "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f",
    "arabic": "\u0600-\u06ff\u0750-\u077f",
    "hebrew": "\u0590-\u05ff",
    "devanagari": "\u0900-\u097f",
    "thai": "\u0e00-\u0e7f",
}
LANG_SCRIPTS = {
    "zh": ("han",), "ja": ("han", "kana"), "ko": ("hangul", "han"),
    "ru": ("cyrillic",), "uk": ("cyrillic",), "bg": ("cyrillic",), "sr": ("cyrillic", "latin"),
    "el": ("greek",), "ar": ("arabic",), "fa": ("arabic",), "he": ("hebrew",), "hi": ("devanagari",),
    "th": ("thai",),
}
UNSPACED = {"zh", "ja", "th", "my", "km", "lo"}
# Relative information per character (alphabetic scripts = 1). Measured on LibreOffice-help train pairs:
# median en/zh char ratio ≈ 3.3, en/ja ≈ 2.4, en/ko ≈ 2.2.
CHAR_WEIGHT = {"zh": 3.3, "ja": 2.4, "ko": 2.2}


def base_lang(lang: str) -> str:
    return lang.split("-")[0].split("_")[0].lower()


def scripts_of(lang: str) -> tuple[str, ...]:
    return LANG_SCRIPTS.get(base_lang(lang), ("latin",))


def is_unspaced(lang: str) -> bool:
    return base_lang(lang) in UNSPACED


def char_weight(lang: str) -> float:
    return CHAR_WEIGHT.get(base_lang(lang), 1.0)


_CJK_RUN = re.compile("[" + SCRIPT_CHARS["han"] + SCRIPT_CHARS["kana"] + "]")


def unspaced_word_estimate(texts: Iterable[str]) -> np.ndarray:
    """Words in text without spaces: space-separated tokens plus ~1 word per 1.5 CJK characters."""
    return np.fromiter(
        (len(t.split()) + int(len(_CJK_RUN.findall(t)) / 1.5) for t in texts), dtype=np.int64)


def numbers(text: str) -> frozenset[str]:
    """Digit sequences with separators removed, so "1,000.5" and "1.000,5" compare equal."""
    return frozenset(m.replace(".", "").replace(",", "") for m in DIGIT_RUN.findall(text))


def rows_containing(texts: Sequence[str], chars: str) -> list[int]:
    """Indices of the texts that contain any of `chars`. Chained `in` tests (C substring search, no generator
    per text) are ~4x faster than `any(...)` or a character-class regex search."""
    if len(chars) <= 3:
        a, b, c = (chars * 3)[:3]
        return [i for i, t in enumerate(texts) if a in t or b in t or c in t]
    return [i for i, t in enumerate(texts) if any(c in t for c in chars)]


_FULLWIDTH_PUNCT = str.maketrans("。！？：；，（）", ".!?:;,()")
TERMINAL = ".!?:;…"


def terminal_class(text: str) -> str:
    """Class of the final punctuation mark ('' when none): `.`, `?`, `!`, `:` or `;`."""
    stripped = text.rstrip(" \"'»«”“’)]」』")
    if not stripped:
        return ""
    last = stripped[-1].translate(_FULLWIDTH_PUNCT)
    if last == "…":
        return "."
    return last if last in ".!?:;" else ""


# `terminal_class` as small integer codes, for whole batches.
TERMINAL_CODES = {"": 0, ".": 1, "?": 2, "!": 3, ":": 4, ";": 5}
_TERMINAL_STRIP = " \"'»«”“’)]」』"
_TERMINAL_CHARS = {c: TERMINAL_CODES[c.translate(_FULLWIDTH_PUNCT).replace("…", ".")] for c in ".!?:;…。！？：；"}


def terminal_codes(texts: Iterable[str]) -> np.ndarray:
    """`TERMINAL_CODES[terminal_class(text)]` per text: one rstrip and one dict look-up each."""
    strip, get = _TERMINAL_STRIP, _TERMINAL_CHARS.get
    return np.array([get(t.rstrip(strip)[-1:], 0) for t in texts], dtype=np.int8)


# An end mark after a lower-case letter, digit or closing quote/bracket, then space(s) and a capital. The end
# mark comes first and the lookbehind re-checks it with the character before: the regex engine then scans
# for the three end marks only (a leading lookbehind is tried at every position, ~3x slower).
_SENTENCE_END = re.compile(r"[.!?](?<=[a-z\u00e0-\u024f\u0430-\u044f\d\)\"»”][.!?])\s+"
                           r"(?=[\"«„“(]?[A-Z\u00c0-\u00de\u0410-\u042f])"
                           r"|[。！？](?=.)")


def sentence_count(text: str) -> int:
    """Sentences by end mark + space + capital (or CJK full stop followed by more text)."""
    # Cheap pre-check (substring tests run at C speed; isascii() is O(1)): most segments are one sentence.
    if not _has_sentence_hint(text):
        return 1
    return 1 + len(_SENTENCE_END.findall(text))


def _has_sentence_hint(text: str) -> bool:
    return (". " in text or "? " in text or "! " in text
            or (not text.isascii() and ("。" in text[:-1] or "？" in text[:-1] or "！" in text[:-1])))


# `_SENTENCE_END` for a whole batch joined by NUL: one leading character class (the regex engine skips to the
# end marks), and a CJK mark must be followed by a character of the same text (not a newline or the NUL).
_SENTENCE_END_BATCH = re.compile(r"[.!?。！？](?:(?<=[a-z\u00e0-\u024f\u0430-\u044f\d\)\"»”][.!?])\s+"
                                 r"(?=[\"«„“(]?[A-Z\u00c0-\u00de\u0410-\u042f])"
                                 r"|(?<=[。！？])(?=[^\n\x00]))")


def sentence_counts(texts: Sequence[str]) -> np.ndarray:
    """`sentence_count` of every text, with one regex scan over the batch (no match can span the NUL
    separator). Rows with more than one sentence then get `sentence_count`'s pre-check, so the counts are
    the same (it counts 1 for sentences split by a newline only)."""
    texts = list(texts)
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(len(texts) - 1, 0):  # a NUL inside a text: do it text by text
        return np.fromiter(map(sentence_count, texts), dtype=np.int64, count=len(texts))
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    ends = [m.start() for m in _SENTENCE_END_BATCH.finditer(joined)]
    counts = 1 + np.bincount(np.searchsorted(starts, ends, side="right") - 1, minlength=len(texts))
    for i in np.flatnonzero(counts > 1).tolist():
        if not _has_sentence_hint(texts[i]):
            counts[i] = 1
    return counts.astype(np.int64)


# --- vectorized per-character classes ------------------------------------------------------------------------
# One uint8 class per code point of the BMP (+ Han extension B), built once: bit 0 letter, bit 1 digit,
# bit 2 whitespace, bits 4-7 the script id (index in SCRIPT_IDS + 1, 0 = none). A whole batch is then one
# UTF-32 array and every per-text count is a cumulative-sum difference: no Python loop per character.
SCRIPT_IDS = tuple(SCRIPT_CHARS)
TABLE_SIZE = 0x2A6E0
LETTER_BIT, DIGIT_BIT, SPACE_BIT = 1, 2, 4


def _build_classes() -> np.ndarray:
    chars = [chr(c) for c in range(TABLE_SIZE)]
    table = np.zeros(TABLE_SIZE, dtype=np.uint8)
    table[[c.isalpha() for c in chars]] |= LETTER_BIT
    table[[c.isdigit() for c in chars]] |= DIGIT_BIT
    table[[c.isspace() for c in chars]] |= SPACE_BIT
    for script_id, name in enumerate(SCRIPT_IDS, start=1):
        for start, end in re.findall(r"(.)(?:-(.))?", SCRIPT_CHARS[name]):
            lo, hi = ord(start), ord(end or start)
            table[lo:min(hi, TABLE_SIZE - 1) + 1] |= np.uint8(script_id << 4)
    return table


CLASSES = _build_classes()


@lru_cache(maxsize=32)
def _char_table(chars: str) -> np.ndarray:
    """Bool per code point up to max(chars) + 1; the last entry (False) stands for every larger code point."""
    table = np.zeros(max(map(ord, chars)) + 2, dtype=bool)
    table[[ord(c) for c in chars]] = True
    return table


class CharView:
    """All texts of a batch as one code-point array, with per-text [start, end) offsets."""

    def __init__(self, texts: list[str]):
        # Every text is followed by a NUL separator (also the last), so text i owns [starts[i], starts[i+1]):
        # its characters and one separator, which is in no character class.
        joined = "\x00".join(texts) + "\x00"
        self.cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        self.starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
        self.ends = self.starts + lengths
        self.classes = CLASSES[np.minimum(self.cp, TABLE_SIZE - 1)]
        self._script_ids: np.ndarray | None = None  # classes >> 4, on first use

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Per-text number of True positions in a mask over `cp` (False on separators)."""
        if len(self.starts) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.add.reduceat(mask, self.starts, dtype=np.int64)

    def is_any(self, chars: str) -> np.ndarray:
        """Mask over `cp`: is the code point one of `chars`? (one table look-up per code point)"""
        table = _char_table(chars)
        return table[np.minimum(self.cp, len(table) - 1)]

    def count_chars(self, chars: str) -> np.ndarray:
        """Per-text number of occurrences of any of `chars`."""
        return self.count(self.is_any(chars))

    def has_bit(self, bit: int) -> np.ndarray:
        return (self.classes & bit) != 0

    def in_scripts(self, names: tuple[str, ...]) -> np.ndarray:
        if self._script_ids is None:
            self._script_ids = self.classes >> 4
        ids = self._script_ids
        mask = np.zeros(len(ids), dtype=bool)
        for name in names:
            mask |= ids == SCRIPT_IDS.index(name) + 1
        return mask

    def max_run_at_least(self, run: int, skip: str = "") -> np.ndarray:
        """Per text: does one character repeat `run` times in a row (characters in `skip` excepted)?"""
        cp = self.cp
        same = (cp[1:] == cp[:-1]) & (cp[1:] != 0)
        for char in skip:
            same &= cp[1:] != ord(char)
        need = run - 1
        if need <= 0:
            return self.ends > self.starts
        cs = np.concatenate([[0], np.cumsum(same, dtype=np.int64)])
        # window of `need` consecutive "same as previous" flags starting at position i (pair i, i+1)
        window = np.zeros(len(cp), dtype=bool)
        if len(same) >= need:
            window[: len(same) - need + 1] = (cs[need:] - cs[:-need]) == need
        return self.count(window) > 0


_ENTITY_STRIP = ".,;:!?()[]{}\"'«»“”„‘’"


def entities(tokens: list[str]) -> frozenset[str]:
    """Tokens translators copy verbatim: CamelCase/ALLCAPS names, %VARIABLES%, paths, identifiers (ASCII only).

    Plain lower-case and title-case words (punctuation does not affect islower/istitle) are dropped by a
    comprehension of C-level string tests; only the few remaining tokens get the slower checks.
    """
    out = []
    for tok in [t for t in tokens if not t.islower() and not t.istitle()]:
        tok = tok.strip(_ENTITY_STRIP)
        if "-" in tok and tok.replace("-", "").isalpha():
            tok = tok.replace("-", "")  # "Right-click" is a word; "Ctrl-Z" stays a (folded) name
        if len(tok) < 2 or not tok.isascii() or tok.isdigit() or (tok.isalpha() and (tok.islower() or tok.istitle())):
            continue
        out.append(tok)
    return frozenset(out)
