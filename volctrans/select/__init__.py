"""G-DIG data selection (Pan et al., 2024) for our fairseq models: influence on a seed set + gradient clustering.

For each pool example z, the gradient g(z) of its loss w.r.t. a chosen subset of parameters (default: the decoder
FFN output layers) is compared with the mean gradient of a small high-quality seed set:

    influence(z) = −g(z)ᵀ (F + λI)⁻¹ ḡ_seed,        ḡ_seed = mean over seed examples q of g(q)

A preconditioned SGD step on z, θ' = θ − η (F + λI)⁻¹ g(z), changes the seed loss by ≈ −η ḡ_seedᵀ(F + λI)⁻¹g(z)
= η · influence(z). So a NEGATIVE influence means the example lowers the seed loss: it is *beneficial*.

F is the damped empirical diagonal Fisher (mean of squared per-example gradients, of a random pool sample by
default or of the seed set); λ is `damping` times the mean of F's diagonal. By default (the best variant measured,
docs/selection.md) the gradients are first centred by the pool-mean gradient μ and scaled to unit length (LESS):
score(z) = −u(z)ᵀ(F + λI)⁻¹ s with u = (g − μ)/‖g − μ‖ and s the mean of u over the seed set. With a diagonal F the
seed side is preconditioned once and each score is an exact dot product in the full parameter subset. A seeded
random projection of u(z) feeds only the diversity step: k-means on the L2-normalised projected gradients of the
beneficial examples, then round-robin over clusters, most beneficial first, until the budget. Optionally
(`finetune.updates`) the model is first fine-tuned on the pool, G-DIG's step 1.

The pool is streamed in chunks: pass 1 scores and projects (projections go to a disk-backed array), pass 2 writes
the selected rows in pool order with every column unchanged. See docs/selection.md.

Modules: config (SelectConfig, the run summary), model (checkpoint loading, encoding, the per-example loss),
gradients (per-example gradients), influence (Fisher and scores, pure), diversity (projection, k-means,
resampling, pure), finetune (G-DIG's step 1: a short fine-tune on the pool), pipeline (the streaming `select`).
"""

from volctrans.select.config import SCORES_HEADER, FinetuneConfig, Selection, SelectConfig
from volctrans.select.diversity import RandomProjection, budget_count, cluster, resample
from volctrans.select.gradients import (
    PER_EXAMPLE, GradientScorer, gradient_size, per_example_grads_hooks, per_example_grads_loop, select_modules,
)
from volctrans.select.finetune import finetune
from volctrans.select.influence import (
    InfluenceScore, Moments, SeedDirection, diagonal_fisher, influence, precondition, unit_rows,
)
from volctrans.select.model import LoadedModel, collate, encode_pair, load_model, per_example_loss
from volctrans.select.pipeline import sample_pool, score_function, seed_statistics, select

__all__ = [
    "PER_EXAMPLE", "SCORES_HEADER", "FinetuneConfig", "GradientScorer", "InfluenceScore", "LoadedModel", "Moments",
    "RandomProjection", "SeedDirection", "SelectConfig", "Selection", "budget_count", "cluster", "collate",
    "diagonal_fisher", "encode_pair", "finetune", "gradient_size", "influence", "load_model",
    "per_example_grads_hooks", "per_example_grads_loop", "per_example_loss", "precondition", "resample",
    "sample_pool", "score_function", "seed_statistics", "select", "select_modules", "unit_rows",
]
