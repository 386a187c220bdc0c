"""`volctrans prepare`: SentencePiece + fairseq binarization from corpus directories."""

from __future__ import annotations

import argparse
import json
import sys

from volctrans.config import from_dict, load_yaml
from volctrans.prepare import PrepareConfig, prepare


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML with PrepareConfig keys; flags below override it")
    parser.add_argument("--corpora", nargs="+", help="corpus directories written by `volctrans data`")
    parser.add_argument("--out", help="output folder")
    parser.add_argument("--langs", help="comma-separated target languages to keep")
    parser.add_argument("--vocab-size", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--vocab-from", help="reuse the SentencePiece model and dictionary of this prepared folder "
                                             "(to fine-tune a model trained on it)")
    parser.add_argument("--check", action="store_true", help="only validate the config")


def config_from_args(args: argparse.Namespace) -> PrepareConfig:
    values = load_yaml(args.config) if args.config else {}
    overrides = {"corpora": args.corpora, "out": args.out, "vocab_size": args.vocab_size, "workers": args.workers,
                 "vocab_from": args.vocab_from,
                 "langs": args.langs.split(",") if args.langs else None}
    values.update({key: value for key, value in overrides.items() if value is not None})
    return from_dict(PrepareConfig, values, source=args.config or "command line")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.check:
        print(f"{args.config or 'prepare'}: ok ({len(config.corpora)} corpora, vocabulary {config.vocab_size})")
        return 0
    summary = prepare(config)
    json.dump({"out": summary["config"]["out"], "langs": summary["langs"], "pairs": summary["pairs"]}, sys.stdout, indent=1)
    print()
    return 0
