"""Import the user's own bitext into corpus directories, one per source (the WMT22-style recipe's entry point).

A list file names every file, one per line (TSV; '#' starts a comment):

    source    pair      split   path
    public    en-hau    train   /data/public/en-hau.tsv.gz         (a TSV: source<TAB>target[<TAB>...])
    mined     en-hau    train   /data/mined/en-hau.en,/data/mined/en-hau.hau   (two line-aligned plain files)
    public    en-hau    dev     /data/flores200/dev.en-hau.tsv

The first source listed is the main, trusted one (its dev/test are used for checkpoint selection and reporting).
Every problem in the list (unknown split, missing file, bad pair, a source whose pairs have no train split) is
reported at once, before anything is read.
"""

from __future__ import annotations

from pathlib import Path

from volctrans.data.corpus import SPLITS, Manifest, check_lang_code
from volctrans.errors import ConfigError, VolctransError
from volctrans.io import iter_lines, iter_parallel, iter_tsv_rows, write_tsv


def read_list(list_path: Path) -> dict[str, dict[str, dict[str, str]]]:
    """source → pair → split → path spec; raises ConfigError with every problem found."""
    entries: dict[str, dict[str, dict[str, str]]] = {}
    problems = []
    for number, text in iter_lines(list_path):
        text = text.split("#", 1)[0].strip()
        if not text:
            continue
        fields = text.split()
        if len(fields) != 4:
            problems.append(f"line {number}: expected 4 fields (source pair split path), got {len(fields)}")
            continue
        source, pair, split, spec = fields
        if split not in SPLITS:
            problems.append(f"line {number}: split '{split}' is not one of {', '.join(SPLITS)}")
        langs = pair.split("-")
        if len(langs) != 2:
            problems.append(f"line {number}: pair '{pair}' must be SRC-TGT")
        else:
            for lang in langs:
                try:
                    check_lang_code(lang)
                except VolctransError as error:
                    problems.append(f"line {number}: {error}")
        for path in spec.split(","):
            if not Path(path).is_file():
                problems.append(f"line {number}: {path}: no such file")
        if len(spec.split(",")) > 2:
            problems.append(f"line {number}: give one TSV or two comma-separated plain files")
        if split in entries.get(source, {}).get(pair, {}):
            problems.append(f"line {number}: {source} {pair} {split} listed twice")
        entries.setdefault(source, {}).setdefault(pair, {})[split] = spec
    for source, pairs in entries.items():
        for pair, splits in pairs.items():
            if "train" not in splits:
                problems.append(f"{source} {pair}: no train file")
    if not entries and not problems:
        problems.append("no files listed")
    if problems:
        raise ConfigError(str(list_path), problems)
    return entries


def _rows(spec: str):
    paths = spec.split(",")
    if len(paths) == 2:
        for line, source, target in iter_parallel(paths[0], paths[1]):
            yield [source, target, f"{Path(paths[0]).name}:{line}"]
    else:
        for row in iter_tsv_rows(paths[0], strict=True):
            yield row.fields() if row.extra else [row.source, row.target, f"{Path(paths[0]).name}:{row.line}"]


def import_corpora(list_path: Path, out_dir: Path, licence: str = "as provided by the user") -> list[Manifest]:
    entries = read_list(list_path)
    manifests = []
    for source, pairs in entries.items():
        manifest = Manifest(name=source, licence=licence, source_lang=next(iter(pairs)).split("-")[0])
        for pair, splits in pairs.items():
            manifest.pairs[pair], manifest.files[pair] = {}, {}
            for split, spec in splits.items():
                relative = f"{pair}/{split}.tsv"
                manifest.pairs[pair][split] = write_tsv(out_dir / source / relative, _rows(spec))
                manifest.files[pair][split] = relative
        manifest.details = {"builder": "import", "list": str(list_path)}
        manifest.save(out_dir / source)
        manifests.append(manifest)
    return manifests
