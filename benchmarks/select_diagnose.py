"""Do G-DIG influence scores separate clean from corrupted pool pairs? One table row per scoring variant.

For the first --rows rows of a pool built by `volctrans data noisy` (its provenance column says clean /
misaligned / wrong_language), and for the base model and (with --finetune-updates N) the model fine-tuned N
updates on those rows (G-DIG's step 1), every variant of the score is computed from ONE pass of per-example
gradients per model:

    fisher   seed | pool | identity    (the damped diagonal Fisher from seed or pool-sample gradients, or none)
    centre   no | yes                  (subtract the pool-mean gradient from pool and seed gradients)
    normalise no | yes                 (unit-length gradients: LESS's cosine)

and reported with: ROC AUC of −score for clean vs noisy (> 0.5: clean pairs rank first), the share flagged
beneficial (score < 0) per noise type, and the clean fraction of the rows `volctrans select` would pick at the
budget (k-means on the score's view of the gradients + round-robin resampling, as the tool does), next to the
clean fraction of the plain top-budget rows. References: AUC of −‖g(z)‖ and of −loss(z).

Usage: python benchmarks/select_diagnose.py --checkpoint CKPT --data PREPARED --pool POOL.tsv --seed DEV.tsv \\
           -s en -t es [--rows 3000] [--finetune-updates 0 100] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from volctrans.io import read_tsv
from volctrans.select import (
    FinetuneConfig, GradientScorer, InfluenceScore, Moments, RandomProjection, SeedDirection, SelectConfig,
    budget_count, cluster, finetune, load_model, per_example_loss, collate,
)
from volctrans.select.pipeline import encode_rows

KINDS = ("clean", "misaligned", "wrong_language")


def _select_clean_fraction(scores, projected, clean, budget, clusters, seed):
    """Clean share of what select would pick: beneficial rows, k-means on their projections, then round-robin
    (the default) and proportional resampling; and how many rows that was."""
    from volctrans.select import resample

    candidates = np.flatnonzero(scores < 0)
    if len(candidates) == 0:
        return float("nan"), float("nan"), 0
    labels, _ = cluster(projected[candidates], clusters, seed)
    shares = []
    for method in ("round_robin", "proportional"):
        chosen = candidates[resample(scores[candidates], labels, budget, method)]
        shares.append(float(clean[chosen].mean()))
    return shares[0], shares[1], len(chosen)


def diagnose(loaded, pool, seed_rows, args, label):
    config = SelectConfig("", "", "", args.src_lang, args.tgt_lang, args.budget, "", params=args.params.split(","),
                          batch_size=32)
    scorer = GradientScorer(loaded, config)
    kind = np.array([row.extra[0].split(":")[0] if row.extra else "clean" for row in pool])
    examples, keep = [], []
    for index, row in enumerate(pool):
        pair = scorer.encode(row.source, row.target)
        if pair is not None:
            examples.append(pair)
            keep.append(index)
    kind = kind[keep]
    clean = kind == "clean"
    seed = encode_rows(scorer, seed_rows)
    generator = np.random.default_rng(args.random_seed)
    sample = [examples[i] for i in sorted(generator.choice(len(examples), min(args.pool_sample, len(examples)),
                                                            replace=False))]
    start = time.perf_counter()
    pool_moments = Moments(scorer.dim)
    for grads in scorer.grads(sample):
        pool_moments.add(grads)
    mu = pool_moments.mean
    seed_moments = Moments(scorer.dim)
    directions = {(c, n): SeedDirection(scorer.dim, mu if c else None, n) for c in (False, True) for n in (False, True)}
    for grads in scorer.grads(seed):
        seed_moments.add(grads)
        for direction in directions.values():
            direction.add(grads)
    fishers = {"seed": seed_moments.fisher, "pool": pool_moments.fisher, "identity": None}
    variants = {(f, c, n): InfluenceScore(directions[(c, n)].value, fishers[f], args.damping, mu if c else None, n)
                for f in fishers for c in (False, True) for n in (False, True)}
    projection = RandomProjection(scorer.dim, 128, args.random_seed)
    scores = {key: [] for key in variants}
    projected = {False: [], True: []}
    norms, losses = [], []
    pass_start = time.perf_counter()
    for begin in range(0, len(examples), 32):
        batch = examples[begin:begin + 32]
        grads = next(iter(scorer.grads(batch)))
        for key, variant in variants.items():
            scores[key].append(variant(grads).numpy())
        projected[False].append(projection(grads).numpy())
        projected[True].append(projection(grads.double() - mu).numpy())
        norms.append(grads.double().norm(dim=1).numpy())
        with torch.no_grad():
            losses.append(per_example_loss(loaded.model, collate(batch, scorer.pad, scorer.eos), scorer.pad).numpy())
    pool_seconds = time.perf_counter() - pass_start
    total_seconds = time.perf_counter() - start
    norms, losses = np.concatenate(norms), np.concatenate(losses)
    projected = {key: np.concatenate(value) for key, value in projected.items()}
    budget = budget_count(args.budget, len(examples))
    print(f"\n## {label}: {len(examples)} pool rows ({clean.mean():.1%} clean), {len(seed)} seed pairs, "
          f"params {args.params} ({scorer.dim:,}), budget {budget}")
    print(f"gradients: {len(examples) / pool_seconds:.1f} pool pairs/s (pass over the pool alone); "
          f"{len(sample) + len(seed) + len(examples)} gradients in {total_seconds:.0f}s overall")
    print(f"references: AUC −‖g‖ {roc_auc_score(clean, -norms):.3f}, AUC −loss {roc_auc_score(clean, -losses):.3f}; "
          f"mean loss clean {losses[clean].mean():.3f} / noisy {losses[~clean].mean():.3f}")
    print(f"{'fisher':<9}{'centre':<7}{'normalise':<10}{'AUC':>6}   {'beneficial clean/misal/wrong':<30}"
          f"{'top-budget clean':>17}{'selected clean (round-robin / proportional)':>45}")
    rows = []
    for key in variants:
        fisher_name, centred, normalised = key
        values = np.concatenate(scores[key])
        auc = roc_auc_score(clean, -values)
        shares = [float((values[kind == k] < 0).mean()) if (kind == k).any() else float("nan") for k in KINDS]
        top = np.argsort(values, kind="stable")[:budget]
        selected_clean, proportional_clean, selected = _select_clean_fraction(
            values, projected[centred], clean, budget, args.clusters, args.random_seed)
        print(f"{fisher_name:<9}{'yes' if centred else 'no':<7}{'yes' if normalised else 'no':<10}{auc:>6.3f}   "
              f"{'/'.join(f'{s:.2f}' for s in shares):<30}{clean[top].mean():>17.1%}"
              f"{selected_clean:>28.1%} / {proportional_clean:.1%}"
              f"{'' if selected == budget else f' ({selected} rows)'}", flush=True)
        rows.append({"model": label, "fisher": fisher_name, "centre": centred, "normalise": normalised, "auc": auc,
                     "beneficial": dict(zip(KINDS, shares)), "top_budget_clean": float(clean[top].mean()),
                     "selected_clean": selected_clean, "selected_clean_proportional": proportional_clean,
                     "selected": selected})
    return {"model": label, "rows": len(examples), "clean": float(clean.mean()), "budget": budget,
            "pool_pairs_per_s": len(examples) / pool_seconds, "auc_norm": roc_auc_score(clean, -norms),
            "auc_loss": roc_auc_score(clean, -losses), "variants": rows}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", help="the model's prepared folder")
    parser.add_argument("--pool", required=True, help="noisy pool TSV (provenance column: kind:...)")
    parser.add_argument("--seed", required=True, help="seed set TSV (a dev split)")
    parser.add_argument("-s", "--src-lang", required=True)
    parser.add_argument("-t", "--tgt-lang", required=True)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--params", default="decoder.layers.*.fc2", help="comma-separated module patterns")
    parser.add_argument("--pool-sample", type=int, default=1000)
    parser.add_argument("--damping", type=float, default=0.1)
    parser.add_argument("--budget", type=float, default=0.3)
    parser.add_argument("--clusters", type=int, default=32)
    parser.add_argument("--finetune-updates", type=int, nargs="+", default=[0],
                        help="0 = the checkpoint as given; N = fine-tuned N updates on the rows first")
    parser.add_argument("--finetune-lr", type=float)
    parser.add_argument("--random-seed", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    base = load_model(args.checkpoint, args.data)
    pool = read_tsv(args.pool)[:args.rows]
    seed_rows = read_tsv(args.seed)
    print(f"{args.checkpoint} ({base.num_updates} updates); pool {args.pool} (first {len(pool)} rows); "
          f"seed {args.seed}", flush=True)
    results = []
    for updates in args.finetune_updates:
        loaded = base
        label = f"base ({base.num_updates} updates)"
        if updates:
            loaded = copy.deepcopy(base)
            scorer = GradientScorer(loaded, SelectConfig("", "", "", args.src_lang, args.tgt_lang, 0.3, ""))
            examples = encode_rows(scorer, pool)
            result = finetune(loaded, examples, FinetuneConfig(updates=updates, lr=args.finetune_lr),
                              args.random_seed)
            label = (f"fine-tuned on the pool: {updates} updates, {result.seconds:.0f}s, "
                     f"loss {np.mean(result.losses[:10]):.3f} → {np.mean(result.losses[-10:]):.3f}")
            print(label, flush=True)
        results.append(diagnose(loaded, pool, seed_rows, args, label))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"argv": sys.argv, "results": results}, handle, indent=1)


if __name__ == "__main__":
    main()
