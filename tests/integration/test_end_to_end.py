"""The whole path on a tiny real sample: prepare → train (fairseq, few updates) → resume → export → translate → eval."""

import json
import subprocess
import sys

import pytest
import torch

from volctrans.cli.main import main

pytestmark = pytest.mark.slow

TINY_MODEL = {
    "encoder_layers": 1, "decoder_layers": 1, "embed_dim": 64, "ffn_dim": 128, "attention_heads": 2,
    "max_tokens": 2048, "lr": 0.003, "warmup_updates": 5, "validate_interval_updates": 12,
    "save_interval_updates": 12, "log_interval": 4, "max_positions": 128,
}


def _volctrans(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "volctrans.cli.main", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    import yaml

    from tests.conftest import DATA

    work = tmp_path_factory.mktemp("e2e")
    assert main(["prepare", "--corpora", str(DATA / "tiny"), "--out", str(work / "prepared"), "--vocab-size", "1200"]) == 0
    config = {"data": str(work / "prepared"), "save_dir": str(work / "ckpt"), "max_update": 12, **TINY_MODEL}
    (work / "train.yaml").write_text(yaml.safe_dump(config))
    assert main(["train", "--config", str(work / "train.yaml")]) == 0
    return work


def test_prepare_wrote_fairseq_data(pipeline):
    prepared = json.loads((pipeline / "prepared/prepared.json").read_text())
    assert prepared["langs"] == ["de", "en", "zh"]
    assert (pipeline / "prepared/bin/langs.txt").read_text().split() == ["de", "en", "zh"]
    for pair in ("en-de", "en-zh"):
        assert prepared["pairs"][pair]["train"] >= 390
        for split in ("train", "valid", "test"):
            assert (pipeline / f"prepared/bin/{split}.{pair}.en.bin").stat().st_size > 0


def test_training_resumes_from_last_checkpoint(pipeline):
    first = torch.load(pipeline / "ckpt/checkpoint_last.pt", map_location="cpu", weights_only=False)
    assert first["optimizer_history"][-1]["num_updates"] == 12
    result = _volctrans("train", "--config", str(pipeline / "train.yaml"), "--set", "max_update=16")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Loaded checkpoint" in result.stdout + result.stderr
    resumed = torch.load(pipeline / "ckpt/checkpoint_last.pt", map_location="cpu", weights_only=False)
    assert resumed["optimizer_history"][-1]["num_updates"] == 16
    # A different model shape cannot resume: refused before fairseq starts, naming the change.
    refused = _volctrans("train", "--config", str(pipeline / "train.yaml"), "--set", "embed_dim=32")
    assert refused.returncode == 1 and "embed_dim: 64 → 32" in refused.stderr


def test_export_translate_eval(pipeline, tmp_path):
    model = pipeline / "model"
    checkpoint = str(pipeline / "ckpt/checkpoint_last.pt")
    assert main(["export", "--checkpoint", checkpoint, "--data", str(pipeline / "prepared"), "-o", str(model)]) == 0
    metadata = json.loads((model / "volctrans_model.json").read_text())
    assert metadata["langs"] == ["de", "en", "zh"] and (model / "spm.model").is_file()
    assert "en-de" in metadata["lang_pairs"] and "zh-en" in metadata["lang_pairs"]

    refused = _volctrans("export", "--checkpoint", checkpoint, "--data", str(pipeline / "prepared"), "-o", str(model))
    assert refused.returncode == 1 and "use --force" in refused.stderr

    source = tmp_path / "test.en"
    source.write_text("Inserts a new table.\n\nSave the document.\n" + "word " * 400 + "\n", encoding="utf-8")
    out = tmp_path / "test.de"
    assert main(["translate", "-m", str(model), "-s", "en", "-t", "de", "-i", str(source), "-o", str(out), "--quiet"]) == 0
    lines = out.read_text(encoding="utf-8").split("\n")
    assert len(lines) == 5 and lines[1] == "" and lines[4] == ""  # 4 lines + final newline; empty stays empty

    int8 = pipeline / "model-int8"
    assert main(["export", "--checkpoint", checkpoint, "--data", str(pipeline / "prepared"), "-o", str(int8),
                 "--quantization", "int8"]) == 0
    assert json.loads((int8 / "volctrans_model.json").read_text())["quantization"] == "int8"

    reference = tmp_path / "ref.de"
    reference.write_text("Fügt eine neue Tabelle ein.\n\nSpeichern Sie das Dokument.\nWort\n", encoding="utf-8")
    scores = tmp_path / "scores.json"
    assert main(["eval", "--hyp", str(out), "--ref", str(reference), "--pair", "en-de", "--json", str(scores)]) == 0
    data = json.loads(scores.read_text())
    assert data["pairs"][0]["pair"] == "en-de" and data["pairs"][0]["sentences"] == 4
    assert 0.0 <= data["average"]["volctrans"]["chrf"] <= 100.0


def test_translate_bad_input_is_located_and_leaves_no_output(pipeline, tmp_path):
    model = pipeline / "model"
    if not model.exists():
        pytest.skip("needs the exported model from test_export_translate_eval")
    source = tmp_path / "bad.en"
    source.write_bytes(b"Hello world.\n\xff\xfe broken\n")
    out = tmp_path / "bad.de"
    result = _volctrans("translate", "-m", str(model), "-s", "en", "-t", "de", "-i", str(source), "-o", str(out))
    assert result.returncode == 1
    assert f"{source}:2: invalid UTF-8" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [source]
    unknown = _volctrans("translate", "-m", str(model), "-s", "en", "-t", "xx", "-i", str(source), "-o", str(out))
    assert unknown.returncode == 1 and "unknown language 'xx'" in unknown.stderr
