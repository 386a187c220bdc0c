"""The corpus directory format every builder writes and every later stage reads.

    DIR/manifest.json            name, licence, languages, counts per pair and split, how it was built
    DIR/<src>-<tgt>/<split>.tsv[.gz]   source<TAB>target<TAB>provenance
    DIR/mono/<lang>.txt[.gz]     optional monolingual text (one sentence per line)

Language codes never contain '-' (fairseq splits pairs on it): regional variants use '_' (zh_tw, pt_br).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from volctrans.errors import InputError, VolctransError
from volctrans.io import atomic_write, iter_lines

MANIFEST = "manifest.json"
SPLITS = ("train", "dev", "test")


def split_for_key(key: str, dev_fraction: float, test_fraction: float) -> str:
    """Deterministic split of a grouping key (e.g. a help page path), the same on every machine and language."""
    bucket = int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    if bucket < test_fraction:
        return "test"
    if bucket < test_fraction + dev_fraction:
        return "dev"
    return "train"


def check_lang_code(code: str) -> str:
    if not code or "-" in code or not all(part.isalnum() for part in code.split("_")):
        raise VolctransError(f"invalid language code '{code}': use letters/digits and '_' (e.g. de, zh_tw)")
    return code


@dataclass
class Manifest:
    name: str
    licence: str
    source_lang: str
    pairs: dict[str, dict[str, int]] = field(default_factory=dict)  # "en-de" -> {"train": n, ...}
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # "en-de" -> {"train": "en-de/train.tsv"}
    mono: dict[str, str] = field(default_factory=dict)  # lang -> "mono/de.txt"
    details: dict[str, Any] = field(default_factory=dict)
    # Pairs with a machine-generated side: "en-de" -> "source" (back-translation: synthetic en, real de). Training
    # uses such a pair only in the direction whose TARGET is real, or the model learns to write synthetic text.
    synthetic: dict[str, str] = field(default_factory=dict)

    def synthetic_side(self, pair: str) -> str | None:
        """"source", "target" or None; manifests written before `synthetic` existed mark BT in details."""
        if pair in self.synthetic:
            return self.synthetic[pair]
        return "source" if pair in self.details.get("backtranslation", {}) else None

    @property
    def target_langs(self) -> list[str]:
        return [pair.split("-", 1)[1] for pair in self.pairs]

    def save(self, directory: str | Path) -> None:
        with atomic_write(Path(directory) / MANIFEST) as handle:
            json.dump(self.__dict__, handle, indent=2, ensure_ascii=False)
            handle.write("\n")

    @classmethod
    def load(cls, directory: str | Path) -> "Manifest":
        path = Path(directory) / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(str(path), None, "no corpus manifest (was this directory written by `volctrans data`?)") from None
        except json.JSONDecodeError as error:
            raise InputError(str(path), error.lineno, f"invalid JSON: {error.msg}") from None
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(str(path), None, f"unknown manifest keys: {', '.join(unknown)}")
        return cls(**data)

    def recount(self, directory: str | Path) -> None:
        """Set `pairs` to the line counts of the files (after a stage rewrote some of them in place)."""
        self.pairs = {pair: {split: sum(1 for _ in iter_lines(Path(directory) / name, allow_empty=True))
                             for split, name in files.items()}
                      for pair, files in self.files.items()}

    def describing(self, directory: str | Path, derived_from: str) -> "Manifest":
        """This manifest (name, licence, languages) re-pointed at the files a stage wrote under `directory`, e.g. the
        cleaned copy of a corpus: pairs and monolingual languages without a file there are dropped, each split's
        file name is the one found (compressed or not), counts are recounted, `details` records where it came from."""
        directory = Path(directory)
        files: dict[str, dict[str, str]] = {}
        for pair in self.files:
            found = {split: _found(directory, f"{pair}/{split}.tsv") for split in SPLITS}
            found = {split: name for split, name in found.items() if name}
            if found:
                files[pair] = found
        mono = {lang: name for lang in self.mono if (name := _found(directory, f"mono/{lang}.txt"))}
        if not files and not mono:
            raise InputError(str(directory), None, f"none of the files of corpus '{self.name}' is here "
                                                   f"(expected e.g. {next(iter(self.files), 'en-xx')}/train.tsv)")
        described = Manifest(self.name, self.licence, self.source_lang, files=files, mono=mono,
                             details={"derived_from": derived_from, "original": self.details},
                             synthetic={pair: side for pair, side in self.synthetic.items() if pair in files})
        described.recount(directory)
        return described

    def path(self, directory: str | Path, pair: str, split: str) -> Path | None:
        relative = self.files.get(pair, {}).get(split)
        return Path(directory) / relative if relative else None


def _found(directory: Path, name: str) -> str | None:
    """`name` or `name.gz`, whichever exists under `directory` (relative, as manifests store file names)."""
    for candidate in (name, name + ".gz"):
        if (directory / candidate).is_file():
            return candidate
    return None


def held_out_texts(corpus: str | Path | None) -> set[str]:
    """Both sides of every dev/test pair of a corpus directory: strings another source must not bring into
    training, or the test set leaks (a builder given this set drops pairs/sentences that contain one)."""
    if corpus is None:
        return set()
    from volctrans.io import iter_tsv_rows

    manifest = Manifest.load(corpus)
    texts: set[str] = set()
    for pair in manifest.files:
        for split in ("dev", "test"):
            path = manifest.path(corpus, pair, split)
            if path is not None:
                for row in iter_tsv_rows(path, strict=True):
                    texts.update((row.source.strip(), row.target.strip()))
    return texts

