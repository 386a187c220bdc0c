"""Corpora for benchmarks/select.sh, cut from a LibreOffice-help corpus directory (en-de, en-fr).

    OUT/base/      en-de: BASE_N train pairs, the corpus's dev and test splits (the base model's data)
    OUT/poolsrc/   en-de: POOL_N *other* train pairs; en-fr: POOL_N pairs (only a source of wrong-language
                   targets for `volctrans data noisy`)

Train pairs are shuffled with a fixed seed before cutting; base and pool share no English sentence.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from volctrans.data.corpus import Manifest
from volctrans.io import read_tsv, write_tsv


def main(corpus: str, out: str, base_n: int, pool_n: int, seed: int = 1) -> None:
    corpus_dir, out_dir = Path(corpus), Path(out)
    source = Manifest.load(corpus_dir)
    rng = random.Random(seed)
    rows = read_tsv(source.path(corpus_dir, "en-de", "train"))
    rng.shuffle(rows)
    base_rows = rows[:base_n]
    base_sources = {row.source for row in base_rows}
    pool_rows = [row for row in rows[base_n:] if row.source not in base_sources][:pool_n]
    base = Manifest(name="libreoffice", licence=source.licence, source_lang="en",
                    details={"builder": "benchmarks/select_data.py", "from": str(corpus_dir), "seed": seed})
    base.files["en-de"] = {}
    base.pairs["en-de"] = {}
    for split, split_rows in (("train", base_rows), ("dev", read_tsv(source.path(corpus_dir, "en-de", "dev"))),
                              ("test", read_tsv(source.path(corpus_dir, "en-de", "test")))):
        write_tsv(out_dir / "base" / f"en-de/{split}.tsv", (row.fields() for row in split_rows))
        base.files["en-de"][split] = f"en-de/{split}.tsv"
        base.pairs["en-de"][split] = len(split_rows)
    base.save(out_dir / "base")
    fr_rows = read_tsv(source.path(corpus_dir, "en-fr", "train"))
    rng.shuffle(fr_rows)
    pool = Manifest(name="poolsrc", licence=source.licence, source_lang="en",
                    details={"builder": "benchmarks/select_data.py", "from": str(corpus_dir), "seed": seed})
    for pair, pair_rows in (("en-de", pool_rows), ("en-fr", fr_rows[:pool_n])):
        write_tsv(out_dir / "poolsrc" / f"{pair}/train.tsv", (row.fields() for row in pair_rows))
        pool.files[pair] = {"train": f"{pair}/train.tsv"}
        pool.pairs[pair] = {"train": len(pair_rows)}
    pool.save(out_dir / "poolsrc")
    print(f"base: {len(base_rows)} train pairs; pool source: {len(pool_rows)} en-de + {min(pool_n, len(fr_rows))} en-fr")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
