"""Pure parts of serving/: fairseq-compatible beam scores, record reading, batch config, FLOPs estimate."""

import json
from types import SimpleNamespace

import pytest

from serving.batch import BatchConfig, iter_records
from volctrans.bench import flops_per_target_token
from serving.parity import agreement, read_test_set
from serving.translator import DecodingOptions, fairseq_scores
from volctrans.errors import InputError, VolctransError


def test_fairseq_scores_add_the_prefix_log_prob_over_the_same_length():
    # CT2 scores leave out log p(__de__) = -3.0 but normalise by len(hypothesis incl. __de__) + 1 for </s>.
    result = SimpleNamespace(hypotheses=[["__de__"], ["__de__", "a", "b", "c"]], scores=[-0.5, -0.6])
    (short, long_), = fairseq_scores([result], [-3.0], length_penalty=1.0)
    assert short == pytest.approx(-0.5 - 3.0 / 2) and long_ == pytest.approx(-0.6 - 3.0 / 5)
    assert long_ > short  # CT2's ranking prefers the short hypothesis, fairseq's the long one
    (short, long_), = fairseq_scores([result], [-3.0], length_penalty=0.5)
    assert short == pytest.approx(-0.5 - 3.0 / 2 ** 0.5) and long_ == pytest.approx(-0.6 - 3.0 / 5 ** 0.5)


def test_decoding_options_rescoring_applies_to_beam_search_only():
    assert DecodingOptions(beam_size=4).rescores()
    assert not DecodingOptions(beam_size=1).rescores()
    assert not DecodingOptions(beam_size=4, fairseq_scoring=False).rescores()
    assert DecodingOptions(beam_size=4, sampling_topk=5).validate() == ["sampling (sampling_topk != 1) needs beam_size 1"]


def test_iter_records_text_tsv_and_bad_lines(tmp_path):
    path = tmp_path / "in.tsv"
    path.write_bytes(b"a\tb\tc\n\nx\xff\tb\nonly\n")
    with pytest.raises(InputError, match=r"in.tsv:3: invalid UTF-8 at byte 1"):
        list(iter_records(str(path), None, "fail"))
    records = list(iter_records(str(path), 2, "skip"))
    assert [(r.line, r.text, r.kept, r.error) for r in records] == [
        (1, "b", ["a", "b", "c"], None),
        (2, "", [], "missing column 2 (row has 1)"),
        (3, "", [], "invalid UTF-8 at byte 1"),
        (4, "", [], "missing column 2 (row has 1)"),
    ]
    assert [r.text for r in iter_records(str(path), 1, "skip")] == ["a", "", "", "only"]


def test_batch_config_outputs_and_problems():
    config = BatchConfig("en", ["de", "zh"], output="out.{tgt}.txt")
    assert config.output_paths() == ["out.de.txt", "out.zh.txt"] and config.validate() == []
    assert BatchConfig("en", ["de", "zh"], output="out.tsv").output_paths() == ["out.tsv"]
    problems = BatchConfig("en", ["de", "de"], output="-{tgt}", tsv_column=0, on_error="ignore").validate()
    assert len(problems) == 3


def test_read_test_set_pair_from_folder(data_dir):
    test = read_test_set(data_dir / "tiny/en-zh/test.tsv.gz", limit=3)
    assert (test.pair, test.source_lang, test.target_lang, len(test.sources)) == ("en-zh", "en", "zh", 3)
    with pytest.raises(VolctransError, match="--pair"):
        read_test_set(data_dir / "tiny/manifest.json")
    assert agreement(["a", "b"], ["a", "c"]) == 50.0


def test_flops_per_target_token(tmp_path):
    shape = {"embed_dim": 4, "ffn_dim": 8, "encoder_layers": 1, "decoder_layers": 2}
    (tmp_path / "volctrans_model.json").write_text(json.dumps({"provenance": {"train_config": shape}}))
    (tmp_path / "shared_vocabulary.json").write_text(json.dumps(["a"] * 10))
    encoder, decoder = 4 * 16 + 2 * 32, 2 * (8 * 16 + 2 * 32) + 4 * 10
    assert flops_per_target_token(tmp_path, beam_size=2) == 2.0 * (2 * decoder + encoder)


def test_export_lists_every_problem_at_once(tmp_path):
    from serving.export import ExportConfig, validate
    from volctrans.errors import ConfigError

    out = tmp_path / "model"
    out.mkdir()
    with pytest.raises(ConfigError) as error:
        validate(ExportConfig(str(tmp_path / "missing.pt"), str(tmp_path / "prepared"), str(out), quantization="int4"))
    problems = "\n".join(error.value.problems)
    for expected in ("quantization 'int4'", "exists (use --force", "spm.model is missing", "checkpoint not found"):
        assert expected in problems
