"""`volctrans clean-learn`: train the rectifier-network rule and write it as readable linear constraints."""

from __future__ import annotations

import argparse
import json
import sys

from cleaning.learned import LearnConfig, learn
from volctrans.cli.common import add_field, config_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    def field(name: str, *flags: str, **kwargs) -> None:
        add_field(parser, LearnConfig, name, *flags, **kwargs)

    field("data", action="append", required=True,
          help="clean pairs as SRC-TGT:PATH (TSV); repeat for several language pairs")
    field("output", "-o", "--output", required=True, help="constraints file (JSON)")
    field("hidden", type=int, help="hidden ReLU units K (2^K − 1 constraints)")
    field("max_pairs", type=int, help="clean pairs sampled per language pair")
    field("epochs", type=int)
    field("negative_weight", type=float, help="loss weight of corrupted pairs (< 1 keeps more clean pairs)")
    field("seed", type=int)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(learn(config_from_args(LearnConfig, args))), file=sys.stderr)
    return 0
