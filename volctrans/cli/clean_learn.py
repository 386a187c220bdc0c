"""`volctrans clean-learn`: train the rectifier-network rule and write it as readable linear constraints."""

from __future__ import annotations

import argparse
import json
import random
import sys

from volctrans.errors import VolctransError


def _data(value: str) -> tuple[str, str, str]:
    try:
        langs, path = value.split(":", 1)
        src, tgt = langs.split("-", 1)
    except ValueError:
        raise argparse.ArgumentTypeError("expected SRC-TGT:PATH, e.g. en-de:train.tsv") from None
    return src, tgt, path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=_data, action="append", required=True,
                        help="clean pairs as SRC-TGT:PATH (TSV); repeat for several language pairs")
    parser.add_argument("-o", "--output", required=True, help="constraints file (JSON)")
    parser.add_argument("--hidden", type=int, default=4, help="hidden ReLU units K (2^K − 1 constraints)")
    parser.add_argument("--max-pairs", type=int, default=5000, help="clean pairs sampled per language pair")
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--negative-weight", type=float, default=1.0,
                        help="loss weight of corrupted pairs (< 1 keeps more clean pairs)")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from cleaning import learned
    from volctrans.io import iter_tsv_rows

    if not 1 <= args.hidden <= 10:
        raise VolctransError("--hidden must be between 1 and 10 (2^K − 1 constraints)")
    xs, ys = [], []
    for src, tgt, path in args.data:
        pairs = [(r.source, r.target) for r in iter_tsv_rows(path, strict=False) if hasattr(r, "source")]
        random.Random(args.seed).shuffle(pairs)
        x, y = learned.training_data(pairs[: args.max_pairs], src, tgt, args.seed)
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    net = learned.train(x, y, hidden=args.hidden, epochs=args.epochs, seed=args.seed,
                        negative_weight=args.negative_weight)
    constraints = learned.to_constraints(net)
    agree = float((net.decide(x) == constraints.satisfied(x)).mean())
    clean_kept = float(net.decide(x)[y > 0].mean())
    noisy_rejected = float((~net.decide(x))[y == 0].mean())
    info = {"data": [f"{s}-{t}:{p}" for s, t, p in args.data], "pairs": int(len(y)), "hidden": args.hidden,
            "epochs": args.epochs, "seed": args.seed, "negative_weight": args.negative_weight,
            "negatives": list(learned.NEGATIVE_TYPES), "train_clean_kept": round(clean_kept, 4),
            "train_noisy_rejected": round(noisy_rejected, 4)}
    learned.save(args.output, net, info)
    print(json.dumps({**info, "constraints": len(constraints.subsets), "network_constraint_agreement": agree}),
          file=sys.stderr)
    return 0
