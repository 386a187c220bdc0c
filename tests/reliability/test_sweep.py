"""The sweep: bad inputs and unusable outputs over every subcommand that reads or writes files. For each case:
exit status 1, stderr is one line `volctrans CMD: error: ...` naming the file (and line where there is one), no
traceback, and nothing left behind (no output file or folder, no temporary file)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.conftest import run_cli, snapshot
from tests.reliability.test_io import broken_gzip

PAIRS = "Save the document.\tSpeichern Sie das Dokument.\nInsert a table.\tFügen Sie eine Tabelle ein.\n"


def make_inputs(root: Path) -> dict[str, Path]:
    """Good and bad inputs under root/in; outputs go to root/out (which must stay absent)."""
    folder = root / "in"
    folder.mkdir()
    files = {
        "pairs": folder / "pairs.tsv", "text": folder / "text.txt", "empty": folder / "empty.txt",
        "bad_utf8": folder / "bad.tsv", "one_column": folder / "one.tsv", "missing": folder / "missing.tsv",
        "directory": folder, "not_gzip": folder / "plain.tsv.gz", "truncated_gz": folder / "cut.tsv.gz",
        "corrupt_gz": folder / "corrupt.tsv.gz", "bad_yaml": folder / "bad.yaml", "mono_tab": folder / "mono.txt",
        "ckpt_empty": folder / "checkpoint_1_10.pt", "weights_bad": folder / "weights.jsonl",
    }
    files["pairs"].write_text(PAIRS, encoding="utf-8")
    files["text"].write_text("Save the document.\nInsert a table.\n", encoding="utf-8")
    files["empty"].write_bytes(b"")
    files["bad_utf8"].write_bytes(b"Hello\tHallo\ncaf\xe9\tKaffee\n")
    files["bad_utf8_text"] = folder / "bad.txt"
    files["bad_utf8_text"].write_bytes(b"Hallo Welt\ncaf\xe9 au lait\n")
    files["one_column"].write_text("Hello\tHallo\nonly one column\n", encoding="utf-8")
    broken_gzip(files["not_gzip"], "not_gzip")
    broken_gzip(files["truncated_gz"], "truncated")
    broken_gzip(files["corrupt_gz"], "corrupt")
    files["bad_yaml"].write_text("data: x\nsave_dir: y\nwieghting: uniform\n", encoding="utf-8")
    files["mono_tab"].write_text("Satz eins.\nSpalte\tzwei\n", encoding="utf-8")
    files["ckpt_empty"].write_bytes(b"")
    files["weights_bad"].write_text('{"update": 1, "weights": {"a": 0.5}}\n{"update": 2, "weigh\n', encoding="utf-8")
    corpus = folder / "corpus"
    (corpus / "en-de").mkdir(parents=True)
    (corpus / "en-de" / "train.tsv").write_text(PAIRS * 3, encoding="utf-8")
    (corpus / "en-de" / "dev.tsv").write_bytes(b"Hello\tHallo\ncaf\xe9\tKaffee\n")
    (corpus / "manifest.json").write_text(json.dumps({
        "name": "c", "licence": "test", "source_lang": "en", "pairs": {"en-de": {"train": 6, "dev": 2}},
        "files": {"en-de": {"train": "en-de/train.tsv", "dev": "en-de/dev.tsv"}}}))
    files["corpus_bad_dev"] = corpus
    (folder / "nocorpus").mkdir()
    files["no_manifest"] = folder / "nocorpus"
    return files


@dataclass
class Case:
    name: str
    argv: list[str]  # {name} placeholders: inputs by key, {out}, {model}, {unwritable}
    names: str  # a placeholder whose path the error line must name (or, not a placeholder, a literal it must hold)
    line: int | None = None  # the line number it must name

    def __str__(self):
        return self.name


T = ["translate", "-m", "{model}", "-s", "en", "-t", "de", "--quiet", "--beam", "1", "--max-decoding-length", "4"]
BT = ["backtranslate", "-m", "{model}", "-l", "de", "--beam", "1", "--max-decoding-length", "4"]
C = ["clean", "-s", "en", "-t", "de"]
CM = ["clean-mono", "-l", "de"]
E = ["eval", "--pair", "en-de"]

CASES = [
    # translate
    Case("translate-missing", [*T, "-i", "{missing}", "-o", "{out}/o.txt"], "missing"),
    Case("translate-directory", [*T, "-i", "{directory}", "-o", "{out}/o.txt"], "directory"),
    Case("translate-empty", [*T, "-i", "{empty}", "-o", "{out}/o.txt"], "empty"),
    Case("translate-bad-utf8", [*T, "-i", "{bad_utf8}", "-o", "{out}/o.txt"], "bad_utf8", 2),
    Case("translate-missing-column", [*T, "--tsv-column", "2", "-i", "{one_column}", "-o", "{out}/o.tsv"],
         "one_column", 2),
    Case("translate-not-gzip", [*T, "-i", "{not_gzip}", "-o", "{out}/o.txt"], "not_gzip", 1),
    Case("translate-truncated-gz", [*T, "-i", "{truncated_gz}", "-o", "{out}/o.txt"], "truncated_gz"),
    Case("translate-corrupt-gz", [*T, "-i", "{corrupt_gz}", "-o", "{out}/o.txt"], "corrupt_gz"),
    Case("translate-output-is-a-directory", [*T, "-i", "{text}", "-o", "{directory}"], "directory"),
    Case("translate-unwritable-output", [*T, "-i", "{text}", "-o", "{unwritable}/o.txt"], "unwritable"),
    Case("translate-output-under-a-file", [*T, "-i", "{text}", "-o", "{text}/o.txt"], "text"),
    Case("translate-missing-model", ["translate", "-m", "{out}/model", "-s", "en", "-t", "de", "-i", "{text}"], "out"),
    # clean / clean-mono
    Case("clean-missing", [*C, "-i", "{missing}", "-o", "{out}/k.tsv"], "missing"),
    Case("clean-empty", [*C, "-i", "{empty}", "-o", "{out}/k.tsv"], "empty"),
    Case("clean-strict-bad-utf8", [*C, "--strict", "-i", "{bad_utf8}", "-o", "{out}/k.tsv"], "bad_utf8", 2),
    Case("clean-strict-missing-column", [*C, "--strict", "-i", "{one_column}", "-o", "{out}/k.tsv"], "one_column", 2),
    Case("clean-not-gzip", [*C, "-i", "{not_gzip}", "-o", "{out}/k.tsv"], "not_gzip"),
    Case("clean-truncated-gz", [*C, "-i", "{truncated_gz}", "-o", "{out}/k.tsv"], "truncated_gz"),
    Case("clean-corrupt-gz", [*C, "-i", "{corrupt_gz}", "-o", "{out}/k.tsv", "--rejected", "{out}/r.tsv"],
         "corrupt_gz"),
    Case("clean-unwritable-output", [*C, "-i", "{pairs}", "-o", "{unwritable}/k.tsv"], "unwritable"),
    Case("clean-rejected-is-a-directory", [*C, "-i", "{pairs}", "-o", "{out}/k.tsv", "--rejected", "{directory}"],
         "directory"),
    Case("clean-bad-config", [*C, "-i", "{pairs}", "-o", "{out}/k.tsv", "--config", "{bad_yaml}"], "bad_yaml"),
    Case("clean-mono-empty", [*CM, "-i", "{empty}", "-o", "{out}/k.txt"], "empty"),
    Case("clean-mono-truncated-gz", [*CM, "-i", "{truncated_gz}", "-o", "{out}/k.txt"], "truncated_gz"),
    Case("clean-mono-missing", [*CM, "-i", "{missing}", "-o", "{out}/k.txt"], "missing"),
    # eval
    Case("eval-missing-hyp", [*E, "--hyp", "{missing}", "--ref", "{text}"], "missing"),
    Case("eval-bad-utf8-ref", [*E, "--hyp", "{text}", "--ref", "{bad_utf8}"], "bad_utf8", 2),
    Case("eval-corrupt-gz-ref", [*E, "--hyp", "{text}", "--tsv", "{corrupt_gz}"], "corrupt_gz"),
    Case("eval-tsv-missing-column", [*E, "--hyp", "{text}", "--tsv", "{one_column}"], "one_column", 2),
    Case("eval-line-mismatch", [*E, "--hyp", "{empty}", "--ref", "{text}", "--json", "{out}/s.json"], "empty"),
    Case("eval-json-unwritable", [*E, "--hyp", "{text}", "--ref", "{text}", "--json", "{unwritable}/s.json"],
         "unwritable"),
    # prepare
    Case("prepare-no-manifest", ["prepare", "--corpora", "{no_manifest}", "--out", "{out}/p"], "no_manifest"),
    Case("prepare-bad-dev", ["prepare", "--corpora", "{corpus_bad_dev}", "--out", "{out}/p", "--vocab-size", "100"],
         "corpus_bad_dev", 2),
    Case("prepare-unwritable", ["prepare", "--corpora", "{corpus_bad_dev}", "--out", "{unwritable}/p"],
         "corpus_bad_dev", 2),
    Case("prepare-bad-config", ["prepare", "--config", "{bad_yaml}"], "bad_yaml"),
    # backtranslate
    Case("backtranslate-missing", [*BT, "-i", "{missing}", "-o", "{out}/bt"], "missing"),
    Case("backtranslate-empty", [*BT, "-i", "{empty}", "-o", "{out}/bt"], "empty"),
    Case("backtranslate-tab", [*BT, "-i", "{mono_tab}", "-o", "{out}/bt"], "mono_tab", 2),
    Case("backtranslate-truncated-gz", [*BT, "-i", "{truncated_gz}", "-o", "{out}/bt"], "truncated_gz"),
    Case("backtranslate-bad-utf8", [*BT, "-i", "{bad_utf8_text}", "-o", "{out}/bt"], "bad_utf8_text", 2),
    Case("backtranslate-unwritable", [*BT, "-i", "{text}", "-o", "{unwritable}/bt"], "unwritable"),
    # export, train, average, plot-weights, bench, parity, data, serve
    Case("export-empty-checkpoint", ["export", "--checkpoint", "{ckpt_empty}", "--data", "{directory}", "-o",
                                     "{out}/m"], "ckpt_empty"),
    Case("train-bad-config", ["train", "--config", "{bad_yaml}"], "bad_yaml"),
    Case("train-missing-config", ["train", "--config", "{missing}"], "missing"),
    Case("average-empty-checkpoint", ["average", "--inputs", "{ckpt_empty}", "{ckpt_empty}", "-o", "{out}/a.pt"],
         "ckpt_empty"),
    Case("plot-weights-bad-log", ["plot-weights", "{weights_bad}", "-o", "{out}/w.png"], "weights_bad", 2),
    Case("show-bad-weight-log", ["show", "{weights_bad}"], "weights_bad", 2),
    Case("show-not-an-artifact", ["show", "{directory}"], "directory"),
    Case("apertium-missing-input", ["apertium", "en-es", "-i", "{missing}", "-o", "{out}/a.txt"], "missing"),
    Case("apertium-unknown-language", ["apertium", "en-xx", "-i", "{text}", "-o", "{out}/a.txt"], "'en-xx'"),
    Case("bench-corrupt-test-set", ["bench", "-m", "{model}", "-i", "{corrupt_gz}", "--pair", "en-de", "--engines",
                                    "float32"], "corrupt_gz"),
    Case("parity-missing-test-set", ["parity", "-m", "{model}", "-i", "{missing}"], "missing"),
    Case("data-sample-no-manifest", ["data", "sample", "--from", "{no_manifest}", "--out", "{out}/s"], "no_manifest"),
    Case("data-import-bad-list", ["data", "import", "--list", "{bad_utf8}", "--out", "{out}/i"], "bad_utf8"),
    Case("serve-missing-model", ["serve", "-m", "{out}/model"], "out"),
    Case("serve-missing-api-key-file", ["serve", "-m", "{model}", "--api-key-file", "{missing}"], "missing"),
    # the cleaning tools around `clean`
    Case("clean-lexicon-unknown-language", ["clean-lexicon", "-s", "en", "-t", "xx", "-i", "{pairs}", "-o",
                                            "{out}/lex.json"], "'xx'"),
    Case("clean-lexicon-too-few-pairs", ["clean-lexicon", "-s", "en", "-t", "de", "-i", "{bad_utf8}", "-o",
                                         "{out}/lex.json"], "bad_utf8"),
    Case("clean-lexicon-truncated-gz", ["clean-lexicon", "-s", "en", "-t", "de", "-i", "{truncated_gz}", "-o",
                                        "{out}/lex.json"], "truncated_gz"),
    Case("clean-learn-too-few-pairs", ["clean-learn", "--data", "en-de:{pairs}", "-o", "{out}/c.json"], "pairs"),
    Case("clean-learn-unknown-language", ["clean-learn", "--data", "en-xx:{pairs}", "-o", "{out}/c.json"], "'en-xx'"),
    Case("clean-bench-missing-corpus", ["clean-bench", "--corpus", "{out}/corpus", "--langs", "es", "--workdir",
                                        "{out}/work"], "out"),
    Case("select-missing-checkpoint", ["select", "--checkpoint", "{missing}", "--pool", "{pairs}", "--seed",
                                       "{pairs}", "-s", "en", "-t", "de", "--budget", "0.5", "-o", "{out}/s.tsv"],
         "missing"),
]


@pytest.fixture(scope="module")
def unwritable(tmp_path_factory) -> Path:
    from tests.reliability.conftest import unwritable_dir

    return unwritable_dir(tmp_path_factory.mktemp("unwritable"))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_gives_one_line_and_leaves_nothing(case, tmp_path, capsys, random_model, unwritable):
    files = make_inputs(tmp_path)
    places = {**{key: str(path) for key, path in files.items()}, "out": str(tmp_path / "out"),
              "model": str(random_model), "unwritable": str(unwritable)}
    argv = [arg.format(**places) for arg in case.argv]
    before = snapshot(tmp_path)
    result = run_cli(argv, capsys)
    assert result.exception is None, f"traceback: {result.exception!r}"
    assert "Traceback" not in result.err
    lines = result.error_lines()
    assert len(lines) == 1, result.err
    command = argv[0] if argv[0] != "data" else "data"
    assert lines[0].startswith(f"volctrans {command}: error: "), lines[0]
    assert result.code == 1
    named = places.get(case.names, case.names)
    assert named in lines[0] or os.path.basename(named) in lines[0], (named, lines[0])
    if case.line is not None:
        assert f":{case.line}:" in lines[0], lines[0]
    assert snapshot(tmp_path) == before  # no output, no temporary file, nothing changed


def test_the_console_script_really_prints_one_line(tmp_path, random_model):
    """A few cases through the installed entry point in a fresh process: real stderr, real logging."""
    files = make_inputs(tmp_path)
    before = snapshot(tmp_path)
    for argv, named in (
            (["translate", "-m", str(random_model), "-s", "en", "-t", "de", "-i", str(files["truncated_gz"]),
              "-o", str(tmp_path / "out" / "o.txt")], files["truncated_gz"]),
            (["clean", "-s", "en", "-t", "xx", "-i", str(files["pairs"]), "-o", str(tmp_path / "out" / "k.tsv")],
             "'xx'"),
    ):
        result = subprocess.run([sys.executable, "-m", "volctrans.cli.main", *argv], capture_output=True, text=True,
                                env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(named) in lines[0], result.stderr
    assert snapshot(tmp_path) == before


def test_gzip_output_is_deterministic(tmp_path, capsys):
    """Staging must not leak into the output: the gzip header names the target, not the temporary file."""
    (tmp_path / "in.tsv").write_text(PAIRS, encoding="utf-8")
    outputs = []
    for run in range(2):
        out = tmp_path / f"run{run}" / "kept.tsv.gz"
        assert run_cli(["clean", "-s", "en", "-t", "de", "-i", tmp_path / "in.tsv", "-o", out], capsys).code == 0
        outputs.append(out.read_bytes())
        with gzip.open(out, "rt", encoding="utf-8") as handle:
            assert handle.read().count("\n") == 2
    assert outputs[0] == outputs[1]
