"""The systems under test: our pipeline in-process, and the peers (bicleaner-hardrules, OpusFilter) from their venvs.

Each returns its keep decisions and the CPU seconds of filtering alone (start-up measured and subtracted).
"""

from __future__ import annotations

import functools
import json
import os
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

PEERS_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "peers"


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
