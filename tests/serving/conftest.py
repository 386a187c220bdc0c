"""One tiny model for all serving tests: prepare → train (fairseq, a few dozen updates) → export, once per session."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import DATA

# Small enough to train in well under a minute on 2 busy cores, long enough that beam search returns
# non-empty hypotheses of different lengths (an earlier stop makes every output empty and parity trivial).
TINY_SERVING_MODEL = {
    "encoder_layers": 1, "decoder_layers": 1, "embed_dim": 64, "ffn_dim": 128, "attention_heads": 2,
    "max_tokens": 1024, "lr": 0.005, "warmup_updates": 40, "max_update": 100, "validate_interval_updates": 100,
    "save_interval_updates": 100, "log_interval": 25, "max_positions": 128,
}


@dataclass
class TinyModel:
    work: Path
    prepared: Path
    checkpoint: Path
    model: Path

    def test_set(self, pair: str) -> Path:
        return DATA / "tiny" / pair / "test.tsv.gz"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> TinyModel:
    import yaml

    from volctrans.cli.main import main

    work = tmp_path_factory.mktemp("serving")
    prepared = work / "prepared"
    assert main(["prepare", "--corpora", str(DATA / "tiny"), "--out", str(prepared), "--vocab-size", "1200"]) == 0
    config = {"data": str(prepared), "save_dir": str(work / "ckpt"), **TINY_SERVING_MODEL}
    (work / "train.yaml").write_text(yaml.safe_dump(config))
    assert main(["train", "--config", str(work / "train.yaml")]) == 0
    checkpoint = work / "ckpt" / "checkpoint_last.pt"
    assert main(["export", "--checkpoint", str(checkpoint), "--data", str(prepared), "-o", str(work / "model")]) == 0
    return TinyModel(work, prepared, checkpoint, work / "model")
