"""How well do G-DIG influence scores separate clean from corrupted pool pairs? (benchmarks/select.sh pool)

For the first N pool rows and each parameter subset: ROC AUC of −influence (diagonal Fisher and identity),
of −influence/‖g(z)‖ (cosine) and of −‖g(z)‖ for "clean" vs "noisy" (provenance column of `volctrans data noisy`),
and the fraction flagged beneficial per noise type. AUC 0.5 = no separation; > 0.5 = clean pairs rank first.

Usage: python benchmarks/select_diagnose.py WORK CHECKPOINT N "decoder.layers.*.fc2" ["encoder.layers.*.fc2" ...]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from volctrans.io import read_tsv
from volctrans.select import GradientScorer, SelectConfig, influence, load_model, precondition


def main(work: str, checkpoint: str, rows: int, subsets: list[str]) -> None:
    torch.set_num_threads(1)
    loaded = load_model(checkpoint, f"{work}/base-prepared")
    pool = read_tsv(f"{work}/pool/en-de/train.tsv")[:rows]
    seed = read_tsv(f"{work}/base/en-de/dev.tsv")
    kind = np.array([row.extra[0].split(":")[0] for row in pool])
    clean = kind == "clean"
    print(f"{checkpoint}: {rows} pool rows ({clean.sum()} clean), {len(seed)} seed pairs")
    print(f"{'params':<28}{'fisher':<10}{'AUC':>6}{'AUC cos':>9}{'AUC -norm':>11}   beneficial clean/misaligned/wrong_lang")
    for subset in subsets:
        start = time.perf_counter()
        scorer = GradientScorer(loaded, SelectConfig("", "", "", "en", "de", 0.3, "", params=subset.split(",")))
        seed_grads = torch.cat(list(scorer.grads([scorer.encode(r.source, r.target) for r in seed]))).double()
        pool_grads = torch.cat(list(scorer.grads([scorer.encode(r.source, r.target) for r in pool]))).double()
        fisher, mean = seed_grads.pow(2).mean(0), seed_grads.mean(0)
        norms = pool_grads.norm(dim=1).numpy()
        for name, v in (("diagonal", precondition(mean, fisher, 0.1)), ("identity", mean)):
            scores = influence(pool_grads, v).numpy()
            shares = "/".join(f"{(scores[kind == k] < 0).mean():.2f}" for k in ("clean", "misaligned", "wrong_language"))
            print(f"{subset:<28}{name:<10}{roc_auc_score(clean, -scores):>6.3f}{roc_auc_score(clean, -scores / norms):>9.3f}"
                  f"{roc_auc_score(clean, -norms):>11.3f}   {shares}   ({time.perf_counter() - start:.0f}s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:])
