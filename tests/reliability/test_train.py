"""A training run that always resumes: a lock on save_dir, a fairseq child that dies with `volctrans train`, and
a resume that falls back to the newest intact checkpoint when checkpoint_last.pt is unreadable.

The fast tests run the real `volctrans train` with a stand-in for the trainer module it starts (FAIRSEQ_TRAIN) first
on PYTHONPATH (it records its arguments and sleeps or exits); the slow one resumes a real fairseq training from a
0-byte checkpoint_last.pt.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[2]
FAKE_TRAINER = '''
import json, os, sys, time
os.makedirs(os.environ["FAKE_LOG"], exist_ok=True)
with open(os.path.join(os.environ["FAKE_LOG"], f"{os.getpid()}.json"), "w") as handle:
    json.dump(sys.argv[1:], handle)
time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
'''


def _checkpoint(path: Path, updates: int) -> Path:
    import torch

    torch.save({"args": None, "extra_state": {"num_updates": updates}, "model": {"w": torch.zeros(4)}}, path)
    return path


@pytest.fixture
def fake_fairseq(tmp_path):
    """A prepared folder, a train config on it, and an environment whose trainer module is the stand-in."""
    from volctrans.train import FAIRSEQ_TRAIN

    fake = tmp_path / "fake"
    *packages, module = FAIRSEQ_TRAIN.split(".")  # the trainer `volctrans train` runs with `python -m`
    folder = fake.joinpath(*packages)
    folder.mkdir(parents=True)
    for depth in range(1, len(packages) + 1):
        (fake.joinpath(*packages[:depth]) / "__init__.py").write_text("")
    (folder / f"{module}.py").write_text(FAKE_TRAINER)
    prepared = tmp_path / "prepared"
    (prepared / "bin").mkdir(parents=True)
    (prepared / "prepared.json").write_text(json.dumps({
        "langs": ["de", "en"], "main_source": "tiny", "pairs": {"en-de": {"train": 10, "dev": 2}},
        "sources": {"tiny": {"dir": "bin", "pairs": {"en-de": {"train": 10, "dev": 2}}}}}))
    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump({"data": str(prepared), "save_dir": str(tmp_path / "ckpt"), "device": "cpu",
                                      "max_update": 10}))
    env = {**os.environ, "PYTHONPATH": f"{fake}{os.pathsep}{ROOT}", "FAKE_LOG": str(tmp_path / "calls"),
           "OMP_NUM_THREADS": "1"}
    return config, tmp_path / "ckpt", env


def _train(config, env, **kwargs):
    # cwd: `python -m` puts it first on sys.path, ahead of the stand-in on PYTHONPATH
    return subprocess.Popen([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(config)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=config.parent, **kwargs)


def _trainer_pids(env, timeout=60.0) -> list[int]:
    calls = Path(env["FAKE_LOG"])
    deadline = time.monotonic() + timeout
    while not (calls.is_dir() and any(calls.iterdir())):
        assert time.monotonic() < deadline, "the trainer never started"
        time.sleep(0.05)
    return [int(p.stem) for p in calls.iterdir()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) is dead for our purpose.
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().split(")")[-1].split()[0] != "Z"


def test_one_run_per_save_dir_and_the_child_dies_with_it(fake_fairseq, capsys, monkeypatch):
    """A real `volctrans train` runs (its trainer sleeps): a second run on the same save_dir is refused in one line
    naming the first, without starting anything; then the first is killed with SIGKILL: its trainer must go too."""
    from tests.reliability.conftest import run_cli

    config, save_dir, env = fake_fairseq
    parent = _train(config, {**env, "FAKE_SLEEP": "120"})
    launched = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: launched.append(a) or (_ for _ in ()).throw(
        AssertionError("a second trainer was started")))
    try:
        [child] = _trainer_pids(env)
        second = run_cli(["train", "--config", config], capsys)
        monkeypatch.undo()
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        orphan = _alive(child)
    finally:
        monkeypatch.undo()
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in _trainer_pids(env):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert second.exception is None and second.code == 1 and launched == []
    [line] = second.error_lines()
    assert str(save_dir) in line and f"pid {parent.pid}" in line and "another training" in line
    assert not orphan, "the fairseq child kept running (and writing checkpoints) after its parent was killed"


def test_resume_falls_back_to_the_newest_intact_checkpoint(fake_fairseq):
    config, save_dir, env = fake_fairseq
    save_dir.mkdir()
    older = _checkpoint(save_dir / "checkpoint_1_5.pt", 5)
    newest = _checkpoint(save_dir / "checkpoint_1_10.pt", 10)
    truncated = save_dir / "checkpoint_best.pt"
    truncated.write_bytes(newest.read_bytes()[:1000])  # a copy cut short
    (save_dir / "checkpoint_last.pt").write_bytes(b"")  # killed during fairseq's copy to checkpoint_last.pt
    (save_dir / "checkpoint_1_15.pt.tmp").write_bytes(b"")  # killed while fairseq wrote the next one
    for age, path in ((30, older), (20, newest), (10, truncated)):
        os.utime(path, (time.time() - age, time.time() - age))
    result = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(config)], env=env,
                            capture_output=True, text=True, timeout=120, cwd=config.parent)
    assert result.returncode == 0, result.stderr
    [argv] = [json.loads(p.read_text()) for p in Path(env["FAKE_LOG"]).iterdir()]
    assert argv[argv.index("--restore-file") + 1] == str(newest.resolve())
    assert "checkpoint_last.pt is unreadable" in result.stderr and "checkpoint_1_10.pt" in result.stderr
    assert not (save_dir / "checkpoint_1_15.pt.tmp").exists()
    assert not (save_dir / "checkpoint_last.pt").exists()  # empty: removed, so nothing picks it up later


def test_dry_run_shows_the_fallback_without_touching_anything(fake_fairseq, capsys):
    from volctrans.config import from_dict, load_yaml
    from volctrans.train import TrainConfig, train

    config, save_dir, _ = fake_fairseq
    save_dir.mkdir()
    intact = _checkpoint(save_dir / "checkpoint_1_5.pt", 5)
    (save_dir / "checkpoint_last.pt").write_bytes(b"")
    command = train(from_dict(TrainConfig, load_yaml(str(config))), dry_run=True)
    assert command[command.index("--restore-file") + 1] == str(intact.resolve())
    assert sorted(p.name for p in save_dir.iterdir()) == ["checkpoint_1_5.pt", "checkpoint_last.pt"]


def test_an_intact_last_checkpoint_is_used_as_fairseq_would(fake_fairseq):
    from volctrans.train import restore_checkpoint

    _, save_dir, _ = fake_fairseq
    save_dir.mkdir()
    assert restore_checkpoint(save_dir) is None  # nothing to resume
    _checkpoint(save_dir / "checkpoint_1_5.pt", 5)
    last = _checkpoint(save_dir / "checkpoint_last.pt", 5)
    assert restore_checkpoint(save_dir).path == last and not restore_checkpoint(save_dir).fallback


@pytest.mark.slow
def test_real_fairseq_resumes_from_an_intact_checkpoint(tmp_path):
    """Slow (~1 min): prepare, train 10 updates, empty checkpoint_last.pt as a kill during fairseq's copy does,
    then train on to 14 updates: the rerun resumes from checkpoint_1_10.pt instead of dying with EOFError."""
    from volctrans.cli.main import main

    assert main(["prepare", "--corpora", str(DATA / "tiny"), "--out", str(tmp_path / "prepared"), "--langs", "de",
                 "--vocab-size", "300"]) == 0
    config = {"data": str(tmp_path / "prepared"), "save_dir": str(tmp_path / "ckpt"), "encoder_layers": 1,
              "decoder_layers": 1, "embed_dim": 32, "ffn_dim": 64, "attention_heads": 2, "max_tokens": 512,
              "max_update": 10, "save_interval_updates": 10, "validate_interval_updates": 10, "max_positions": 64,
              "device": "cpu", "warmup_updates": 5}
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(tmp_path / "train.yaml")]
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    assert (tmp_path / "ckpt" / "checkpoint_1_10.pt").is_file()
    (tmp_path / "ckpt" / "checkpoint_last.pt").write_bytes(b"")
    result = subprocess.run([*command, "--set", "max_update=14"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "checkpoint_last.pt is unreadable" in result.stderr
    assert "num_updates 14" in result.stdout + result.stderr
