"""LibreOffice help → en–xx bitext.

Debian's `libreoffice-help-<lang>` packages hold the same help pages in ~32 languages; every translatable paragraph
carries the same `par_id…`/`hd_id…` element id in every language, so pairs align exactly by (page, id). Pages are
assigned to train/dev/test by a hash of their path, identical across languages, so no page spans two splits.
Licence of the text: MPL-2.0.
"""

from __future__ import annotations

import collections
import html.parser
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from volctrans.data.corpus import Manifest, check_lang_code, split_for_key
from volctrans.errors import VolctransError
from volctrans.io import write_lines, write_tsv

logger = logging.getLogger(__name__)

HELP_ROOT = Path("usr/share/libreoffice/help")
LICENCE = "MPL-2.0"
_ALIGNABLE_ID = re.compile(r"^(par|hd)_id")
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SKIPPED_TAGS = {"script", "style", "noscript"}
_SPACES = re.compile(r"\s+")

# Debian names a few packages unlike the language they hold.
_DEBIAN_NAME = {"en": "en-us", "zh": "zh-cn"}
# libreoffice-help-sk is a transitional link to the Czech package: it holds no Slovak text.
_UNAVAILABLE = {"sk": "Debian's libreoffice-help-sk holds Czech text (the package links to -cs)"}


def debian_package(lang: str) -> str:
    return "libreoffice-help-" + _DEBIAN_NAME.get(lang, lang.replace("_", "-"))


def help_dir_name(lang: str) -> str:
    """Our code → the folder name under usr/share/libreoffice/help (en → en-US, zh_tw → zh-TW)."""
    debian = _DEBIAN_NAME.get(lang, lang.replace("_", "-"))
    head, _, region = debian.partition("-")
    return f"{head}-{region.upper()}" if region else head


class _ParagraphParser(html.parser.HTMLParser):
    """Collects the text of every element whose id is a translatable paragraph id, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[tuple[str, str]] = []
        self._stack: list[str] = []
        self._open: list[tuple[int, str, list[str]]] = []  # (stack depth, id, text parts)
        self._skip_depth: int | None = None

    def handle_starttag(self, tag, attrs):
        if tag in _VOID_TAGS:
            return
        self._stack.append(tag)
        if tag in _SKIPPED_TAGS and self._skip_depth is None:
            self._skip_depth = len(self._stack)
        element_id = dict(attrs).get("id") or ""
        if _ALIGNABLE_ID.match(element_id):
            self._open.append((len(self._stack), element_id, []))

    def handle_endtag(self, tag):
        if tag in _VOID_TAGS or tag not in self._stack:
            return
        while self._stack:
            depth = len(self._stack)
            popped = self._stack.pop()
            if self._skip_depth is not None and depth <= self._skip_depth:
                self._skip_depth = None
            if self._open and self._open[-1][0] == depth:
                _, element_id, parts = self._open.pop()
                text = _SPACES.sub(" ", "".join(parts)).strip()
                if text:
                    self.paragraphs.append((element_id, text))
            if popped == tag:
                break

    def handle_data(self, data):
        if self._open and self._skip_depth is None:
            self._open[-1][2].append(data)


def extract_paragraphs(html_text: str) -> list[tuple[str, str]]:
    """Return [(element id, text)] for a help page; repeated ids get '#2', '#3' suffixes to stay unique."""
    parser = _ParagraphParser()
    parser.feed(html_text)
    parser.close()
    seen: collections.Counter[str] = collections.Counter()
    unique = []
    for element_id, text in parser.paragraphs:
        seen[element_id] += 1
        unique.append((element_id if seen[element_id] == 1 else f"{element_id}#{seen[element_id]}", text))
    return unique


def read_language(help_root: Path, lang: str) -> dict[str, dict[str, str]]:
    """page path (relative to the language's text/ folder) → {element id: text}."""
    folder = help_root / help_dir_name(lang) / "text"
    if not folder.is_dir():
        raise VolctransError(f"{folder}: no help pages for '{lang}' (is {debian_package(lang)} extracted there?)")
    pages = {}
    for page in sorted(folder.rglob("*.html")):
        pages[page.relative_to(folder).as_posix()] = dict(extract_paragraphs(page.read_text(encoding="utf-8")))
    return pages


@dataclass
class AlignedPair:
    page: str
    element_id: str
    english: str
    foreign: str


def align(english_pages: dict[str, dict[str, str]], foreign_pages: dict[str, dict[str, str]]) -> tuple[list[AlignedPair], int]:
    """Pairs by (page, id). Returns (pairs, number dropped as untranslated copies of the English)."""
    pairs, untranslated = [], 0
    for page, english in english_pages.items():
        foreign = foreign_pages.get(page)
        if not foreign:
            continue
        for element_id, english_text in english.items():
            foreign_text = foreign.get(element_id)
            if not foreign_text:
                continue
            if foreign_text == english_text:
                untranslated += 1
                continue
            pairs.append(AlignedPair(page, element_id, english_text, foreign_text))
    return pairs, untranslated


def download_and_extract(langs: Iterable[str], cache_dir: Path) -> Path:
    """`apt-get download` each package into cache_dir (skipped when already there) and `dpkg -x` it; no root needed."""
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            raise VolctransError(f"'{tool}' not found: run on Debian/Ubuntu, or pass --extracted with an unpacked help tree")
    debs = cache_dir / "debs"
    root = cache_dir / "extracted"
    debs.mkdir(parents=True, exist_ok=True)
    for lang in tqdm(list(langs), desc="libreoffice-help packages", unit="pkg"):
        package = debian_package(lang)
        found = list(debs.glob(f"{package}_*.deb"))
        if not found:
            result = subprocess.run(["apt-get", "download", "-q", package], cwd=debs, capture_output=True, text=True)
            if result.returncode != 0:
                message = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
                raise VolctransError(f"apt-get download {package} failed: {message}")
            found = list(debs.glob(f"{package}_*.deb"))
        for deb in found:
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root / HELP_ROOT


def build(
    langs: list[str],
    out_dir: Path,
    help_root: Path,
    dev_fraction: float = 0.03,
    test_fraction: float = 0.03,
    compress: bool = False,
) -> Manifest:
    """Align en–xx for each language, split by page, de-duplicate, and write a corpus directory."""
    for lang in langs:
        check_lang_code(lang)
        if lang in _UNAVAILABLE:
            raise VolctransError(f"language '{lang}' is not available: {_UNAVAILABLE[lang]}")
        if lang == "en":
            raise VolctransError("'en' is the source side of every pair; list only the other languages")
    english = read_language(help_root, "en")
    suffix = ".tsv.gz" if compress else ".tsv"
    per_lang: dict[str, dict[str, list[AlignedPair]]] = {}
    details: dict[str, dict[str, int]] = {}
    for lang in tqdm(langs, desc="aligning", unit="lang"):
        pairs, untranslated = align(english, read_language(help_root, lang))
        splits: dict[str, list[AlignedPair]] = {"train": [], "dev": [], "test": []}
        seen: set[tuple[str, str]] = set()
        duplicates = 0
        for pair in pairs:
            key = (pair.english, pair.foreign)
            if key in seen:  # shared help sections repeat on many pages
                duplicates += 1
                continue
            seen.add(key)
            splits[split_for_key(pair.page, dev_fraction, test_fraction)].append(pair)
        per_lang[lang] = splits
        details[lang] = {"aligned": len(pairs), "untranslated_dropped": untranslated, "duplicates_dropped": duplicates}
    # A dev/test sentence whose English (or foreign side) occurs in any training set would be a leak.
    train_english = {pair.english for splits in per_lang.values() for pair in splits["train"]}
    manifest = Manifest(name="libreoffice", licence=LICENCE, source_lang="en")
    for lang, splits in per_lang.items():
        train_foreign = {pair.foreign for pair in splits["train"]}
        pair_name = f"en-{lang}"
        manifest.pairs[pair_name] = {}
        manifest.files[pair_name] = {}
        leaked = 0
        for split, items in splits.items():
            if split != "train":
                kept = [p for p in items if p.english not in train_english and p.foreign not in train_foreign]
                leaked += len(items) - len(kept)
                items = kept
            relative = f"{pair_name}/{split}{suffix}"
            write_tsv(out_dir / relative, ([p.english, p.foreign, f"{p.page}#{p.element_id}"] for p in items))
            manifest.pairs[pair_name][split] = len(items)
            manifest.files[pair_name][split] = relative
        details[lang]["leak_dropped_from_dev_test"] = leaked
    manifest.details = {
        "builder": "libreoffice-help",
        "split": {"by": "help page", "dev_fraction": dev_fraction, "test_fraction": test_fraction},
        "per_language": details,
    }
    manifest.save(out_dir)
    return manifest


def write_mono(out_dir: Path, lang: str, sentences: list[str], compress: bool) -> str:
    relative = f"mono/{lang}.txt" + (".gz" if compress else "")
    write_lines(out_dir / relative, sentences)
    return relative
