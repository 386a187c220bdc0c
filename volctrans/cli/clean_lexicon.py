"""`volctrans clean-lexicon`: learn the word-translation lexicon used by the `lexical` cleaning rule."""

from __future__ import annotations

import argparse
import inspect
import json
import sys

from cleaning import lexicon


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = {name: p.default for name, p in inspect.signature(lexicon.learn).parameters.items()}
    parser.add_argument("-s", "--src-lang", required=True)
    parser.add_argument("-t", "--tgt-lang", required=True)
    parser.add_argument("-i", "--input", required=True, help="clean pairs, source<TAB>target (TSV, *.gz ok)")
    parser.add_argument("-o", "--output", required=True, help="lexicon JSON, e.g. lexicons/en-de.json")
    parser.add_argument("--min-count", type=int, default=defaults["min_count"], help="ignore words seen in fewer pairs")
    parser.add_argument("--min-dice", type=float, default=defaults["min_dice"],
                        help="keep translations with at least this Dice")


def run(args: argparse.Namespace) -> int:
    summary = lexicon.learn_file(args.input, args.src_lang, args.tgt_lang, args.output, min_count=args.min_count,
                                 min_dice=args.min_dice)
    print(json.dumps(summary), file=sys.stderr)
    return 0
