"""The one input path and the one output path: every reader turns a broken .gz into `file:line: reason`, every
output is staged and renamed, temp files of killed runs are removed by the next run, unwritable places are
one-line errors."""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys
import time

import pytest

from tests.reliability.conftest import snapshot, unwritable_dir
from volctrans.errors import InputError, VolctransError
from volctrans.io import atomic_write, iter_lines, iter_tsv_rows, read_lines


def _text(rows: int = 3000) -> bytes:
    rng = random.Random(5)
    words = ["Save", "the", "file", "Speichern", "Datei", "表格", "插入", "Tabelle", "neue", "Insert", "a", "new"]
    return "".join(f"{' '.join(rng.choices(words, k=6))}\t{' '.join(rng.choices(words, k=5))}\n"
                   for _ in range(rows)).encode("utf-8")


def broken_gzip(path, kind: str):
    """A .gz file that is not gzip, cut short, or damaged in the middle of the compressed stream."""
    data = gzip.compress(_text(), mtime=0)
    if kind == "not_gzip":
        path.write_bytes(_text(5))
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "corrupt":  # a damaged deflate block: zlib.error, which is not an OSError
        damaged = bytearray(data)
        damaged[17] ^= 0xFF
        path.write_bytes(bytes(damaged))
    elif kind == "bad_crc":
        damaged = bytearray(data)
        damaged[-8] ^= 0xFF  # the CRC32 in the trailer
        path.write_bytes(bytes(damaged))
    return path


def _read_with(reader: str, path):
    if reader == "iter_lines":
        return list(iter_lines(path))
    if reader == "iter_tsv_rows":
        return list(iter_tsv_rows(path, strict=False))
    if reader == "batch_records":
        from serving.batch import iter_records

        return list(iter_records(str(path), None, "skip"))
    if reader == "cleaning_chunks":
        from cleaning.pipeline import _raw_chunks

        return list(_raw_chunks(str(path), 100))
    raise AssertionError(reader)


@pytest.mark.parametrize("kind", ["not_gzip", "truncated", "corrupt", "bad_crc"])
@pytest.mark.parametrize("reader", ["iter_lines", "iter_tsv_rows", "batch_records", "cleaning_chunks"])
def test_every_reader_reports_a_broken_gzip_as_input_error(tmp_path, reader, kind):
    path = broken_gzip(tmp_path / "in.tsv.gz", kind)
    with pytest.raises(InputError) as info:
        _read_with(reader, path)
    assert str(info.value).startswith(f"{path}:")
    assert "compressed" in info.value.reason or "gzip" in info.value.reason


def test_input_that_is_a_directory_or_missing(tmp_path):
    with pytest.raises(InputError, match="cannot open"):
        read_lines(tmp_path)
    with pytest.raises(InputError, match="cannot open"):
        list(iter_tsv_rows(tmp_path / "missing.tsv"))


def test_atomic_write_into_an_unwritable_folder_is_one_error(tmp_path):
    target = unwritable_dir(tmp_path) / "sub" / "out.txt"
    with pytest.raises(VolctransError) as info:
        with atomic_write(target) as handle:
            handle.write("x\n")
    assert str(target.parent) in str(info.value) and "\n" not in str(info.value)


def test_atomic_write_onto_a_directory_or_under_a_file(tmp_path):
    before = snapshot(tmp_path)
    with pytest.raises(VolctransError, match="is a directory"):
        with atomic_write(tmp_path) as handle:
            handle.write("x\n")
    (tmp_path / "file").write_text("x")
    with pytest.raises(VolctransError, match="file"):
        with atomic_write(tmp_path / "file" / "out.txt") as handle:
            handle.write("x\n")
    assert set(snapshot(tmp_path)) == set(before) | {"file"}


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_temp_files_of_killed_runs_are_removed(tmp_path):
    dead = _dead_pid()
    stale = [tmp_path / f".out.txt.{dead}.a1b2c3.tmp", tmp_path / ".out.txt.k3j5_9ab.tmp"]  # ours, mkstemp's
    for path in stale:
        path.write_text("partial")
    hour_ago = time.time() - 3700  # a temp file without a pid is judged by its age
    os.utime(stale[1], (hour_ago, hour_ago))
    alive = tmp_path / f".out.txt.{os.getppid()}.a1b2c3.tmp"  # a run still going: left alone
    alive.write_text("in progress")
    other = tmp_path / f".other.txt.{dead}.a1b2c3.tmp"  # another output's temp: not ours to judge here
    other.write_text("partial")
    with atomic_write(tmp_path / "out.txt") as handle:
        handle.write("done\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name, "out.txt"])


def test_staged_directory_replaces_the_whole_folder_or_nothing(tmp_path):
    from volctrans.io import staged_directory

    target = tmp_path / "out"
    with staged_directory(target) as staging:
        (staging / "a.txt").write_text("old")
        (staging / "old-only.txt").write_text("old")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt", "old-only.txt"]

    with pytest.raises(RuntimeError):
        with staged_directory(target) as staging:
            (staging / "a.txt").write_text("new")
            raise RuntimeError("boom")
    assert (target / "a.txt").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]

    with staged_directory(target) as staging:
        (staging / "a.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"] and (target / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staged_directory_removes_stale_staging_folders(tmp_path):
    from volctrans.io import staged_directory

    stale = tmp_path / f".out.{_dead_pid()}.ab12cd.tmp"
    stale.mkdir()
    (stale / "half.bin").write_bytes(b"\0" * 10)
    with staged_directory(tmp_path / "out") as staging:
        (staging / "x").write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staged_directory_in_an_unwritable_place(tmp_path):
    from volctrans.io import staged_directory

    with pytest.raises(VolctransError):
        with staged_directory(unwritable_dir(tmp_path) / "out"):
            pass
