"""A cheap cross-lingual signal: word-translation coverage from a lexicon learned on clean pairs (the rule that
applies it: cleaning/rules/lexical.py).

Length, numbers and punctuation cannot tell a misaligned pair whose sides happen to have the same shape; word
translations can. The lexicon is learned without labels from clean parallel text of the language pair
(Dice coefficient of sentence-level co-occurrence, the classic probabilistic-dictionary shortcut), so it needs
a few thousand clean pairs per language pair. Coverage = share of a side's known words whose translation
appears on the other side; a misaligned pair or a glued sentence leaves many words uncovered.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from cleaning.formats import read_versioned_json, write_json
from cleaning.text import SCRIPT_CHARS, is_unspaced
from volctrans.errors import InputError
from volctrans.io import TsvRow, iter_tsv_rows
from volctrans.languages import check_language

FORMAT = "volctrans-lexicon/1"
_WORD = re.compile(r"[^\W\d_]{2,}")
_CJK = re.compile("[" + SCRIPT_CHARS["han"] + SCRIPT_CHARS["kana"] + "]+")


def tokens(text: str, lang: str) -> frozenset[str]:
    """Lower-cased words; for Chinese/Japanese, character bigrams of CJK runs (plus Latin words)."""
    text = text.lower()
    if not is_unspaced(lang):
        return frozenset(_WORD.findall(text))
    out = set(_WORD.findall(_CJK.sub(" ", text)))
    for run in _CJK.findall(text):
        out.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    return frozenset(out)


def _direction(a_sets: list[frozenset[str]], b_sets: list[frozenset[str]], min_count: int, min_dice: float,
               top: int, max_df: float) -> dict[str, list[str]]:
    """For each frequent token of side A, its `top` side-B tokens by Dice coefficient (≥ min_dice)."""
    n = len(a_sets)
    df_b = collections.Counter(t for s in b_sets for t in s)
    index: dict[str, list[int]] = collections.defaultdict(list)
    for i, s in enumerate(a_sets):
        for t in s:
            index[t].append(i)
    out: dict[str, list[str]] = {}
    for token, rows in index.items():
        # Very frequent tokens (function words) co-occur with everything: no signal, and the slowest to count.
        if len(rows) < min_count or len(rows) > max_df * n:
            continue
        counts = collections.Counter(t for i in rows for t in b_sets[i])
        scored = sorted(((2 * c / (len(rows) + df_b[t]), t) for t, c in counts.items() if c >= min_count),
                        reverse=True)[:top]
        best = [t for dice, t in scored if dice >= min_dice]
        if best:
            out[token] = best
    return out


def learn(pairs: Sequence[tuple[str, str]], src_lang: str, tgt_lang: str, min_count: int = 3,
          min_dice: float = 0.3, top: int = 3, max_df: float = 0.05) -> dict:
    src_sets = [tokens(s, src_lang) for s, _ in pairs]
    tgt_sets = [tokens(t, tgt_lang) for _, t in pairs]
    return {"format": FORMAT, "src_lang": src_lang, "tgt_lang": tgt_lang, "pairs": len(pairs),
            "params": {"min_count": min_count, "min_dice": min_dice, "top": top, "max_df": max_df},
            "src_to_tgt": _direction(src_sets, tgt_sets, min_count, min_dice, top, max_df),
            "tgt_to_src": _direction(tgt_sets, src_sets, min_count, min_dice, top, max_df)}


def learn_file(path: str | Path, src_lang: str, tgt_lang: str, output: str | Path, **params) -> dict:
    """Learn a lexicon from the clean pairs of a TSV (malformed rows skipped), write it; return its size."""
    check_language(src_lang, "source language")
    check_language(tgt_lang, "target language")
    pairs = [(row.source, row.target) for row in iter_tsv_rows(path, strict=False) if isinstance(row, TsvRow)]
    lexicon = learn(pairs, src_lang, tgt_lang, **params)
    if not lexicon["src_to_tgt"] and not lexicon["tgt_to_src"]:
        raise InputError(str(path), None, f"no word translations could be learned from {len(pairs)} well-formed "
                                          "pairs (too few; the rule needs thousands)")
    save(lexicon, output)
    return {"pairs": len(pairs), "src_words": len(lexicon["src_to_tgt"]), "tgt_words": len(lexicon["tgt_to_src"])}


def save(lexicon: dict, path: str | Path) -> None:
    write_json(path, lexicon, readable=False)  # large and machine-read: compact


def load(path: str | Path) -> dict:
    return read_versioned_json(path, FORMAT, "lexicon")


def coverage(a_sets: Iterable[frozenset[str]], b_sets: Iterable[frozenset[str]], table: dict[str, list[str]],
             min_known: int) -> np.ndarray:
    """Per pair: share of A's lexicon words with a translation in B; 1.0 when fewer than min_known are known."""
    out = []
    for a, b in zip(a_sets, b_sets):
        known = covered = 0
        for token in a:
            translations = table.get(token)
            if translations:
                known += 1
                covered += any(t in b for t in translations)
        out.append(covered / known if known >= min_known else 1.0)
    return np.array(out, dtype=np.float64)
