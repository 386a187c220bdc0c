"""Labelled noisy benchmark for cleaners: build it from real clean pairs, run systems, score keep decisions.

A benchmark row is (src, tgt, noise_type); noise_type "clean" rows should be kept, all others rejected.
Duplicates of an earlier kept row (after case/punctuation folding) are labelled "duplicate", so the figures are
"after dedup"; peers that do not deduplicate get the same dedup step applied to their keep decisions.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from cleaning.corrupt import NOISE_TYPES, Corruptor
from cleaning.dedup import DedupParams, Deduplicator, keys
from cleaning.text import is_unspaced
from volctrans.io import iter_tsv_rows

CLEAN = "clean"
PEERS_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "peers"


@dataclass
class BenchRow:
    src: str
    tgt: str
    noise: str  # "clean" or a NOISE_TYPES entry


def read_corpus(root: Path, tgt_lang: str, split: str) -> list[tuple[str, str, str]]:
    """(en, xx, id) rows of <root>/en-<xx>/<split>.tsv, dropping rows without a third column."""
    path = root / f"en-{tgt_lang}" / f"{split}.tsv"
    return [(r.source, r.target, r.extra[0] if r.extra else "") for r in iter_tsv_rows(path, strict=True)]


def _near_copy(pair: tuple[str, str], rng: random.Random) -> tuple[str, str]:
    """An exact copy, or one that differs only in case, spacing or final punctuation (a near duplicate)."""
    s, t = pair
    choice = rng.randrange(4)
    if choice == 1:
        return s.lower(), t
    if choice == 2:
        return s + " ", t.replace(" ", "  ", 1)
    if choice == 3:
        return s.rstrip(".") if s.endswith(".") else s + ".", t
    return s, t


def build(root: Path, tgt_lang: str, split: str, seed: int, noise_rate: float = 0.3,
          max_clean: int | None = None, other_langs: Sequence[str] = ()) -> list[BenchRow]:
    """Clean pairs of one language pair with a share `noise_rate` replaced by noise (types in equal shares)."""
    rng = random.Random(f"{seed}-{tgt_lang}-{split}")
    corpus = read_corpus(root, tgt_lang, split)
    rng.shuffle(corpus)
    if max_clean:
        corpus = corpus[:max_clean]
    pairs = [(s, t) for s, t, _ in corpus]
    # Wrong language: the translation of the same English text into another language (same help-page id),
    # the hardest realistic case (same content, same length), else a random sentence of another language.
    by_id: dict[str, list[str]] = {}
    others: list[str] = []
    for lang in other_langs:
        if lang == tgt_lang:
            continue
        for s, t, ident in read_corpus(root, lang, split):
            by_id.setdefault(ident, []).append(t)
            others.append(t)

    def other_lang(index: int) -> str | None:
        same = by_id.get(corpus[index][2])
        if same:
            return rng.choice(same)
        return rng.choice(others) if others else None

    corrupt = Corruptor(pairs, rng, unspaced=is_unspaced(tgt_lang), other_lang=other_lang)
    rows: list[BenchRow] = []
    kept: list[tuple[str, str]] = []
    for index, pair in enumerate(pairs):
        if rng.random() >= noise_rate:
            rows.append(BenchRow(*pair, CLEAN))
            kept.append(pair)
            continue
        kind = NOISE_TYPES[rng.randrange(len(NOISE_TYPES))]
        if kind == "duplicate":
            made = _near_copy(rng.choice(kept), rng) if kept else None
        else:
            made = corrupt(kind, index, pair)
        if made is None:  # this pair cannot carry that noise: keep it clean
            rows.append(BenchRow(*pair, CLEAN))
            kept.append(pair)
        else:
            rows.append(BenchRow(*made, kind))
    return label_duplicates(rows)


def label_duplicates(rows: list[BenchRow]) -> list[BenchRow]:
    """Gold dedup: a row equal (after folding) to an earlier clean row is a duplicate, whatever it was built as."""
    dedup = Deduplicator(DedupParams("normalized"))
    out = []
    for row, key in zip(rows, keys([r.src for r in rows], [r.tgt for r in rows], "normalized")):
        if row.noise in (CLEAN, "duplicate"):
            repeated = dedup.check(key)
            row = BenchRow(row.src, row.tgt, "duplicate" if repeated else CLEAN)
        out.append(row)
    return out


def write(rows: Sequence[BenchRow], path: Path) -> None:
    """TSV: src, tgt, noise type, row index. Tabs/newlines in generated text are replaced by spaces."""
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for i, row in enumerate(rows):
            s = re.sub(r"[\t\n\r]", " ", row.src)
            t = re.sub(r"[\t\n\r]", " ", row.tgt)
            handle.write(f"{s}\t{t}\t{row.noise}\t{i}\n")


# --- evaluation -------------------------------------------------------------------------------------------
@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    clean_kept: float  # share of clean rows kept (= recall of keep)
    noise_recall: dict[str, float]  # per noise type: share rejected
    counts: dict[str, int]


def evaluate(rows: Sequence[BenchRow], keep: np.ndarray) -> Scores:
    gold = np.array([r.noise == CLEAN for r in rows])
    tp = float((keep & gold).sum())
    precision = tp / max(keep.sum(), 1)
    recall = tp / max(gold.sum(), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    noise_recall, counts = {}, {}
    for kind in (CLEAN, *NOISE_TYPES):
        mask = np.array([r.noise == kind for r in rows])
        counts[kind] = int(mask.sum())
        if kind != CLEAN and mask.any():
            noise_recall[kind] = float((~keep[mask]).mean())
    return Scores(precision, recall, f1, recall, noise_recall, counts)


def apply_dedup(rows: Sequence[BenchRow], keep: np.ndarray) -> np.ndarray:
    """Our dedup step after a peer's decisions: the first kept occurrence wins."""
    dedup = Deduplicator(DedupParams("normalized"))
    row_keys = keys([r.src for r in rows], [r.tgt for r in rows], "normalized")
    out = keep.copy()
    for i in np.flatnonzero(keep):
        if dedup.check(row_keys[i]):
            out[i] = False
    return out


# --- systems ----------------------------------------------------------------------------------------------
@dataclass
class RunResult:
    keep: np.ndarray | None  # None = not installed / failed
    seconds: float
    note: str = ""


def run_volctrans(path: Path, n: int, src: str, tgt: str, config_path: str | None = None,
                  lexicon_path: str | None = None) -> RunResult:
    from cleaning.config import load_config
    from cleaning.rules.lexical import LexicalParams
    from cleaning.pipeline import clean_file

    config = load_config(config_path)
    if lexicon_path is not None:
        # The `lexical` rule goes right before language ID (the last, most expensive rule).
        rules = {k: v for k, v in config.rules.items() if k != "wrong_lang"}
        rules["lexical"] = LexicalParams(path=lexicon_path)
        if "wrong_lang" in config.rules:
            rules["wrong_lang"] = config.rules["wrong_lang"]
        config.rules = rules
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "kept.tsv"
        # CPU seconds, not wall time: "pairs/s per core", robust to other jobs sharing the machine. Start-up
        # (LID model, lexicon, first imports) is measured on a one-row file and subtracted, as for the peers.
        one = Path(tmp) / "one.tsv"
        with open(path, encoding="utf-8") as handle:
            one.write_text(handle.readline(), encoding="utf-8")
        clean_file(config, str(one), str(out), src, tgt, workers=1)  # warm-up: imports, normalization tables
        start = time.process_time()
        clean_file(config, str(one), str(out), src, tgt, workers=1)  # what every run pays: model loading
        startup = time.process_time() - start
        start = time.process_time()
        clean_file(config, str(path), str(out), src, tgt, workers=1)
        seconds = max(time.process_time() - start - startup, 1e-9)
        keep = np.zeros(n, dtype=bool)
        with open(out, encoding="utf-8") as handle:
            for line in handle:
                keep[int(line.rstrip("\n").split("\t")[-1])] = True
    return RunResult(keep, seconds)


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _failed(proc: subprocess.CompletedProcess) -> RunResult:
    lines = proc.stderr.strip().splitlines() or ["no error output"]
    return RunResult(None, 0.0, "failed: " + lines[-1][:200])


def peer(env_var: str, default: str) -> Callable[[Callable[..., RunResult]], Callable[..., RunResult]]:
    """Run a peer from its side venv (`$env_var`, else `default`) in a temporary folder; "not installed" if absent."""

    def wrap(body: Callable[..., RunResult]) -> Callable[..., RunResult]:
        @functools.wraps(body)
        def run(path: Path, n: int, src: str, tgt: str) -> RunResult:
            python = Path(os.environ.get(env_var, default)) / "bin" / "python"
            if not python.exists():
                return RunResult(None, 0.0, "not installed")
            with tempfile.TemporaryDirectory() as tmp:
                return body(python, Path(tmp), path, n, src, tgt)

        return run

    return wrap


@peer("BICLEANER_VENV", "/tmp/venv_bicleaner")
def run_bicleaner(python: Path, tmp: Path, path: Path, n: int, src: str, tgt: str) -> RunResult:
    """bicleaner-hardrules 2.x, default rules + fastText LID (via FastSpell shim), no LM, no porn filter."""
    out = tmp / "out.tsv"
    env = dict(os.environ, PYTHONPATH=str(PEERS_DIR / "bicleaner_shim"))

    def command(source: Path) -> list[str]:
        return [str(python), "-m", "hardrules.bicleaner_hardrules", str(source), str(out), "-s", src, "-t", tgt,
                "--scol", "1", "--tcol", "2", "-p", "1", "--disable_lm_filter", "--disable_porn_removal",
                "--annotated_output", "-q"]

    # Start-up CPU (interpreter, imports, LID model load) measured on a one-row file and subtracted, so the
    # rate compares filtering work with filtering work, as for the in-process systems.
    one = tmp / "one.tsv"
    with open(path, encoding="utf-8") as handle:
        one.write_text(handle.readline(), encoding="utf-8")
    start = _child_cpu()
    subprocess.run(command(one), env=env, capture_output=True, text=True)
    startup = _child_cpu() - start
    start = _child_cpu()
    proc = subprocess.run(command(path), env=env, capture_output=True, text=True)
    seconds = max(_child_cpu() - start - startup, 1e-9)
    if proc.returncode != 0:
        return _failed(proc)
    keep = np.zeros(n, dtype=bool)
    with open(out, encoding="utf-8") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            keep[int(cols[3])] = cols[-1] == "keep"
    return RunResult(keep, seconds)


@peer("OPUSFILTER_VENV", "/tmp/venv_opusfilter")
def run_opusfilter(python: Path, tmp: Path, path: Path, n: int, src: str, tgt: str) -> RunResult:
    """OpusFilter 3.x `autogen --method defaults` filter set (Lingua LID), one process."""
    out = tmp / "keep.txt"
    proc = subprocess.run([str(python), str(PEERS_DIR / "opusfilter_runner.py"), str(path), str(out), src, tgt],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return _failed(proc)
    timing = json.loads(proc.stdout.strip().splitlines()[-1])
    keep = np.array([line.strip() == "1" for line in open(out)], dtype=bool)
    # The runner reports its own filtering CPU time (excludes interpreter and library start-up, as for ours).
    return RunResult(keep, timing["seconds"])


SYSTEMS: dict[str, Callable[..., RunResult]] = {
    "volctrans": run_volctrans, "volctrans+lexicon": run_volctrans, "bicleaner-hardrules": run_bicleaner,
    "opusfilter": run_opusfilter}


def ensure_lexicon(root: Path, lang: str, workdir: Path) -> Path:
    """The en-<lang> lexicon learned from the TRAIN split (never the evaluated split), cached in workdir."""
    from cleaning import lexicon

    path = workdir / "lexicons" / f"en-{lang}.json"
    if not path.exists():
        pairs = [(s, t) for s, t, _ in read_corpus(root, lang, "train")]
        lexicon.save(lexicon.learn(pairs, "en", lang), path)
    return path


def run_benchmark(root: Path, langs: Sequence[str], split: str, seed: int, systems: Sequence[str],
                  workdir: Path, config_path: str | None = None, max_clean: int | None = None,
                  all_langs: Sequence[str] = ("de", "fr", "es", "ru", "zh", "ja")) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    per_system: dict[str, dict] = {name: {"rows": [], "keep": [], "seconds": 0.0, "note": "", "per_lang": {}}
                                   for name in systems}
    for lang in langs:
        rows = build(root, lang, split, seed, max_clean=max_clean, other_langs=all_langs)
        path = workdir / f"noisy.{split}.s{seed}.en-{lang}.tsv"
        write(rows, path)
        for name in systems:
            runner = SYSTEMS[name]
            kwargs: dict = {"config_path": config_path} if name.startswith("volctrans") else {}
            if name == "volctrans+lexicon":
                if split == "train":
                    raise ValueError("volctrans+lexicon learns its lexicon on the train split: evaluate another split")
                kwargs["lexicon_path"] = str(ensure_lexicon(root, lang, workdir))
            result = runner(path, len(rows), "en", lang, **kwargs)
            slot = per_system[name]
            if result.keep is None:
                slot["note"] = result.note
                continue
            keep = result.keep if name.startswith("volctrans") else apply_dedup(rows, result.keep)
            slot["rows"].extend(rows)
            slot["keep"].append(keep)
            slot["per_lang"][lang] = round(evaluate(rows, keep).f1, 4)
            slot["seconds"] += result.seconds
    report = {"split": split, "seed": seed, "langs": list(langs), "systems": {}}
    for name, slot in per_system.items():
        if not slot["keep"]:
            report["systems"][name] = {"note": slot["note"] or "no result"}
            continue
        keep = np.concatenate(slot["keep"])
        scores = evaluate(slot["rows"], keep)
        report["systems"][name] = {
            "precision": round(scores.precision, 4), "recall": round(scores.recall, 4), "f1": round(scores.f1, 4),
            "pairs_per_s": round(len(keep) / slot["seconds"], 1), "pairs": len(keep), "f1_per_lang": slot["per_lang"],
            "noise_recall": {k: round(v, 3) for k, v in scores.noise_recall.items()}, "counts": scores.counts}
    return report


def format_report(report: dict) -> str:
    lines = [f"split={report['split']} seed={report['seed']} langs={','.join(report['langs'])}",
             f"{'system':22} {'P':>6} {'R':>6} {'F1':>6} {'pairs/s/core':>12}"]
    kinds: list[str] = []
    for name, r in report["systems"].items():
        if "f1" not in r:
            lines.append(f"{name:22} {r['note']}")
            continue
        lines.append(f"{name:22} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} {r['pairs_per_s']:12.0f}")
        kinds = kinds or list(r["noise_recall"])
    lines.append("F1 per language pair:")
    for name, r in report["systems"].items():
        if "f1" in r:
            lines.append(f"{name:22} " + " ".join(f"en-{lang} {f1:.3f}" for lang, f1 in r["f1_per_lang"].items()))
    lines.append("recall per noise type (share rejected):")
    lines.append(f"{'noise':16} " + " ".join(f"{n[:20]:>20}" for n, r in report["systems"].items() if "f1" in r))
    for kind in kinds:
        lines.append(f"{kind:16} " + " ".join(f"{r['noise_recall'].get(kind, float('nan')):20.3f}"
                                               for r in report["systems"].values() if "f1" in r))
    return "\n".join(lines)
