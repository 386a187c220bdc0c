"""Monolingual text for back-translation from Debian's translated manual pages and fortunes.

Debian ships `manpages-<lang>` (translated man pages, roff source) and `fortunes-<lang>` (quotations, one entry
between `%` lines) for several languages; both are real human-written text in the language, outside the
LibreOffice-help domain. This builder turns them into sentences for `volctrans backtranslate`:

- roff: comment, macro and table lines dropped; the text arguments of font macros (.B, .I, .BR, …) kept; escapes
  (\\fB, \\-, \\(aq, \\&, …) resolved; lines joined into paragraphs at .PP/.SH/.TP and blank lines;
- paragraphs split into sentences after . ! ? (and their CJK forms) followed by a space;
- a sentence is kept if it has 4–60 words, at most 30% non-letters and no roff residue; exact duplicates dropped;
- sentences that occur on either side of a held-out corpus's dev/test splits are dropped (no test leakage).

The output is a corpus directory with only `mono/<lang>.txt` (manifest name `debian_mono`). Run
`volctrans clean-mono` on it before back-translation, as for any monolingual text.
"""

from __future__ import annotations

import gzip
import logging
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Iterator

from volctrans.data.corpus import Manifest, check_lang_code, held_out_texts
from volctrans.errors import VolctransError
from volctrans.io import write_lines

logger = logging.getLogger(__name__)

NAME = "debian_mono"
LICENCE = "GPL-3+ and others: see usr/share/doc/{manpages,fortunes}-<lang>/copyright of the Debian packages"

# Macros whose arguments are running text (font changes); every other macro line is dropped.
_TEXT_MACROS = {"B", "I", "BI", "BR", "IB", "IR", "RB", "RI", "SM", "SB"}
_NAMED_GLYPHS = {"aq": "'", "dq": '"', "em": "—", "en": "–", "hy": "-", "lq": "“", "rq": "”", "oq": "‘", "cq": "’",
                 "bu": "•", "co": "©", "rg": "®", "tm": "™", "mi": "-", "pl": "+", "eq": "=", "ga": "`", "ti": "~",
                 "ha": "^", "rs": "\\", "at": "@", "sh": "#", "Fo": "«", "Fc": "»", "fo": "‹", "fc": "›"}
_ESCAPE = re.compile(r"\\(\((..)|\[([^\]]*)\]|f(\[[^\]]*\]|\(..|.)|s[-+]?\d+|[&,/|^:%]|-|e|\s|.)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[。！？])")
_SPACES = re.compile(r"\s+")


def _unescape(match: re.Match) -> str:
    whole = match.group(1)
    if match.group(2) is not None:
        return _NAMED_GLYPHS.get(match.group(2), "")
    if match.group(3) is not None:
        return _NAMED_GLYPHS.get(match.group(3), "")
    if whole.startswith(("f", "s")) and len(whole) > 1 or whole in ("&", ",", "/", "|", "^", ":", "%"):
        return ""
    if whole == "-":
        return "-"
    if whole == "e":
        return "\\"
    if whole.isspace():
        return " "
    return ""  # an escape we do not render: drop it rather than leak roff into the text


def roff_paragraphs(text: str) -> Iterator[str]:
    """The running-text paragraphs of a roff man page, escapes resolved, one string each."""
    paragraph: list[str] = []
    in_table = False
    for line in text.splitlines():
        if line.startswith((".\\\"", "'\\\"", '.\\"')) or line.startswith("\\\""):
            continue
        if line.startswith((".TS", ".TE")):
            in_table = line.startswith(".TS")
            continue
        if in_table:
            continue
        if line.startswith((".", "'")):
            macro, _, arguments = line[1:].strip().partition(" ")
            if macro in _TEXT_MACROS and arguments:
                paragraph.append(" ".join(part.strip('"') for part in arguments.split('" "')))
                continue
            # Every other request (.PP, .SH, .TP, .br, …) ends the paragraph: safer than joining across it.
            if paragraph:
                yield _SPACES.sub(" ", _ESCAPE.sub(_unescape, " ".join(paragraph))).strip()
            paragraph = []
            continue
        if not line.strip():
            if paragraph:
                yield _SPACES.sub(" ", _ESCAPE.sub(_unescape, " ".join(paragraph))).strip()
            paragraph = []
            continue
        paragraph.append(line)
    if paragraph:
        yield _SPACES.sub(" ", _ESCAPE.sub(_unescape, " ".join(paragraph))).strip()


def fortune_entries(text: str) -> Iterator[str]:
    """Entries of a fortune file (separated by lines holding only '%'), each joined to one line."""
    for entry in re.split(r"^%\s*$", text, flags=re.MULTILINE):
        joined = _SPACES.sub(" ", entry).strip()
        if joined:
            yield joined


def sentences(paragraphs: Iterable[str]) -> Iterator[str]:
    for paragraph in paragraphs:
        for sentence in _SENTENCE_END.split(paragraph):
            sentence = sentence.strip()
            if sentence:
                yield sentence


def keep_sentence(sentence: str) -> bool:
    """Running text only: 4–60 words, mostly letters, no roff or markup residue, not a command-line option."""
    words = sentence.split()
    if not 4 <= len(words) <= 60 or "\\" in sentence or sentence.startswith(("-", "•", "$", "#")):
        return False
    letters = sum(character.isalpha() or character.isspace() for character in sentence)
    return letters >= 0.7 * len(sentence)


def _read_text(path: Path) -> str:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return data.decode("utf-8", errors="replace")


def extract(root: Path, lang: str, held_out: set[str], limit: int | None = None) -> tuple[list[str], dict]:
    """Sentences of lang from an unpacked tree (usr/share/man/<lang>, usr/share/games/fortunes/<lang>)."""
    seen: set[str] = set()
    kept: list[str] = []
    counts = {"files": 0, "sentences": 0, "kept": 0, "duplicates": 0, "held_out": 0}
    man_pages = sorted((root / "usr/share/man" / lang).rglob("*.gz")) if (root / "usr/share/man" / lang).is_dir() else []
    fortune_dir = root / "usr/share/games/fortunes" / lang
    # fortunes-<lang> ships NAME.fortunes (legacy encoding), NAME.fortunes.u8 (UTF-8) and NAME.fortunes.dat (index).
    fortunes = sorted(p for p in fortune_dir.iterdir()
                      if p.is_file() and (p.suffix == ".u8" or "." not in p.name)) if fortune_dir.is_dir() else []
    sources = [(path, roff_paragraphs) for path in man_pages] + [(path, fortune_entries) for path in fortunes]
    for path, paragraphs in sources:
        counts["files"] += 1
        for sentence in sentences(paragraphs(_read_text(path))):
            counts["sentences"] += 1
            if not keep_sentence(sentence):
                continue
            if sentence in seen:
                counts["duplicates"] += 1
                continue
            seen.add(sentence)
            if sentence in held_out:
                counts["held_out"] += 1
                continue
            kept.append(sentence)
            if limit is not None and len(kept) >= limit:
                counts["kept"] = len(kept)
                return kept, counts
    counts["kept"] = len(kept)
    return kept, counts


def debian_packages(lang: str) -> list[str]:
    return [f"manpages-{lang.replace('_', '-')}", f"fortunes-{lang.replace('_', '-')}"]


def download_and_extract(packages: list[str], cache_dir: Path) -> Path:
    """`apt-get download` (no root needed) into cache_dir/debs, `dpkg -x` into cache_dir/extracted. A package that
    does not exist for the language is skipped with a warning; none at all is an error."""
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            raise VolctransError(f"'{tool}' not found: run on Debian/Ubuntu, or pass --extracted with an unpacked tree")
    debs, root = cache_dir / "debs", cache_dir / "extracted"
    debs.mkdir(parents=True, exist_ok=True)
    found_any = False
    for package in packages:
        found = list(debs.glob(f"{package}_*.deb"))
        if not found:
            result = subprocess.run(["apt-get", "download", "-q", package], cwd=debs, capture_output=True, text=True)
            found = list(debs.glob(f"{package}_*.deb"))
            if result.returncode != 0 or not found:
                logger.warning("apt-get download %s failed: %s", package,
                               (result.stderr.strip().splitlines() or ["no package"])[-1])
                continue
        found_any = True
        for deb in found:
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    if not found_any:
        raise VolctransError(f"none of the packages {', '.join(packages)} could be downloaded")
    return root


def build(lang: str, out_dir: Path, root: Path, held_out: Path | None = None, limit: int | None = None) -> Manifest:
    check_lang_code(lang)
    kept, counts = extract(root, lang, held_out_texts(held_out), limit)
    if not kept:
        raise VolctransError(f"{root}: no {lang} sentences found under usr/share/man/{lang} or usr/share/games/fortunes/{lang}")
    relative = f"mono/{lang}.txt"
    (out_dir / "mono").mkdir(parents=True, exist_ok=True)
    write_lines(out_dir / relative, kept)
    manifest = Manifest(name=NAME, licence=LICENCE, source_lang="en", mono={lang: relative},
                        details={lang: {**counts, "packages": debian_packages(lang),
                                        "held_out_from": str(held_out) if held_out else None}})
    manifest.save(out_dir)
    logger.info("%s: %d sentences from %d files (%s)", lang, len(kept), counts["files"], counts)
    return manifest
