"""Deliberately noisy copies of real corpora: a controlled "crawled" source for weighting experiments.

A fraction `rate` of the training pairs is corrupted, half misaligned (the target of another pair of the same
language) and half wrong-language (a target taken from another language's pairs, when the corpus has one). The
noise type is recorded in the provenance column, so experiments can report what the noisy source contained.
"""

from __future__ import annotations

import random
from pathlib import Path

from volctrans.data.corpus import Manifest
from volctrans.errors import VolctransError
from volctrans.io import read_tsv, write_tsv


def build_noisy(corpus_dir: Path, out_dir: Path, name: str, rate: float = 0.5, seed: int = 1,
                exclude: Path | None = None, limit: int | None = None) -> Manifest:
    """exclude: a corpus whose training pairs (by English side) must not reappear here; limit: pairs per language."""
    if not 0.0 <= rate <= 1.0:
        raise VolctransError("rate must be in [0, 1]")
    source = Manifest.load(corpus_dir)
    excluded: set[str] = set()
    if exclude is not None:
        other = Manifest.load(exclude)
        for pair in other.files:
            excluded.update(row.source for row in read_tsv(other.path(exclude, pair, "train")))
    rows = {}
    for pair in source.files:
        kept = [row for row in read_tsv(source.path(corpus_dir, pair, "train")) if row.source not in excluded]
        rows[pair] = kept[:limit] if limit else kept
    manifest = Manifest(name=name, licence=source.licence, source_lang=source.source_lang)
    rng = random.Random(seed)
    counts: dict[str, dict[str, int]] = {}
    for pair, pair_rows in rows.items():
        others = [p for p in rows if p != pair]
        output, noise = [], {"clean": 0, "misaligned": 0, "wrong_language": 0}
        for row in pair_rows:
            kind = "clean"
            target = row.target
            if rng.random() < rate:
                kind = "wrong_language" if others and rng.random() < 0.5 else "misaligned"
                pool = rows[rng.choice(others)] if kind == "wrong_language" else pair_rows
                target = rng.choice(pool).target
            noise[kind] += 1
            output.append([row.source, target, f"{kind}:{row.extra[0] if row.extra else row.line}"])
        relative = f"{pair}/train.tsv"
        write_tsv(out_dir / relative, output)
        manifest.pairs[pair] = {"train": len(output)}
        manifest.files[pair] = {"train": relative}
        counts[pair] = noise
    manifest.details = {"builder": "noise", "from": str(corpus_dir), "rate": rate, "seed": seed,
                        "excluded_overlap_with": str(exclude) if exclude else None, "noise": counts}
    manifest.save(out_dir)
    return manifest
