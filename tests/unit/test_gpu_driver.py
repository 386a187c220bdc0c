"""benchmarks/gpu/driver.py pieces that need no training: config checks, fairseq log parsing, step bookkeeping."""

from pathlib import Path

import pytest

from volctrans.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

# fairseq 0.12 --log-format simple, as a GPU run prints it (gb_free and loss_scale appear with CUDA and --fp16).
LOG = """\
2026-11-26 13:51:18 | INFO | train_inner | epoch 001:     25 / 185 loss=12.362, nll_loss=12.183, ppl=4650.82, wps=21639.4, ups=1.51, wpb=14217.1, bsz=597.7, num_updates=25, lr=0.000250088, gnorm=2.244, loss_scale=64, train_wall=17, gb_free=61.2, wall=30
2026-11-26 13:52:51 | INFO | train_inner | epoch 001:     50 / 185 loss=9.623, nll_loss=9.058, ppl=533.15, wps=31695.9, ups=2.24, wpb=14153.8, bsz=530.1, num_updates=50, lr=0.000500075, gnorm=0.846, loss_scale=64, train_wall=11, gb_free=60.8, wall=41
2026-11-26 13:54:25 | INFO | train_inner | epoch 001:     75 / 185 loss=8.982, nll_loss=8.304, ppl=316.16, wps=33731.2, ups=2.38, wpb=14153.8, bsz=534.5, num_updates=75, lr=0.000750063, gnorm=0.715, loss_scale=128, train_wall=10, gb_free=60.9, wall=52
2026-11-26 13:58:19 | INFO | valid | epoch 001 | valid on 'valid' subset | loss 8.306 | nll_loss 7.485 | ppl 179.09 | wps 91126.1 | wpb 2097.2 | bsz 99.2 | num_updates 80
2026-11-26 13:58:19 | INFO | train | epoch 001 | loss 9.943 | nll_loss 9.414 | ppl 681.98 | wps 31142.6 | ups 2.2 | wpb 14215.2 | bsz 555.3 | num_updates 80 | lr 0.0008 | gnorm 1.189 | train_wall 40 | gb_free 60.8 | wall 60
"""


@pytest.fixture
def driver(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks" / "gpu"))  # the driver is a script beside packs.py
    import driver

    return driver


def test_parse_fairseq_log(driver):
    parsed = driver.parse_fairseq_log(LOG + "some other line | INFO | fairseq.trainer | begin training\n")
    assert [r["num_updates"] for r in parsed["inner"]] == [25, 50, 75]
    assert parsed["inner"][1]["wps"] == 31695.9 and parsed["inner"][2]["gb_free"] == 60.9
    assert parsed["inner"][2]["loss_scale"] == 128
    valid, train = parsed["summaries"]
    assert valid == {"kind": "valid", "epoch": 1, "loss": 8.306, "nll_loss": 7.485, "ppl": 179.09, "wps": 91126.1,
                     "wpb": 2097.2, "bsz": 99.2, "num_updates": 80}
    assert train["kind"] == "train" and train["ups"] == 2.2 and train["num_updates"] == 80


def test_config_problems_are_reported_together(driver, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("device: tpu\nprecision: fp8\nreturn_model: int4\nbench_pairs: [ende]\npart_mib: 20\ntypo: 1\n")
    with pytest.raises(ConfigError) as raised:
        driver.load_config(str(path), [])
    assert raised.value.problems == ["unknown key 'typo' (known: beam, bench_engines, bench_limit, bench_pairs, "
                                     "data, deadline_minutes, device, packs, part_mib, precision, quantizations, "
                                     "return_files, return_mib, return_model, threads, train, train_minutes, "
                                     "updates, work)"]
    path.write_text("device: tpu\nprecision: fp8\nreturn_model: int4\nbench_pairs: [ende]\npart_mib: 20\n")
    with pytest.raises(ConfigError) as raised:
        driver.load_config(str(path), [])
    assert raised.value.problems == [
        "device: must be cuda or cpu", "precision: must be fp32, fp16 or bf16",
        "return_model: int4 is not among quantizations ['float16', 'int8_float16']",
        "part_mib: must be in (0, 16] (the device tool returns files of at most 16 MiB)",
        "bench_pairs: 'ende' is not of the form src-tgt"]


def test_shipped_configs_are_valid_and_overrides_reach_train_keys(driver):
    gpu = driver.load_config(str(ROOT / "benchmarks/gpu/gpu.yaml"), ["updates=800", "train.max_tokens=16384"])
    assert gpu.device == "cuda" and gpu.precision == "fp16" and gpu.updates == 800
    assert gpu.train["max_tokens"] == 16384 and gpu.train["weighting"] == "bilevel" and gpu.train["embed_dim"] == 512
    assert gpu.return_model == "int8_float16" and gpu.part_mib <= 15
    toy = driver.load_config(str(ROOT / "benchmarks/gpu/toy.yaml"), [])
    assert toy.device == "cpu" and toy.precision == "fp32" and toy.quantizations == ["float32", "int8"]
    with pytest.raises(ConfigError, match="precision: fp16/bf16 training needs device: cuda"):
        driver.load_config(str(ROOT / "benchmarks/gpu/toy.yaml"), ["precision=fp16"])


def test_a_failed_step_skips_its_dependents_only(driver, tmp_path):
    config = driver.RunConfig(device="cpu", precision="fp32", quantizations=["int8"], return_model="int8")
    run = driver.Run(config, tmp_path / "out", tmp_path / "work", ["driver.py"])
    (tmp_path / "out").mkdir(), (tmp_path / "work").mkdir()

    def broken():
        raise driver.StepFailed("exit status 1: boom")

    def crashing():
        raise KeyError("bug")

    assert run.step("a", lambda: "fine") and not run.step("b", broken)
    assert not run.step("c", lambda: "never", needs=("a", "b"))
    assert run.step("d", lambda: None, needs=("a",))
    assert not run.step("e", crashing)
    assert not run.step("f", lambda: "late", min_seconds=10**6)
    steps = run.report["steps"]
    assert steps["a"]["status"] == "ok" and steps["a"]["note"] == "fine"
    assert steps["b"]["status"] == "failed" and steps["b"]["reason"] == "exit status 1: boom"
    assert steps["c"] == {"status": "skipped", "reason": "needs b"}
    assert steps["e"]["status"] == "failed" and steps["e"]["reason"] == "KeyError: 'bug'"
    assert steps["f"]["status"] == "skipped" and steps["f"]["reason"].startswith("out of time")
    assert (tmp_path / "out" / "report.json").is_file()  # rewritten after every step


def test_markdown_of_a_partial_report(driver):
    text = driver.markdown({"started": "2026-11-26", "command": "run.sh", "steps": {
        "train": {"status": "failed", "seconds": 3.0, "reason": "exit status 1: CUDA out of memory"},
        "export:float16": {"status": "skipped", "reason": "needs train"}}})
    assert "| train | failed | 3.0 | exit status 1: CUDA out of memory |" in text
    assert "| export:float16 | skipped | n/a | needs train |" in text and "## Training" not in text


def _pack(path: Path, modules: dict[str, str], name: str = "fake", files: bool = True) -> Path:
    """A pack as packs.py writes it: installed files (unless files=False) + pack.json, in a .tar.xz."""
    import io
    import json
    import tarfile

    members = {f"{module}/__init__.py": f"__version__ = '{version}'\n" for module, version in modules.items()} \
        if files else {}
    members["pack.json"] = json.dumps({"name": name, "python": "cp3", "modules": list(modules), "wheels": {},
                                       "removed": []})
    with tarfile.open(path, "w:xz") as tar:
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _run(driver, tmp_path, packs):
    import os

    config = driver.RunConfig(device="cpu", precision="fp32", quantizations=["int8"], return_model="int8", packs=packs)
    work = tmp_path / "work"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(work / "site"), str(ROOT)]))
    return driver.Run(config, tmp_path / "out", work, ["driver.py"], env=env)


def test_install_extracts_a_pack_only_when_its_modules_are_missing(driver, tmp_path):
    pack = _pack(tmp_path / "fake-cp3.tar.xz", {"volctrans_fake_pkg": "1.2.3"})
    run = _run(driver, tmp_path, {"fake": str(pack)})
    site = tmp_path / "work" / "site"
    assert driver.install(run, "fake") == f"volctrans_fake_pkg 1.2.3 (extracted into {site})"
    assert (site / "volctrans_fake_pkg" / "__init__.py").is_file() and (site / "fake.pack.json").is_file()
    assert run.report["install"]["fake"]["version"] == "1.2.3"
    assert driver.install(run, "fake") == "volctrans_fake_pkg 1.2.3 (already importable)"


def test_install_fails_in_one_line_without_pack_or_module(driver, tmp_path, monkeypatch):
    monkeypatch.setitem(driver.packs.PACKS, "fake", {"modules": ("volctrans_fake_pkg",)})
    broken = _pack(tmp_path / "broken.tar.xz", {"volctrans_fake_other": "1"}, name="broken", files=False)
    run = _run(driver, tmp_path, {"fake": str(tmp_path / "absent.tar.xz"), "broken": str(broken)})
    with pytest.raises(driver.StepFailed, match="volctrans_fake_pkg not importable and the pack .*absent.tar.xz was "
                                                "not carried"):
        driver.install(run, "fake")
    with pytest.raises(driver.StepFailed, match="still not importable after extracting broken.tar.xz: "
                                                "volctrans_fake_other"):
        driver.install(run, "broken")


def test_the_gpu_train_config_is_a_valid_train_config(driver, tmp_path):
    """What the driver hands to `volctrans train` for the GPU run (gpu.yaml's train block + the fixed budget and
    precision) passes `volctrans train --check`, whichever precision key this TrainConfig has."""
    import os
    import subprocess
    import sys

    config = driver.load_config(str(ROOT / "benchmarks/gpu/gpu.yaml"), [f"work={tmp_path / 'work'}"])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = driver.Run(config, tmp_path / "out", tmp_path / "work", ["driver.py"], env=env)
    values, how = driver.train_config(run)
    assert values["max_update"] == config.updates == values["validate_interval_updates"]
    assert values["weighting"] == "bilevel" and values["device"] == "cuda" and values["embed_dim"] == 512
    assert values.get("precision") == "fp16" or (values["fp16"] is True and how.startswith("fp16: true"))
    assert values["extra_args"][:2] == ["--stop-time-hours", f"{config.train_minutes / 60:.6f}"]
    path = tmp_path / "train.yaml"
    path.write_text(driver.yaml.safe_dump(values))
    done = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(path), "--check"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "bilevel weighting, 6+6 layers, d512" in done.stdout


def test_plan_orders_the_steps_and_until_must_name_one(driver, tmp_path):
    gpu = driver.load_config(str(ROOT / "benchmarks/gpu/gpu.yaml"), [])
    run = driver.Run(gpu, tmp_path / "out", tmp_path / "work", ["driver.py"], until="tarin")
    steps = driver.plan(run)
    assert [s.name for s in steps] == [
        "environment", "install:fairseq", "install:ct2", "cublas", "engine", "data", "train", "export:float16",
        "export:int8_float16", "package", "probe", "translate:float16", "eval:float16", "bench:en-de",
        "translate:int8_float16", "eval:int8_float16"]
    needs = {s.name: s.needs for s in steps}
    assert needs["package"] == ("export:int8_float16",) and needs["eval:float16"] == ("translate:float16",)
    assert needs["export:float16"] == ("train", "install:ct2") and needs["cublas"] == ("install:ct2",)
    (tmp_path / "out").mkdir(), (tmp_path / "work").mkdir()
    with pytest.raises(driver.VolctransError, match="--until tarin: no such step"):
        driver.execute(run)
    toy = driver.load_config(str(ROOT / "benchmarks/gpu/toy.yaml"), [])
    cublas = next(s for s in driver.plan(driver.Run(toy, tmp_path, tmp_path, [])) if s.name == "cublas")
    assert cublas.function is None and cublas.skip == "device cpu: CTranslate2 needs no cuBLAS"
