"""CTranslate2 vs fairseq-generate on the tiny model: greedy identical, beam agreement, bench JSON rows."""

import json

import pytest

from volctrans.cli.main import main

pytestmark = pytest.mark.slow

# The tiny model's n-best lists are full of near-ties and length-capped hypotheses, where fairseq's and CT2's beam
# bookkeeping can still differ; on the demo model the agreement is measured in docs/benchmarks.md.
MIN_BEAM_AGREEMENT = 90.0


def _parity(tiny_model, tmp_path, *options):
    report_path = tmp_path / "parity.json"
    status = main(["parity", "-m", str(tiny_model.model), "--checkpoint", str(tiny_model.checkpoint),
                   "--data", str(tiny_model.prepared), "-i", str(tiny_model.test_set("en-de")), "--threads", "1",
                   "--json", str(report_path), *options])
    report, = json.loads(report_path.read_text())
    return status, report


def test_parity_greedy_is_exact(tiny_model, tmp_path):
    # This early model ends every greedy output at once; a minimum length makes the comparison non-trivial.
    status, report = _parity(tiny_model, tmp_path, "--beam", "1", "--min-decoding-length", "3")
    assert status == 0 and report["beam_size"] == 1 and report["sentences"] == 40
    assert report["identical_pct"] == 100.0 and report["mismatches"] == []


def test_parity_beam_reranked_like_fairseq(tiny_model, tmp_path):
    status, report = _parity(tiny_model, tmp_path, "--beam", "4", "--min-identical", str(MIN_BEAM_AGREEMENT))
    assert status == 0 and report["beam_size"] == 4
    assert report["identical_pct"] >= MIN_BEAM_AGREEMENT
    # The re-ranking is what closes the gap (on this model CT2's own ranking agreed on about half).
    assert report["identical_pct"] >= report["identical_ct2_ranking_pct"]


def test_bench_reports_every_engine_with_quality(tiny_model, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "-m", str(tiny_model.model), "--checkpoint", str(tiny_model.checkpoint),
                 "-i", str(tiny_model.test_set("en-zh")), "--limit", "20", "--threads", "1", "--beam", "1",
                 "--latency-sentences", "5", "--device", "auto", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    rows = {(row["engine"], row["compute_type"]): row for row in report["results"]}
    assert set(rows) == {("fairseq", "float32"), ("ctranslate2", "float32"), ("ctranslate2", "int8"),
                         ("ctranslate2", "float16"), ("ctranslate2", "int8_float16")}
    for key in (("fairseq", "float32"), ("ctranslate2", "float32"), ("ctranslate2", "int8")):
        row = rows[key]
        assert row["status"] == "ok" and row["sentences"] == 20
        for name in ("sent_per_s", "tok_per_s", "bleu", "chrf", "peak_rss_mb"):
            assert isinstance(row[name], (int, float)), (key, name)
    assert rows[("ctranslate2", "float32")]["identical_to_fairseq_pct"] == 100.0  # greedy: exact parity
    assert rows[("ctranslate2", "float32")]["latency_p50_ms"] > 0
    # CPU roofline: against the fp32 GEMM rate measured here; a tiny model uses a small share of it.
    for key in (("fairseq", "float32"), ("ctranslate2", "float32")):
        assert rows[key]["roofline_peak_gflops"] > 0 and 0 < rows[key]["roofline_pct"] < 100
    assert rows[("ctranslate2", "float16")]["status"] in ("no GPU", "ok")
    printed = capsys.readouterr().out
    assert "| fairseq | float32 |" in printed and "× fairseq" in printed and "roofline %" in printed
