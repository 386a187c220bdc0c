"""`volctrans select`: G-DIG data selection of a pool against a seed set (see docs/selection.md).

    volctrans select --checkpoint ckpt.pt --pool pool.tsv --seed dev.tsv -s en -t de --budget 0.3 \\
        -o selected.tsv --scores scores.tsv
"""

from __future__ import annotations

import argparse
import json
import sys

from volctrans.cli.common import add_config_arguments, add_field, config_from_args
from volctrans.select import SelectConfig, select


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, SelectConfig)

    def field(name: str, *flags: str, **kwargs) -> None:
        add_field(parser, SelectConfig, name, *flags, **kwargs)

    field("checkpoint", help="fairseq checkpoint (.pt) of the model the data is selected for")
    field("data", help="its `volctrans prepare` folder (default: found from the checkpoint)")
    field("pool", help="candidate pairs: source<TAB>target[<TAB>extra...] (extra columns kept)")
    field("seed_file", "--seed", help="high-quality seed set source<TAB>target (e.g. the dev split)")
    field("src_lang", "-s", "--src-lang")
    field("tgt_lang", "-t", "--tgt-lang")
    field("budget", type=float, help="rows to select: a count (≥ 1) or a fraction (0.3)")
    field("output", "-o", "--output", help="selected rows, pool order, columns unchanged")
    field("scores", help="per-row TSV: line, influence (<0 = beneficial), beneficial, cluster, selected")
    field("params", nargs="+", help="Linear modules to take gradients of (fnmatch)")
    field("fisher", choices=["diagonal", "identity"])
    field("damping", type=float, help="λ = damping × mean Fisher diagonal")
    field("fisher_from", choices=["seed", "pool"], help="gradients the Fisher is estimated from (G-DIG: pool)")
    field("pool_sample", type=int, help="random pool rows for the pool Fisher / mean gradient")
    field("centre", action=argparse.BooleanOptionalAction,
          help="subtract the pool-mean gradient from pool and seed gradients")
    field("normalise", action=argparse.BooleanOptionalAction, help="unit-length gradients: a cosine score (LESS)")
    field("projection_dim", type=int)
    field("clusters", type=int)
    field("resample", choices=["round_robin", "proportional"])
    field("per_example", choices=["hooks", "loop"])
    field("batch_size", type=int)
    field("chunk_size", type=int)
    field("random_seed", type=int, help="projection, k-means")
    field("threads", type=int, help="torch threads")
    # G-DIG step 1 (the nested `finetune` section; also --set finetune.updates=N)
    parser.add_argument("--finetune-updates", type=int,
                        help="fine-tune on the pool for N updates before scoring (default 0: off)")
    parser.add_argument("--finetune-lr", type=float, help="peak lr of that fine-tune (default: the checkpoint's)")
    parser.add_argument("--finetune-save", help="write the pool-fine-tuned checkpoint here (reusable as --checkpoint)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bars (default: when stderr is a terminal)")
    parser.add_argument("--check", action="store_true", help="only validate the configuration")


def select_config(args: argparse.Namespace) -> SelectConfig:
    """YAML < flags (the --finetune-* flags fill the nested `finetune` section) < --set."""
    finetune = [f"finetune.{key}={getattr(args, f'finetune_{key}')}" for key in ("updates", "lr", "save")
                if getattr(args, f"finetune_{key}") is not None]
    args = argparse.Namespace(**{**vars(args), "set": finetune + list(getattr(args, "set", None) or ())})
    return config_from_args(SelectConfig, args, base={"progress": sys.stderr.isatty()})


def run(args: argparse.Namespace) -> int:
    config = select_config(args)
    if args.check:
        print(f"{args.config or 'select'}: ok (budget {config.budget:g}, params {', '.join(config.params)})")
        return 0
    summary = select(config)
    print(json.dumps(summary.as_dict()), file=sys.stderr)
    return 0
