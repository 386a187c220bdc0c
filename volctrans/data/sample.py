"""Cut a small, reproducible sample from a corpus directory, plus a monolingual slice for back-translation.

The monolingual slice is the target side of training pairs *not* taken into the sample, so it is never the
translation of anything the sample trains on, and never from dev/test pages.
"""

from __future__ import annotations

import random
from pathlib import Path

from volctrans.data.corpus import Manifest
from volctrans.io import read_tsv, write_lines, write_tsv


def build_sample(
    corpus_dir: Path,
    out_dir: Path,
    train: int,
    dev: int,
    test: int,
    mono: int,
    langs: list[str] | None = None,
    seed: int = 1,
    compress: bool = True,
) -> Manifest:
    source = Manifest.load(corpus_dir)
    sample = Manifest(name=source.name, licence=source.licence, source_lang=source.source_lang)
    suffix = ".tsv.gz" if compress else ".tsv"
    limits = {"train": train, "dev": dev, "test": test}
    for pair, files in source.files.items():
        lang = pair.split("-", 1)[1]
        if langs and lang not in langs:
            continue
        rng = random.Random(f"{seed}:{pair}")
        sample.pairs[pair], sample.files[pair] = {}, {}
        leftover_targets: list[str] = []
        sampled_targets: set[str] = set()
        for split, limit in limits.items():
            rows = read_tsv(corpus_dir / files[split])
            order = list(range(len(rows)))
            rng.shuffle(order)
            chosen = sorted(order[:limit])  # keep corpus order inside the sample
            if split == "train":
                leftover_targets = [rows[i].target for i in order[limit:]]
                sampled_targets = {rows[i].target for i in chosen}
            relative = f"{pair}/{split}{suffix}"
            write_tsv(out_dir / relative, (rows[i].fields() for i in chosen))
            sample.pairs[pair][split] = len(chosen)
            sample.files[pair][split] = relative
        if mono:
            kept = [t for t in leftover_targets if t not in sampled_targets][:mono]
            relative = f"mono/{lang}.txt" + (".gz" if compress else "")
            write_lines(out_dir / relative, kept)
            sample.mono[lang] = relative
    sample.details = {"sampled_from": source.details, "seed": seed, "limits": {**limits, "mono": mono}}
    sample.save(out_dir)
    return sample
