#!/usr/bin/env python3
"""The GPU part of the whole pipeline in one command (issue 18), and the same at toy size on a CPU.

    python benchmarks/gpu/driver.py --config benchmarks/gpu/gpu.yaml --out OUT [--set key=value ...] [--until STEP]

Steps, in this order. Each one names the steps it needs; when one of those did not succeed it is
"skipped: needs <step>", and a step that would not end before the deadline is "skipped: out of time", so a
failure (a CTranslate2 precision that crashes, a missing package) costs only what depends on it. After every step
OUT/report.json is rewritten, so even a command killed at its time limit returns what was done.

  environment      Python, torch, GPU (nvidia-smi), CPU count                              never fails the run
  install:fairseq  extract the fairseq pack into WORK/site unless fairseq is importable already
  install:ct2      the same for ctranslate2
  cublas           (cuda) when CTranslate2 wants a cuBLAS the loader cannot find: a folder with
                   libcublas.so.12 → the installed libcublas.so.13 put on LD_LIBRARY_PATH (serving/engine.py)
  engine           `volctrans engine-info`: the CTranslate2 build, its cuBLAS, the compute types offered
  data             extract the prepared data (SentencePiece, dictionary, binarized sources, test sets)
  train            `volctrans train`, bilevel weights over the prepared sources, `updates` updates (fairseq's
                   --stop-time-hours caps it at `train_minutes`); target tokens/s, GPU memory, learned weights
  export:Q         `volctrans export --quantization Q` for each Q in `quantizations`
  package          the `return_model` export as .tar.gz parts of ≤ `part_mib` MiB in OUT, with sha256 and the
                   command that reassembles them
  probe            `volctrans engine-info --model`: which precisions translate here, each in its own process
  translate:Q      every test set in both directions with the Q model (serving.batch, one process per Q)
  eval:Q           `volctrans eval` over those translations
  bench:PAIR       `volctrans bench`: fairseq-generate vs the CTranslate2 precisions, same sentences
  report           OUT/report.json, OUT/report.md and OUT/logs.tar.gz (logs, weights, translations, scores)

WORK (the `work` key) keeps every output; a second command on the same machine reuses finished steps (training,
exports), so the run can be split into two calls (`--until train`, then the whole run).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

import packs  # beside this script
from serving.gpu_memory import GpuMemoryMonitor
from volctrans.config import build_config
from volctrans.errors import VolctransError
from volctrans.io import iter_tsv_rows

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "volctrans-gpu-run/1"
RETURNED_BESIDE_MODEL = ("report.json", "report.md", "logs.tar.gz")
# Rough lower bounds (s) of each step on the GPU machine, for the deadline; the CPU toy run never reaches them.
MIN_SECONDS = {"export": 25, "package": 15, "probe": 20, "translate": 30, "eval": 15, "bench": 75}


@dataclass
class RunConfig:
    device: str = "cuda"  # cuda | cpu (the CPU run at toy size)
    data: str = "benchmarks/gpu/cache/data/prepared.tar.xz"  # data pack, or a folder with prepared/ and test/
    packs: dict[str, str] = field(default_factory=lambda: {
        "fairseq": "benchmarks/gpu/cache/fairseq/fairseq-cp312.tar.xz",
        "ct2": "benchmarks/gpu/cache/ct2/ct2-cp312.tar.xz"})
    work: str = "benchmarks/gpu/work"
    train: dict[str, Any] = field(default_factory=dict)  # volctrans TrainConfig keys (validated by `volctrans train`)
    updates: int = 500
    train_minutes: float = 5.0  # cap on fairseq's training time (--stop-time-hours); 0: none
    precision: str = "fp16"  # fp32 | fp16 | bf16
    quantizations: list[str] = field(default_factory=lambda: ["float16", "int8_float16"])
    return_model: str = "int8_float16"
    beam: int = 4
    bench_pairs: list[str] = field(default_factory=lambda: ["en-de"])
    bench_engines: list[str] = field(default_factory=lambda: ["fairseq", "float16", "int8_float16"])
    bench_limit: int | None = None
    threads: int = 0  # CPU threads of the CPU engines (0: all cores)
    deadline_minutes: float = 9.5  # from the driver's start; later steps are skipped rather than killed
    part_mib: float = 15.0
    return_files: int = 8  # what the device tool brings back from OUT: at most 8 files, 64 MiB together
    return_mib: int = 64

    def validate(self) -> list[str]:
        problems = []
        if self.device not in ("cuda", "cpu"):
            problems.append("device: must be cuda or cpu")
        if self.precision not in ("fp32", "fp16", "bf16"):
            problems.append("precision: must be fp32, fp16 or bf16")
        if self.precision != "fp32" and self.device == "cpu":
            problems.append("precision: fp16/bf16 training needs device: cuda")
        if self.return_model not in self.quantizations:
            problems.append(f"return_model: {self.return_model} is not among quantizations {self.quantizations}")
        if self.updates < 1 or self.beam < 1:
            problems.append("updates and beam: must be ≥ 1")
        if not 0 < self.part_mib <= 16:
            problems.append("part_mib: must be in (0, 16] (the device tool returns files of at most 16 MiB)")
        for pair in self.bench_pairs:
            if not re.fullmatch(r"[a-z_]+-[a-z_]+", pair):
                problems.append(f"bench_pairs: '{pair}' is not of the form src-tgt")
        return problems


class StepFailed(Exception):
    """A step that did not do its job; the message (one line) goes into the report."""


@dataclass
class Run:
    config: RunConfig
    out: Path
    work: Path
    argv: list[str]
    until: str | None = None
    started: float = field(default_factory=time.monotonic)
    report: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)

    # ---- plumbing ---------------------------------------------------------------------------------------------
    def remaining(self) -> float:
        return self.config.deadline_minutes * 60 - (time.monotonic() - self.started)

    def save(self) -> None:
        self.report["elapsed_s"] = round(time.monotonic() - self.started, 1)
        text = json.dumps(self.report, indent=1, ensure_ascii=False, default=str) + "\n"
        for folder in (self.out, self.work):
            partial = folder / "report.json.partial"
            partial.write_text(text, encoding="utf-8")
            partial.replace(folder / "report.json")

    def step(self, name: str, function: Callable[[], str | None], needs: tuple[str, ...] = (),
             min_seconds: float = 0) -> bool:
        steps = self.report.setdefault("steps", {})
        if self.until and self.until in steps and steps[self.until]["status"] != "pending":
            steps[name] = {"status": "skipped", "reason": f"--until {self.until}"}
            self.save()
            return False
        missing = [need for need in needs if steps.get(need, {}).get("status") != "ok"]
        if missing:
            steps[name] = {"status": "skipped", "reason": f"needs {', '.join(missing)}"}
        elif self.remaining() < min_seconds:
            steps[name] = {"status": "skipped",
                           "reason": f"out of time ({self.remaining():.0f} s left, needs ≥ {min_seconds:.0f} s)"}
        else:
            steps[name] = {"status": "running"}
            self.save()
            begin = time.monotonic()
            print(f"\n=== {name} ({self.remaining():.0f} s left)", flush=True)
            try:
                note = function()
                steps[name] = {"status": "ok", "seconds": round(time.monotonic() - begin, 1)}
                if note:
                    steps[name]["note"] = note
            except StepFailed as error:
                steps[name] = {"status": "failed", "seconds": round(time.monotonic() - begin, 1), "reason": str(error)}
            except Exception as error:  # a bug in a step must not lose the other steps' results
                steps[name] = {"status": "failed", "seconds": round(time.monotonic() - begin, 1),
                               "reason": f"{type(error).__name__}: {error}",
                               "traceback": traceback.format_exc().splitlines()[-6:]}
            print(f"--- {name}: {steps[name]['status']} {steps[name].get('reason', steps[name].get('note', ''))}",
                  flush=True)
        self.save()
        return steps[name]["status"] == "ok"

    def sh(self, name: str, command: list[str], timeout: float | None = None, gpu: bool = False) -> tuple[str, float | None]:
        """Run a command with the run's environment, its output in WORK/logs/NAME.log; return (output, peak GPU MB).
        A non-zero exit raises StepFailed with the last meaningful line (a crash names its signal)."""
        log_path = self.work / "logs" / f"{name.replace(':', '-')}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        timeout = min(timeout or self.remaining(), max(self.remaining(), 1))
        print("$ " + shlex.join(command), flush=True)
        monitor = GpuMemoryMonitor() if gpu and self.config.device == "cuda" else None
        with open(log_path, "w", encoding="utf-8", errors="replace") as log:
            log.write("$ " + shlex.join(command) + "\n")
            log.flush()
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT,
                                       start_new_session=True)
            try:
                if monitor:
                    with monitor:
                        returncode = process.wait(timeout=timeout)
                else:
                    returncode = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()
                raise StepFailed(f"{command[2] if len(command) > 2 else command[0]}: no end after {timeout:.0f} s "
                                 f"(killed; log {log_path.name})") from None
        output = log_path.read_text(encoding="utf-8", errors="replace")
        if returncode != 0:
            lines = [line for line in output.splitlines() if line.strip() and not line.startswith("$ ")]
            errors = [line for line in lines if re.search(r"error|Error|Exception|failed|Killed", line)]
            last = (errors or lines or ["(no output)"])[-1].strip()
            how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
            raise StepFailed(f"{how}: {last[:400]} (log {log_path.name})")
        return output, (monitor.peak_mb if monitor else None)

    def python(self, *args: str) -> list[str]:
        return [sys.executable, *args]

    def volctrans(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "volctrans.cli.main", *args]

    @property
    def site(self) -> Path:
        return self.work / "site"

    @property
    def data(self) -> Path:
        return self.work / "data"

    @property
    def save_dir(self) -> Path:
        return self.work / "checkpoints"

    def model(self, quantization: str) -> Path:
        return self.work / f"model-{quantization}"

    def absent(self, key: str, why: str) -> None:
        """A figure this run cannot have (a GPU figure on the CPU), and why: report["absent"][key]."""
        self.report.setdefault("absent", {})[key] = why


# ---- steps ----------------------------------------------------------------------------------------------------
def environment(run: Run) -> str:
    info: dict[str, Any] = {"python": sys.version.split()[0], "executable": sys.executable,
                            "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        info["gpu"] = smi.stdout.strip() or smi.stderr.strip()
    except (OSError, subprocess.SubprocessError) as error:
        info["gpu"] = f"none (nvidia-smi: {error})"
    probe = subprocess.run(run.python("-c", "import json, torch; print(json.dumps({'torch': torch.__version__, "
                                            "'cuda': torch.version.cuda, 'cuda_available': torch.cuda.is_available(), "
                                            "'device': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))"),
                           capture_output=True, text=True, env=run.env, timeout=120)
    info["torch"] = json.loads(probe.stdout) if probe.returncode == 0 else f"error: {probe.stderr.strip()[-300:]}"
    run.report["environment"] = info
    return f"{info['gpu']}; torch {info['torch'].get('torch') if isinstance(info['torch'], dict) else info['torch']}"


def _missing_modules(run: Run, modules: list[str]) -> list[str]:
    check = subprocess.run(run.python("-c", "import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] "
                                            "if importlib.util.find_spec(m) is None))", *modules),
                           capture_output=True, text=True, env=run.env, timeout=60)
    return check.stdout.split()


def install(run: Run, name: str) -> str:
    pack = Path(run.config.packs.get(name, ""))
    if not pack.is_absolute():
        pack = ROOT / pack
    modules = list(packs.read_manifest(pack)["modules"] if pack.is_file() else packs.PACKS[name]["modules"])
    entry: dict[str, Any] = {"pack": str(pack)}
    run.report.setdefault("install", {})[name] = entry
    missing = _missing_modules(run, modules)
    if missing and not pack.is_file():
        raise StepFailed(f"{', '.join(missing)} not importable and the pack {pack} was not carried")
    if missing:
        manifest = packs.extract(pack, run.site)
        entry.update(action=f"extracted into {run.site}", size_mib=round(pack.stat().st_size / 2**20, 1),
                     wheels=manifest["wheels"], removed=manifest["removed"])
        missing = _missing_modules(run, modules)
        if missing:
            raise StepFailed(f"still not importable after extracting {pack.name}: {', '.join(missing)}")
    else:
        entry["action"] = "already importable"
    top = modules[0]
    version = subprocess.run(run.python("-c", f"import {top}; print({top}.__version__, {top}.__file__)"),
                             capture_output=True, text=True, env=run.env, timeout=300)
    if version.returncode != 0:
        raise StepFailed(f"import {top} failed: {(version.stderr.strip().splitlines() or ['?'])[-1]}")
    entry["version"], entry["location"] = version.stdout.split()[:2]
    return f"{top} {entry['version']} ({entry['action']})"


def cublas(run: Run) -> str:
    probe = ("import json; from serving.engine import ct2_library, cublas_wanted, probe_library; "
             "w = cublas_wanted(ct2_library()); print(json.dumps({'wanted': w, **(probe_library(w) if w else {})}))")
    before = json.loads(subprocess.run(run.python("-c", probe), capture_output=True, text=True, env=run.env,
                                       check=True, timeout=120).stdout)
    entry: dict[str, Any] = {"before": before}
    run.report["cublas"] = entry
    if not before.get("wanted"):
        return "CTranslate2 names no cuBLAS (CPU-only build)"
    if before.get("loadable") and not before.get("missing"):
        entry["shim"] = None
        return f"{before['wanted']} loads as is ({before['file']})"
    folder = run.work / "cublas"
    made = subprocess.run(run.python("-m", "serving.engine", "shim", str(folder)), capture_output=True, text=True,
                          env=run.env, timeout=120)
    if made.returncode != 0:
        raise StepFailed(made.stderr.strip().splitlines()[-1] if made.stderr.strip() else "shim failed")
    run.env["LD_LIBRARY_PATH"] = shlex.split(made.stdout.strip().split("=", 1)[1])[0]
    after = json.loads(subprocess.run(run.python("-c", probe), capture_output=True, text=True, env=run.env,
                                      check=True, timeout=120).stdout)
    entry.update(shim=str(folder), links={p.name: os.readlink(p) for p in sorted(folder.iterdir())},
                 ld_library_path=run.env["LD_LIBRARY_PATH"], after=after)
    if not after.get("loadable") or after.get("missing"):
        raise StepFailed(f"{after.get('wanted')} still unusable through the shim: "
                         f"{after.get('error') or 'missing ' + ', '.join(after.get('missing', []))}")
    return f"{after['wanted']} → {after['file']} (shim {folder})"


def engine(run: Run) -> str:
    target = run.work / "engine.json"
    run.sh("engine", run.volctrans("engine-info", "--json", str(target)), timeout=180)
    info = json.loads(target.read_text(encoding="utf-8"))
    run.report["engine"] = info
    return f"CTranslate2 {info['ctranslate2']}: {info['build']}; compute types {info['compute_types']}"


def data(run: Run) -> str:
    source = Path(run.config.data)
    source = source if source.is_absolute() else ROOT / source
    if not (run.data / "prepared" / "prepared.json").is_file():
        if source.is_dir():
            run.data.mkdir(parents=True, exist_ok=True)
            for item in source.iterdir():
                target = run.data / item.name
                if target.is_symlink() or target.exists():
                    target.unlink() if target.is_symlink() or target.is_file() else shutil.rmtree(target)
                target.symlink_to(item.resolve())
        elif source.is_file():
            partial = run.work / "data.partial"
            shutil.rmtree(partial, ignore_errors=True)
            with tarfile.open(source, "r:*") as tar:
                tar.extractall(partial, filter="data")
            shutil.rmtree(run.data, ignore_errors=True)
            partial.rename(run.data)
        else:
            raise StepFailed(f"data {source}: neither a data pack nor a folder (run benchmarks/gpu/prepare.sh)")
    prepared = json.loads((run.data / "prepared" / "prepared.json").read_text(encoding="utf-8"))
    tests = sorted(p.parent.name for p in (run.data / "test").glob("*/test.tsv*"))
    if not tests:
        raise StepFailed(f"{run.data / 'test'}: no test sets")
    built = run.data / "source.json"
    run.report["data"] = {
        "from": str(source), "langs": prepared["langs"], "vocabulary": prepared["vocabulary"],
        "sources": {name: {pair: counts for pair, counts in info["pairs"].items()}
                    for name, info in prepared["sources"].items()},
        "test_sets": tests, "built": json.loads(built.read_text(encoding="utf-8")) if built.is_file() else None}
    # Text test sets in both directions: SRC-TGT.src / .ref (and a TSV per direction for bench).
    for pair in tests:
        english, other = pair.split("-", 1)
        tsv = next((run.data / "test" / pair).glob("test.tsv*"))
        rows = [(row.source, row.target) for row in iter_tsv_rows(tsv, strict=True)]
        for src, tgt, first in ((english, other, 0), (other, english, 1)):
            folder = run.work / "tests" / f"{src}-{tgt}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "test.src").write_text("".join(r[first] + "\n" for r in rows), encoding="utf-8")
            (folder / "test.ref").write_text("".join(r[1 - first] + "\n" for r in rows), encoding="utf-8")
            (folder / "test.tsv").write_text("".join(f"{r[first]}\t{r[1 - first]}\n" for r in rows), encoding="utf-8")
    return f"{len(prepared['sources'])} sources, {len(tests)} test sets, vocabulary {prepared['vocabulary']}"


def _train_fields(run: Run) -> list[str]:
    done = subprocess.run(run.python("-c", "import dataclasses, volctrans.train as t; "
                                           "print(' '.join(f.name for f in dataclasses.fields(t.TrainConfig)))"),
                          capture_output=True, text=True, env=run.env, timeout=300)
    if done.returncode != 0:
        raise StepFailed(f"cannot read TrainConfig: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return done.stdout.split()


def train_config(run: Run) -> tuple[dict, str]:
    """The TrainConfig written for `volctrans train`, and how the precision was expressed.

    TrainConfig's `precision: fp32|fp16|bf16` (issue 13) is used when it exists; older configs only have
    `fp16: bool`, and fairseq 0.12's own --bf16 implies --tpu, so bf16 then is refused rather than mis-run."""
    config = run.config
    values = dict(config.train)
    extra = list(values.get("extra_args", []))
    if config.train_minutes > 0:
        extra += ["--stop-time-hours", f"{config.train_minutes / 60:.6f}"]
    # One validation and one checkpoint, at the end (not at every epoch end): the run is about the fixed budget.
    # Without the optimizer state a transformer-base checkpoint is ~0.1 GB instead of ~0.7 GB (nothing resumes it).
    extra += ["--save-interval", "100000", "--validate-interval", "100000", "--no-save-optimizer-state"]
    values.update(data=str(run.data / "prepared"), save_dir=str(run.save_dir), max_update=config.updates,
                  device=config.device, validate_interval_updates=config.updates,
                  save_interval_updates=config.updates, keep_interval_updates=1, extra_args=extra)
    fields = _train_fields(run)
    if "precision" in fields:
        values["precision"] = config.precision
        values.pop("fp16", None)
        how = f"precision: {config.precision}"
    elif config.precision == "bf16":
        raise StepFailed("precision bf16 needs TrainConfig.precision (issue 13); fairseq 0.12's --bf16 implies --tpu")
    else:
        values["fp16"] = config.precision == "fp16"
        how = f"fp16: {str(values['fp16']).lower()} (this TrainConfig has no precision key)"
        if values["fp16"] and values.get("weighting") == "bilevel":
            run.report.setdefault("warnings", []).append(
                "bilevel with fp16 on a TrainConfig without `precision` (before issue 13): the lower-level copy u is "
                "fp16 under plain Adam, whose eps is 0 in fp16; its loss, λ and the weights can become NaN")
    return values, how


_INNER = re.compile(r"\| train_inner \| epoch \d+:\s+\d+ / \d+ (.*)$")
_SUMMARY = re.compile(r"\| (train|valid) \| epoch (\d+) \|(.*)$")


def parse_fairseq_log(text: str) -> dict:
    """train_inner records (key=value), per-epoch train and valid summaries (key value), from --log-format simple."""
    inner, summaries = [], []
    for line in text.splitlines():
        match = _INNER.search(line)
        if match:
            inner.append({k: _number(v) for k, v in re.findall(r"(\w+)=([^,\s]+)", match.group(1))})
            continue
        match = _SUMMARY.search(line)
        if match:
            record = {"kind": match.group(1), "epoch": int(match.group(2))}
            for part in match.group(3).split(" | "):
                key, _, value = part.strip().partition(" ")
                if key and value and not key.startswith("valid"):
                    record[key] = _number(value)
            summaries.append(record)
    return {"inner": inner, "summaries": summaries}


def _number(value: str):
    try:
        return float(value) if any(c in value for c in ".eE") or value.lower() in ("inf", "nan") else int(value)
    except ValueError:
        return value


def train(run: Run) -> str:
    config = run.config
    done_path = run.save_dir / "driver_train.json"
    values, how = train_config(run)
    if done_path.is_file() and (run.save_dir / "checkpoint_last.pt").is_file():
        earlier = json.loads(done_path.read_text(encoding="utf-8"))
        if earlier.get("train_config") == values:
            run.report["train"] = {**earlier["summary"], "reused": f"trained by an earlier command ({done_path})"}
            return "reused the training of an earlier command"
    config_path = run.work / "train.yaml"
    config_path.write_text(yaml.safe_dump(values, sort_keys=False, allow_unicode=True), encoding="utf-8")
    cap = config.train_minutes * 60 if config.train_minutes > 0 else run.remaining()
    begin = time.monotonic()
    output, peak = run.sh("train", run.volctrans("train", "--config", str(config_path)),
                          timeout=min(run.remaining(), cap + 240), gpu=True)
    wall = time.monotonic() - begin
    log = parse_fairseq_log(output)
    inner, summaries = log["inner"], log["summaries"]
    updates = max([r.get("num_updates", 0) for r in inner + summaries] or [0])
    steady = [r["wps"] for r in inner[1:] if isinstance(r.get("wps"), (int, float))] or \
             [r["wps"] for r in inner if isinstance(r.get("wps"), (int, float))]
    valid = [r for r in summaries if r["kind"] == "valid"]
    summary: dict[str, Any] = {
        "config": str(config_path), "precision": how, "updates_planned": config.updates, "updates_done": updates,
        "stopped_by": "max_update" if updates >= config.updates else f"time cap ({config.train_minutes} min)",
        "wall_s": round(wall, 1),
        "target_tokens_per_s": {
            "median_steady": round(statistics.median(steady), 1) if steady else None,
            "mean_steady": round(statistics.fmean(steady), 1) if steady else None,
            "how": "fairseq's wps (target tokens of the training batches per second) over each log interval, "
                   "the first interval (start-up) left out"},
        "updates_per_s": round(statistics.median([r["ups"] for r in inner[1:] if "ups" in r] or [0]), 3),
        "target_tokens_per_update": round(statistics.median([r["wpb"] for r in inner if "wpb" in r] or [0]), 1),
        "peak_gpu_memory_mb": peak,
        "final_valid": valid[-1] if valid else None,
        "log_intervals": [{k: r.get(k) for k in ("num_updates", "loss", "wps", "ups", "gb_free", "loss_scale")}
                          for r in inner],
    }
    if config.device == "cuda":
        free = [r["gb_free"] for r in inner if isinstance(r.get("gb_free"), (int, float))]
        summary["fairseq_min_gb_free"] = min(free) if free else None
    else:
        run.absent("train.peak_gpu_memory_mb", "device cpu: no GPU")
        run.absent("train.fairseq_min_gb_free", "device cpu: no GPU")
    summary.update(_weights(run))
    run.report.setdefault("train", {}).update(summary)
    if not (run.save_dir / "checkpoint_last.pt").is_file():
        raise StepFailed(f"no checkpoint_last.pt in {run.save_dir}")
    done_path.write_text(json.dumps({"train_config": values, "summary": summary}, indent=1, default=str) + "\n",
                         encoding="utf-8")
    weights = summary.get("weights_last") or {}
    return (f"{updates} updates, {summary['target_tokens_per_s']['median_steady']} target tok/s, "
            f"peak GPU {peak} MB, weights {weights}")


def _weights(run: Run) -> dict:
    path = run.save_dir / "weights.jsonl"
    if not path.is_file():
        return {"weights_last": None, "weights_note": f"{path.name} not written (weighting is not bilevel?)"}
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not records:
        return {"weights_last": None, "weights_note": f"{path.name} is empty"}
    last = records[-1]["weights"]
    finite = all(isinstance(v, (int, float)) and math.isfinite(v) for v in last.values())
    result = {"weights_first": records[0]["weights"], "weights_last": last, "weights_update": records[-1]["update"],
              "weights_finite": finite, "weights_log": [{"update": r["update"], "weights": r["weights"],
                                                         "dev_loss": r.get("dev_loss")} for r in records]}
    if not finite:
        run.report.setdefault("warnings", []).append("learned weights are not finite (bilevel with mixed precision "
                                                     "before issue 13's fix?)")
    return result


def export(run: Run, quantization: str) -> str:
    target = run.model(quantization)
    checkpoint = run.save_dir / "checkpoint_last.pt"
    metadata = target / "volctrans_model.json"
    if metadata.is_file() and json.loads(metadata.read_text(encoding="utf-8"))["provenance"]["checkpoint"] == \
            str(checkpoint.resolve()) and metadata.stat().st_mtime > checkpoint.stat().st_mtime:
        note = "reused an earlier export of the same checkpoint"
    else:
        run.sh(f"export:{quantization}", run.volctrans("export", "--checkpoint", str(checkpoint), "--data",
                                                       str(run.data / "prepared"), "-o", str(target),
                                                       "--quantization", quantization, "--force"), timeout=600)
        note = None
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    run.report.setdefault("export", {})[quantization] = {"dir": str(target), "size_mib": round(size / 2**20, 2)}
    return note or f"{size / 2**20:.1f} MiB"


def package(run: Run) -> str:
    quantization = run.config.return_model
    source = run.model(quantization)
    archive = run.work / f"model-{quantization}.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(source, arcname=source.name)
    size = archive.stat().st_size
    part = int(run.config.part_mib * 2**20)
    count = max(1, math.ceil(size / part))
    budget_files = run.config.return_files - len(RETURNED_BESIDE_MODEL)
    budget_bytes = (run.config.return_mib - 2) * 2**20  # 2 MiB left for the report and the logs
    entry: dict[str, Any] = {"model": str(source), "archive_mib": round(size / 2**20, 2), "parts": []}
    run.report["package"] = entry
    if count > budget_files or size > budget_bytes:
        raise StepFailed(f"{archive.name} is {size / 2**20:.1f} MiB: {count} parts of {run.config.part_mib} MiB do not "
                         f"fit the {run.config.return_files} files / {run.config.return_mib} MiB brought back "
                         f"(kept in {archive})")
    digest = hashlib.sha256()
    with open(archive, "rb") as handle:
        for index in range(count):
            chunk = handle.read(part)
            digest.update(chunk)
            name = f"{archive.name}.part-{index:02d}"
            (run.out / name).write_bytes(chunk)
            entry["parts"].append({"file": name, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()})
    entry["sha256"] = digest.hexdigest()
    entry["reassemble"] = (f"cat {archive.name}.part-* > {archive.name} && echo '{entry['sha256']}  {archive.name}' "
                           f"| sha256sum -c - && tar xzf {archive.name}   # → {source.name}/")
    return f"{count} part(s), {size / 2**20:.1f} MiB"


def probe(run: Run) -> str:
    types = run.config.quantizations if run.config.device == "cuda" else ["float32", "int8"]
    target = run.work / "probe.json"
    model = run.model(run.config.quantizations[0])
    run.sh("probe", run.volctrans("engine-info", "--model", str(model), "--device", run.config.device,
                                  "--compute-types", ",".join(types), "--json", str(target)), timeout=300, gpu=True)
    results = json.loads(target.read_text(encoding="utf-8"))["probe"]["results"]
    run.report["probe"] = {"model": str(model), "device": run.config.device, "results": results}
    return "; ".join(f"{k}: {v.split(' (')[0]}" for k, v in results.items())


def translate(run: Run, quantization: str) -> str:
    out = run.work / "translations" / quantization
    output, peak = run.sh(f"translate:{quantization}", run.python(
        str(Path(__file__).resolve()), "translate-tests", "--model", str(run.model(quantization)),
        "--device", run.config.device, "--tests", str(run.work / "tests"), "--out", str(out),
        "--beam", str(run.config.beam), "--threads", str(run.config.threads)), timeout=600, gpu=True)
    timings = json.loads((out / "translate.json").read_text(encoding="utf-8"))
    entry = {"dir": str(out), "directions": timings["directions"], "compute_type": timings["compute_type"],
             "device": timings["device"], "peak_gpu_memory_mb": peak}
    run.report.setdefault("translate", {})[quantization] = entry
    if run.config.device != "cuda":
        run.absent(f"translate.{quantization}.peak_gpu_memory_mb", "device cpu: no GPU")
    total = sum(d["sentences"] for d in timings["directions"].values())
    seconds = sum(d["seconds"] for d in timings["directions"].values())
    return f"{total} sentences in {seconds:.1f} s ({timings['compute_type']} on {timings['device']})"


def evaluate(run: Run, quantization: str) -> str:
    out = run.work / "translations" / quantization
    specs = []
    for folder in sorted((run.work / "tests").iterdir()):
        specs += ["--spec", folder.name, str(out / f"{folder.name}.hyp"), str(folder / "test.ref")]
    target = run.work / f"scores-{quantization}.json"
    run.sh(f"eval:{quantization}", run.volctrans("eval", *specs, "--json", str(target)), timeout=300)
    scores = json.loads(target.read_text(encoding="utf-8"))
    run.report.setdefault("eval", {})[quantization] = scores
    average = scores["average"].get("volctrans", {})
    return f"average BLEU {average.get('bleu')}, chrF++ {average.get('chrf')} over {average.get('pairs')} directions"


def bench(run: Run, pair: str) -> str:
    config = run.config
    tests = run.work / "tests" / pair / "test.tsv"
    if not tests.is_file():
        raise StepFailed(f"no test set for {pair} ({tests})")
    model = next((run.model(q) for q in ("float16", "float32", *config.quantizations) if run.model(q).is_dir()), None)
    if model is None:
        raise StepFailed("no exported model")
    target = run.work / f"bench-{pair}.json"
    threads = config.threads or os.cpu_count() or 1
    command = run.volctrans("bench", "-m", str(model), "--checkpoint", str(run.save_dir / "checkpoint_last.pt"),
                            "--data", str(run.data / "prepared"), "-i", str(tests), "--pair", pair,
                            "--device", config.device, "--engines", ",".join(config.bench_engines),
                            "--beam", str(config.beam), "--threads", str(threads), "--json", str(target))
    if config.bench_limit:
        command += ["--limit", str(config.bench_limit)]
    run.sh(f"bench:{pair}", command, timeout=900)
    result = json.loads(target.read_text(encoding="utf-8"))
    run.report.setdefault("bench", {})[pair] = result
    rows = {f"{r['engine']} {r['compute_type']}": r for r in result["results"]}
    return "; ".join(f"{k}: {r['sent_per_s']} sent/s" if r["status"] == "ok" else f"{k}: {r['status']}"
                     for k, r in rows.items())


# ---- report ---------------------------------------------------------------------------------------------------
def _cell(value, fmt="{}") -> str:
    return "n/a" if value is None else fmt.format(value)


def markdown(report: dict) -> str:
    env = report.get("environment", {})
    lines = [f"# GPU run ({report.get('started')})", "",
             f"- device: {env.get('gpu', 'n/a')}; torch {(env.get('torch') or {}).get('torch') if isinstance(env.get('torch'), dict) else env.get('torch')}; "
             f"Python {env.get('python')}; {env.get('cpus')} CPUs",
             f"- command: `{report.get('command')}`",
             f"- data: {json.dumps((report.get('data') or {}).get('built') or {}, ensure_ascii=False)[:300]}", "",
             "## Steps", "", "| step | status | s | note |", "|---|---|---|---|"]
    for name, step in report.get("steps", {}).items():
        note = step.get("reason") or step.get("note") or ""
        lines.append(f"| {name} | {step['status']} | {_cell(step.get('seconds'))} | {note.replace('|', '/')[:300]} |")
    for warning in report.get("warnings", []):
        lines.append(f"\n**warning**: {warning}")
    train = report.get("train")
    if train:
        tps = train.get("target_tokens_per_s") or {}
        lines += ["", "## Training", "",
                  f"- {train.get('precision')}; updates {train.get('updates_done')} of {train.get('updates_planned')} "
                  f"(stopped by {train.get('stopped_by')}); {train.get('wall_s')} s wall",
                  f"- target tokens/s (median over log intervals): {tps.get('median_steady')}; updates/s "
                  f"{train.get('updates_per_s')}; target tokens/update {train.get('target_tokens_per_update')}",
                  f"- peak GPU memory (NVML, device in use minus before): "
                  f"{_cell(train.get('peak_gpu_memory_mb'))} MB; fairseq min gb_free {_cell(train.get('fairseq_min_gb_free'))}",
                  f"- final valid: {json.dumps(train.get('final_valid'))}",
                  f"- learned weights (update {train.get('weights_update')}): {json.dumps(train.get('weights_last'))}"]
    evals = report.get("eval") or {}
    if evals:
        precisions = list(evals)
        lines += ["", "## Test sets (BLEU / chrF++)", "", "| direction | " + " | ".join(precisions) + " |",
                  "|---|" + "---|" * len(precisions)]
        rows: dict[str, dict[str, str]] = {}
        for precision, scores in evals.items():
            for score in scores["pairs"]:
                rows.setdefault(score["pair"], {})[precision] = f"{score['bleu']:.2f} / {score['chrf']:.2f}"
            average = scores["average"].get("volctrans", {})
            rows.setdefault("average", {})[precision] = f"{_cell(average.get('bleu'), '{:.2f}')} / {_cell(average.get('chrf'), '{:.2f}')}"
        for pair, cells in rows.items():
            lines.append(f"| {pair} | " + " | ".join(cells.get(p, "n/a") for p in precisions) + " |")
        lines.append("\nja BLEU uses sacrebleu's ja-mecab only where MeCab is installed (else `char`: see the "
                     "signatures in report.json); rescore the returned translations on a machine with MeCab to compare.")
    for pair, result in (report.get("bench") or {}).items():
        lines += ["", f"## Bench {pair} ({result.get('sentences')} sentences, beam {result['options']['beam_size']})", "",
                  "| engine | precision | device | sent/s | tok/s | × fairseq | BLEU | chrF++ | = fairseq % | "
                  "peak GPU MB | peak RSS MB | roofline % |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in result["results"]:
            if r["status"] != "ok":
                lines.append(f"| {r['engine']} | {r['compute_type']} | {r['device']} | {r['status']} |" + " |" * 8)
                continue
            lines.append(f"| {r['engine']} | {r['compute_type']} | {r['device']} | {_cell(r['sent_per_s'], '{:.1f}')} | "
                         f"{_cell(r['tok_per_s'], '{:.0f}')} | {_cell(r['speedup'], '{:.2f}×')} | {_cell(r['bleu'], '{:.2f}')} | "
                         f"{_cell(r['chrf'], '{:.2f}')} | {_cell(r['identical_to_fairseq_pct'], '{:.1f}')} | "
                         f"{_cell(r.get('peak_gpu_mb'), '{:.0f}')} | {_cell(r['peak_rss_mb'], '{:.0f}')} | "
                         f"{_cell(r['roofline_pct'], '{:.3g}')} |")
    package = report.get("package") or {}
    if package.get("reassemble"):
        lines += ["", "## Returned model", "", f"`{package['reassemble']}`"]
    return "\n".join(lines) + "\n"


def finish(run: Run) -> None:
    run.report["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    run.save()
    try:
        text = markdown(run.report)
    except Exception as error:  # the JSON is the record; a bug here must not lose the logs
        text = f"# GPU run\n\nreport.md could not be written ({type(error).__name__}: {error}); see report.json.\n"
        run.report.setdefault("warnings", []).append(f"report.md: {type(error).__name__}: {error}")
    (run.out / "report.md").write_text(text, encoding="utf-8")
    with tarfile.open(run.out / "logs.tar.gz", "w:gz") as tar:
        for path in [run.work / "logs", run.work / "translations", run.work / "train.yaml", run.work / "engine.json",
                     run.work / "probe.json", run.save_dir / "weights.jsonl", run.save_dir / "train_config.yaml",
                     *sorted(run.work.glob("scores-*.json")), *sorted(run.work.glob("bench-*.json"))]:
            if path.exists():
                tar.add(path, arcname=str(path.relative_to(run.work)))
    run.save()


@dataclass
class Step:
    name: str
    function: Callable[[], str | None] | None  # None: not run on this device, `skip` says why
    needs: tuple[str, ...] = ()
    min_seconds: float = 0
    skip: str | None = None


def plan(run: Run) -> list[Step]:
    """The steps of this run, in order (docs at the top of this file)."""
    config = run.config
    steps = [Step("environment", lambda: environment(run)),
             Step("install:fairseq", lambda: install(run, "fairseq")),
             Step("install:ct2", lambda: install(run, "ct2"))]
    if config.device == "cuda":
        steps.append(Step("cublas", lambda: cublas(run), needs=("install:ct2",)))
    else:
        steps.append(Step("cublas", None, skip="device cpu: CTranslate2 needs no cuBLAS"))
    steps += [Step("engine", lambda: engine(run), needs=("install:ct2",)),
              Step("data", lambda: data(run)),
              Step("train", lambda: train(run), needs=("install:fairseq", "data"))]
    steps += [Step(f"export:{q}", lambda q=q: export(run, q), ("train", "install:ct2"), MIN_SECONDS["export"])
              for q in config.quantizations]
    steps += [Step("package", lambda: package(run), (f"export:{config.return_model}",), MIN_SECONDS["package"]),
              Step("probe", lambda: probe(run), (f"export:{config.quantizations[0]}",), MIN_SECONDS["probe"])]

    def translate_and_score(quantization: str) -> list[Step]:
        return [Step(f"translate:{quantization}", lambda: translate(run, quantization), (f"export:{quantization}",),
                     MIN_SECONDS["translate"]),
                Step(f"eval:{quantization}", lambda: evaluate(run, quantization), (f"translate:{quantization}",),
                     MIN_SECONDS["eval"])]

    # The first precision is scored before the bench, the others after it: the deadline cuts the least needed.
    first, *rest = config.quantizations
    steps += translate_and_score(first)
    steps += [Step(f"bench:{pair}", lambda pair=pair: bench(run, pair), ("train", "data", "install:ct2"),
                   MIN_SECONDS["bench"]) for pair in config.bench_pairs]
    for quantization in rest:
        steps += translate_and_score(quantization)
    return steps


def execute(run: Run) -> int:
    config = run.config
    run.report.update(schema=SCHEMA, started=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                      command=shlex.join(run.argv), config=dataclasses.asdict(config), steps={})
    steps = plan(run)
    if run.until and run.until not in [step.name for step in steps]:
        raise VolctransError(f"--until {run.until}: no such step (steps: {', '.join(s.name for s in steps)})")
    for step in steps:
        if step.function is None:
            run.report["steps"][step.name] = {"status": "skipped", "reason": step.skip}
            run.absent(step.name, step.skip)
        else:
            run.step(step.name, step.function, step.needs, step.min_seconds)
    if config.device != "cuda":
        for pair in config.bench_pairs:
            run.absent(f"bench.{pair}.gpu_rows", "device cpu: the float16 / int8_float16 rows say \"no GPU\"")
    finish(run)
    failed = [name for name, step in run.report["steps"].items() if step["status"] == "failed"]
    print(f"\nreport: {run.out / 'report.json'}, {run.out / 'report.md'}; failed steps: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


# ---- translate-tests: one process per precision ------------------------------------------------------------------
def translate_tests(args: argparse.Namespace) -> int:
    from serving.batch import BatchConfig, translate_file
    from serving.translator import DecodingOptions, Translator

    translator = Translator(args.model, device=args.device, intra_threads=args.threads)
    options = DecodingOptions(beam_size=args.beam)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    directions = {}
    for folder in sorted(Path(args.tests).iterdir()):
        source_lang, target_lang = folder.name.split("-", 1)
        config = BatchConfig(source_lang, [target_lang], input=str(folder / "test.src"),
                             output=str(out / f"{folder.name}.hyp"), progress=False)
        stats = translate_file(translator, config, options)
        directions[folder.name] = {"sentences": stats.lines, "seconds": round(stats.seconds, 3),
                                   "sent_per_s": round(stats.sent_per_s, 1)}
        print(f"{folder.name}: {stats.lines} sentences, {stats.seconds:.2f} s", flush=True)
    report = {"model": args.model, "device": translator.model.device, "compute_type": translator.model.compute_type,
              "beam": args.beam, "directions": directions}
    (out / "translate.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


def load_config(path: str, overrides: list[str]) -> RunConfig:
    """The YAML < `--set KEY=VALUE` (dotted keys reach into `train`: train.max_tokens=16384)."""
    return build_config(RunConfig, path, None, overrides)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["translate-tests"]:
        parser = argparse.ArgumentParser(prog="driver.py translate-tests")
        for name in ("--model", "--device", "--tests", "--out"):
            parser.add_argument(name, required=True)
        parser.add_argument("--beam", type=int, default=4)
        parser.add_argument("--threads", type=int, default=0)
        try:
            return translate_tests(parser.parse_args(argv[1:]))
        except VolctransError as error:
            print(f"translate-tests: error: {error}", file=sys.stderr)
            return 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="driver YAML (benchmarks/gpu/gpu.yaml, toy.yaml)")
    parser.add_argument("--out", required=True, help="results folder ($OUT on the device machine)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a key (YAML value); train.KEY=VALUE for a TrainConfig key")
    parser.add_argument("--until", help="stop after this step (e.g. train: the first of two calls)")
    args = parser.parse_args(argv)
    logging_setup()
    try:
        config = load_config(args.config, args.set)
    except VolctransError as error:
        print(f"driver: error: {error}", file=sys.stderr)
        return 1
    out, work = Path(args.out).resolve(), (Path(config.work) if Path(config.work).is_absolute() else ROOT / config.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    site = work / "site"
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("OMP_NUM_THREADS", str(config.threads or os.cpu_count() or 1))
    run = Run(config, out, work, ["benchmarks/gpu/driver.py", *argv], until=args.until, env=env)
    try:
        return execute(run)
    except VolctransError as error:
        print(f"driver: error: {error}", file=sys.stderr)
        return 1


def logging_setup() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")


if __name__ == "__main__":
    sys.exit(main())
