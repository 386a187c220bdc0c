"""The file-format contract: one definition per name, checkpoints read as every stage reads them."""

import argparse
import json

import pytest
import torch

from volctrans import artifacts
from volctrans.errors import VolctransError


def test_language_tokens_and_plugin_location():
    assert artifacts.lang_token("zh_tw") == "__zh_tw__"
    plugin = artifacts.plugin_dir()
    assert plugin.name == "volctrans_fairseq" and (plugin / "__init__.py").is_file()
    assert artifacts.fairseq_env(3)["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] == "1"
    assert artifacts.fairseq_env(3)["OMP_NUM_THREADS"] == "3"


def test_checkpoint_args_from_each_layout(tmp_path):
    model = argparse.Namespace(arch="transformer", encoder_langtok="src")
    path = tmp_path / "checkpoint.pt"
    torch.save({"args": None, "cfg": {"model": model, "task": {"data": "prep/bin"}}, "model": {}}, path)
    state = artifacts.load_checkpoint(path)  # pickles a Namespace: refused under torch's weights_only default
    args = artifacts.checkpoint_args(state)
    assert args == model and args is not model  # a copy: callers may not change the checkpoint's cfg
    assert artifacts.checkpoint_args(state, "task").data == "prep/bin"
    assert artifacts.checkpoint_args({"args": model}).arch == "transformer"  # fairseq < 0.10
    assert artifacts.checkpoint_args({"model": {}}) is None and artifacts.checkpoint_args({"cfg": {}}, "task") is None


def test_missing_contract_files_are_one_line_errors(tmp_path):
    with pytest.raises(VolctransError, match="run `volctrans prepare` first"):
        artifacts.load_prepared(tmp_path)
    with pytest.raises(VolctransError, match="not a volctrans model directory"):
        artifacts.load_model_config(tmp_path)
    (tmp_path / artifacts.PREPARED).write_text(json.dumps({"langs": ["de", "en"]}))
    assert artifacts.load_prepared(tmp_path)["langs"] == ["de", "en"]


def test_the_contract_is_spelled_only_in_artifacts():
    """File names, the language-token format, unsafe checkpoint loading and fairseq's env: defined once."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spellings = ('"volctrans_model.json"', '"train_config.yaml"', '"langs.txt"', '"prepared.json"', "__{lang}__",
                 "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "weights_only=False", 'find_spec("volctrans_fairseq")')
    # The plugin loads a checkpoint inside fairseq-train (memory-mapped), outside what the stages share.
    allowed = {root / "volctrans/artifacts.py", root / "volctrans_fairseq/tasks/bilevel_multilingual.py"}
    found = [f"{path.relative_to(root)}: {spelling}"
             for package in ("volctrans", "cleaning", "serving", "volctrans_fairseq")
             for path in sorted((root / package).rglob("*.py")) if path not in allowed
             for spelling in spellings if spelling in path.read_text(encoding="utf-8")]
    assert not found, "use volctrans.artifacts instead:\n" + "\n".join(found)
