"""The WMT22-scale recipe's own scripts, validated (dry run) and run for real at toy scale on the tiny sample."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests/data/tiny"

pytestmark = pytest.mark.slow


def _sources_list(tmp_path: Path) -> Path:
    listing = tmp_path / "sources.tsv"
    lines = []
    for source, split_names in (("public", ("train", "dev", "test")), ("mined", ("train",))):
        for pair in ("en-de", "en-zh"):
            for split in split_names:
                lines.append(f"{source} {pair} {split} {TINY / pair / f'{split}.tsv.gz'}")
    listing.write_text("\n".join(lines) + "\n")
    return listing


def _recipe(tmp_path, config="recipes/wmt22/tiny.env", **env):
    environment = {**os.environ, "CONFIG": config, "WORK": str(tmp_path / "work"),
                   "SOURCES_LIST": str(_sources_list(tmp_path)),
                   "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", **env}
    return subprocess.run(["bash", "recipes/wmt22/run.sh"], cwd=ROOT, env=environment, capture_output=True, text=True)


def test_full_scale_config_validates_and_dry_run_prints_torchrun(tmp_path):
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    check = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", "recipes/wmt22/train.yaml",
                            "--set", "distributed={nproc_per_node: 8, nnodes: 4}", "--check"],
                           cwd=ROOT, env=environment, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "bilevel weighting, 24+6 layers, d1024, 32 process(es)" in check.stdout
    # The full-scale configs (deep transformer, fp16, bilevel, 2 nodes × 8 GPUs) on the tiny data list.
    result = _recipe(tmp_path, config="recipes/wmt22/config.env", DRY_RUN="1", NPROC_PER_NODE="8", NNODES="2")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "+ volctrans data import" in result.stdout and "+ volctrans average" in result.stdout
    assert "nproc_per_node: 8, nnodes: 2" in result.stdout
    assert not (tmp_path / "work/corpora").exists()  # a dry run writes nothing


def test_tiny_real_run(tmp_path):
    result = _recipe(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    work = tmp_path / "work"
    assert json.loads((work / "prepared/prepared.json").read_text())["sources"].keys() == {"public", "mined"}
    assert (work / "checkpoints/averaged.pt").is_file() and (work / "model/model.bin").is_file()
    scores = json.loads((work / "scores.json").read_text())
    assert {p["pair"] for p in scores["pairs"]} == {"en-de", "de-en", "en-zh", "zh-en"}
    assert "volctrans" in scores["average"]


@pytest.mark.parametrize("config", ["recipes/demo/train-reverse.yaml", "recipes/demo/train-clean.yaml",
                                    "recipes/demo/train-final.yaml",
                                    "recipes/demo/prepare.yaml", "recipes/libreoffice/train.yaml",
                                    "recipes/libreoffice/train-cpu.yaml", "recipes/libreoffice/prepare.yaml"])
def test_recipe_configs_validate(config):
    # The recipes give prepare its corpora on the command line, as here.
    command = ["prepare", "--corpora", "runs/corpus"] if "prepare" in config else ["train"]
    check = subprocess.run([sys.executable, "-m", "volctrans.cli.main", *command, "--config", config, "--check"],
                           cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
