"""Duplicate removal: a set of 64-bit hashes, the only memory that grows with the input.

Workers compute the keys (stable blake2b, unlike Python's per-process salted `hash`), the parent process keeps
the set, so the first occurrence in input order wins whatever the number of workers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MODES = ("off", "exact", "normalized")
_FOLD = re.compile(r"[\W_]+")


@dataclass
class DedupParams:
    # exact: same (normalized) text on both sides; normalized: also equal after case folding and dropping
    # punctuation and spaces ("Click OK." == "click ok").
    mode: str = "normalized"

    def validate(self) -> list[str]:
        return [] if self.mode in MODES else [f"mode: expected one of {MODES}, got {self.mode!r}"]


def _key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def keys(src: list[str], tgt: list[str] | None) -> tuple[list[int], list[int]]:
    """(exact key, folded key) per row."""
    exact, folded = [], []
    for i, s in enumerate(src):
        pair = s if tgt is None else s + "\t" + tgt[i]
        exact.append(_key(pair))
        folded.append(_key(_FOLD.sub("", pair).casefold()))
    return exact, folded


class Deduplicator:
    def __init__(self, params: DedupParams):
        self.mode = params.mode
        self._exact: set[int] = set()
        self._folded: set[int] = set()

    def check(self, exact: int, folded: int) -> str | None:
        """Record the row; return the reason tag if it repeats an earlier kept row, else None."""
        if self.mode == "off":
            return None
        if exact in self._exact:
            return "duplicate"
        self._exact.add(exact)
        if self.mode == "normalized":
            if folded in self._folded:
                return "near_duplicate"
            self._folded.add(folded)
        return None
