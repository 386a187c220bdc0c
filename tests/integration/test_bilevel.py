"""A few bilevel updates inside fairseq on the tiny sample plus a noisy copy: weights logged, saved and resumed;
two CPU processes (gloo) with LISA, gradient accumulation and uneven shards; fp16/bf16 through the entry point."""

import json
import socket
import subprocess
import sys

import pytest
import torch
import yaml

from tests.conftest import DATA
from volctrans.cli.main import main

pytestmark = pytest.mark.slow

TINY = {"encoder_layers": 1, "decoder_layers": 1, "embed_dim": 32, "ffn_dim": 64, "attention_heads": 2,
        "max_tokens": 1024, "lr": 0.003, "warmup_updates": 2, "validate_interval_updates": 6,
        "save_interval_updates": 6, "log_interval": 2, "max_positions": 128}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    work = tmp_path_factory.mktemp("bilevel")
    assert main(["data", "noisy", "--from", str(DATA / "tiny"), "--out", str(work / "noisy"), "--rate", "0.5"]) == 0
    assert main(["prepare", "--corpora", str(DATA / "tiny"), str(work / "noisy"), "--out", str(work / "prepared"),
                 "--vocab-size", "1200"]) == 0
    return work


def _train(work, name, **overrides):
    config = {"data": str(work / "prepared"), "save_dir": str(work / name), "weighting": "bilevel",
              "max_update": 6, **TINY, **overrides}
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_prepare_keeps_source_identity(prepared):
    summary = json.loads((prepared / "prepared/prepared.json").read_text())
    assert summary["main_source"] == "libreoffice"
    assert summary["sources"]["noisy"]["dir"] == "bin-noisy"
    assert (prepared / "prepared/bin-noisy/train.en-de.de.bin").is_file()
    assert not (prepared / "prepared/bin-noisy/test.en-de.de.bin").exists()  # dev/test only from the main source


def test_bilevel_updates_log_save_and_resume(prepared):
    config = _train(prepared, "run", bilevel={"log_interval": 1, "lambda_lr": 1.0, "lisa_layers": 1, "lisa_interval": 3})
    assert main(["train", "--config", str(config)]) == 0
    records = [json.loads(line) for line in (prepared / "run/weights.jsonl").read_text().splitlines()]
    assert [r["update"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert set(records[-1]["weights"]) == {"libreoffice", "noisy"}
    assert abs(sum(records[-1]["weights"].values()) - 1.0) < 1e-5
    assert records[-1]["weights"] != {"libreoffice": 0.5, "noisy": 0.5}  # λ moved
    checkpoint = torch.load(prepared / "run/checkpoint_last.pt", map_location="cpu", weights_only=False)
    saved = checkpoint["task_state"]["volctrans_bilevel"]
    assert saved["groups"] == ["libreoffice", "noisy"] and saved["update"] == 6
    assert saved["lambda"] == pytest.approx(list(records[-1]["lambda"].values()), abs=1e-5)

    resumed = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(config),
                              "--set", "max_update=8"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "bilevel: resumed weights" in resumed.stdout + resumed.stderr
    records = [json.loads(line) for line in (prepared / "run/weights.jsonl").read_text().splitlines()]
    assert [r["update"] for r in records][-2:] == [7, 8]
    # The first resumed step starts from the saved λ, not from uniform weights.
    assert abs(records[-2]["weights"]["noisy"] - records[5]["weights"]["noisy"]) < 0.2


def test_sampling_mode_and_plot(prepared, tmp_path):
    config = _train(prepared, "sampling", bilevel={"mode": "sampling", "log_interval": 2, "sampling_epoch_size": 300})
    assert main(["train", "--config", str(config)]) == 0
    assert (prepared / "sampling/weights.jsonl").read_text().count("\n") >= 3
    png = tmp_path / "weights.png"
    assert main(["plot-weights", str(prepared / "sampling/weights.jsonl"), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fine_tune_from_base_with_reused_vocabulary(prepared, capsys):
    """The demo's path: base model on the clean source → prepare clean + noisy on the base vocabulary → bilevel
    fine-tuning from the base checkpoint; a rerun resumes the fine-tuning instead of starting it again."""
    work = prepared
    assert main(["prepare", "--corpora", str(DATA / "tiny"), "--out", str(work / "base-data"), "--vocab-size", "1200"]) == 0
    base = {"data": str(work / "base-data"), "save_dir": str(work / "base"), "weighting": "temperature",
            "max_update": 6, **TINY}
    (work / "base.yaml").write_text(yaml.safe_dump(base))
    assert main(["train", "--config", str(work / "base.yaml")]) == 0

    # A vocabulary trained on other data cannot serve a checkpoint: refused before fairseq starts.
    mismatched = _train(work, "mismatch", weighting="temperature", init_from=str(work / "base/checkpoint_last.pt"))
    assert main(["train", "--config", str(mismatched)]) == 1
    assert "whose dictionary differs" in capsys.readouterr().err

    assert main(["prepare", "--corpora", str(DATA / "tiny"), str(work / "noisy"), "--out", str(work / "final-data"),
                 "--vocab-from", str(work / "base-data")]) == 0
    assert (work / "final-data/dict.txt").read_bytes() == (work / "base-data/dict.txt").read_bytes()
    config = {"data": str(work / "final-data"), "save_dir": str(work / "final"), "weighting": "bilevel",
              "max_update": 4, "init_from": str(work / "base/checkpoint_last.pt"), **TINY,
              "bilevel": {"log_interval": 1}}
    (work / "final.yaml").write_text(yaml.safe_dump(config))
    first = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(work / "final.yaml")],
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "loading pretrained model from" in first.stdout + first.stderr
    records = [json.loads(line) for line in (work / "final/weights.jsonl").read_text().splitlines()]
    assert [r["update"] for r in records] == [1, 2, 3, 4]  # counting restarts: a fine-tuning run, not a resume
    base_weights = torch.load(work / "base/checkpoint_last.pt", map_location="cpu", weights_only=False)["model"]
    tuned_weights = torch.load(work / "final/checkpoint_last.pt", map_location="cpu", weights_only=False)["model"]
    key = "encoder.embed_tokens.weight"
    assert base_weights[key].shape == tuned_weights[key].shape
    # 4 Adam steps at lr ≤ 0.003 move weights a little; a fresh initialisation would be far from the base.
    assert (base_weights[key] - tuned_weights[key]).abs().max() < 0.05

    again = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(work / "final.yaml"),
                            "--set", "max_update=5"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "loading pretrained model from" not in again.stdout + again.stderr
    assert [json.loads(line)["update"] for line in (work / "final/weights.jsonl").read_text().splitlines()][-1] == 5


def test_vocab_from_refuses_other_languages(prepared, tmp_path, capsys):
    assert main(["prepare", "--corpora", str(DATA / "tiny"), "--out", str(tmp_path / "de-only"), "--langs", "de",
                 "--vocab-size", "1000"]) == 0
    assert main(["prepare", "--corpora", str(DATA / "tiny"), "--out", str(tmp_path / "both"),
                 "--vocab-from", str(tmp_path / "de-only")]) == 1
    assert "language tokens would not line up" in capsys.readouterr().err
    assert not (tmp_path / "both/prepared.json").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _batches_per_rank(config_path, ranks: int) -> list[tuple[int, int]]:
    """(batches, non-empty batches) each rank gets in epoch 1, from fairseq's own iterator: a rank with fewer real
    batches gets dummy ones at the epoch's end."""
    from fairseq import tasks

    from volctrans.config import from_dict, load_yaml
    from volctrans.artifacts import load_prepared
    from volctrans.train import TrainConfig, fairseq_arguments
    from volctrans_fairseq.train import config as fairseq_config

    train_config = from_dict(TrainConfig, load_yaml(config_path))
    argv = fairseq_arguments(train_config, load_prepared(train_config.data)) + ["--distributed-world-size", str(ranks)]
    cfg = fairseq_config(argv, environ={})
    task = tasks.setup_task(cfg.task)
    task.load_dataset(cfg.dataset.train_subset, epoch=1)
    counts = []
    for shard in range(ranks):
        iterator = task.get_batch_iterator(
            task.dataset(cfg.dataset.train_subset), max_tokens=cfg.dataset.max_tokens,
            max_positions=task.max_positions(), ignore_invalid_inputs=True,
            required_batch_size_multiple=cfg.dataset.required_batch_size_multiple, seed=cfg.common.seed,
            num_shards=ranks, shard_id=shard, epoch=1)
        batches = list(iterator.next_epoch_itr(shuffle=True))
        counts.append((len(batches), sum(1 for batch in batches if batch)))
    return counts


def test_two_cpu_processes_with_lisa_update_freq_and_uneven_shards(prepared):
    """`volctrans train` with distributed.nproc_per_node 2 on CPU (torchrun, gloo, legacy_ddp). Epoch 1 has 9 batches
    per rank, one of rank 1's a dummy: its last update has no data on rank 1 (the case that hung), and the LISA
    window of updates 3-5 spans that epoch end."""
    log = prepared / "ddp/weights.{rank}.jsonl"
    config = _train(prepared, "ddp", max_update=7, update_freq=2, max_tokens=400, encoder_layers=2, save_interval_updates=3,
                    validate_interval_updates=100, keep_interval_updates=10,
                    distributed={"nproc_per_node": 2, "master_port": _free_port()},
                    bilevel={"log_interval": 1, "lambda_lr": 1.0, "lisa_layers": 1, "lisa_interval": 3},
                    extra_args=["--bilevel-log", str(log), "--virtual-data-size", "110"])
    shards = _batches_per_rank(config, 2)
    assert shards[0] == (9, 9) and shards[1] == (9, 8), shards  # uneven: a dummy batch on rank 1
    result = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(config)],
                            capture_output=True, text=True, timeout=480)  # a rank left alone in a collective hangs
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "distributed init (rank 1)" in result.stdout + result.stderr
    records = [[json.loads(line) for line in (prepared / f"ddp/weights.{rank}.jsonl").read_text().splitlines()]
               for rank in (0, 1)]
    assert records[0] == records[1]  # λ (and everything logged) identical on both ranks, every update
    assert [r["update"] for r in records[0]] == list(range(1, 8))  # one λ step per update, not per micro-batch
    assert [r["u_steps"] for r in records[0]] == list(range(1, 8))  # one u step per update
    assert not (prepared / "ddp/weights.jsonl").exists()
    window = records[0][3]["lisa"]  # updates 3-5 (records 4-6)
    assert all(r["lisa"] == window for r in records[0][3:6]) and records[0][2]["lisa"] != window
    before = torch.load(prepared / "ddp/checkpoint_1_3.pt", map_location="cpu", weights_only=False)["model"]
    after = torch.load(prepared / "ddp/checkpoint_2_6.pt", map_location="cpu", weights_only=False)["model"]
    layers = {"encoder.layers.0.", "encoder.layers.1.", "decoder.layers.0."}
    for name, value in after.items():
        layer = next((prefix for prefix in layers if name.startswith(prefix)), None)
        if layer and layer not in window:
            assert torch.equal(value, before[name]), f"{name} moved while frozen"
    assert any(not torch.equal(after[n], before[n]) for n in after if n.startswith(window[0]))


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_mixed_precision_through_the_training_entry_point(prepared, precision):
    """The fairseq arguments volctrans writes for a GPU run with this precision and LISA, run on CPU through
    volctrans_fairseq.train (fairseq's mixed-precision optimizer runs on CPU without flat gradients)."""
    from volctrans.config import from_dict, load_yaml
    from volctrans.artifacts import load_prepared
    from volctrans.train import TrainConfig, fairseq_arguments

    path = _train(prepared, precision, device="cuda", precision=precision, max_update=3, update_freq=2,
                  bilevel={"log_interval": 1, "lisa_layers": 1, "lisa_interval": 2})
    config = from_dict(TrainConfig, load_yaml(path))
    argv = fairseq_arguments(config, load_prepared(config.data), check_device=False) + ["--cpu"]
    assert (precision == "fp16") == ("--fp16-no-flatten-grads" in argv)
    result = subprocess.run([sys.executable, "-m", "volctrans_fairseq.train", *argv], capture_output=True, text=True)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    records = [json.loads(line) for line in (prepared / precision / "weights.jsonl").read_text().splitlines()]
    assert [r["update"] for r in records] == [1, 2, 3] and [r["u_steps"] for r in records] == [1, 2, 3]
    assert all(abs(sum(r["weights"].values()) - 1) < 1e-5 for r in records)
    output = result.stdout + result.stderr
    if precision == "fp16":
        assert "loss_scale=" in output  # fairseq's FP16Optimizer (dynamic loss scaling) stepped w
    else:
        assert "'bf16': True" in output and "'tpu': False" in output  # bf16 without fairseq's TPU implication
