"""Batch translation with a real (random-weight) model: untrained directions, empty input, unusable outputs, and
the temp file of a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.reliability.conftest import run_cli, snapshot, unwritable_dir
from volctrans.errors import VolctransError


def _translate(model, *argv):
    return ["translate", "-m", model, "--quiet", "--beam", "1", "--max-decoding-length", "8", *argv]


@pytest.mark.parametrize("source, target", [("de", "zh"), ("en", "en"), ("zh", "de")])
def test_untrained_directions_are_refused(tmp_path, capsys, random_model, source, target):
    (tmp_path / "in.txt").write_text("Hallo Welt\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = run_cli(_translate(random_model, "-s", source, "-t", target, "-i", tmp_path / "in.txt",
                                "-o", tmp_path / "out.txt"), capsys)
    assert result.exception is None and result.code == 1
    [line] = result.error_lines()
    assert f"{source}→{target} is not a direction this model was trained on" in line and "en→de" in line
    assert snapshot(tmp_path) == before


def test_the_translator_itself_refuses_untrained_directions(random_model):
    from serving.translator import Translator

    translator = Translator(random_model, intra_threads=1)
    assert translator.directions == [("de", "en"), ("en", "de"), ("en", "zh"), ("zh", "en")]
    with pytest.raises(VolctransError, match="de→zh is not a direction"):
        translator.translate(["Hallo"], "de", "zh")
    assert len(translator.translate(["Hello", ""], "en", "de")) == 2


@pytest.mark.parametrize("stdin", [False, True])
def test_empty_input_is_an_error(tmp_path, capsys, random_model, monkeypatch, stdin):
    (tmp_path / "in.txt").write_bytes(b"")
    if stdin:
        import io

        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    result = run_cli(_translate(random_model, "-s", "en", "-t", "de", "-i", "-" if stdin else tmp_path / "in.txt",
                                "-o", tmp_path / "out.txt"), capsys)
    assert result.exception is None and result.code == 1
    [line] = result.error_lines()
    assert line == f"volctrans translate: error: {'<stdin>' if stdin else tmp_path / 'in.txt'}: empty file"
    assert not (tmp_path / "out.txt").exists()


def test_output_onto_a_directory_or_an_unwritable_place(tmp_path, capsys, random_model, monkeypatch):
    (tmp_path / "in.txt").write_text("Hello\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    for output in (".", tmp_path, unwritable_dir(tmp_path) / "out.txt"):
        result = run_cli(_translate(random_model, "-s", "en", "-t", "de", "-i", "in.txt", "-o", output), capsys)
        assert result.exception is None and result.code == 1, result.err
        [line] = result.error_lines()
        assert line.startswith(f"volctrans translate: error: {output}") or str(output) in line
    assert snapshot(tmp_path) == before


def test_a_killed_translate_leaves_a_temp_file_that_the_next_run_removes(tmp_path, random_model):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "volctrans.cli.main", *map(str, _translate(random_model, "-s", "en", "-t", "de",
                                                                               "-i", "-", "-o", tmp_path / "out.txt"))]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        process.stdin.write(b"Hello world\n")
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while not [p for p in tmp_path.iterdir() if p.name.startswith(".out.txt.")]:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    [temp] = [p.name for p in tmp_path.iterdir()]
    assert temp.startswith(".out.txt.") and temp.endswith(".tmp")
    (tmp_path / "in.txt").write_text("Hello world\n", encoding="utf-8")
    result = subprocess.run([*command[:-4], "-i", str(tmp_path / "in.txt"), "-o", str(tmp_path / "out.txt")],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.txt"]
