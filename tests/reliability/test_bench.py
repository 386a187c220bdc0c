"""`volctrans bench`/`parity` on a test set with sentences longer than the model's positions: the fairseq side gets
the same truncated inputs as CTranslate2, so fairseq never rejects a sample."""

from __future__ import annotations

import gzip

import pytest

from serving.translator import DecodingOptions


def test_fairseq_inputs_fit_the_model_positions(tmp_path, random_model):
    from serving.fairseq_ref import write_generate_inputs
    from serving.translator import Translator

    translator = Translator(random_model, intra_threads=1)
    long = " ".join(["Insert a new table into the document and save it."] * 60)
    sources, references = ["Hello.", long, ""], [long, "Hallo.", ""]
    written = write_generate_inputs(tmp_path, translator, sources, references, "en", "de", DecodingOptions(), [0, 1])
    for lang, cap in (("en", translator.max_input_pieces), ("de", translator.max_output_tokens)):
        lines = (tmp_path / f"test.{lang}").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2 and max(len(line.split()) for line in lines) == cap
    assert written == tmp_path / "test"


@pytest.mark.slow
def test_bench_with_a_sentence_longer_than_the_positions(tmp_path, tiny_model, capsys):
    """Slow: fairseq-generate on the trained tiny model (positions 128) with a 300-piece reference and source."""
    from tests.reliability.conftest import run_cli

    long_en = " ".join(["Inserts a new table into the current document."] * 40)
    long_de = " ".join(["Fügt eine neue Tabelle in das aktuelle Dokument ein."] * 40)
    test = tmp_path / "en-de" / "test.tsv.gz"
    test.parent.mkdir()
    with gzip.open(test, "wt", encoding="utf-8") as handle:
        handle.write("Save the document.\tSpeichern Sie das Dokument.\n")
        handle.write(f"{long_en}\t{long_de}\n")
        handle.write("Close the window.\tSchließen Sie das Fenster.\n")
    result = run_cli(["bench", "-m", tiny_model.model, "--checkpoint", tiny_model.checkpoint, "--data",
                      tiny_model.prepared, "-i", test, "--engines", "fairseq,float32", "--beam", "1",
                      "--max-decoding-length", "20", "--latency-sentences", "2", "--threads", "1"], capsys)
    assert result.exception is None and result.code == 0, result.err
    assert "| fairseq | float32 |" in result.out and "| ctranslate2 | float32 |" in result.out
