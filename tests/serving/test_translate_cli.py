"""`volctrans translate` on a real tiny model: text, TSV-column and multi-target modes, bad input, order."""

import gzip
import subprocess
import sys

import pytest

from serving.translator import DecodingOptions, Translator
from volctrans.cli.main import main

pytestmark = pytest.mark.slow

SOURCES = ["Inserts a new table.", "", "Save the document.", "word " * 400, "Tigrina", "Open a file."]


def _translate(model, *args):
    return main(["translate", "-m", str(model), "-s", "en", "--quiet", "--beam", "2", *args])


@pytest.fixture(scope="module")
def expected(tiny_model):
    translator = Translator(tiny_model.model, intra_threads=1)
    options = DecodingOptions(beam_size=2)
    return {lang: translator.translate(SOURCES, "en", lang, options) for lang in ("de", "zh")}


def test_text_mode_keeps_order_and_empty_lines(tiny_model, expected, tmp_path):
    source = tmp_path / "in.en.gz"
    with gzip.open(source, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(SOURCES) + "\n")
    for chunk in ("1000", "2"):  # several chunks, sorted by length inside each, must come back in input order
        out = tmp_path / f"out.{chunk}.de"
        assert _translate(tiny_model.model, "-t", "de", "-i", str(source), "-o", str(out), "--chunk-lines", chunk) == 0
        assert out.read_text(encoding="utf-8").split("\n")[:-1] == expected["de"]
    assert expected["de"][1] == ""


def test_tsv_column_and_multi_target(tiny_model, expected, tmp_path):
    source = tmp_path / "in.tsv"
    source.write_text("".join(f"id{i}\t{text}\tmeta\n" for i, text in enumerate(SOURCES)), encoding="utf-8")
    combined = tmp_path / "out.tsv"
    assert _translate(tiny_model.model, "-t", "de,zh", "-i", str(source), "-o", str(combined), "--tsv-column", "2") == 0
    rows = [line.split("\t") for line in combined.read_text(encoding="utf-8").splitlines()]
    assert rows == [[f"id{i}", text, "meta", expected["de"][i], expected["zh"][i]] for i, text in enumerate(SOURCES)]

    per_target = tmp_path / "out.{tgt}.txt"
    text_source = tmp_path / "in.txt"
    text_source.write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    assert _translate(tiny_model.model, "-t", "de,zh", "-i", str(text_source), "-o", str(per_target)) == 0
    for lang in ("de", "zh"):
        assert (tmp_path / f"out.{lang}.txt").read_text(encoding="utf-8").split("\n")[:-1] == expected[lang]


def test_invalid_utf8_fails_with_line_or_is_skipped(tiny_model, expected, tmp_path, caplog):
    source = tmp_path / "bad.en"
    source.write_bytes(b"Inserts a new table.\n\xff\xfe broken\nSave the document.\n")
    out = tmp_path / "bad.de"
    result = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "translate", "-m", str(tiny_model.model),
                             "-s", "en", "-t", "de", "-i", str(source), "-o", str(out), "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and f"{source}:2: invalid UTF-8 at byte 0" in result.stderr
    assert not out.exists()

    assert _translate(tiny_model.model, "-t", "de", "-i", str(source), "-o", str(out), "--on-error", "skip") == 0
    lines = out.read_text(encoding="utf-8").split("\n")[:-1]
    assert lines == [expected["de"][0], "", expected["de"][2]]
    assert f"{source}:2: invalid UTF-8 at byte 0: skipped" in caplog.text

    tsv = tmp_path / "short.tsv"
    tsv.write_text("a\tInserts a new table.\nonly-one-column\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"short.tsv:2: missing column 2"):
        from serving.batch import BatchConfig, translate_file

        translate_file(Translator(tiny_model.model), BatchConfig("en", ["de"], str(tsv), str(tmp_path / "o.tsv"),
                                                                 tsv_column=2, progress=False), DecodingOptions())


def test_bad_options_are_listed_together(tiny_model, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("x\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "translate", "-m", str(tiny_model.model),
                             "-s", "en", "-t", "de,de", "-i", str(source), "-o", "-", "--tsv-column", "0",
                             "--beam", "0"], capture_output=True, text=True)
    assert result.returncode == 1
    for problem in ("target languages repeat", "tsv_column is 1-based", "beam_size must be ≥ 1"):
        assert problem in result.stderr
