"""Normalization, an explicit step before the rules: safe compatibility folding, control chars, whitespace.

"Safe" NFKC: full NFKC also rewrites m² → m2, ½ → 1⁄2 and, in Chinese/Japanese, the full-width comma and
parentheses that are correct there. We fold only the compatibility mappings that never change meaning
(ligatures, no-break spaces, half/full-width forms), precomputed once into a `str.translate` table.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from cleaning.text import base_lang

SAFE_TAGS = ("<compat>", "<noBreak>", "<wide>", "<narrow>", "<font>")
# Compatibility forms that carry meaning: keep them even though NFKC would fold them.
KEEP = set("…™℃℉№")
CJK = {"zh", "ja", "ko"}


@dataclass
class NormalizeParams:
    enabled: bool = True
    nfkc: bool = True  # safe compatibility folding (see module doc)
    remove_control: bool = True  # C0/C1 controls, zero-width and BOM characters
    whitespace: bool = True  # collapse runs of (Unicode) whitespace, strip the ends


@lru_cache(maxsize=4)
def _table(cjk: bool, nfkc: bool, remove_control: bool) -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    if nfkc:
        for code in range(0x80, 0x10000):
            char = chr(code)
            decomposition = unicodedata.decomposition(char)
            if not decomposition.startswith(SAFE_TAGS) or char in KEEP:
                continue
            folded = unicodedata.normalize("NFKC", char)
            # CJK text uses full-width punctuation on purpose; only its full-width letters and digits fold.
            if cjk and decomposition.startswith("<wide>") and not folded.isalnum():
                continue
            if folded != char:
                table[code] = folded
    if remove_control:
        for code in [*range(0, 9), *range(0x0B, 0x20), *range(0x7F, 0xA0), 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]:
            table[code] = None
        # Line/paragraph separators and tabs become spaces: a TSV field must stay one field.
        for code in (0x09, 0x0A, 0x0D, 0x2028, 0x2029):
            table[code] = " "
    return table


@lru_cache(maxsize=4)
def _trigger(cjk: bool, nfkc: bool, remove_control: bool) -> re.Pattern[str]:
    """A character class of every character the table changes: most texts need no translate() at all."""
    chars = "".join(re.escape(chr(code)) for code in sorted(_table(cjk, nfkc, remove_control)))
    return re.compile(f"[{chars}]") if chars else re.compile(r"(?!)")


_ASCII_NONPRINTABLE = {code for code in range(0x80) if not chr(code).isprintable()}


def _never(text: str) -> bool:
    return False


def _not_printable(text: str) -> bool:
    return not text.isprintable()


class Normalizer:
    def __init__(self, params: NormalizeParams, lang: str):
        self.params = params
        key = (base_lang(lang) in CJK, params.nfkc, params.remove_control)
        self._table = _table(*key)
        self._needs = _trigger(*key).search
        # For ASCII text (isascii() is O(1)) the regex scan can be replaced by a C-speed test when the table's
        # ASCII entries are exactly the non-printable ones (remove_control) or none (nfkc only).
        ascii_entries = {code for code in self._table if code < 0x80}
        if not ascii_entries:
            self._ascii_needs = _never
        elif ascii_entries == _ASCII_NONPRINTABLE:
            self._ascii_needs = _not_printable
        else:
            self._ascii_needs = self._needs

    def __call__(self, texts: list[str]) -> list[str]:
        if not self.params.enabled:
            return texts
        table, nfc, collapse, needs = self._table, unicodedata.normalize, self.params.whitespace, self._needs
        is_nfc, ascii_needs = unicodedata.is_normalized, self._ascii_needs
        out = []
        for text in texts:
            if text.isascii():
                if ascii_needs(text):
                    text = text.translate(table)
            else:
                if needs(text):
                    text = text.translate(table)
                if not text.isascii() and not is_nfc("NFC", text):
                    text = nfc("NFC", text)
            if collapse and ("  " in text or not text.isprintable() or text[:1] == " " or text[-1:] == " "):
                text = " ".join(text.split())
            out.append(sys.intern(text) if len(text) < 8 else text)
        return out
