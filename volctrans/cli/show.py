"""`volctrans show PATH`: a one-line summary of a prepared folder, corpus, training run, weight log or scores JSON."""

from __future__ import annotations

import argparse

from volctrans.show import describe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="prepared folder, corpus folder, training save_dir, weights.jsonl or scores JSON")
    parser.add_argument("--rows", type=int, default=6, help="weight log: about this many evenly spaced updates")


def run(args: argparse.Namespace) -> int:
    for line in describe(args.path, args.rows):
        print(line)
    return 0
