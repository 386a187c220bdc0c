"""Shared text primitives (regexes, scripts, number extraction). Compiled once at import; all pure functions."""

from __future__ import annotations

import re
from typing import Iterable

import numpy as np

LETTER = re.compile(r"[^\W\d_]")
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


def script_pattern(lang: str) -> re.Pattern[str]:
    return re.compile("[" + "".join(SCRIPT_CHARS[s] for s in scripts_of(lang)) + "]")


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
    if not any(c.isdigit() for c in text):
        return frozenset()
    return frozenset(re.sub(r"[.,]", "", m) for m in DIGIT_RUN.findall(text))


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


_SENTENCE_END = re.compile(r"(?<=[a-z\u00e0-\u024f\u0430-\u044f\d\)\"»”])[.!?]\s+(?=[\"«„“(]?[A-Z\u00c0-\u00de\u0410-\u042f])"
                           r"|[。！？](?=.)")


def sentence_count(text: str) -> int:
    """Sentences by end mark + space + capital (or CJK full stop followed by more text)."""
    return 1 + len(_SENTENCE_END.findall(text))
