"""fairseq checkpoint → self-contained CTranslate2 model directory.

Template method in the style of CTranslate2's converters: load → validate (collect every problem, raise once)
→ convert → write metadata → move into place atomically. The model directory holds everything `translate`
needs: CT2 weights, the SentencePiece model, the language list and `volctrans_model.json` (how to build
language tokens, quantization, and provenance: checkpoint, training config, data).
"""

from __future__ import annotations

import datetime
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from volctrans import __version__
from volctrans.artifacts import (DICTIONARY, LANG_DICT, LANG_TOKEN, MODEL_CONFIG, MODEL_FORMAT, SPM_MODEL, TRAIN_CONFIG,
                                 checkpoint_args, load_checkpoint, load_prepared, plugin_dir)
from volctrans.errors import ConfigError, VolctransError
from volctrans.io import staged_directory

logger = logging.getLogger(__name__)

QUANTIZATIONS = ("float32", "int8", "int8_float32", "float16", "int8_float16", "bfloat16", "int8_bfloat16")
SUPPORTED_TASKS = ("translation_multi_simple_epoch", "volctrans_multilingual")


@dataclass
class ExportConfig:
    checkpoint: str
    data: str  # the folder written by `volctrans prepare` (dictionary, SentencePiece model, language list)
    out: str
    quantization: str = "float32"
    force: bool = False


def validate(config: ExportConfig) -> tuple[dict, object]:
    """Return (prepared summary, checkpoint args) or raise ConfigError listing every problem found."""
    problems: list[str] = []
    checkpoint = Path(config.checkpoint)
    data = Path(config.data)
    out = Path(config.out)
    if config.quantization not in QUANTIZATIONS:
        problems.append(f"quantization '{config.quantization}' is not one of {', '.join(QUANTIZATIONS)}")
    if out.exists() and not config.force:
        problems.append(f"{out} exists (use --force to overwrite)")
    for required in (data / SPM_MODEL, data / "bin" / LANG_DICT, data / DICTIONARY):
        if not required.is_file():
            problems.append(f"{required} is missing (is --data a `volctrans prepare` folder?)")
    prepared = {}
    try:
        prepared = load_prepared(data)
    except VolctransError as error:
        problems.append(str(error))
    args = None
    if not checkpoint.is_file():
        problems.append(f"{checkpoint}: checkpoint not found")
    else:
        try:
            args = checkpoint_args(load_checkpoint(checkpoint))
        except VolctransError as error:  # a truncated or foreign file: reported with the others
            problems.append(str(error))
    if args is not None:
        task = getattr(args, "task", None)
        if task not in SUPPORTED_TASKS:
            problems.append(f"task '{task}' is not supported (supported: {', '.join(SUPPORTED_TASKS)})")
        if getattr(args, "encoder_langtok", None) != "src":
            problems.append(f"encoder_langtok must be 'src' (got {getattr(args, 'encoder_langtok', None)!r})")
        if not getattr(args, "decoder_langtok", False):
            problems.append("decoder_langtok must be set (the target language is forced as the first token)")
        for option in ("lang_tok_replacing_bos_eos", "enable_lang_ids"):
            if getattr(args, option, False):
                problems.append(f"option {option} is not supported by the CTranslate2 runtime here")
    elif checkpoint.is_file() and not any("cannot read" in p for p in problems):
        problems.append(f"{checkpoint}: has no training arguments (not a fairseq checkpoint?)")
    if problems:
        raise ConfigError(f"export {checkpoint}", problems)
    return prepared, args


def export(config: ExportConfig) -> Path:
    import ctranslate2
    from ctranslate2.converters import FairseqConverter

    prepared, args = validate(config)
    data = Path(config.data).resolve()
    out = Path(config.out)
    # Built next to OUT and swapped in whole (validate() refused an existing OUT unless --force): a failed export
    # leaves the old model as it was, and the temporary folder of a killed one is removed by the next export.
    with staged_directory(out) as staging:
        converter = FairseqConverter(
            str(Path(config.checkpoint).resolve()),
            str(data / "bin"),
            user_dir=str(plugin_dir()),  # registers volctrans_multilingual
            unsafe_deserialization=True,  # our own checkpoint; it pickles argparse objects
        )
        try:
            converter.convert(str(staging / "ct2"), quantization=config.quantization, force=True)
        except NotImplementedError as error:  # CT2's checker lists every unsupported option in one message
            raise ConfigError(f"export {config.checkpoint}", [str(error)]) from None
        for item in (staging / "ct2").iterdir():
            item.rename(staging / item.name)
        (staging / "ct2").rmdir()
        shutil.copy(data / SPM_MODEL, staging / SPM_MODEL)
        langs = (data / "bin" / LANG_DICT).read_text(encoding="utf-8").split()
        train_config = None
        train_config_path = Path(config.checkpoint).parent / TRAIN_CONFIG
        if train_config_path.is_file():
            import yaml

            train_config = yaml.safe_load(train_config_path.read_text(encoding="utf-8"))
        metadata = {
            "format": MODEL_FORMAT,
            "langs": langs,
            "lang_token": LANG_TOKEN,
            "quantization": config.quantization,
            "lang_pairs": str(getattr(args, "lang_pairs", "")).split(","),
            # Learned position embeddings stop here: the translator clamps input and output lengths to them.
            "max_source_positions": int(getattr(args, "max_source_positions", 1024)),
            "max_target_positions": int(getattr(args, "max_target_positions", 1024)),
            "provenance": {
                "checkpoint": str(Path(config.checkpoint).resolve()),
                "data": str(data),
                "prepared_pairs": prepared.get("pairs"),
                "train_config": train_config,
                "arch": getattr(args, "arch", None),
                "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "volctrans": __version__,
                "ctranslate2": ctranslate2.__version__,
            },
        }
        (staging / MODEL_CONFIG).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (staging / LANG_DICT).write_text("".join(f"{lang}\n" for lang in langs), encoding="utf-8")
    logger.info("exported %s → %s (%s)", config.checkpoint, out, config.quantization)
    return out
