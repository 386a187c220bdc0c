"""Duplicate removal: a set of 64-bit hashes, the only memory that grows with the input.

Workers compute the keys (stable blake2b, unlike Python's per-process salted `hash`), the parent process keeps
the set, so the first occurrence in input order wins whatever the number of workers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MODES = ("off", "exact", "normalized")


DUPLICATE = "duplicate"  # the reason tag of a row whose key an earlier kept row had


@dataclass
class DedupParams:
    # exact: same (normalized) text on both sides; normalized: also equal after case folding and dropping
    # spaces and ASCII punctuation ("Click OK." == "click ok").
    mode: str = "normalized"

    def validate(self) -> list[str]:
        return [] if self.mode in MODES else [f"mode: expected one of {MODES}, got {self.mode!r}"]


def _key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


_ASCII_PUNCT = bytes(c for c in range(128) if not chr(c).isalnum())


def _folded_key(text: str) -> int:
    data = text.casefold().encode("utf-8", "surrogatepass").translate(None, _ASCII_PUNCT)
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def keys(src: list[str], tgt: list[str] | None, mode: str) -> list[int]:
    """One 64-bit key per row for `mode` (empty list for "off")."""
    if mode == "off":
        return []
    pairs = src if tgt is None else [s + "\t" + t for s, t in zip(src, tgt)]
    if mode == "exact":
        return [_key(p) for p in pairs]
    # Folding: case, spaces and ASCII punctuation go (bytes.translate runs at C speed); digits stay.
    return [_folded_key(p) for p in pairs]


class Deduplicator:
    def __init__(self, params: DedupParams):
        self.mode = params.mode
        self._seen: set[int] = set()

    def check(self, key: int) -> str | None:
        """Record the row's key; return DUPLICATE if an earlier kept row had it, else None."""
        if self.mode == "off":
            return None
        if key in self._seen:
            return DUPLICATE
        self._seen.add(key)
        return None
