"""Wrong language: language ID restricted to the configured languages (see cleaning/langid.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cleaning.langid import BACKENDS, make_identifier
from cleaning.rules.base import Rule, Side, register_rule


@dataclass
class WrongLangParams:
    backend: str = "auto"  # auto (fastText, else langid.py), fasttext, langid
    # Languages LID may answer besides the corpus languages; a third language in the data is then caught.
    languages: list[str] = field(default_factory=lambda: ["en", "de", "fr", "es", "it", "pt", "nl", "ru", "zh",
                                                          "ja", "ko", "pl", "cs", "sv", "tr", "ar"])
    min_prob: float = 0.0  # p(expected language) must reach this ...
    # ... and beat every other allowed language by this margin (0: expected must simply win).
    margin: float = 0.0
    # LID on a few characters is a coin toss ("Calc", "PDF-Export"): below this many, the side passes.
    min_chars: int = 15

    def validate(self) -> list[str]:
        return [] if self.backend in BACKENDS else [f"backend: expected one of {BACKENDS}, got {self.backend!r}"]


@register_rule("wrong_lang", WrongLangParams)
class WrongLang(Rule):
    """Reject when language ID does not pick the side's language among the allowed ones."""

    def _identifier(self):
        key = ("lid", self.params.backend, tuple(self.params.languages), self.context.src_lang, self.context.tgt_lang)
        identifier = self.context.resources.get(key)
        if identifier is None:
            languages = {*self.params.languages, self.context.src_lang}
            if self.context.tgt_lang:
                languages.add(self.context.tgt_lang)
            identifier = self.context.resources[key] = make_identifier(self.params.backend, sorted(languages))
        return identifier

    def score(self, side: Side) -> np.ndarray:
        """p(expected) − max p(other allowed); −1 when expected is not in the top guesses; +1 when too short."""
        chars = side.feature("chars")
        out = np.ones(len(side))
        judge = np.flatnonzero(chars >= self.params.min_chars)
        if len(judge):
            p_exp, p_other = self._identifier().probabilities([side.texts[i] for i in judge], side.lang)
            out[judge] = np.where((p_exp > 0) & (p_exp >= self.params.min_prob), p_exp - p_other, -1.0)
        return out

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.params.margin
