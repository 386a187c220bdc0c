"""Train a fairseq multilingual transformer (translation_multi_simple_epoch) from a typed config.

The config is saved next to the checkpoints; fairseq resumes from checkpoint_last.pt, so rerunning the same
command continues training. Resuming with a different model shape is refused (it would fail deep in fairseq).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from volctrans.errors import ConfigError, VolctransError
from volctrans.io import atomic_write
from volctrans.prepare import LANG_DICT, load_prepared

logger = logging.getLogger(__name__)

TRAIN_CONFIG = "train_config.yaml"
WEIGHTINGS = ("uniform", "temperature")
# Changing these between runs makes checkpoint_last.pt unloadable or meaningless.
_SHAPE_KEYS = ("data", "encoder_layers", "decoder_layers", "embed_dim", "ffn_dim", "attention_heads",
               "share_all_embeddings", "directions", "langs")


@dataclass
class TrainConfig:
    data: str  # folder written by `volctrans prepare`
    save_dir: str
    directions: str = "both"  # both | en-xx | xx-en
    langs: list[str] | None = None  # target languages (default: all prepared)
    weighting: str = "temperature"  # how language pairs are sampled: uniform | temperature
    temperature: float = 5.0  # p ∝ n^(1/T)
    encoder_layers: int = 6
    decoder_layers: int = 6
    embed_dim: int = 512
    ffn_dim: int = 2048
    attention_heads: int = 8
    share_all_embeddings: bool = True
    dropout: float = 0.1
    attention_dropout: float = 0.0
    label_smoothing: float = 0.1
    lr: float = 0.0005
    warmup_updates: int = 4000
    max_update: int = 100_000
    max_tokens: int = 4096
    update_freq: int = 1
    clip_norm: float = 0.0
    weight_decay: float = 0.0
    seed: int = 1
    validate_interval_updates: int = 1000
    save_interval_updates: int = 1000
    keep_interval_updates: int = 2
    patience: int = -1  # stop after this many validations without improvement (-1: never)
    log_interval: int = 50
    max_positions: int = 256
    device: str = "auto"  # auto | cpu | cuda
    fp16: bool = False
    num_workers: int = 0
    extra_args: list[str] = field(default_factory=list)  # passed verbatim to fairseq-train (escape hatch)

    def validate(self) -> list[str]:
        problems = []
        if self.directions not in ("both", "en-xx", "xx-en"):
            problems.append("directions: must be both, en-xx or xx-en")
        if self.weighting not in WEIGHTINGS:
            problems.append(f"weighting: must be one of {', '.join(WEIGHTINGS)}")
        if self.temperature <= 0:
            problems.append("temperature: must be > 0")
        if self.embed_dim % self.attention_heads:
            problems.append("embed_dim: must be divisible by attention_heads")
        if self.device not in ("auto", "cpu", "cuda"):
            problems.append("device: must be auto, cpu or cuda")
        if self.fp16 and self.device == "cpu":
            problems.append("fp16: needs a GPU")
        for name in ("max_update", "max_tokens", "update_freq", "encoder_layers", "decoder_layers", "embed_dim",
                     "ffn_dim", "attention_heads", "max_positions"):
            if getattr(self, name) <= 0:
                problems.append(f"{name}: must be > 0")
        return problems


def lang_pairs(config: TrainConfig, prepared: dict) -> list[str]:
    pairs = []
    for pair in prepared["pairs"]:
        source_lang, target_lang = pair.split("-", 1)
        if config.langs and target_lang not in config.langs:
            continue
        if config.directions in ("both", "en-xx"):
            pairs.append(f"{source_lang}-{target_lang}")
        if config.directions in ("both", "xx-en"):
            pairs.append(f"{target_lang}-{source_lang}")
    if not pairs:
        raise VolctransError(f"no language pairs selected from {config.data} (langs={config.langs})")
    return pairs


def use_cuda(config: TrainConfig) -> bool:
    if config.device == "cpu":
        return False
    import torch

    available = torch.cuda.is_available()
    if config.device == "cuda" and not available:
        raise VolctransError("device: cuda requested but torch sees no GPU (install a CUDA build of torch)")
    return available


def fairseq_arguments(config: TrainConfig, prepared: dict) -> list[str]:
    data = Path(config.data).resolve()
    args = [
        str(data / "bin"),
        "--task", "translation_multi_simple_epoch",
        "--lang-dict", str(data / "bin" / LANG_DICT),
        "--lang-pairs", ",".join(lang_pairs(config, prepared)),
        "--encoder-langtok", "src", "--decoder-langtok",
        "--sampling-method", config.weighting,
        "--sampling-temperature", str(config.temperature),
        "--arch", "transformer",
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
    if config.share_all_embeddings:
        args.append("--share-all-embeddings")
    if not use_cuda(config):
        args.append("--cpu")
    if config.fp16:
        args.append("--fp16")
    return args + list(config.extra_args)


def check_resume(config: TrainConfig, save_dir: Path) -> None:
    saved_path = save_dir / TRAIN_CONFIG
    if not (save_dir / "checkpoint_last.pt").exists() or not saved_path.exists():
        return
    saved = yaml.safe_load(saved_path.read_text(encoding="utf-8")) or {}
    current = asdict(config)
    changed = [f"{key}: {saved.get(key)!r} → {current[key]!r}" for key in _SHAPE_KEYS if saved.get(key) != current[key]]
    if changed:
        raise ConfigError(str(saved_path), ["cannot resume: the model changed since the checkpoint was written ("
                                            + ", ".join(changed) + "); use a new save_dir"])


def train(config: TrainConfig, dry_run: bool = False) -> list[str]:
    prepared = load_prepared(config.data)
    save_dir = Path(config.save_dir)
    check_resume(config, save_dir)
    argv = fairseq_arguments(config, prepared)
    command = [sys.executable, "-m", "fairseq_cli.train", *argv]
    if dry_run:
        return command
    save_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(save_dir / TRAIN_CONFIG) as handle:
        yaml.safe_dump(asdict(config), handle, sort_keys=False, allow_unicode=True)
    resuming = (save_dir / "checkpoint_last.pt").exists()
    logger.info("%s training in %s", "resuming" if resuming else "starting", save_dir)
    env = dict(os.environ)
    # torch ≥ 2.6 defaults torch.load to weights_only=True, which cannot read fairseq's own checkpoints on resume.
    env["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    env["PYTHONUNBUFFERED"] = "1"  # fairseq logs to stdout: show progress as it happens when piped to a file
    result = subprocess.run(command, env=env)
    if result.returncode != 0:
        raise VolctransError(f"fairseq-train exited with status {result.returncode} (see its log above)")
    if not (save_dir / "checkpoint_best.pt").exists() and not (save_dir / "checkpoint_last.pt").exists():
        raise VolctransError(f"training finished but wrote no checkpoint in {save_dir}")
    return command
