"""The benchmark rows: real clean pairs of one language pair, a share of them replaced by labelled noise."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from cleaning.corrupt import NOISE_TYPES, Corruptor
from cleaning.dedup import DedupParams, Deduplicator, keys
from cleaning.text import is_unspaced
from volctrans.io import iter_tsv_rows

CLEAN = "clean"


@dataclass
class BenchRow:
    src: str
    tgt: str
    noise: str  # "clean" or a NOISE_TYPES entry


def read_corpus(root: Path, tgt_lang: str, split: str) -> list[tuple[str, str, str]]:
    """(en, xx, id) rows of <root>/en-<xx>/<split>.tsv, dropping rows without a third column."""
    path = root / f"en-{tgt_lang}" / f"{split}.tsv"
    return [(r.source, r.target, r.extra[0] if r.extra else "") for r in iter_tsv_rows(path, strict=True)]


def _near_copy(pair: tuple[str, str], rng: random.Random) -> tuple[str, str]:
    """An exact copy, or one that differs only in case, spacing or final punctuation (a near duplicate)."""
    s, t = pair
    choice = rng.randrange(4)
    if choice == 1:
        return s.lower(), t
    if choice == 2:
        return s + " ", t.replace(" ", "  ", 1)
    if choice == 3:
        return s.rstrip(".") if s.endswith(".") else s + ".", t
    return s, t


def build(root: Path, tgt_lang: str, split: str, seed: int, noise_rate: float = 0.3,
          max_clean: int | None = None, other_langs: Sequence[str] = ()) -> list[BenchRow]:
    """Clean pairs of one language pair with a share `noise_rate` replaced by noise (types in equal shares)."""
    rng = random.Random(f"{seed}-{tgt_lang}-{split}")
    corpus = read_corpus(root, tgt_lang, split)
    rng.shuffle(corpus)
    if max_clean:
        corpus = corpus[:max_clean]
    pairs = [(s, t) for s, t, _ in corpus]
    # Wrong language: the translation of the same English text into another language (same help-page id),
    # the hardest realistic case (same content, same length), else a random sentence of another language.
    by_id: dict[str, list[str]] = {}
    others: list[str] = []
    for lang in other_langs:
        if lang == tgt_lang:
            continue
        for s, t, ident in read_corpus(root, lang, split):
            by_id.setdefault(ident, []).append(t)
            others.append(t)

    def other_lang(index: int) -> str | None:
        same = by_id.get(corpus[index][2])
        if same:
            return rng.choice(same)
        return rng.choice(others) if others else None

    corrupt = Corruptor(pairs, rng, unspaced=is_unspaced(tgt_lang), other_lang=other_lang)
    rows: list[BenchRow] = []
    kept: list[tuple[str, str]] = []
    for index, pair in enumerate(pairs):
        if rng.random() >= noise_rate:
            rows.append(BenchRow(*pair, CLEAN))
            kept.append(pair)
            continue
        kind = NOISE_TYPES[rng.randrange(len(NOISE_TYPES))]
        if kind == "duplicate":
            made = _near_copy(rng.choice(kept), rng) if kept else None
        else:
            made = corrupt(kind, index, pair)
        if made is None:  # this pair cannot carry that noise: keep it clean
            rows.append(BenchRow(*pair, CLEAN))
            kept.append(pair)
        else:
            rows.append(BenchRow(*made, kind))
    return label_duplicates(rows)


def label_duplicates(rows: list[BenchRow]) -> list[BenchRow]:
    """Gold dedup: a row equal (after folding) to an earlier clean row is a duplicate, whatever it was built as."""
    dedup = Deduplicator(DedupParams("normalized"))
    out = []
    for row, key in zip(rows, keys([r.src for r in rows], [r.tgt for r in rows], "normalized")):
        if row.noise in (CLEAN, "duplicate"):
            repeated = dedup.check(key)
            row = BenchRow(row.src, row.tgt, "duplicate" if repeated else CLEAN)
        out.append(row)
    return out


def write(rows: Sequence[BenchRow], path: Path) -> None:
    """TSV: src, tgt, noise type, row index. Tabs/newlines in generated text are replaced by spaces."""
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for i, row in enumerate(rows):
            s = re.sub(r"[\t\n\r]", " ", row.src)
            t = re.sub(r"[\t\n\r]", " ", row.tgt)
            handle.write(f"{s}\t{t}\t{row.noise}\t{i}\n")
