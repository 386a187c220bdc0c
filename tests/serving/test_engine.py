"""serving.engine: which cuBLAS CTranslate2 wants, the libcublas.so.12 → installed cuBLAS shim, one-line failures.

The shim is tested with a real dynamic loader and a real (fake) cuBLAS: a tiny C library with the nine functions
CTranslate2's wheel resolves, built here with the C compiler, named libcublas.so.99 in a pip-like nvidia/cu99/lib
folder. Whether the real cuBLAS 13 serves CTranslate2's calls can only be seen on a GPU (benchmarks/gpu/run.sh).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from serving import engine
from volctrans.errors import VolctransError

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [extra.pop("PYTHONPATH", None)])])
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def fake_cublas(tmp_path_factory) -> Path:
    """site/nvidia/cu99/lib/libcublas.so.99 (+ libcublasLt.so.99) exporting the functions CTranslate2 resolves."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a stand-in cuBLAS")
    site = tmp_path_factory.mktemp("site")
    lib = site / "nvidia" / "cu99" / "lib"
    lib.mkdir(parents=True)
    source = site / "cublas.c"
    source.write_text("".join(f"int {name}(void) {{ return 0; }}\n" for name in engine.CUBLAS_FUNCTIONS))
    subprocess.run([compiler, "-shared", "-fPIC", "-Wl,-soname,libcublas.so.99", "-o", str(lib / "libcublas.so.99"),
                    str(source)], check=True)
    subprocess.run([compiler, "-shared", "-fPIC", "-Wl,-soname,libcublasLt.so.99", "-o",
                    str(lib / "libcublasLt.so.99"), str(source)], check=True)
    return site


def test_cublas_wanted_is_read_from_the_library(tmp_path):
    library = tmp_path / "libctranslate2.so.4"
    library.write_bytes(b"\x7fELF" + b"\0" * 4096 + b"libcudart_static_1\0libcublas.so.12\0cublasCreate_v2\0")
    assert engine.cublas_wanted(library) == "libcublas.so.12"
    cpu_only = tmp_path / "libctranslate2-cpu.so.4"
    cpu_only.write_bytes(b"\x7fELF" + b"\0" * 4096 + b"libgomp.so.1\0")
    assert engine.cublas_wanted(cpu_only) is None


def test_the_installed_wheel_wants_cublas_12():
    """The PyPI wheel this project installs (docs/serving.md): the name the shim has to provide."""
    pytest.importorskip("ctranslate2")
    assert engine.cublas_wanted(engine.ct2_library()) == "libcublas.so.12"


def test_shim_makes_cublas_12_load_from_another_major(fake_cublas, tmp_path):
    shim = tmp_path / "shim"
    made = subprocess.run([sys.executable, "-m", "serving.engine", "shim", str(shim)], capture_output=True, text=True,
                          env=_env(PYTHONPATH=str(fake_cublas), LD_LIBRARY_PATH=""))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("export LD_LIBRARY_PATH=")
    real = fake_cublas / "nvidia" / "cu99" / "lib" / "libcublas.so.99"
    assert os.readlink(shim / "libcublas.so.12") == str(real.resolve())
    assert (shim / "libcublasLt.so.99").is_symlink()
    library_path = made.stdout.strip().split("=", 1)[1].strip("'")
    assert library_path.split(":")[:2] == [str(shim.resolve()), str(real.parent.resolve())]

    probe = "import json; from serving.engine import probe_library; print(json.dumps(probe_library('libcublas.so.12')))"
    without = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_env(LD_LIBRARY_PATH=""))
    with_shim = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                               env=_env(LD_LIBRARY_PATH=library_path))
    before, after = json.loads(without.stdout), json.loads(with_shim.stdout)
    if before["loadable"]:
        pytest.skip("this machine has a real libcublas.so.12: the shim is not what loads it")
    assert after["loadable"] and after["missing"] == []
    assert after["file"] == str(real.resolve())
    assert after["path"] == str(shim.resolve() / "libcublas.so.12")  # the loader's own path, via dladdr


def test_a_library_without_the_functions_is_reported(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    source = tmp_path / "partial.c"
    source.write_text("int cublasCreate_v2(void) { return 0; }\n")
    library = tmp_path / "libcublas.so.12"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    report = engine.probe_library(str(library))
    assert report["loadable"] and "cublasGemmEx" in report["missing"] and "cublasCreate_v2" not in report["missing"]


def test_missing_cublas_is_one_clear_line(monkeypatch):
    pytest.importorskip("ctranslate2")
    monkeypatch.setattr(engine, "cublas_wanted", lambda library: "libcublas.so.12")
    monkeypatch.setattr(engine, "probe_library", lambda name: {
        "loadable": False, "error": "libcublas.so.12: cannot open shared object file: No such file or directory"})
    monkeypatch.setattr(engine, "find_cublas", lambda: [Path("/venv/nvidia/cu13/lib/libcublas.so.13")])
    monkeypatch.setattr(engine, "cuda_devices", lambda: 1)  # a GPU machine with only cuBLAS 13
    with pytest.raises(VolctransError) as raised:
        engine.check_cuda("cuda")
    message = str(raised.value)
    assert "\n" not in message
    assert "needs libcublas.so.12" in message and "libcublas.so.13" in message and "serving.engine shim" in message
    monkeypatch.setattr(engine, "find_cublas", lambda: [])
    with pytest.raises(VolctransError, match="build CTranslate2 for your CUDA"):
        engine.check_cuda("cuda")
    engine.check_cuda("cpu")  # never checked on the CPU
    monkeypatch.setattr(engine, "cuda_devices", lambda: 0)
    engine.check_cuda("auto")  # auto without a GPU: CTranslate2 will use the CPU
    with pytest.raises(VolctransError, match="device cuda: CTranslate2 .* sees no CUDA device .*; it would also "
                                             "need libcublas.so.12, which cannot be loaded$"):
        engine.check_cuda("cuda")


@pytest.mark.slow
def test_translate_on_cuda_without_cublas_fails_in_one_line(tiny_model, tmp_path):
    """Before serving.engine this machine (no GPU, no cuBLAS 12) got CTranslate2's "CUDA failed with error CUDA
    driver version is insufficient for CUDA runtime version" at model load, and a GPU machine with only cuBLAS 13
    failed inside the first translation. Now: one line naming what is missing, before the model is loaded."""
    if engine.probe_library("libcublas.so.12")["loadable"]:
        pytest.skip("this machine has libcublas.so.12")
    source = tmp_path / "in.en"
    source.write_text("Save the document.\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "translate", "-m", str(tiny_model.model),
                           "-s", "en", "-t", "de", "-i", str(source), "-o", str(tmp_path / "out.de"), "--device",
                           "cuda", "--quiet"], capture_output=True, text=True, env=_env())
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("volctrans translate: error: ")
    if engine.cuda_devices() == 0:  # CI, this machine
        assert "sees no CUDA device" in errors[0] and "need libcublas.so.12, which cannot be loaded" in errors[0]
    else:
        assert "needs libcublas.so.12 for the GPU" in errors[0]
    assert not (tmp_path / "out.de").exists()


def test_engine_info_cli_prints_build_and_compute_types(tmp_path):
    pytest.importorskip("ctranslate2")
    target = tmp_path / "engine.json"
    done = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "engine-info", "--json", str(target)],
                          capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("CTranslate2 ")
    info = json.loads(target.read_text())
    assert "float32" in info["compute_types"]["cpu"] and "int8" in info["compute_types"]["cpu"]
    assert info["cublas"]["wanted"] == "libcublas.so.12"
    if info["cuda_devices"] == 0:
        assert info["compute_types"]["cuda"] == "no CUDA device visible to CTranslate2"


def test_probe_tells_ok_error_and_crash_apart(monkeypatch):
    """Each precision runs in its own process; a crash inside CTranslate2 (signal) is reported, not propagated."""
    import subprocess as sp

    from serving import probe

    answers = {"float16": sp.CompletedProcess([], 0, "ok (float16 on cuda, 1.2 s, en→de: 'x')\n", ""),
               "int8_float16": sp.CompletedProcess([], -6, "", "terminate called after throwing an instance of "
                                                               "'std::runtime_error'\n  what():  cuBLAS failed\n"),
               "bfloat16": sp.CompletedProcess([], 1, "", "bfloat16 is not supported on this device\n")}
    monkeypatch.setattr(probe.subprocess, "run", lambda command, **kw: answers[command[-1]])
    results = probe.probe_compute_types("model", "cuda", ["float16", "int8_float16", "bfloat16"])
    assert results == {"float16": "ok (float16 on cuda, 1.2 s, en→de: 'x')",
                       "int8_float16": "crashed (signal 6): what():  cuBLAS failed",
                       "bfloat16": "error: bfloat16 is not supported on this device"}
