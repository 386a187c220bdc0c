"""How training data sources × language pairs are mixed: a registry of weighting schemes.

Each scheme turns a TrainConfig and the per-(source, pair) training sizes into fairseq arguments. `bilevel` learns
the weights during training (ScaleBiO-style); the math lives in `volctrans.weighting.bilevel`.
"""

from volctrans.weighting.schemes import SCHEMES, WeightingScheme, get_scheme, register_scheme

__all__ = ["SCHEMES", "WeightingScheme", "get_scheme", "register_scheme"]
