"""`volctrans prepare`: SentencePiece + fairseq binarization from corpus directories."""

from __future__ import annotations

import argparse
import json
import sys

from volctrans.cli.common import add_config_arguments, add_field, comma_list, config_from_args
from volctrans.prepare import PrepareConfig, prepare


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, PrepareConfig)
    add_field(parser, PrepareConfig, "corpora", nargs="+", help="corpus directories written by `volctrans data`")
    add_field(parser, PrepareConfig, "out", help="output folder")
    add_field(parser, PrepareConfig, "langs", type=comma_list, help="comma-separated target languages to keep")
    add_field(parser, PrepareConfig, "vocab_size", type=int)
    add_field(parser, PrepareConfig, "workers", type=int)
    add_field(parser, PrepareConfig, "vocab_from", help="reuse the SentencePiece model and dictionary of this "
                                                          "prepared folder (to fine-tune a model trained on it)")
    parser.add_argument("--check", action="store_true", help="only validate the config")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(PrepareConfig, args)
    if args.check:
        print(f"{args.config or 'prepare'}: ok ({len(config.corpora)} corpora, vocabulary {config.vocab_size})")
        return 0
    summary = prepare(config)
    json.dump({"out": summary["config"]["out"], "langs": summary["langs"], "pairs": summary["pairs"]}, sys.stdout, indent=1)
    print()
    return 0
