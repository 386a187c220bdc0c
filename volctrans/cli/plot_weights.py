"""`volctrans plot-weights LOG.jsonl -o weights.png`: learned source weights over updates."""

from __future__ import annotations

import argparse

from volctrans.plot import plot_weights


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("log", help="weights.jsonl written by bilevel training (in the save_dir)")
    parser.add_argument("-o", "--out", required=True, help="PNG to write")
    parser.add_argument("--title", default=None)


def run(args: argparse.Namespace) -> int:
    print(plot_weights(args.log, args.out, args.title))
    return 0
