"""Train a fairseq multilingual transformer (translation_multi_simple_epoch) from a typed config.

The config is saved next to the checkpoints; fairseq resumes from checkpoint_last.pt, so rerunning the same
command continues training. Resuming with a different model shape is refused (it would fail deep in fairseq).

A run always resumes: fairseq writes a checkpoint atomically but then *copies* it to checkpoint_last.pt, so a
kill during the copy leaves that file empty or cut short; the next run checks it cheaply (a torch checkpoint is
a zip archive: its directory and pickle must be whole) and otherwise resumes from the newest intact checkpoint
(`--restore-file`), saying so. One run at a time holds a lock on save_dir (flock, also held by the fairseq child
so it ends with the last process of the run), the fairseq child dies with `volctrans train` (PR_SET_PDEATHSIG),
and the unfinished `*.pt.tmp` files of an interrupted run are removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import json
import logging
import os
import re
import resource
import signal
import time
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar, Iterator

import yaml

from volctrans.artifacts import (LANG_DICT, TRAIN_CONFIG, TRAIN_SUMMARY, checkpoint_problem, fairseq_env, load_prepared,
                                 plugin_dir)
from volctrans.errors import ConfigError, VolctransError
from volctrans.io import atomic_write
from volctrans.weighting import SCHEMES, get_scheme
from volctrans.weighting.bilevel import BilevelConfig

logger = logging.getLogger(__name__)

TASK = "volctrans_multilingual"
# fairseq-train with one fix: fairseq 0.12.3's parser makes --bf16 imply --tpu (bf16 was TPU-only upstream).
FAIRSEQ_TRAIN = "volctrans_fairseq.train"
PRECISION_FLAGS = {"fp32": [], "fp16": ["--fp16"], "bf16": ["--bf16"]}
# fairseq flags that choose precision: set through `precision`, refused in extra_args.
_PRECISION_EXTRA = ("--fp16", "--bf16", "--amp", "--memory-efficient-fp16", "--memory-efficient-bf16", "--tpu")
# Changing these between runs makes checkpoint_last.pt unloadable or meaningless.
_SHAPE_KEYS = ("data", "encoder_layers", "decoder_layers", "embed_dim", "ffn_dim", "attention_heads",
               "share_all_embeddings", "directions", "langs", "sources")


@dataclass
class DistributedConfig:
    """Multi-process training through torchrun (fairseq reads RANK/WORLD_SIZE from its environment): GPUs with
    NCCL, or CPU processes with gloo and fairseq's legacy_ddp (device: cpu)."""

    nproc_per_node: int = 1  # processes (GPUs) on this node
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 29500

    def validate(self) -> list[str]:
        problems = []
        if self.nproc_per_node < 1 or self.nnodes < 1:
            problems.append("nproc_per_node and nnodes: must be ≥ 1")
        if not 0 <= self.node_rank < self.nnodes:
            problems.append("node_rank: must be in [0, nnodes)")
        return problems

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes


@dataclass
class TrainConfig:
    data: str  # folder written by `volctrans prepare`
    save_dir: str
    directions: str = "both"  # both | en-xx | xx-en
    langs: list[str] | None = None  # target languages (default: all prepared)
    sources: list[str] | None = None  # prepared sources to train on (default: all)
    weighting: str = "temperature"  # how sources × pairs are mixed: uniform | temperature | fixed | bilevel
    temperature: float = 5.0  # p ∝ n^(1/T) over sources × pairs
    weights_file: str | None = None  # for weighting: fixed — YAML/JSON {source | pair | source:pair: weight}
    bilevel: BilevelConfig = field(default_factory=BilevelConfig)
    arch: str = "transformer"  # any fairseq transformer arch; the sizes below override its defaults
    # The defaults of shape and schedule are the CPU testbed's (benchmarks/testbed, docs/training.md "Defaults"):
    # on a modest corpus (28.7k LibreOffice-help pairs, en→es) they give a model that translates after 1,500 updates
    # on 2 CPU cores. Larger corpora want a larger model and more updates (recipes/libreoffice, recipes/wmt22).
    encoder_layers: int = 2
    decoder_layers: int = 2
    embed_dim: int = 128
    ffn_dim: int = 512
    attention_heads: int = 4
    share_all_embeddings: bool = True
    dropout: float = 0.1
    attention_dropout: float = 0.0
    label_smoothing: float = 0.1
    lr: float = 0.003  # inverse-sqrt schedule: linear warm-up to lr, then lr·sqrt(warmup/update)
    warmup_updates: int = 300
    max_update: int = 1500
    max_tokens: int = 4096
    update_freq: int = 1
    clip_norm: float = 1.0
    weight_decay: float = 0.0
    seed: int = 1
    # Fine-tune: start from this checkpoint's weights (optimizer, schedule, data position reset) when save_dir has
    # no checkpoint yet; later runs resume from save_dir as usual. Its data must share this data's dictionary.
    init_from: str | None = None
    validate_interval_updates: int = 250
    save_interval_updates: int = 250
    keep_interval_updates: int = 2
    patience: int = -1  # stop after this many validations without improvement (-1: never)
    log_interval: int = 50
    max_positions: int = 256
    device: str = "auto"  # auto | cpu | cuda
    # fp32 | fp16 (fairseq's FP16Optimizer: fp32 master weights, dynamic loss scaling) | bf16 (same, no scaling);
    # fp16/bf16 need a GPU (bf16: Ampere or newer)
    precision: str = "fp32"
    num_workers: int = 0
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    extra_args: list[str] = field(default_factory=list)  # passed verbatim to fairseq-train (escape hatch)

    RENAMED: ClassVar[dict[str, str]] = {"fp16": "precision: fp16 (or fp32, bf16)"}

    def validate(self) -> list[str]:
        problems = []
        if self.directions not in ("both", "en-xx", "xx-en"):
            problems.append("directions: must be both, en-xx or xx-en")
        if self.weighting not in SCHEMES:
            problems.append(f"weighting: must be one of {', '.join(sorted(SCHEMES))}")
        if self.weighting == "fixed" and not self.weights_file:
            problems.append("weights_file: required with weighting: fixed")
        if self.temperature <= 0:
            problems.append("temperature: must be > 0")
        if self.embed_dim % self.attention_heads:
            problems.append("embed_dim: must be divisible by attention_heads")
        if self.device not in ("auto", "cpu", "cuda"):
            problems.append("device: must be auto, cpu or cuda")
        if self.precision not in PRECISION_FLAGS:
            problems.append("precision: must be fp32, fp16 or bf16")
        elif self.precision != "fp32" and self.device == "cpu":
            problems.append(f"precision: {self.precision} needs a GPU (device: cuda or auto); use fp32 on CPU")
        if not self.arch.startswith("transformer"):
            problems.append("arch: must be a fairseq transformer arch (CTranslate2 export supports those)")
        owned = {flag: "precision" for flag in _PRECISION_EXTRA}
        if self.weighting == "bilevel" and self.bilevel.mode == "sampling":
            owned |= {flag: "bilevel.sampling_epoch_size" for flag in ("--virtual-epoch-size", "--virtual-data-size")}
        for flag in self.extra_args:
            key = owned.get(str(flag).split("=", 1)[0])
            if key:
                problems.append(f"extra_args: {flag} is set by '{key}' in this config")
        for name in ("max_update", "max_tokens", "update_freq", "encoder_layers", "decoder_layers", "embed_dim",
                     "ffn_dim", "attention_heads", "max_positions"):
            if getattr(self, name) <= 0:
                problems.append(f"{name}: must be > 0")
        return problems


def directions(config: TrainConfig, pairs, synthetic: dict[str, str] | None = None) -> list[str]:
    """Training directions of corpus pairs. A pair with a synthetic side (back-translation) is used only in the
    direction whose target side is real: a model must never be trained to write machine output."""
    synthetic = synthetic or {}
    selected = []
    for pair in pairs:
        source_lang, target_lang = pair.split("-", 1)
        if config.langs and target_lang not in config.langs:
            continue
        if config.directions in ("both", "en-xx") and synthetic.get(pair) != "target":
            selected.append(f"{source_lang}-{target_lang}")
        if config.directions in ("both", "xx-en") and synthetic.get(pair) != "source":
            selected.append(f"{target_lang}-{source_lang}")
    return selected


def lang_pairs(config: TrainConfig, prepared: dict) -> list[str]:
    pairs = directions(config, prepared["pairs"])
    if not pairs:
        raise VolctransError(f"no language pairs selected from {config.data} (langs={config.langs})")
    return pairs


def data_categories(config: TrainConfig, prepared: dict) -> dict[str, tuple[str, list[str]]]:
    """fairseq data category → (binarized folder, directions). The main source is fairseq's category "main"."""
    data = Path(config.data).resolve()
    sources = prepared.get("sources") or {prepared.get("main_source", "main"): {"dir": "bin", "pairs": prepared["pairs"]}}
    main_source = prepared.get("main_source", next(iter(sources)))
    wanted = config.sources or list(sources)
    unknown = sorted(set(wanted) - set(sources))
    if unknown:
        raise VolctransError(f"sources not in {config.data}: {', '.join(unknown)} (have: {', '.join(sources)})")
    if main_source not in wanted:
        raise VolctransError(f"the main source '{main_source}' (dev/test, vocabulary) cannot be left out")
    categories = {}
    for name in wanted:
        category = "main" if name == main_source else name
        pairs = directions(config, sources[name]["pairs"], sources[name].get("synthetic"))
        if pairs:
            categories[category] = (str(data / sources[name]["dir"]), pairs)
    return categories


def use_cuda(config: TrainConfig, check: bool = True) -> bool:
    if config.device == "cpu":
        return False
    if config.device == "cuda" and not check:  # dry runs validate configs meant for GPU machines anywhere
        return True
    import torch

    available = torch.cuda.is_available()
    if config.device == "cuda" and not available:
        raise VolctransError("device: cuda requested but torch sees no GPU (install a CUDA build of torch)")
    return available


def fairseq_arguments(config: TrainConfig, prepared: dict, check_device: bool = True) -> list[str]:
    data = Path(config.data).resolve()
    categories = data_categories(config, prepared)
    main_source = prepared.get("main_source", "main")
    extra = {name: value for name, value in categories.items() if name != "main"}
    keys = [f"{category}:{pair}" for category, (_, pairs) in categories.items() for pair in pairs]
    args = [
        str(data / "bin"),
        "--user-dir", str(plugin_dir()),
        "--task", TASK,
        "--main-source-name", main_source,
        "--lang-dict", str(data / "bin" / LANG_DICT),
        "--lang-pairs", ",".join(lang_pairs(config, prepared)),
        "--encoder-langtok", "src", "--decoder-langtok",
        "--arch", config.arch,
        "--encoder-layers", str(config.encoder_layers), "--decoder-layers", str(config.decoder_layers),
        "--encoder-embed-dim", str(config.embed_dim), "--decoder-embed-dim", str(config.embed_dim),
        "--encoder-ffn-embed-dim", str(config.ffn_dim), "--decoder-ffn-embed-dim", str(config.ffn_dim),
        "--encoder-attention-heads", str(config.attention_heads),
        "--decoder-attention-heads", str(config.attention_heads),
        "--encoder-normalize-before", "--decoder-normalize-before",
        "--dropout", str(config.dropout), "--attention-dropout", str(config.attention_dropout),
        "--criterion", "label_smoothed_cross_entropy", "--label-smoothing", str(config.label_smoothing),
        "--optimizer", "adam", "--adam-betas", "(0.9, 0.98)", "--adam-eps", "1e-08",
        "--weight-decay", str(config.weight_decay), "--clip-norm", str(config.clip_norm),
        "--lr", str(config.lr), "--lr-scheduler", "inverse_sqrt", "--warmup-updates", str(config.warmup_updates),
        "--warmup-init-lr", "1e-07",
        "--max-tokens", str(config.max_tokens), "--update-freq", str(config.update_freq),
        "--max-update", str(config.max_update),
        "--max-source-positions", str(config.max_positions), "--max-target-positions", str(config.max_positions),
        "--save-dir", str(Path(config.save_dir).resolve()),
        "--save-interval-updates", str(config.save_interval_updates),
        "--keep-interval-updates", str(config.keep_interval_updates),
        "--validate-interval-updates", str(config.validate_interval_updates),
        "--no-epoch-checkpoints", "--patience", str(config.patience),
        "--seed", str(config.seed), "--num-workers", str(config.num_workers),
        "--log-format", "simple", "--log-interval", str(config.log_interval),
        # Without this the last partial batch of valid/test is silently dropped (fairseq #5036).
        "--required-batch-size-multiple", "1",
        "--skip-invalid-size-inputs-valid-test",
    ]
    if extra:
        # Each further source is a fairseq data category; every category needs its language-token spec.
        args += ["--extra-data", repr({name: path for name, (path, _) in extra.items()}),
                 "--extra-lang-pairs", repr({name: ",".join(pairs) for name, (_, pairs) in extra.items()}),
                 "--langtoks", repr({name: ("src", "tgt") for name in categories})]
    args += get_scheme(config.weighting).fairseq_args(config, keys, main_source)
    if config.init_from:
        # fairseq ignores this once save_dir has checkpoint_last.pt, so reruns resume the fine-tuning itself.
        args += ["--finetune-from-model", str(Path(config.init_from).resolve())]
    if config.share_all_embeddings:
        args.append("--share-all-embeddings")
    cuda = use_cuda(config, check_device)
    if not cuda:
        args.append("--cpu")
        if config.precision != "fp32":
            raise VolctransError(f"precision: {config.precision} needs a GPU and torch sees none; use fp32 on CPU")
        if config.distributed.world_size > 1:
            # NCCL and fairseq's default DDP (c10d, with device_ids) are GPU-only; gloo + legacy_ddp run on CPU.
            args += ["--distributed-backend", "gloo", "--ddp-backend", "legacy_ddp"]
    args += PRECISION_FLAGS[config.precision]
    return args + list(config.extra_args)


def check_resume(config: TrainConfig, save_dir: Path) -> None:
    saved_path = save_dir / TRAIN_CONFIG
    if not saved_path.exists() or not any(_CHECKPOINT.match(path.name) for path in save_dir.iterdir()):
        return
    saved = yaml.safe_load(saved_path.read_text(encoding="utf-8")) or {}
    current = asdict(config)
    changed = [f"{key}: {saved.get(key)!r} → {current[key]!r}" for key in _SHAPE_KEYS if saved.get(key) != current[key]]
    if changed:
        raise ConfigError(str(saved_path), ["cannot resume: the model changed since the checkpoint was written ("
                                            + ", ".join(changed) + "); use a new save_dir"])


def check_init_dictionary(config: TrainConfig) -> None:
    """Fine-tuning needs the checkpoint's vocabulary: compare the dictionaries of both prepared folders."""
    if not config.init_from:
        return
    if not Path(config.init_from).is_file():
        raise VolctransError(f"init_from: {config.init_from}: no such checkpoint")
    saved_config = Path(config.init_from).parent / TRAIN_CONFIG
    if not saved_config.is_file():
        return  # a checkpoint from elsewhere: fairseq reports a shape mismatch if the vocabularies differ
    previous_data = (yaml.safe_load(saved_config.read_text(encoding="utf-8")) or {}).get("data")
    previous_dict, current_dict = Path(previous_data or "") / "dict.txt", Path(config.data) / "dict.txt"
    if previous_dict.is_file() and current_dict.is_file() and previous_dict.read_bytes() != current_dict.read_bytes():
        raise ConfigError(str(saved_config), [f"init_from: the checkpoint was trained on {previous_data}, whose dictionary "
                                              f"differs from {config.data}'s (prepare with --vocab-from {previous_data})"])


# --- one run per save_dir -------------------------------------------------------------------------------------
LOCK_FILE = ".volctrans-train.lock"


@contextlib.contextmanager
def save_dir_lock(save_dir: Path) -> Iterator[int]:
    """Hold an exclusive flock on save_dir/.volctrans-train.lock (yields its descriptor, to be passed to the child
    so that the lock lasts as long as any process of the run). A second run is refused, naming the holder."""
    path = save_dir / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 200, 0).decode("utf-8", "replace").strip() or "unknown process"
            raise VolctransError(f"{save_dir}: another training is using this folder ({holder}); wait for it to "
                                 "finish or stop it") from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)
        yield descriptor
    finally:
        os.close(descriptor)


# --- the fairseq child ----------------------------------------------------------------------------------------
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """In the child, before exec: get SIGTERM when the parent dies (torchrun forwards it to its workers)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def run_child(command: list[str], env: dict, keep_fds: tuple[int, ...] = ()) -> int:
    """Run the trainer and return its exit status. It never outlives this process: killed with SIGTERM when we
    die (even by SIGKILL), and stopped (SIGTERM, then SIGKILL after 30 s) when we are interrupted."""
    process = subprocess.Popen(command, env=env, pass_fds=keep_fds,
                               preexec_fn=functools.partial(_die_with_parent, os.getpid()))
    try:
        return process.wait()
    except BaseException:  # KeyboardInterrupt, SystemExit: stop the child before leaving
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        raise


# --- resuming ---------------------------------------------------------------------------------------------------
LAST = "checkpoint_last.pt"
_CHECKPOINT = re.compile(r"^checkpoint(?:_last|_best|_\d+_\d+|\d+)\.pt$")


@dataclass
class Restore:
    path: Path
    fallback: bool  # not checkpoint_last.pt: fairseq must be told (--restore-file)
    unreadable: dict[str, str] = field(default_factory=dict)  # file name → why it was skipped


def restore_checkpoint(save_dir: Path) -> Restore | None:
    """The checkpoint to resume from: checkpoint_last.pt when it is loadable, else the newest loadable checkpoint
    (by modification time); None when there is nothing to resume."""
    if not save_dir.is_dir():
        return None
    last = save_dir / LAST
    unreadable = {}
    if last.exists():
        problem = checkpoint_problem(last)
        if problem is None:
            return Restore(last, False)
        unreadable[LAST] = problem
    candidates = sorted((path for path in save_dir.iterdir() if _CHECKPOINT.match(path.name) and path.name != LAST),
                        key=lambda path: (path.stat().st_mtime, path.name), reverse=True)
    for path in candidates:
        problem = checkpoint_problem(path)
        if problem is None:
            return Restore(path, True, unreadable)
        unreadable[path.name] = problem
    if unreadable:
        raise VolctransError(f"{save_dir}: no checkpoint can be loaded to resume ("
                             + "; ".join(f"{name}: {why}" for name, why in unreadable.items())
                             + "); move them away to start over")
    return None


def restore_arguments(restore: Restore | None, argv: list[str]) -> list[str]:
    """fairseq arguments for a fallback restore: --restore-file, and no --finetune-from-model (fairseq refuses
    both together; a run that has checkpoints of its own resumes them, not the initial model)."""
    if restore is None or not restore.fallback:
        return argv
    if "--finetune-from-model" in argv:
        index = argv.index("--finetune-from-model")
        argv = argv[:index] + argv[index + 2:]
    return [*argv, "--restore-file", str(restore.path.resolve())]


def report_restore(save_dir: Path, restore: Restore | None) -> None:
    """Say which checkpoint a fallback resumes from and why, then clean what the interrupted run left."""
    if restore is not None and restore.fallback:
        why = "; ".join(f"{name} is unreadable ({reason})" for name, reason in restore.unreadable.items())
        logger.warning("%s: resuming from %s", why or f"{LAST} is missing", restore.path.name)
    clean_interrupted(save_dir, restore)


def clean_interrupted(save_dir: Path, restore: Restore | None) -> None:
    """Under the lock: remove fairseq's unfinished `*.pt.tmp` files and set an unreadable checkpoint_last.pt
    aside (removed when empty, renamed `.unreadable` otherwise) so that nothing picks it up later."""
    removed = [path.name for path in save_dir.glob("*.pt.tmp")]
    for name in removed:
        (save_dir / name).unlink()
    if removed:
        logger.info("removed %d unfinished checkpoint file(s) of an interrupted run: %s", len(removed),
                    ", ".join(sorted(removed)))
    if restore is not None and restore.fallback and LAST in restore.unreadable:
        last = save_dir / LAST
        if last.stat().st_size == 0:
            last.unlink()
        else:
            last.rename(save_dir / f"{LAST}.unreadable")


def train(config: TrainConfig, dry_run: bool = False) -> list[str]:
    """Run (or, dry_run, only show) the fairseq training; a real run holds the save_dir lock throughout."""
    if dry_run:
        return _train(config, dry_run=True, lock=None)
    save_dir = Path(config.save_dir)
    try:
        save_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise VolctransError(f"{save_dir}: cannot create the save_dir: {error.strerror}") from None
    with save_dir_lock(save_dir) as lock:
        return _train(config, dry_run=False, lock=lock)


def _train(config: TrainConfig, dry_run: bool, lock: int | None) -> list[str]:
    prepared = load_prepared(config.data)
    save_dir = Path(config.save_dir)
    check_resume(config, save_dir)
    check_init_dictionary(config)
    restore = restore_checkpoint(save_dir)
    argv = restore_arguments(restore, fairseq_arguments(config, prepared, check_device=not dry_run))
    command = [sys.executable, "-m", FAIRSEQ_TRAIN, *argv]
    if config.distributed.world_size > 1:
        dist = config.distributed
        # fairseq picks up torchrun's RANK/WORLD_SIZE/MASTER_* variables (env:// initialisation).
        command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={dist.nproc_per_node}",
                   f"--nnodes={dist.nnodes}", f"--node_rank={dist.node_rank}", f"--master_addr={dist.master_addr}",
                   f"--master_port={dist.master_port}", "--module", FAIRSEQ_TRAIN, *argv,
                   "--distributed-world-size", str(dist.world_size)]
    if dry_run:
        return command
    save_dir.mkdir(parents=True, exist_ok=True)
    report_restore(save_dir, restore)
    with atomic_write(save_dir / TRAIN_CONFIG) as handle:
        yaml.safe_dump(asdict(config), handle, sort_keys=False, allow_unicode=True)
    resuming = restore is not None
    logger.info("%s training in %s", f"resuming ({restore.path.name})" if resuming else "starting", save_dir)
    env = fairseq_env()  # fairseq-train reads its own checkpoints on resume
    env["PYTHONUNBUFFERED"] = "1"  # fairseq logs to stdout: show progress as it happens when piped to a file
    start = time.perf_counter()
    returncode = run_child(command, env, keep_fds=(lock,) if lock is not None else ())
    if returncode != 0:
        raise VolctransError(f"fairseq-train exited with status {returncode} (see its log above)")
    elapsed = time.perf_counter() - start
    # ru_maxrss of waited-for children is in KiB on Linux: the peak of the fairseq-train process.
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = {"wall_seconds": round(elapsed, 1), "peak_rss_mb": round(peak_rss_mb, 1), "resumed": resuming,
               "weighting": config.weighting, "max_update": config.max_update}
    with atomic_write(save_dir / TRAIN_SUMMARY) as handle:
        json.dump(summary, handle, indent=2)
    logger.info("fairseq-train finished in %.0fs, peak RSS %.0f MB", elapsed, peak_rss_mb)
    if not (save_dir / "checkpoint_best.pt").exists() and not (save_dir / "checkpoint_last.pt").exists():
        raise VolctransError(f"training finished but wrote no checkpoint in {save_dir}")
    return command
