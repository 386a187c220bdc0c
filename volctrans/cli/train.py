"""`volctrans train --config cfg.yaml`: fairseq multilingual training (resumes from the save_dir)."""

from __future__ import annotations

import argparse
import shlex

from volctrans.config import from_dict, load_yaml
from volctrans.train import TrainConfig, train


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="YAML with TrainConfig keys")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key (YAML value), e.g. --set max_update=200")
    parser.add_argument("--dry-run", action="store_true", help="print the fairseq command and exit")
    parser.add_argument("--check", action="store_true",
                        help="only validate the config (no prepared data needed): every problem at once")


def run(args: argparse.Namespace) -> int:
    import yaml

    values = load_yaml(args.config)
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"volctrans train: --set expects KEY=VALUE, got '{item}'")
        values[key.strip()] = yaml.safe_load(value)
    config = from_dict(TrainConfig, values, source=args.config)
    if args.check:
        print(f"{args.config}: ok ({config.weighting} weighting, {config.encoder_layers}+{config.decoder_layers} layers, "
              f"d{config.embed_dim}, {config.distributed.world_size} process(es))")
        return 0
    command = train(config, dry_run=args.dry_run)
    if args.dry_run:
        print(shlex.join(command))
    return 0
