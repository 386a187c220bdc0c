"""Folder-producing stages (prepare, backtranslate, export) never mix old and new content, leave nothing behind
when they fail, and check their inputs before spending work."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from tests.conftest import DATA
from tests.reliability.conftest import run_cli, snapshot
from volctrans.errors import VolctransError


# --- backtranslate --------------------------------------------------------------------------------------------
def _bt(model, mono, out, *extra):
    return ["backtranslate", "-m", model, "-l", "de", "-i", mono, "-o", out, "--beam", "1",
            "--max-decoding-length", "6", "--shard-size", "2", *extra]


def test_backtranslate_with_a_missing_input_leaves_nothing_and_the_rerun_works(tmp_path, capsys, random_model):
    before = snapshot(tmp_path)
    result = run_cli(_bt(random_model, tmp_path / "missing.de", tmp_path / "bt"), capsys)
    assert result.exception is None and result.code == 1
    [line] = result.error_lines()
    assert f"{tmp_path / 'missing.de'}: cannot open" in line
    assert snapshot(tmp_path) == before  # no bt/.shards/settings.json to block the corrected rerun
    (tmp_path / "mono.de").write_text("Hallo Welt.\nGuten Tag.\nDanke.\n", encoding="utf-8")
    result = run_cli(_bt(random_model, tmp_path / "mono.de", tmp_path / "bt"), capsys)
    assert result.code == 0, result.err
    assert sorted(p.name for p in (tmp_path / "bt").iterdir()) == ["en-de", "manifest.json"]


def test_a_tab_in_monolingual_input_fails_before_any_decoding(tmp_path, capsys, random_model, monkeypatch):
    from serving.translator import Translator

    calls = []
    original = Translator.translate
    monkeypatch.setattr(Translator, "translate", lambda self, *a, **k: calls.append(a) or original(self, *a, **k))
    lines = [f"Satz {i}." for i in range(9)] + ["Spalte eins\tSpalte zwei"]
    (tmp_path / "mono.de").write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = run_cli(_bt(random_model, tmp_path / "mono.de", tmp_path / "bt"), capsys)
    assert result.exception is None and result.code == 1
    [line] = result.error_lines()
    assert f"{tmp_path / 'mono.de'}:10: " in line and "TAB" in line
    assert calls == [] and snapshot(tmp_path) == before


@pytest.mark.parametrize("content", [b"", b"\n  \n\n"])
def test_backtranslate_empty_input(tmp_path, capsys, random_model, content):
    (tmp_path / "mono.de").write_bytes(content)
    before = snapshot(tmp_path)
    result = run_cli(_bt(random_model, tmp_path / "mono.de", tmp_path / "bt"), capsys)
    assert result.code == 1 and len(result.error_lines()) == 1 and str(tmp_path / "mono.de") in result.err
    assert snapshot(tmp_path) == before


def test_backtranslate_untrained_direction(tmp_path, capsys, random_model):
    (tmp_path / "mono.de").write_text("Hallo.\n", encoding="utf-8")
    result = run_cli(_bt(random_model, tmp_path / "mono.de", tmp_path / "bt", "--source-lang", "zh"), capsys)
    assert result.code == 1 and "de→zh is not a direction" in result.error_lines()[0]
    assert not (tmp_path / "bt").exists()


def test_settings_of_a_run_that_wrote_no_shard_do_not_block(tmp_path, capsys, random_model):
    (tmp_path / "bt" / ".shards").mkdir(parents=True)
    (tmp_path / "bt" / ".shards" / "settings.json").write_text(json.dumps({"input": "elsewhere", "seed": 9}))
    (tmp_path / "mono.de").write_text("Hallo Welt.\n", encoding="utf-8")
    result = run_cli(_bt(random_model, tmp_path / "mono.de", tmp_path / "bt"), capsys)
    assert result.code == 0, result.err
    assert sorted(p.name for p in (tmp_path / "bt").iterdir()) == ["en-de", "manifest.json"]


def test_backtranslate_adds_a_pair_all_at_once(tmp_path, capsys, random_model, monkeypatch):
    """A corpus folder gets the new pair's file and the manifest that lists it together, or neither."""
    from volctrans.data.corpus import Manifest

    (tmp_path / "mono.de").write_text("Hallo Welt.\nGuten Tag.\n", encoding="utf-8")
    (tmp_path / "mono.zh").write_text("你好。\n", encoding="utf-8")
    assert run_cli(_bt(random_model, tmp_path / "mono.zh", tmp_path / "bt")[:4] + ["zh"] +
                   _bt(random_model, tmp_path / "mono.zh", tmp_path / "bt")[5:], capsys).code == 0
    before = snapshot(tmp_path / "bt")

    def fail(self, directory):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Manifest, "save", fail)
    result = run_cli(_bt(random_model, tmp_path / "mono.de", tmp_path / "bt"), capsys)
    assert result.code == 1 and "No space left on device" in result.error_lines()[0]
    after = snapshot(tmp_path / "bt")
    assert {k: v for k, v in after.items() if not k.startswith(".shards")} == before  # the corpus as it was
    monkeypatch.undo()
    assert run_cli(_bt(random_model, tmp_path / "mono.de", tmp_path / "bt"), capsys).code == 0  # resumes the shards
    manifest = Manifest.load(tmp_path / "bt")
    assert sorted(manifest.pairs) == ["en-de", "en-zh"]
    assert sorted(p.name for p in (tmp_path / "bt").iterdir()) == ["en-de", "en-zh", "manifest.json"]


# --- prepare ---------------------------------------------------------------------------------------------------
def _corpus(tmp_path, dev_lines: list[bytes] | None = None):
    """A copy of the tiny en-de corpus, optionally with another dev file."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    manifest = json.loads((DATA / "tiny" / "manifest.json").read_text())
    manifest["pairs"] = {"en-de": manifest["pairs"]["en-de"]}
    manifest["files"] = {"en-de": manifest["files"]["en-de"]}
    manifest["mono"] = {}
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    shutil.copytree(DATA / "tiny" / "en-de", corpus / "en-de")
    if dev_lines is not None:
        with gzip.open(corpus / manifest["files"]["en-de"]["dev"], "wb") as handle:
            handle.write(b"\n".join(dev_lines) + b"\n")
    return corpus


def test_prepare_with_a_bad_dev_file_fails_before_training_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import volctrans.prepare as prepare

    trained = []
    monkeypatch.setattr(prepare, "_train_spm", lambda *a: trained.append(a))
    corpus = _corpus(tmp_path, [b"Hello\tHallo", b"Fine\tGut", b"caf\xe9\tKaffee"])
    before = snapshot(tmp_path)
    result = run_cli(["prepare", "--corpora", corpus, "--out", tmp_path / "prepared", "--vocab-size", "300"], capsys)
    assert result.exception is None and result.code == 1
    [line] = result.error_lines()
    dev = corpus / json.loads((corpus / "manifest.json").read_text())["files"]["en-de"]["dev"]
    assert line == f"volctrans prepare: error: {dev}:3: invalid UTF-8 at byte 3"
    assert trained == [] and snapshot(tmp_path) == before


@pytest.mark.slow
def test_prepare_into_an_existing_folder_replaces_it_whole(tmp_path, capsys):
    """Slow: prepares (SentencePiece + fairseq binarization) three times (~30 s on a busy machine)."""
    corpus = _corpus(tmp_path)
    out = tmp_path / "prepared"
    assert run_cli(["prepare", "--corpora", corpus, "--out", out, "--vocab-size", "300"], capsys).code == 0
    (out / "bin-old").mkdir()  # what an earlier run with another corpus list left
    (out / "bin-old" / "train.en-de.en.bin").write_bytes(b"old")
    first_spm = (out / "spm.model").read_bytes()
    assert run_cli(["prepare", "--corpora", corpus, "--out", out, "--vocab-size", "400"], capsys).code == 0
    summary = json.loads((out / "prepared.json").read_text())
    assert summary["config"]["vocab_size"] == 400 and (out / "spm.model").read_bytes() != first_spm
    assert not (out / "bin-old").exists()  # nothing of the old folder survives next to the new one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "prepared"]
    (out / "notes.txt").write_text("mine")  # a file prepare does not write: the folder is not replaced
    result = run_cli(["prepare", "--corpora", corpus, "--out", out, "--vocab-size", "300"], capsys)
    assert result.code == 1 and "notes.txt" in result.error_lines()[0]
    assert json.loads((out / "prepared.json").read_text())["config"]["vocab_size"] == 400


def test_prepare_refuses_a_folder_of_other_files(tmp_path, capsys, monkeypatch):
    import volctrans.prepare as prepare

    monkeypatch.setattr(prepare, "_train_spm", lambda *a: (_ for _ in ()).throw(AssertionError("no work")))
    corpus = _corpus(tmp_path)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("years of work")
    result = run_cli(["prepare", "--corpora", corpus, "--out", tmp_path / "home"], capsys)
    assert result.code == 1 and "thesis.tex" in result.error_lines()[0]
    assert (tmp_path / "home" / "thesis.tex").read_text() == "years of work"


# --- export ----------------------------------------------------------------------------------------------------
def test_export_failure_keeps_the_old_model_and_leaves_no_staging(tmp_path, random_model, monkeypatch):
    """The conversion fails after the staging folder was filled: the model folder is the old one, whole."""
    import serving.export as export

    model = tmp_path / "model"
    shutil.copytree(random_model, model)
    before = snapshot(tmp_path)
    monkeypatch.setattr(export, "validate", lambda config: ({}, object()))

    class Converter:
        def __init__(self, *args, **kwargs):
            pass

        def convert(self, output_dir, **kwargs):
            from pathlib import Path

            Path(output_dir).mkdir(parents=True)
            (Path(output_dir) / "model.bin").write_bytes(b"half")
            raise RuntimeError("converter crashed")

    import ctranslate2.converters

    monkeypatch.setattr(ctranslate2.converters, "FairseqConverter", Converter)
    with pytest.raises((RuntimeError, VolctransError)):
        export.export(export.ExportConfig("ckpt.pt", str(tmp_path), str(model), force=True))
    assert snapshot(tmp_path) == before


def test_export_into_an_unwritable_place_is_one_error(tmp_path, monkeypatch):
    import serving.export as export
    from tests.reliability.conftest import unwritable_dir

    monkeypatch.setattr(export, "validate", lambda config: ({}, object()))
    with pytest.raises(VolctransError):
        export.export(export.ExportConfig("ckpt.pt", str(tmp_path), str(unwritable_dir(tmp_path) / "model")))
