"""Back-translation: monolingual target-language text → synthetic (source, target) pairs, a training source `bt`.

The reverse direction comes from our own multilingual CTranslate2 model (xx→en is one of its directions).
Generation: beam search, top-k sampling, or noised beam (beam output with Edunov et al. 2018 noise: drop words
with p=0.1, replace with a filler token with p=0.1, shuffle words within a window of 3). Tagged back-translation
(Caswell et al. 2019) prepends a `<BT>` token to the synthetic source so the model can tell synthetic input.

The whole input is checked before anything is decoded or written (UTF-8, no TAB — monolingual text has no
columns —, at least one non-empty line). Work is split into shards of `shard_size` lines; each finished shard is
written atomically under `OUT/.shards/`, so an interrupted run resumes at the first missing shard — with the same
settings, recorded in `OUT/.shards/settings.json` (other settings are refused rather than mixed, once a shard
exists). Sampling is seeded per shard. The result is a corpus directory (manifest name `bt`) that `volctrans
prepare` takes as one more source; a run adds its pair to an existing one. The finished folder (earlier pairs,
the new pair's file and the manifest listing it) is staged next to OUT and swapped in at once: OUT never holds a
pair file its manifest does not describe.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from volctrans.artifacts import BT_TAG
from volctrans.data.corpus import Manifest
from volctrans.errors import InputError, VolctransError
from volctrans.io import (STDIO, atomic_write, display_name, iter_lines, iter_tsv_rows, staged_directory,
                          write_tsv)

logger = logging.getLogger(__name__)

FILLER = "<blank>"


@dataclass
class BacktranslateConfig:
    model: str
    lang: str  # language of the monolingual text (the target side of the synthetic pairs)
    input: str
    out: str  # corpus directory
    source_lang: str = "en"  # language to translate into (the synthetic source side)
    method: str = "beam"  # beam | sampling | noised
    beam_size: int = 4
    sampling_topk: int = 10
    max_decoding_length: int = 256  # output pieces; an undertrained reverse model repeats words up to this cap
    # Synthetic sources longer than 2× the monolingual sentence (+10 pieces) are degenerate repetitions: cap them,
    # which also bounds decoding time with a weak reverse model (0: only the model's global cap).
    max_length_ratio: float = 2.0
    tagged: bool = False
    name: str = "bt"
    shard_size: int = 10_000
    seed: int = 1
    device: str = "cpu"
    threads: int = 0

    def validate(self) -> list[str]:
        problems = []
        if self.method not in ("beam", "sampling", "noised"):
            problems.append("method: must be beam, sampling or noised")
        if self.max_decoding_length < 1:
            problems.append("max_decoding_length: must be ≥ 1")
        if self.max_length_ratio < 0:
            problems.append("max_length_ratio: must be ≥ 0")
        if self.shard_size < 1:
            problems.append("shard_size: must be ≥ 1")
        if self.lang == self.source_lang:
            problems.append("lang and source_lang must differ")
        return problems


def add_noise(text: str, rng: random.Random, drop: float = 0.1, blank: float = 0.1, window: int = 3) -> str:
    """Edunov et al. (2018) noise on a synthetic source: word dropout, filler replacement, local shuffle."""
    words = text.split()
    if not words:
        return text
    noised = []
    for word in words:
        roll = rng.random()
        if roll < drop:
            continue
        noised.append(FILLER if roll < drop + blank else word)
    # A local shuffle: each word moves at most `window` positions (sort by index + U(0, window)).
    keys = [index + rng.uniform(0, window) for index in range(len(noised))]
    return " ".join(word for _, word in sorted(zip(keys, noised)))


def _shard_path(out: Path, index: int) -> Path:
    return out / ".shards" / f"shard-{index:05d}.tsv"


# Settings that decide what a shard contains; a resumed run must match them or its shards would mix outputs.
_SHARD_SETTINGS = ("model", "lang", "input", "source_lang", "method", "beam_size", "sampling_topk",
                   "max_decoding_length", "max_length_ratio", "tagged", "shard_size", "seed")


def _check_shards(config: BacktranslateConfig, out: Path) -> None:
    """Record the settings of a fresh run; refuse to resume shards written with different ones. Settings without
    any finished shard (a run stopped before its first shard) bind nothing: they are replaced."""
    settings = {key: value for key, value in asdict(config).items() if key in _SHARD_SETTINGS}
    path = out / ".shards" / "settings.json"
    shards = (out / ".shards").is_dir() and any((out / ".shards").glob("shard-*.tsv"))
    if path.exists() and shards:
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise InputError(str(path), error.lineno, f"invalid JSON: {error.msg}; delete {out / '.shards'} "
                                                      "to start over") from None
        changed = [f"{key}: {saved.get(key)!r} → {settings[key]!r}" for key in _SHARD_SETTINGS
                   if saved.get(key) != settings[key]]
        if changed:
            raise VolctransError(f"{out / '.shards'}: written with other settings ({'; '.join(changed)}); "
                                 "delete it to start over")
        return
    if shards:
        raise VolctransError(f"{out / '.shards'}: shards without settings.json (unknown origin); delete it to start over")
    with atomic_write(path) as handle:
        json.dump(settings, handle, indent=1)


def check_input(path: str) -> int:
    """Read the whole monolingual input once before any decoding: UTF-8, one sentence per line (a TAB means
    columns: refused), at least one non-empty line. Returns the number of non-empty lines."""
    if str(path) == STDIO:
        raise VolctransError("backtranslate reads its input twice (a check, then the resumable shards): give a file, "
                             "not stdin")
    count = 0
    for number, text in iter_lines(path):
        if "\t" in text:
            raise InputError(display_name(path), number, "contains a TAB: monolingual input is one sentence per line, "
                                                         "without columns")
        count += bool(text.strip())
    if count == 0:
        raise InputError(display_name(path), None, "no non-empty line to back-translate")
    return count


def _check_output(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise VolctransError(f"{out}: exists and is not a folder")
    if out.is_dir() and not (out / "manifest.json").exists():
        others = sorted(p.name for p in out.iterdir() if p.name != ".shards")
        if others:
            raise VolctransError(f"{out}: exists and is not a corpus folder (no manifest.json; it holds "
                                 f"{', '.join(others[:5])}): give a new or a corpus folder")


def _link_or_copy(source: str, destination: str) -> None:
    """Hard-link unchanged files into the staged folder (instant, no space); copy where links are not possible."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _clean_field(text: str) -> str:
    return " ".join(text.replace("\t", " ").splitlines())


def _seed_sampling(seed: int, shard: int) -> None:
    """CTranslate2's sampling RNG is process-global: seed it per shard so that a resumed run draws the same
    samples for a shard as an uninterrupted one (exact with one thread)."""
    import ctranslate2

    ctranslate2.set_random_seed(seed * 100_003 + shard)


def backtranslate(config: BacktranslateConfig, translator=None) -> Manifest:
    from serving.translator import DecodingOptions, Translator

    out = Path(config.out)
    translator = translator or Translator(config.model, device=config.device, intra_threads=config.threads)
    translator.check_direction(config.lang, config.source_lang)
    total = check_input(config.input)
    _check_output(out)
    if config.method == "sampling":
        options = DecodingOptions(beam_size=1, sampling_topk=config.sampling_topk,
                                  max_decoding_length=config.max_decoding_length,
                                  max_length_ratio=config.max_length_ratio)
    else:
        options = DecodingOptions(beam_size=config.beam_size, max_decoding_length=config.max_decoding_length,
                                  max_length_ratio=config.max_length_ratio)
    pair = f"{config.source_lang}-{config.lang}"
    _check_shards(config, out)
    lines = ((number, text) for number, text in iter_lines(config.input) if text.strip())
    shards = 0
    progress = tqdm(desc=f"back-translate {config.lang}→{config.source_lang}", unit="sent", total=total,
                    disable=None)  # None: only on a terminal, not into log files
    for index in itertools.count():
        chunk = list(itertools.islice(lines, config.shard_size))
        if not chunk:
            break
        shards += 1
        path = _shard_path(out, index)
        if path.exists():  # finished in an earlier run
            progress.update(len(chunk))
            continue
        rng = random.Random(f"{config.seed}:{index}")
        if config.method == "sampling":
            _seed_sampling(config.seed, index)
        synthetic = translator.translate([text for _, text in chunk], config.lang, config.source_lang, options)
        rows = []
        for (number, target), source in zip(chunk, synthetic):
            source = _clean_field(source)
            if config.method == "noised":
                source = add_noise(source, rng)
            if not source.strip():
                continue
            if config.tagged:
                source = f"{BT_TAG} {source}"
            rows.append([source, target, f"bt:{Path(config.input).name}:{number}"])
        write_tsv(path, rows)
        progress.update(len(chunk))
    progress.close()
    relative = f"{pair}/train.tsv"
    count = 0
    with staged_directory(out) as staging:
        # The new folder: the earlier pairs (linked, not copied), the new pair's file and the manifest listing it.
        shutil.copytree(out, staging, copy_function=_link_or_copy, dirs_exist_ok=True,
                        ignore=lambda folder, names: [".shards"] if Path(folder) == out else [])
        with atomic_write(staging / relative) as handle:
            for index in range(shards):
                if _shard_path(out, index).stat().st_size == 0:  # every line of that shard came back empty
                    continue
                for row in iter_tsv_rows(_shard_path(out, index), strict=True):
                    handle.write("\t".join(row.fields()) + "\n")
                    count += 1
            if count == 0:
                raise VolctransError(f"the model produced no non-empty translation for {config.input} (is it trained?)")
        manifest = Manifest.load(out) if (out / "manifest.json").exists() else Manifest(
            name=config.name, licence="derived from the monolingual input", source_lang=config.source_lang)
        manifest.pairs[pair] = {"train": count}
        manifest.files[pair] = {"train": relative}
        manifest.synthetic[pair] = "source"  # the English side is machine output: never a training target
        manifest.details.setdefault("backtranslation", {})[pair] = {
            "model": str(config.model), "input": str(config.input), "method": config.method,
            "beam_size": config.beam_size, "sampling_topk": config.sampling_topk if config.method == "sampling" else None,
            "tagged": config.tagged, "tag": BT_TAG if config.tagged else None, "seed": config.seed,
        }
        manifest.save(staging)
    # The shards went away with the folder they were in (replaced by the staged one).
    logger.info("wrote %d synthetic %s pairs to %s", count, pair, out)
    return manifest
