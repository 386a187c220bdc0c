"""Cleaning and scoring refuse what they cannot handle instead of quietly producing nonsense: unknown language
codes, empty monolingual input; malformed rows get distinct reasons and their line numbers."""

from __future__ import annotations

import json

import pytest

from tests.reliability.conftest import run_cli, snapshot

PAIRS = ["Save the document.\tSpeichern Sie das Dokument.", "Insert a new table.\tFügen Sie eine neue Tabelle ein.",
         "Close the window.\tSchließen Sie das Fenster."]


@pytest.mark.parametrize("argv, code", [
    (["clean", "-s", "en", "-t", "xx"], "xx"),
    (["clean", "-s", "english", "-t", "de"], "english"),
    (["clean-mono", "-l", "xx"], "xx"),
])
def test_unknown_language_codes_are_refused_by_clean(tmp_path, capsys, argv, code):
    (tmp_path / "in.tsv").write_text("\n".join(PAIRS) + "\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = run_cli([*argv, "-i", tmp_path / "in.tsv", "-o", tmp_path / "out.tsv"], capsys)
    assert result.exception is None and result.code == 1
    [line] = result.error_lines()
    assert f"unknown language code '{code}'" in line
    assert snapshot(tmp_path) == before


def test_regional_variants_of_known_languages_are_accepted(tmp_path, capsys):
    (tmp_path / "in.tsv").write_text("\n".join(PAIRS) + "\n", encoding="utf-8")
    result = run_cli(["clean", "-s", "en", "-t", "de_ch", "-i", tmp_path / "in.tsv", "-o", tmp_path / "out.tsv"],
                     capsys)
    assert result.code == 0, result.err


@pytest.mark.parametrize("pair", ["xx-yy", "en-xx", "en", "en-de-fr"])
def test_unknown_pairs_are_refused_by_eval(tmp_path, capsys, pair):
    (tmp_path / "hyp").write_text("a b c\n", encoding="utf-8")
    (tmp_path / "ref").write_text("a b c\n", encoding="utf-8")
    result = run_cli(["eval", "--hyp", tmp_path / "hyp", "--ref", tmp_path / "ref", "--pair", pair,
                      "--json", tmp_path / "scores.json"], capsys)
    assert result.exception is None and result.code == 1
    [line] = result.error_lines()
    assert pair in line or "unknown language code" in line
    assert not (tmp_path / "scores.json").exists()


def test_eval_needs_the_pair_to_pick_the_tokenizer(tmp_path, capsys):
    (tmp_path / "hyp").write_text("a b c\n", encoding="utf-8")
    (tmp_path / "ref").write_text("a b c\n", encoding="utf-8")
    result = run_cli(["eval", "--hyp", tmp_path / "hyp", "--ref", tmp_path / "ref"], capsys)
    assert result.code == 1 and "--pair" in result.error_lines()[0]


def test_empty_monolingual_input_is_an_error(tmp_path, capsys):
    (tmp_path / "in.txt").write_bytes(b"")
    result = run_cli(["clean-mono", "-l", "de", "-i", tmp_path / "in.txt", "-o", tmp_path / "out.txt"], capsys)
    assert result.exception is None and result.code == 1
    [line] = result.error_lines()
    assert line == f"volctrans clean-mono: error: {tmp_path / 'in.txt'}: empty file"
    assert not (tmp_path / "out.txt").exists()


def test_malformed_rows_have_distinct_reasons_and_line_numbers(tmp_path, capsys, caplog):
    rows = [PAIRS[0].encode(), b"only one column", PAIRS[1].encode(), b"caf\xe9 au lait\tMilchkaffee",
            PAIRS[2].encode()]
    (tmp_path / "in.tsv").write_bytes(b"\n".join(rows) + b"\n")
    result = run_cli(["clean", "-s", "en", "-t", "de", "-i", tmp_path / "in.tsv", "-o", tmp_path / "kept.tsv",
                      "--rejected", tmp_path / "rejected.tsv", "--report", tmp_path / "report.json"], capsys)
    assert result.code == 0, result.err
    rejected = [line.split("\t") for line in (tmp_path / "rejected.tsv").read_text(encoding="utf-8").splitlines()]
    assert [row[-1] for row in rejected] == ["missing_column", "invalid_utf8"]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["reasons"]["missing_column"] == 1 and report["reasons"]["invalid_utf8"] == 1
    assert report["malformed_lines"] == [{"line": 2, "reason": "missing column: expected source<TAB>target"},
                                         {"line": 4, "reason": "invalid UTF-8 at byte 3"}]
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert f"{tmp_path / 'in.tsv'}:2: missing column: expected source<TAB>target: rejected (missing_column)" in warnings
    assert f"{tmp_path / 'in.tsv'}:4: invalid UTF-8 at byte 3: rejected (invalid_utf8)" in warnings


def test_malformed_line_numbers_are_right_across_chunks_and_workers(tmp_path):
    from cleaning.config import load_config
    from cleaning.pipeline import clean_file

    rows = [PAIRS[i % 3].replace(".", f" {i}.").encode() for i in range(50)]
    rows[36] = b"no tab here"
    (tmp_path / "in.tsv").write_bytes(b"\n".join(rows) + b"\n")
    config = load_config(None)
    config.chunk_size = 8
    report = clean_file(config, str(tmp_path / "in.tsv"), str(tmp_path / "out.tsv"), "en", "de", workers=2)
    assert report.as_dict()["malformed_lines"] == [{"line": 37, "reason": "missing column: expected source<TAB>target"}]
