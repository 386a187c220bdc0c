"""`volctrans show`: one-line summaries of the artifacts between stages, recognised by their contract files."""

import json

import pytest

from tests.conftest import DATA
from volctrans.cli.main import main
from volctrans.errors import VolctransError
from volctrans.evaluate import score_pair, write_scores
from volctrans.show import describe, weight_lines


def test_a_corpus_a_training_run_and_a_prepared_folder(tmp_path):
    assert describe(DATA / "tiny") == ["libreoffice: train pairs {'en-de': 400, 'en-zh': 400}"]
    run = tmp_path / "checkpoints-clean"
    run.mkdir()
    summary = {"wall_seconds": 243.4, "peak_rss_mb": 942.0, "resumed": True, "weighting": "temperature",
               "max_update": 1000}
    (run / "train_summary.json").write_text(json.dumps(summary))
    assert describe(run) == ["checkpoints-clean: 1000 updates (temperature weighting) in 243 s, peak RSS 942 MB "
                             "(resumed)"]
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    sources = {"libreoffice": {"pairs": {"en-es": {"train": 10}, "en-ru": {"train": 5}}},
               "bt": {"pairs": {"en-ru": {"train": 2}}}}
    (prepared / "prepared.json").write_text(json.dumps({"vocabulary": 3997, "sources": sources}))
    assert describe(prepared) == ["binarized train pairs: {'libreoffice': 15, 'bt': 2} | vocabulary 3997"]
    (run / "train_summary.json").write_text("{}")
    with pytest.raises(VolctransError, match="missing max_update, wall_seconds, peak_rss_mb"):
        describe(run)


def test_weight_rows_are_evenly_spaced_and_end_with_the_last_update():
    records = [{"update": u, "weights": {"bt": 0.5 - u / 1000, "libreoffice": 0.5 + u / 1000}}
               for u in range(1, 142, 20)]
    lines = weight_lines(records, rows=4)
    assert lines[0] == "update     1: bt=0.499, libreoffice=0.501"
    assert lines[-1] == "update   141: bt=0.359, libreoffice=0.641"
    assert len(lines) == 5  # every 2nd of 8 records, then the last
    assert weight_lines([]) == []


def test_scores_by_system_and_the_cli(tmp_path, capsys):
    scores = [score_pair("en-es", ["Guarde el documento."], ["Guarde el documento."], "final"),
              score_pair("en-ru", ["Сохраните документ."], ["Сохраните файл."], "final"),
              score_pair("en-es", ["Salvar documento."], ["Guarde el documento."], "apertium")]
    write_scores(scores, str(tmp_path / "scores.json"))
    assert main(["show", str(tmp_path / "scores.json")]) == 0
    final, apertium = capsys.readouterr().out.splitlines()
    assert final.startswith("final     avg chrF++ ") and "(en-es 100.0/100.0, en-ru " in final
    assert apertium.startswith("apertium  avg chrF++ ")
    assert main(["show", str(tmp_path / "nothing-here")]) == 1
