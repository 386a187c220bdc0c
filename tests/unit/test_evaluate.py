import json

import pytest

from volctrans.cli.main import main
from volctrans.evaluate import bleu_tokenizer, score_pair
from volctrans.errors import VolctransError


def test_exact_scores_german():
    hyps = ["Fügt eine neue Tabelle ein.", "Speichert das Dokument."]
    refs = ["Fügt eine neue Tabelle ein.", "Speichern Sie das Dokument."]
    score = score_pair("en-de", hyps, refs)
    # Values computed by sacrebleu 2.6 (13a tokenizer, chrF++ word_order=2): a perfect and a partial match.
    assert score.bleu == pytest.approx(75.79, abs=0.01)
    assert score.chrf == pytest.approx(84.34, abs=0.01)
    assert "tok:13a" in score.signatures["bleu"] and "nw:2" in score.signatures["chrf"]


def test_cjk_tokenizers_make_bleu_meaningful():
    assert bleu_tokenizer("zh") == "zh"
    assert bleu_tokenizer("ja") in ("ja-mecab", "char")
    score = score_pair("en-zh", ["插入新表格。"], ["插入新表格。"])
    assert score.bleu == 100.0 and "tok:zh" in score.signatures["bleu"]
    partial = score_pair("en-zh", ["插入表格。"], ["插入新表格。"])
    assert 0 < partial.bleu < 100  # with 13a the whole sentence would be one token and score 0


def test_mismatched_lengths_are_refused():
    with pytest.raises(VolctransError, match="2 hypotheses but 1 references"):
        score_pair("en-de", ["a", "b"], ["a"])


def test_cli_tsv_reference_and_json(tmp_path):
    (tmp_path / "hyp.txt").write_text("Fügt eine neue Tabelle ein.\nSpeichern Sie das Dokument.\n", encoding="utf-8")
    (tmp_path / "test.tsv").write_text("Inserts a new table.\tFügt eine neue Tabelle ein.\tp#1\n"
                                       "Save the document.\tSpeichern Sie das Dokument.\tp#2\n", encoding="utf-8")
    out = tmp_path / "scores.json"
    assert main(["eval", "--hyp", str(tmp_path / "hyp.txt"), "--tsv", str(tmp_path / "test.tsv"), "--pair", "en-de",
                 "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["pairs"][0]["bleu"] == 100.0 and data["average"]["volctrans"]["chrf"] == 100.0
    # xx→en: the reference is column 1 of the same TSV.
    (tmp_path / "hyp.en").write_text("Inserts a new table.\nSave the document.\n", encoding="utf-8")
    assert main(["eval", "--hyp", str(tmp_path / "hyp.en"), "--tsv", str(tmp_path / "test.tsv"), "--ref-column", "1",
                 "--pair", "de-en", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["pairs"][0]["chrf"] == 100.0


def test_systems_are_averaged_separately(tmp_path, capsys):
    (tmp_path / "ref").write_text("Fügt eine neue Tabelle ein.\n", encoding="utf-8")
    (tmp_path / "good").write_text("Fügt eine neue Tabelle ein.\n", encoding="utf-8")
    (tmp_path / "bad").write_text("Eine Tabelle.\n", encoding="utf-8")
    out = tmp_path / "s.json"
    assert main(["eval", "--spec", "final/en-de", str(tmp_path / "good"), str(tmp_path / "ref"),
                 "--spec", "apertium/en-de", str(tmp_path / "bad"), str(tmp_path / "ref"), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["average"]["final"]["chrf"] == 100.0 and data["average"]["apertium"]["chrf"] < 60
    assert [p["system"] for p in data["pairs"]] == ["final", "apertium"]
    assert "apertium       average" in capsys.readouterr().out


def test_cli_line_count_mismatch_names_the_file(tmp_path, capsys):
    (tmp_path / "hyp.txt").write_text("a\n", encoding="utf-8")
    (tmp_path / "ref.txt").write_text("a\nb\n", encoding="utf-8")
    assert main(["eval", "--hyp", str(tmp_path / "hyp.txt"), "--ref", str(tmp_path / "ref.txt"), "--pair", "en-de"]) == 1
    assert f"{tmp_path / 'hyp.txt'}: 1 lines but the reference" in capsys.readouterr().err
