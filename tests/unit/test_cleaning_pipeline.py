"""End-to-end `volctrans clean` / `clean-mono`: pass-through columns, order, malformed rows, gzip, stdin, workers."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cleaning.config import load_config
from cleaning.pipeline import clean_file
from tests.unit.cleaning_helpers import real_pairs
from volctrans.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def write_input(path: Path, extra_bad: bool = True) -> list[str]:
    """Real de pairs (with page id + a marker column), noise rows and malformed rows; returns expected kept ids."""
    lines, kept = [], []
    for i, (_, en, de, page) in enumerate(real_pairs("de")):
        lines.append(f"{en}\t{de}\t{page}\tid{i}".encode())
        kept.append(f"id{i}")
    _, en, de, page = real_pairs("de")[0]
    lines.insert(2, f"{en}\t{en}\t{page}\tcopy".encode())  # untranslated
    lines.insert(4, f"{en}\t{de}\t{page}\tdup".encode())  # duplicate of row id0
    if extra_bad:
        lines.insert(3, b"only one column")
        lines.insert(5, b"bad \xff utf-8\tpaire\tx\ty")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return kept


def read(path: Path) -> list[list[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [line.rstrip("\n").split("\t") for line in handle]


def test_cli_clean_passes_columns_through_in_order(tmp_path):
    src = tmp_path / "in.tsv"
    expected = write_input(src)
    report = tmp_path / "report.json"
    code = main(["clean", "-s", "en", "-t", "de", "-i", str(src), "-o", str(tmp_path / "kept.tsv"),
                 "--rejected", str(tmp_path / "rej.tsv"), "--report", str(report)])
    assert code == 0
    kept = read(tmp_path / "kept.tsv")
    assert [row[-1] for row in kept] == expected  # input order, extra columns unchanged
    assert all(len(row) == 4 and row[2].endswith(".html#" + row[2].split("#")[1]) for row in kept)
    rejected = read(tmp_path / "rej.tsv")
    reasons = {row[-2] if len(row) > 2 and row[-2] in ("copy", "dup") else row[0]: row[-1] for row in rejected}
    assert reasons["copy"] == "identical" and reasons["dup"] == "duplicate"
    assert sorted(row[-1] for row in rejected if row[-1] in ("invalid_utf8", "missing_column")) == [
        "invalid_utf8", "missing_column"]
    stats = json.loads(report.read_text())
    assert stats["total"] == len(expected) + 4 and stats["kept"] == len(expected)
    assert stats["reasons"]["invalid_utf8"] == 1 and stats["reasons"]["missing_column"] == 1


def test_strict_makes_malformed_rows_fatal_with_location(tmp_path, capsys):
    src = tmp_path / "in.tsv"
    write_input(src)
    code = main(["clean", "-s", "en", "-t", "de", "-i", str(src), "-o", str(tmp_path / "kept.tsv"), "--strict"])
    assert code == 1
    assert f"{src}:4: missing column" in capsys.readouterr().err
    assert not (tmp_path / "kept.tsv").exists()  # atomic output: nothing half-written


def test_gzip_in_and_out_and_workers_keep_order(tmp_path):
    src = tmp_path / "in.tsv"
    expected = write_input(src, extra_bad=False)
    gz = tmp_path / "in.tsv.gz"
    gz.write_bytes(gzip.compress(src.read_bytes() * 5))
    config = load_config()
    config.chunk_size = 7  # several chunks in flight across the two workers
    config.dedup.mode = "off"
    one = clean_file(config, str(gz), str(tmp_path / "one.tsv.gz"), "en", "de", workers=1)
    two = clean_file(config, str(gz), str(tmp_path / "two.tsv.gz"), "en", "de", workers=2)
    assert read(tmp_path / "one.tsv.gz") == read(tmp_path / "two.tsv.gz")
    order = [*expected[:3], "dup", *expected[3:]]  # dedup is off: the repeated row stays, in its place
    assert [row[-1] for row in read(tmp_path / "two.tsv.gz")] == order * 5
    assert one.kept == two.kept and two.workers == 2


def test_stdin_to_stdout_subprocess(tmp_path):
    src = tmp_path / "in.tsv"
    expected = write_input(src)
    proc = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "clean", "-s", "en", "-t", "de"],
                          input=src.read_bytes(), capture_output=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [line.split("\t") for line in proc.stdout.decode().splitlines()]
    assert [row[-1] for row in rows] == expected


def test_clean_mono(tmp_path):
    text = [r[2] for r in real_pairs("ru")]
    src = tmp_path / "mono.txt"
    src.write_text("\n".join(text + ["", "1234 5678", text[0], "Ð¡Ð»ÑƒÐ¶Ð¸Ñ‚ Ð´Ð»Ñ"]) + "\n", encoding="utf-8")
    code = main(["clean-mono", "-l", "ru", "-i", str(src), "-o", str(tmp_path / "kept.txt"),
                 "--rejected", str(tmp_path / "rej.txt")])
    assert code == 0
    assert (tmp_path / "kept.txt").read_text(encoding="utf-8").splitlines() == text
    tags = [line.split("\t")[-1] for line in (tmp_path / "rej.txt").read_text(encoding="utf-8").splitlines()]
    assert tags == ["empty", "only_symbols", "duplicate", "mojibake"]


def test_unknown_rule_in_yaml_is_a_config_error(tmp_path, capsys):
    config = tmp_path / "rules.yaml"
    config.write_text("rules:\n  empty: {}\n  lenght_ratio: {max_ratio: 2}\n  url: {max_shares: 1}\n")
    src = tmp_path / "in.tsv"
    write_input(src)
    code = main(["clean", "-s", "en", "-t", "de", "-i", str(src), "-o", str(tmp_path / "k.tsv"), "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1 and "unknown rule 'lenght_ratio'" in err and "unknown key 'max_shares'" in err


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_cjk_pairs_through_the_cli(tmp_path, lang):
    rows = real_pairs(lang)
    src = tmp_path / "in.tsv"
    src.write_text("".join(f"{en}\t{xx}\t{page}\n" for _, en, xx, page in rows), encoding="utf-8")
    assert main(["clean", "-s", "en", "-t", lang, "-i", str(src), "-o", str(tmp_path / "k.tsv")]) == 0
    assert len(read(tmp_path / "k.tsv")) == len(rows)
