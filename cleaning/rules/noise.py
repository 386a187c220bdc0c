"""Encoding noise: replacement characters, mojibake (UTF-8 read as Latin-1/CP1252), control/private-use junk."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cleaning.rules.base import NoParams, Rule, floats, register_rule
from cleaning.text import rows_containing
from cleaning.views import Side


@register_rule("bad_encoding", NoParams)
class BadEncoding(Rule):
    """U+FFFD replacement characters: bytes were lost on decoding (bicleaner `no_bad_encoding`)."""

    def score(self, side: Side) -> np.ndarray:
        out = np.zeros(len(side))
        raw = side.raw
        for i in rows_containing(raw, "\ufffd"):
            out[i] = raw[i].count("\ufffd")
        return out

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores < 1


# UTF-8 lead bytes decoded as CP1252/Latin-1: "Ã©", "Ã¼", "â€™", "Ð°" (Cyrillic), "å¤" / "ã‚" (CJK), "Â ".
# (first character, rest) of each alternative, tried in this order.
MOJIBAKE_ALTERNATIVES = (
    ("[ÃÂ]", "[\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]"),
    ("â", "€[\u0080-\u00bf™œ\u009d“”˜¢¦¡]"),
    ("[ÐÑ]", "[\u0080-\u00bf‘’“”•–—˜™š›œžŸ€‚ƒ„…†‡ˆ‰Š‹ŒŽ]"),
    ("[äåæçèéã]", "[\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]{2}"),
    ("ï", "»¿"),
    ("Ã", "\u0083Â"),
)


def mojibake_pattern(fast: bool = True) -> re.Pattern[str]:
    """The alternatives as one regex. `fast`: one leading character class, each alternative then checks its
    first character by lookbehind. Same matches as the plain alternation, but the regex engine can skip to
    the candidate characters (a pattern starting with an alternation is tried at every position, ~3x slower)."""
    if not fast:
        return re.compile("|".join(first + rest for first, rest in MOJIBAKE_ALTERNATIVES))
    leads = "".join(first.strip("[]") for first, _ in MOJIBAKE_ALTERNATIVES)
    return re.compile(f"[{leads}](?:" + "|".join(f"(?<={first}){rest}" for first, rest in MOJIBAKE_ALTERNATIVES) + ")")


_MOJIBAKE = mojibake_pattern()


@dataclass
class MojibakeParams:
    max_hits: int = 0


@register_rule("mojibake", MojibakeParams)
class Mojibake(Rule):
    """Typical UTF-8-as-CP1252 sequences (firefox-translations-training `mojibake`, ftfy's badness)."""

    def score(self, side: Side) -> np.ndarray:
        findall = _MOJIBAKE.findall
        return floats(0 if t.isascii() else len(findall(t)) for t in side.raw)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores <= self.params.max_hits


# C0/C1 controls (but tab), private use, unassigned specials, zero-width junk beyond the odd one.
_NOISE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ue000-\uf8ff\ufff0-\ufffc\U000f0000-\U0010ffff]"
                    "|[\u200b-\u200f\u2028-\u202e\u2060-\u206f]{2,}")


@register_rule("unicode_noise", NoParams)
class UnicodeNoise(Rule):
    """Control, private-use or stacked invisible characters (bicleaner `no_unicode_noise`)."""

    def score(self, side: Side) -> np.ndarray:
        search = _NOISE.search
        # isprintable() is False for every character class the pattern looks for: a C-speed pre-check.
        return floats(0.0 if t.isprintable() or not search(t) else 1.0 for t in side.raw)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores < 0.5
