"""`volctrans train --config cfg.yaml`: fairseq multilingual training (resumes from the save_dir)."""

from __future__ import annotations

import argparse
import shlex

from volctrans.cli.common import add_config_arguments, config_from_args
from volctrans.train import TrainConfig, train


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, TrainConfig, required=True)
    parser.add_argument("--dry-run", action="store_true", help="print the fairseq command and exit")
    parser.add_argument("--check", action="store_true",
                        help="only validate the config (no prepared data needed): every problem at once")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(TrainConfig, args)
    if args.check:
        print(f"{args.config}: ok ({config.weighting} weighting, {config.encoder_layers}+{config.decoder_layers} layers, "
              f"d{config.embed_dim}, {config.distributed.world_size} process(es))")
        return 0
    command = train(config, dry_run=args.dry_run)
    if args.dry_run:
        print(shlex.join(command))
    return 0
