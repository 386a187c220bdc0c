"""The file-format contract between stages: file names, language tokens, checkpoints and the fairseq plugin.

Every stage reads what an earlier stage wrote. The names and formats they agree on are defined here and only here
(sockeye's constants.py), so a writer and its readers cannot drift apart:

    prepare  → OUT/spm.model, OUT/dict.txt, OUT/bin*/langs.txt, OUT/prepared.json     (train, export, select, bench)
    train    → SAVE_DIR/checkpoint_*.pt, SAVE_DIR/train_config.yaml                    (average, export, select, bench)
    export   → MODEL/volctrans_model.json, MODEL/spm.model, MODEL/langs.txt, CT2 files (translate, serve, bench, bt)

Part of the foundation: imports nothing of ours but volctrans.errors (docs/architecture.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from volctrans.errors import InputError, VolctransError

# --- prepare: the binarized-data folder -------------------------------------------------------------------------
SPM_MODEL = "spm.model"  # joint SentencePiece model (also copied into the exported model)
DICTIONARY = "dict.txt"  # fairseq dictionary, without the language tokens (the task appends them)
LANG_DICT = "langs.txt"  # fairseq --lang-dict: one language per line, in token order (bin*/ and the model)
PREPARED = "prepared.json"  # summary: config, languages, sources with pairs and counts per split
BT_TAG = "<BT>"  # tagged back-translation marker: prefixed to synthetic sources, a user symbol of SentencePiece

# --- train: the save_dir ----------------------------------------------------------------------------------------
TRAIN_CONFIG = "train_config.yaml"  # the TrainConfig a checkpoint was trained with
TRAIN_SUMMARY = "train_summary.json"  # wall time, peak RSS, updates of the last `volctrans train` run
WEIGHT_LOG = "weights.jsonl"  # bilevel weights over updates (one JSON record per logged update)

# --- export: the self-contained model directory -----------------------------------------------------------------
MODEL_CONFIG = "volctrans_model.json"  # languages, language-token format, position limits, provenance
MODEL_FORMAT = "volctrans-ct2/1"
LANG_TOKEN = "__{lang}__"  # fairseq's multilingual language token (--encoder-langtok src --decoder-langtok)

# fairseq's own command-line tools (fairseq-train, fairseq-generate) load its checkpoints, which pickle argparse
# objects: torch ≥ 2.6 refuses them under its weights_only=True default unless told otherwise.
FAIRSEQ_ENV = {"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}


def lang_token(lang: str) -> str:
    """`__de__`: the token that names a language in the fairseq dictionary and in CTranslate2 inputs."""
    return LANG_TOKEN.format(lang=lang)


def load_prepared(directory: str | Path) -> dict:
    """The summary `volctrans prepare` wrote into `directory`."""
    path = Path(directory) / PREPARED
    if not path.is_file():
        raise VolctransError(f"{path}: not found (run `volctrans prepare` first)")
    return json.loads(path.read_text(encoding="utf-8"))


def load_model_config(model_dir: str | Path) -> dict:
    """The metadata `volctrans export` wrote into a model directory."""
    path = Path(model_dir) / MODEL_CONFIG
    if not path.is_file():
        raise VolctransError(f"{model_dir}: not a volctrans model directory (no {MODEL_CONFIG}; use `volctrans export`)")
    return json.loads(path.read_text(encoding="utf-8"))


def load_checkpoint(path: str | Path) -> dict:
    """A fairseq checkpoint of ours, on CPU. Trusted: it pickles argparse/omegaconf objects, so weights_only=False.
    A missing, empty, cut-short or foreign file is a one-line InputError, not a traceback from torch."""
    import torch

    problem = checkpoint_problem(Path(path))
    if problem is not None:
        raise InputError(str(path), None, f"cannot read checkpoint: {problem}")
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as error:  # damage the cheap check cannot see, or not a torch file at all
        raise InputError(str(path), None, f"cannot read checkpoint ({type(error).__name__}: {error})") from None
    if not isinstance(state, dict):
        raise InputError(str(path), None, "not a fairseq checkpoint")
    return state


def checkpoint_problem(path: Path) -> str | None:
    """Why a checkpoint cannot be loaded, or None. Cheap: a torch checkpoint is a zip archive whose central
    directory sits at the end (a file cut short has none) and whose pickle must read back with its CRC; the
    tensors are not read. A non-zip (legacy) file is only checked for being non-empty."""
    try:
        size = path.stat().st_size
    except OSError as error:
        return f"cannot read: {error.strerror}"
    if size == 0:
        return "0 bytes"
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [name for name in archive.namelist() if name.endswith("/data.pkl") or name == "data.pkl"]
            if not pickles:
                return "no data.pkl in the archive"
            archive.read(pickles[0])  # checks its CRC
    except zipfile.BadZipFile as error:
        with open(path, "rb") as handle:
            if handle.read(4) == b"PK\x03\x04":
                return f"cut short or damaged ({error})"
        return None  # the legacy (pre-zip) torch format: assume loadable
    except (OSError, EOFError, zipfile.LargeZipFile, RuntimeError) as error:
        return f"damaged ({type(error).__name__}: {error})"
    return None


def checkpoint_args(state: dict, section: str = "model") -> argparse.Namespace | None:
    """A section of a checkpoint's training configuration as a Namespace (a copy), or None if it has none.

    fairseq ≥ 0.10 stores `cfg[section]` (an argparse.Namespace in our checkpoints, a mapping in others); older
    checkpoints store the model's arguments as `args`.
    """
    if section == "model" and state.get("args") is not None:
        return argparse.Namespace(**vars(state["args"]))
    cfg: Any = state.get("cfg")
    value = cfg.get(section) if cfg is not None and hasattr(cfg, "get") else None
    if value is None:
        return None
    return argparse.Namespace(**(vars(value) if isinstance(value, argparse.Namespace) else dict(value)))


def plugin_dir() -> Path:
    """The volctrans_fairseq plugin folder (fairseq's --user-dir), found without importing it (that imports fairseq)."""
    spec = importlib.util.find_spec("volctrans_fairseq")
    if spec is None or not spec.submodule_search_locations:
        raise VolctransError("the volctrans_fairseq plugin package is not importable")
    return Path(list(spec.submodule_search_locations)[0])


def fairseq_env(threads: int = 0) -> dict[str, str]:
    """The environment for a fairseq command-line tool run as a subprocess (FAIRSEQ_ENV; threads if > 0)."""
    env = {**os.environ, **FAIRSEQ_ENV}
    if threads > 0:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return env
