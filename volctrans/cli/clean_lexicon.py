"""`volctrans clean-lexicon`: learn the word-translation lexicon used by the `lexical` cleaning rule."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--src-lang", required=True)
    parser.add_argument("-t", "--tgt-lang", required=True)
    parser.add_argument("-i", "--input", required=True, help="clean pairs, source<TAB>target (TSV, *.gz ok)")
    parser.add_argument("-o", "--output", required=True, help="lexicon JSON, e.g. lexicons/en-de.json")
    parser.add_argument("--min-count", type=int, default=3, help="ignore words seen in fewer pairs")
    parser.add_argument("--min-dice", type=float, default=0.3, help="keep translations with at least this Dice")


def run(args: argparse.Namespace) -> int:
    from cleaning import lexicon
    from volctrans.io import TsvRow, iter_tsv_rows

    pairs = [(row.source, row.target) for row in iter_tsv_rows(args.input, strict=False) if isinstance(row, TsvRow)]
    lex = lexicon.learn(pairs, args.src_lang, args.tgt_lang, min_count=args.min_count, min_dice=args.min_dice)
    lexicon.save(lex, args.output)
    print(json.dumps({"pairs": len(pairs), "src_words": len(lex["src_to_tgt"]), "tgt_words": len(lex["tgt_to_src"])}),
          file=sys.stderr)
    return 0
