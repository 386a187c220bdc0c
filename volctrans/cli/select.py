"""`volctrans select`: G-DIG data selection of a pool against a seed set (see docs/selection.md).

    volctrans select --checkpoint ckpt.pt --pool pool.tsv --seed dev.tsv -s en -t de --budget 0.3 \\
        -o selected.tsv --scores scores.tsv
"""

from __future__ import annotations

import argparse
import json
import sys

from volctrans.config import from_dict, load_yaml

# flag dest -> SelectConfig key
_FLAGS = {
    "checkpoint": "checkpoint", "pool": "pool", "seed": "seed_file", "src_lang": "src_lang", "tgt_lang": "tgt_lang",
    "budget": "budget", "output": "output", "scores": "scores", "data": "data", "params": "params",
    "fisher": "fisher", "damping": "damping", "fisher_from": "fisher_from", "pool_sample": "pool_sample",
    "centre": "centre", "normalise": "normalise", "projection_dim": "projection_dim", "clusters": "clusters",
    "resample": "resample", "per_example": "per_example", "batch_size": "batch_size", "chunk_size": "chunk_size",
    "random_seed": "random_seed", "threads": "threads",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML with SelectConfig keys; flags below override it")
    parser.add_argument("--checkpoint", help="fairseq checkpoint (.pt) of the model the data is selected for")
    parser.add_argument("--data", help="its `volctrans prepare` folder (default: found from the checkpoint)")
    parser.add_argument("--pool", help="candidate pairs: source<TAB>target[<TAB>extra...] (extra columns kept)")
    parser.add_argument("--seed", help="high-quality seed set source<TAB>target (e.g. the dev split)")
    parser.add_argument("-s", "--src-lang")
    parser.add_argument("-t", "--tgt-lang")
    parser.add_argument("--budget", type=float, help="rows to select: a count (≥ 1) or a fraction (0.3)")
    parser.add_argument("-o", "--output", help="selected rows, pool order, columns unchanged")
    parser.add_argument("--scores", help="per-row TSV: line, influence (<0 = beneficial), beneficial, cluster, selected")
    parser.add_argument("--params", nargs="+", help="Linear modules to take gradients of (fnmatch), "
                                                    "default decoder.layers.*.fc2")
    parser.add_argument("--fisher", choices=["diagonal", "identity"])
    parser.add_argument("--damping", type=float, help="λ = damping × mean Fisher diagonal (default 0.1)")
    parser.add_argument("--fisher-from", choices=["seed", "pool"],
                        help="gradients the Fisher is estimated from (default seed; G-DIG: pool)")
    parser.add_argument("--pool-sample", type=int, help="random pool rows for the pool Fisher / mean (default 1000)")
    parser.add_argument("--centre", action=argparse.BooleanOptionalAction, default=None,
                        help="subtract the pool-mean gradient from pool and seed gradients")
    parser.add_argument("--normalise", action=argparse.BooleanOptionalAction, default=None,
                        help="unit-length gradients: a cosine score (LESS)")
    parser.add_argument("--finetune-updates", type=int,
                        help="G-DIG step 1: fine-tune on the pool for N updates before scoring (default 0: off)")
    parser.add_argument("--finetune-lr", type=float, help="peak lr of that fine-tune (default: the checkpoint's "
                                                          "current lr)")
    parser.add_argument("--finetune-save", help="write the pool-fine-tuned checkpoint here (reusable as --checkpoint)")
    parser.add_argument("--projection-dim", type=int)
    parser.add_argument("--clusters", type=int)
    parser.add_argument("--resample", choices=["round_robin", "proportional"])
    parser.add_argument("--per-example", choices=["hooks", "loop"])
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--chunk-size", type=int)
    parser.add_argument("--random-seed", type=int, help="projection, k-means (default 1)")
    parser.add_argument("--threads", type=int, help="torch threads (default 1)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bars (default: when stderr is a terminal)")
    parser.add_argument("--check", action="store_true", help="only validate the configuration")


def config_from_args(args: argparse.Namespace):
    from volctrans.select import SelectConfig

    values = load_yaml(args.config) if args.config else {}
    values.update({key: getattr(args, flag) for flag, key in _FLAGS.items() if getattr(args, flag) is not None})
    finetune = {key: getattr(args, f"finetune_{key}") for key in ("updates", "lr", "save")
                if getattr(args, f"finetune_{key}") is not None}
    if finetune and isinstance(values.get("finetune", {}), dict):  # a bad YAML value is left for from_dict to report
        values["finetune"] = {**values.get("finetune", {}), **finetune}
    if args.progress is not None:
        values["progress"] = args.progress
    else:
        values.setdefault("progress", sys.stderr.isatty())
    return from_dict(SelectConfig, values, source=args.config or "command line")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.check:
        print(f"{args.config or 'select'}: ok (budget {config.budget:g}, params {', '.join(config.params)})")
        return 0
    from volctrans.select import select

    summary = select(config)
    print(json.dumps(summary.as_dict()), file=sys.stderr)
    return 0
