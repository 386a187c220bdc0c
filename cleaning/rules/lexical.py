"""The `lexical` rule: word-translation coverage in both directions, from a lexicon of cleaning/lexicon.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaning.lexicon import coverage, load, tokens
from cleaning.rules.base import Rule, register_rule
from cleaning.views import PairBatch


@dataclass
class LexicalParams:
    # Lexicon file; "{src}" and "{tgt}" are replaced by the corpus languages (one lexicon per pair).
    path: str = "lexicons/{src}-{tgt}.json"
    min_coverage: float = 0.2
    min_known: int = 3  # judge a side only when it has this many lexicon words


@register_rule("lexical", LexicalParams, pair=True)
class Lexical(Rule):
    """Word-translation coverage in both directions (min of the two): misaligned and glued pairs fail it."""

    def __init__(self, params, context):
        super().__init__(params, context)
        path = params.path.format(src=context.src_lang, tgt=context.tgt_lang)
        key = ("lexicon", path)
        if key not in context.resources:
            context.resources[key] = load(path)
        self._lexicon = context.resources[key]

    def score(self, batch: PairBatch) -> np.ndarray:
        src = [tokens(t, batch.src.lang) for t in batch.src.texts]
        tgt = [tokens(t, batch.tgt.lang) for t in batch.tgt.texts]
        forward = coverage(src, tgt, self._lexicon["src_to_tgt"], self.params.min_known)
        backward = coverage(tgt, src, self._lexicon["tgt_to_src"], self.params.min_known)
        return np.minimum(forward, backward)

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.params.min_coverage
