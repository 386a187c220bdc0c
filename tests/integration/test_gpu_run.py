"""benchmarks/gpu (issue 18) end to end on a CPU at toy size, so the GPU script cannot rot between GPU windows.

prepare.sh builds the data pack from tests/data/tiny (two sources: the clean corpus and a noisy copy), run.sh runs
the driver with toy.yaml: install (already importable here), data, bilevel training (fp32), exports (float32, int8),
the packaged int8 model, probe, translation of every test set, eval, bench (float16 / int8_float16 rows: "no GPU").
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra) -> dict:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = str(ROOT)
    env.update(PYTHON=sys.executable, OMP_NUM_THREADS="1", **extra)
    return env


def _run(work: Path, out: Path, *sets: str) -> tuple[subprocess.CompletedProcess, dict]:
    done = subprocess.run(["bash", str(ROOT / "benchmarks/gpu/run.sh"),
                           "--set", f"data={work / 'cache/data/prepared.tar.xz'}", "--set", f"work={work / 'work'}",
                           *[arg for item in sets for arg in ("--set", item)]],
                          capture_output=True, text=True, env=_env(CONFIG=str(ROOT / "benchmarks/gpu/toy.yaml"),
                                                                   OUT=str(out)))
    return done, json.loads((out / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("gpu-run")
    prepared = subprocess.run(["bash", str(ROOT / "benchmarks/gpu/prepare.sh")], capture_output=True, text=True,
                              env=_env(CACHE=str(work / "cache"), CORPUS=str(ROOT / "tests/data/tiny"), VOCAB="1200",
                                       NOISY_LIMIT="150", WORKERS="1", WHEELS="0",
                                       VOLCTRANS=f"{sys.executable} -m volctrans.cli.main"))
    assert prepared.returncode == 0, prepared.stdout[-3000:] + prepared.stderr[-3000:]
    assert "of 64 MiB" in prepared.stdout
    out = work / "out"
    done, report = _run(work, out)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return work, out, report


def test_every_step_ran_or_says_why_not(toy_run):
    _, _, report = toy_run
    steps = report["steps"]
    expected = ["environment", "install:fairseq", "install:ct2", "cublas", "engine", "data", "train", "export:float32",
                "export:int8", "package", "probe", "translate:float32", "eval:float32", "bench:en-de",
                "translate:int8", "eval:int8"]
    assert list(steps) == expected
    assert {name for name, step in steps.items() if step["status"] != "ok"} == {"cublas"}
    assert steps["cublas"] == {"status": "skipped", "reason": "device cpu: CTranslate2 needs no cuBLAS"}
    for section in ("environment", "install", "engine", "data", "train", "export", "package", "probe", "translate",
                    "eval", "bench"):
        assert report[section], section
    assert report["schema"] == "volctrans-gpu-run/1" and report["finished"]


def test_training_reports_tokens_weights_and_why_no_gpu_memory(toy_run):
    _, _, report = toy_run
    train = report["train"]
    assert train["updates_done"] == train["updates_planned"] == 30 and train["stopped_by"] == "max_update"
    assert train["target_tokens_per_s"]["median_steady"] > 0
    assert train["precision"].startswith(("precision: fp32", "fp16: false"))
    assert set(train["weights_last"]) == {"libreoffice", "noisy"} and train["weights_finite"]
    assert abs(sum(train["weights_last"].values()) - 1) < 1e-3
    assert train["peak_gpu_memory_mb"] is None
    assert report["absent"]["train.peak_gpu_memory_mb"] == "device cpu: no GPU"
    assert report["data"]["sources"].keys() == {"libreoffice", "noisy"}


def test_every_test_set_translated_and_scored(toy_run):
    _, _, report = toy_run
    for precision in ("float32", "int8"):
        translated = report["translate"][precision]
        assert set(translated["directions"]) == {"en-de", "de-en", "en-zh", "zh-en"}
        assert all(d["sentences"] == 40 for d in translated["directions"].values())
        assert report["absent"][f"translate.{precision}.peak_gpu_memory_mb"] == "device cpu: no GPU"
        scores = report["eval"][precision]
        assert {s["pair"] for s in scores["pairs"]} == {"en-de", "de-en", "en-zh", "zh-en"}
        assert all(s["sentences"] == 40 and s["chrf"] >= 0 for s in scores["pairs"])


def test_bench_rows_and_gpu_rows_say_no_gpu(toy_run):
    _, _, report = toy_run
    for pair in ("en-de",):
        rows = {(r["engine"], r["compute_type"]): r for r in report["bench"][pair]["results"]}
        assert report["bench"][pair]["pair"] == pair and report["bench"][pair]["sentences"] == 20
        assert list(rows) == [("fairseq", "float32"), ("ctranslate2", "float32"), ("ctranslate2", "int8"),
                              ("ctranslate2", "float16"), ("ctranslate2", "int8_float16")]
        assert all(rows[key]["status"] == "ok" and rows[key]["sent_per_s"] > 0 for key in list(rows)[:3])
        assert rows["ctranslate2", "float16"]["status"] == rows["ctranslate2", "int8_float16"]["status"] == "no GPU"
        assert all(r["peak_gpu_mb"] is None for r in rows.values())
    assert report["engine"]["cublas"]["wanted"] == "libcublas.so.12"
    assert report["probe"]["results"]["float32"].startswith("ok") and report["probe"]["results"]["int8"].startswith("ok")


def test_returned_files_fit_the_device_tool_and_the_model_reassembles(toy_run, tmp_path):
    work, out, report = toy_run
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(files) <= 8 and sum(p.stat().st_size for p in files) <= 64 * 2**20
    assert all(p.stat().st_size <= 16 * 2**20 and re.fullmatch(r"[A-Za-z0-9._-]+", p.name) for p in files)
    assert {"report.json", "report.md", "logs.tar.gz"} <= {p.name for p in files}
    package = report["package"]
    parts = sorted(out.glob("model-int8.tar.gz.part-*"))
    assert [p.name for p in parts] == [part["file"] for part in package["parts"]] and len(parts) >= 2
    assert all(p.stat().st_size <= 0.1 * 2**20 for p in parts)
    # The documented command, run as written, on the returned files only.
    done = subprocess.run(package["reassemble"].split("   #")[0], shell=True, cwd=out, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    joined = (out / "model-int8.tar.gz").read_bytes()
    assert joined == (work / "work" / "model-int8.tar.gz").read_bytes()
    assert hashlib.sha256(joined).hexdigest() == package["sha256"]
    for name in ("model.bin", "spm.model", "volctrans_model.json"):
        assert (out / "model-int8" / name).read_bytes() == (work / "work" / "model-int8" / name).read_bytes()
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## Training" in markdown and "## Bench en-de" in markdown and "| float16 | cuda | no GPU |" in markdown
    with tarfile.open(out / "logs.tar.gz") as tar:
        names = tar.getnames()
    assert "checkpoints/weights.jsonl" in names and "translations/int8/en-de.hyp" in names


def test_a_failed_precision_keeps_training_and_the_other_results(toy_run, tmp_path):
    """A CTranslate2 step that fails (here an export to a precision that does not exist) costs only the steps that
    need it; the training of the earlier command is reused, not redone, and its results stay in the report."""
    work, _, first = toy_run
    out = tmp_path / "out"
    done, report = _run(work, out, "quantizations=[int8, float17]", "return_model=float17", "bench_pairs=[]")
    assert done.returncode == 1
    steps = report["steps"]
    assert steps["train"]["status"] == "ok" and "reused" in steps["train"]["note"]
    assert report["train"]["updates_done"] == 30 and report["train"]["weights_last"] == first["train"]["weights_last"]
    assert steps["export:float17"]["status"] == "failed" and "float17" in steps["export:float17"]["reason"]
    assert steps["package"] == {"status": "skipped", "reason": "needs export:float17"}
    assert steps["translate:float17"]["status"] == "skipped" and steps["eval:float17"]["status"] == "skipped"
    assert steps["export:int8"]["status"] == steps["translate:int8"]["status"] == steps["eval:int8"]["status"] == "ok"
    assert (out / "report.md").is_file() and not list(out.glob("*.part-*"))
