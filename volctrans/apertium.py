"""Apertium (rule-based MT from Debian's `apertium` + `apertium-eng-spa`) as a side-by-side baseline.

Apertium treats a newline as a space and may merge lines, so segments are sent separated by blank lines
(paragraph breaks it keeps) and the output is split on them; if the counts disagree, each segment is translated
on its own (slow but aligned). Only used when the `apertium` program and the language pair are installed.
"""

from __future__ import annotations

import shutil
import subprocess

from volctrans.errors import VolctransError

# Our language codes → Apertium's (ISO 639-3) names.
_ISO3 = {"en": "eng", "es": "spa", "ca": "cat", "fr": "fra", "pt": "por", "it": "ita", "de": "deu", "eu": "eus",
         "gl": "glg", "ro": "ron", "nl": "nld", "sv": "swe", "da": "dan", "nb": "nob", "oc": "oci"}


def apertium_mode(source_lang: str, target_lang: str) -> str | None:
    """The installed Apertium mode for the pair, or None when Apertium or the pair is missing."""
    if shutil.which("apertium") is None:
        return None
    mode = f"{_ISO3.get(source_lang, source_lang)}-{_ISO3.get(target_lang, target_lang)}"
    result = subprocess.run(["apertium", "-l"], capture_output=True, text=True)
    return mode if mode in result.stdout.split() else None


def _run(mode: str, text: str) -> str:
    result = subprocess.run(["apertium", "-u", mode], input=text, capture_output=True, text=True)
    if result.returncode != 0:
        raise VolctransError(f"apertium {mode} failed: {result.stderr.strip()[:200]}")
    return result.stdout


def translate(lines: list[str], mode: str) -> list[str]:
    """Translate segments with Apertium (-u: no unknown-word marks), one output per input, order kept."""
    segments = [" ".join(line.split()) for line in lines]
    todo = [i for i, segment in enumerate(segments) if segment]
    output = _run(mode, "\n\n".join(segments[i] for i in todo) + "\n")
    pieces = [piece.strip() for piece in output.strip("\n").split("\n\n")]
    if len(pieces) != len(todo):  # Apertium merged or split something: fall back to one call per segment
        pieces = [_run(mode, segments[i] + "\n").strip() for i in todo]
    translations = [""] * len(lines)
    for index, piece in zip(todo, pieces):
        translations[index] = " ".join(piece.split())
    return translations
