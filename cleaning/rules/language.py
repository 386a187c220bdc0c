"""Wrong language: language ID restricted to the configured languages (see cleaning/langid.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cleaning import text as T
from cleaning.langid import BACKENDS, make_identifier, stopword_decides
from cleaning.rules.base import Rule, register_rule
from cleaning.views import Side


EPS = 1e-3  # probability floor: a language missing from fastText's top guesses counts as 0.001


@dataclass
class WrongLangParams:
    backend: str = "auto"  # auto (fastText, else langid.py), fasttext, langid
    # Languages LID may answer besides the corpus languages; a third language in the data is then caught.
    languages: list[str] = field(default_factory=lambda: ["en", "de", "fr", "es", "it", "pt", "nl", "ru", "zh",
                                                          "ja", "ko", "pl", "cs", "sv", "tr", "ar"])
    min_prob: float = 0.0  # p(expected language) must reach this ...
    # ... and log(p(expected) + 0.001) − log(p(best other allowed language) + 0.001) must reach this. −5 rejects
    # when the expected language is far behind (or absent from the top guesses while another allowed one leads).
    min_log_ratio: float = -5.0
    # LID on a few characters is a coin toss ("Calc", "PDF-Export"): below this many (CJK characters weighted,
    # see text.CHAR_WEIGHT), the side passes.
    min_chars: int = 15
    # Cheap checks that settle most rows before LID runs (LID is the slowest step of cleaning):
    # several function words of the expected language and few of the others ...
    stopword_hits: int = 1  # 0 disables
    # ... or ≥ 20% of letters in a script that, among the allowed languages, only the expected one uses.
    trust_script: bool = True

    def validate(self) -> list[str]:
        return [] if self.backend in BACKENDS else [f"backend: expected one of {BACKENDS}, got {self.backend!r}"]


@register_rule("wrong_lang", WrongLangParams)
class WrongLang(Rule):
    """Reject when language ID does not pick the side's language among the allowed ones."""

    def _identifier(self):
        key = ("lid", self.params.backend, tuple(self.params.languages), self.context.src_lang, self.context.tgt_lang)
        identifier = self.context.resources.get(key)
        if identifier is None:
            identifier = self.context.resources[key] = make_identifier(self.params.backend, self._languages())
        return identifier

    def _unique_scripts(self, lang: str) -> tuple[str, ...]:
        """Scripts of `lang` no other allowed language uses (Cyrillic for ru, kana for ja among en/de/zh...)."""
        others = {s for other in self._languages() if other != T.base_lang(lang) for s in T.scripts_of(other)}
        return tuple(s for s in T.scripts_of(lang) if s != "latin" and s not in others)

    def _rivals_marks(self, lang: str) -> tuple[str, ...]:
        """Scripts that set apart every allowed language sharing a non-Latin script with `lang` (kana for ja
        when lang is zh); empty when some rival has no such mark (then only LID can tell)."""
        own = set(T.scripts_of(lang)) - {"latin"}
        marks: set[str] = set()
        for other in self._languages():
            theirs = set(T.scripts_of(other)) - {"latin"}
            if other == T.base_lang(lang) or not (theirs & own):
                continue
            distinctive = theirs - own
            if not distinctive:
                return ()
            marks |= distinctive
        return tuple(sorted(marks))

    def _languages(self) -> list[str]:
        langs = {*self.params.languages, self.context.src_lang}
        if self.context.tgt_lang:
            langs.add(self.context.tgt_lang)
        return sorted(T.base_lang(lang) for lang in langs)

    def score(self, side: Side) -> np.ndarray:
        """log-odds of the expected language against the best other allowed one (see WrongLangParams); +10
        when too short or settled by the cheap checks; −inf below min_prob."""
        out = np.full(len(side), 10.0)
        judge = side.feature("eff_chars") >= self.params.min_chars  # CJK characters count ~2.4-3.3 each
        if self.params.trust_script:
            view = side.feature("charview")
            unique = self._unique_scripts(side.lang)
            if unique:
                # Kana makes up ~30-50% of Japanese letters and never appears in Chinese: 20% settles it.
                judge &= view.count(view.in_scripts(unique)) < 0.2 * side.feature("letters")
            marks = self._rivals_marks(side.lang)
            if marks:
                # Chinese sharing Han with Japanese: mostly Han and no kana at all cannot be Japanese. fastText
                # confuses the two on short Han-only strings ("71 磁盘未就绪"), so this also saves false rejects.
                own = view.count(view.in_scripts(tuple(s for s in T.scripts_of(side.lang) if s != "latin")))
                settled = (own >= 0.5 * side.feature("letters")) & (view.count(view.in_scripts(marks)) == 0)
                judge &= ~settled
        if self.params.stopword_hits > 0:
            candidates = np.flatnonzero(judge)
            picked = candidates.tolist()
            tokens = side.feature("tokens")  # usually cached already (repeated_words, learned)
            settled = stopword_decides([side.texts[i] for i in picked], side.lang, self._languages(),
                                       self.params.stopword_hits, tokens=[tokens[i] for i in picked])
            judge[candidates[settled]] = False
        judge = np.flatnonzero(judge)
        if len(judge):
            p_exp, p_other = self._identifier().probabilities([side.texts[i] for i in judge.tolist()], side.lang)
            log_ratio = np.log(p_exp + EPS) - np.log(p_other + EPS)
            out[judge] = np.where(p_exp >= self.params.min_prob, log_ratio, -np.inf)
        return out

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.params.min_log_ratio
