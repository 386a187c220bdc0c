"""Corpora for the selection benchmarks (benchmarks/select.sh, benchmarks/select_diagnose.py), cut from a corpus dir.

    OUT/poolsrc/   PAIR: POOL_N train pairs of CORPUS (shuffled with --seed; with --base-n, none of the base's
                   English sentences); WRONG_PAIR: POOL_N pairs of --wrong-from, used only as a source of
                   wrong-language targets by `volctrans data noisy`
    OUT/base/      (only with --base-n N > 0) PAIR: N other train pairs, CORPUS's dev and test splits, for
                   training a base model from scratch

Usage: python benchmarks/select_data.py CORPUS OUT --pair en-es --pool-n 3000 [--base-n 0]
           [--wrong-from data/sample:en-fr] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from volctrans.data.corpus import Manifest
from volctrans.io import read_tsv, write_tsv


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("out")
    parser.add_argument("--pair", default="en-de")
    parser.add_argument("--pool-n", type=int, required=True)
    parser.add_argument("--base-n", type=int, default=0)
    parser.add_argument("--wrong-from", default=None,
                        help="DIR:PAIR of the wrong-language targets (default: CORPUS:en-fr)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    corpus_dir, out_dir = Path(args.corpus), Path(args.out)
    source = Manifest.load(corpus_dir)
    rng = random.Random(args.seed)
    rows = read_tsv(source.path(corpus_dir, args.pair, "train"))
    rng.shuffle(rows)
    base_rows = rows[:args.base_n]
    base_sources = {row.source for row in base_rows}
    pool_rows = [row for row in rows[args.base_n:] if row.source not in base_sources][:args.pool_n]
    details = {"builder": "benchmarks/select_data.py", "from": str(corpus_dir), "seed": args.seed}
    if base_rows:
        base = Manifest(name=source.name, licence=source.licence, source_lang="en", details=dict(details))
        base.files[args.pair], base.pairs[args.pair] = {}, {}
        for split, split_rows in (("train", base_rows), ("dev", read_tsv(source.path(corpus_dir, args.pair, "dev"))),
                                  ("test", read_tsv(source.path(corpus_dir, args.pair, "test")))):
            write_tsv(out_dir / "base" / f"{args.pair}/{split}.tsv", (row.fields() for row in split_rows))
            base.files[args.pair][split] = f"{args.pair}/{split}.tsv"
            base.pairs[args.pair][split] = len(split_rows)
        base.save(out_dir / "base")
    wrong_dir, wrong_pair = (args.wrong_from or f"{corpus_dir}:en-fr").rsplit(":", 1)
    wrong_manifest = Manifest.load(wrong_dir)
    wrong_rows = read_tsv(wrong_manifest.path(wrong_dir, wrong_pair, "train"))
    rng.shuffle(wrong_rows)
    pool = Manifest(name="poolsrc", licence=source.licence, source_lang="en",
                    details={**details, "wrong_language_from": f"{wrong_dir}:{wrong_pair}"})
    for pair, pair_rows in ((args.pair, pool_rows), (wrong_pair, wrong_rows[:args.pool_n])):
        write_tsv(out_dir / "poolsrc" / f"{pair}/train.tsv", (row.fields() for row in pair_rows))
        pool.files[pair] = {"train": f"{pair}/train.tsv"}
        pool.pairs[pair] = {"train": len(pair_rows)}
    pool.save(out_dir / "poolsrc")
    print(f"base: {len(base_rows)} train pairs; pool source: {len(pool_rows)} {args.pair} + "
          f"{min(args.pool_n, len(wrong_rows))} {wrong_pair} (wrong-language targets)")


if __name__ == "__main__":
    main()
