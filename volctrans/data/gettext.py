"""gettext catalogs (.po/.mo) → en–xx bitext: a second, differently-shaped source (short UI strings).

Accelerator marks (`_File`, `&Open`, `~Save`) are stripped, format-only strings (`%s`, `{0}: %d`) dropped, fuzzy,
obsolete and untranslated entries skipped. Catalogs are split train/dev/test by a hash of the catalog's domain
(file name), so the same application's strings never span two splits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import polib
from tqdm import tqdm

from volctrans.data.corpus import Manifest, check_lang_code, held_out_texts, split_for_key
from volctrans.errors import InputError, VolctransError
from volctrans.io import write_tsv

_ACCELERATOR = re.compile(r"(?<![\w&~])[_&~](?=\w)")
_CJK_ACCELERATOR = re.compile(r"\s*\([_&~]?[A-Za-z0-9]\)(?=[.:…]*$)")  # "ファイル(_F)", "打开(&O)..."
_FORMAT_SPEC = re.compile(r"%(\([^)]*\))?[-#0 +']*\d*(\.\d+)?[hlLqjzt]*[diouxXeEfFgGcrsaA%]|\{[^{}]*\}|\$\{?\w+\}?")
_HAS_WORD = re.compile(r"[^\W\d_]{2,}")
_SPACES = re.compile(r"\s+")


def strip_accelerators(text: str) -> str:
    """'_Open File' → 'Open File', '&Save' → 'Save', 'Save ~As' → 'Save As'; underscores inside words are kept."""
    text = _CJK_ACCELERATOR.sub("", text)
    # A mark is _ & ~ directly before a word character and not inside a word (snake_case stays intact).
    return _ACCELERATOR.sub("", text).replace("&&", "&")


def clean_message(text: str, accelerator: str | None = None) -> str | None:
    """Normalize one message; None when nothing translatable remains (format-only, symbols, empty).

    accelerator: the mark used by the English msgid, if any; translations often put it inside a word
    ("Ö_ffnen"), where it cannot be told from an identifier's underscore without this hint.
    """
    text = strip_accelerators(text)
    if accelerator:
        text = re.sub(re.escape(accelerator) + r"(?=\w)", "", text, count=1)
    text = _SPACES.sub(" ", text).strip()
    if not _HAS_WORD.search(_FORMAT_SPEC.sub(" ", text)):
        return None
    return text


def accelerator_mark(msgid: str) -> str | None:
    match = _ACCELERATOR.search(msgid)
    return match.group(0) if match else None


@dataclass
class CatalogPair:
    domain: str
    english: str
    foreign: str


def catalog_language(path: Path, catalog: polib._BaseFile) -> str | None:
    """Language from the PO header, else from a .../<lang>/LC_MESSAGES/x.mo path."""
    language = (catalog.metadata.get("Language") or "").strip()
    if not language and path.parent.name == "LC_MESSAGES":
        language = path.parent.parent.name
    return _normal(language) or None


def _normal(language: str) -> str:
    """'pt-BR', 'pt_BR.UTF-8', 'sr@latin' → 'pt_br', 'pt_br', 'sr'."""
    return language.split(".")[0].split("@")[0].replace("-", "_").lower()


def read_catalog(path: Path) -> tuple[str | None, list[CatalogPair]]:
    try:
        catalog = polib.mofile(str(path)) if path.suffix == ".mo" else polib.pofile(str(path))
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise InputError(str(path), None, f"cannot read catalog: {error}") from None
    domain = path.stem
    pairs = []
    for entry in catalog:
        if entry.obsolete or "fuzzy" in entry.flags or not entry.msgid:
            continue
        translated = entry.msgstr or (entry.msgstr_plural or {}).get(0, "")
        english = clean_message(entry.msgid)
        foreign = clean_message(translated, accelerator_mark(entry.msgid)) if translated else None
        if english and foreign and english != foreign:
            pairs.append(CatalogPair(domain, english, foreign))
    return catalog_language(path, catalog), pairs


def find_catalogs(paths: Iterable[str]) -> list[Path]:
    found = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".po", ".mo") and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise VolctransError(f"{path}: no such file or directory")
    return found


def build(
    paths: list[str],
    out_dir: Path,
    langs: list[str] | None = None,
    dev_fraction: float = 0.05,
    test_fraction: float = 0.05,
    min_pairs: int = 1,
    held_out: Path | None = None,
) -> Manifest:
    """held_out: a corpus directory whose dev/test strings must not appear here (pairs with either side in it are
    dropped), so a second source cannot leak the main source's test set into training."""
    excluded = held_out_texts(held_out)
    wanted = {check_lang_code(lang) for lang in langs} if langs else None
    by_lang: dict[str, dict[tuple[str, str], CatalogPair]] = {}
    catalogs = find_catalogs(paths)
    if not catalogs:
        raise VolctransError("no .po/.mo catalogs found in: " + " ".join(paths))
    for path in tqdm(catalogs, desc="catalogs", unit="file"):
        if wanted and path.parent.name == "LC_MESSAGES" and _normal(path.parent.parent.name) not in wanted:
            continue  # cheap skip by folder name: parsing every language's catalogs is the slow part
        language, pairs = read_catalog(path)
        if not language or language.startswith("en") or (wanted and language not in wanted):
            continue
        bucket = by_lang.setdefault(language, {})
        for pair in pairs:
            bucket.setdefault((pair.english, pair.foreign), pair)  # the same string recurs across catalogs
    manifest = Manifest(name="gettext", licence="per catalog (see each package's copyright file)", source_lang="en")
    for language in sorted(by_lang):
        pairs = [p for p in by_lang[language].values() if p.english not in excluded and p.foreign not in excluded]
        dropped_held_out = len(by_lang[language]) - len(pairs)
        if len(pairs) < min_pairs:
            continue
        splits: dict[str, list[CatalogPair]] = {"train": [], "dev": [], "test": []}
        for pair in pairs:
            splits[split_for_key(pair.domain, dev_fraction, test_fraction)].append(pair)
        train_english = {p.english for p in splits["train"]}
        name = f"en-{language}"
        manifest.pairs[name], manifest.files[name] = {}, {}
        for split, items in splits.items():
            if split != "train":
                items = [p for p in items if p.english not in train_english]
            relative = f"{name}/{split}.tsv"
            write_tsv(out_dir / relative, ([p.english, p.foreign, p.domain] for p in items))
            manifest.pairs[name][split] = len(items)
            manifest.files[name][split] = relative
        manifest.details.setdefault("held_out_dropped", {})[language] = dropped_held_out
    if not manifest.pairs:
        raise VolctransError("no en–xx pairs found in the given catalogs")
    manifest.details.update({"builder": "gettext", "catalogs": len(catalogs), "held_out_from": str(held_out) if held_out else None,
                             "split": {"by": "catalog domain", "dev_fraction": dev_fraction, "test_fraction": test_fraction}})
    manifest.save(out_dir)
    return manifest
