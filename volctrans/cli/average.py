"""`volctrans average --save-dir DIR -n 5 -o averaged.pt`: average the last N interval checkpoints."""

from __future__ import annotations

import argparse

from volctrans.average import average_checkpoints, last_checkpoints


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--save-dir", help="training save_dir: averages its newest -n interval checkpoints")
    parser.add_argument("-n", "--num", type=int, default=5)
    parser.add_argument("--inputs", nargs="+", help="explicit checkpoint files instead of --save-dir")
    parser.add_argument("-o", "--out", required=True)


def run(args: argparse.Namespace) -> int:
    paths = args.inputs or last_checkpoints(args.save_dir, args.num)
    print(average_checkpoints(paths, args.out))
    return 0
