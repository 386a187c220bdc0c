"""Synthetic noise of the kinds found in crawled bitext, applied to real clean pairs.

Used twice: as negatives to train the learned rule (cleaning/learned.py) and to build the labelled noisy
benchmark (cleaning/bench.py). Each function is pure given its random generator.
"""

from __future__ import annotations

import random
from typing import Callable, Sequence

Pair = tuple[str, str]

NOISE_TYPES = ("misaligned", "wrong_lang", "untranslated", "truncated", "glued", "mojibake", "html",
               "numbers_symbols", "empty_side", "duplicate")


def _mojibake(text: str) -> str:
    """UTF-8 bytes read as CP1252 (Latin-1 for the five bytes CP1252 leaves undefined)."""
    out = []
    for byte in text.encode("utf-8"):
        try:
            out.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(byte))
    return "".join(out)


def _cut(text: str, rng: random.Random, unspaced: bool) -> str:
    if unspaced:
        return text[: max(1, int(len(text) * rng.uniform(0.3, 0.6)))]
    words = text.split()
    return " ".join(words[: max(1, int(len(words) * rng.uniform(0.3, 0.6)))])


_TAGS = ['<a href="https://example.com/{w}">{t}</a>', "<p>{t}</p>", "{t}<br/>", '<span class="x">{t}</span>',
         "{t}&nbsp;", "<li>{t}", "&lt;b&gt;{t}&lt;/b&gt;", '<div style="color:red">{t}</div>']


def _symbols(rng: random.Random) -> str:
    parts = [f"{rng.randint(0, 9999)}", f"{rng.randint(0, 99)}.{rng.randint(0, 99)}%", "—", "|", "*", "•",
             f"{rng.randint(1, 31)}/{rng.randint(1, 12)}/{rng.randint(1990, 2030)}", "#", "+", "€ 12,50", "→"]
    return " ".join(rng.sample(parts, rng.randint(2, 5)))


class Corruptor:
    """Turn a clean pair into a noisy one of a given type.

    pool: other clean pairs of the same language pair (for misaligned/glued), other_lang: for a pair,
    a text in a third language (translation of the same source when known), unspaced: target is CJK.
    """

    def __init__(self, pool: Sequence[Pair], rng: random.Random, unspaced: bool = False,
                 other_lang: Callable[[int], str | None] | None = None):
        self.pool = pool
        self.rng = rng
        self.unspaced = unspaced
        self.other_lang = other_lang

    def _other(self) -> Pair:
        return self.pool[self.rng.randrange(len(self.pool))]

    def __call__(self, kind: str, index: int, pair: Pair) -> Pair | None:
        """The noisy pair, or None when this pair cannot carry this noise (e.g. ASCII text for mojibake)."""
        rng, (s, t) = self.rng, pair
        if kind == "misaligned":
            other = self._other()[1]
            return None if other == t else (s, other)
        if kind == "wrong_lang":
            other = self.other_lang(index) if self.other_lang else None
            return None if not other else (s, other)
        if kind == "untranslated":
            return (s, s) if rng.random() < 0.8 else (t, t)
        if kind == "truncated":
            long_enough = len(t) >= 12 if self.unspaced else len(t.split()) >= 6
            if not long_enough:
                return None
            return (s, _cut(t, rng, self.unspaced)) if rng.random() < 0.7 else (_cut(s, rng, False), t)
        if kind == "glued":
            other = self._other()
            if rng.random() < 0.6:
                return (s, t + ("" if self.unspaced else " ") + other[1])
            return (s + " " + other[0], t)
        if kind == "mojibake":
            if t.isascii() and s.isascii():
                return None
            return (s, _mojibake(t)) if not t.isascii() else (_mojibake(s), t)
        if kind == "html":
            template = rng.choice(_TAGS)
            w = rng.choice(["index", "help", "page"])
            both = rng.random() < 0.5
            return (template.format(t=s, w=w) if both else s, template.format(t=t, w=w))
        if kind == "numbers_symbols":
            sym = _symbols(rng)
            return (s, sym) if rng.random() < 0.5 else (sym, sym if rng.random() < 0.5 else t)
        if kind == "empty_side":
            return (s, rng.choice(["", " "])) if rng.random() < 0.7 else ("", t)
        raise ValueError(f"unknown noise type {kind!r}")
