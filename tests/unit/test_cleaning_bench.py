"""The noisy-benchmark builder and the keep-decision scores (exact values on small cases)."""

from __future__ import annotations

import numpy as np

from cleaning import bench
from cleaning.corrupt import NOISE_TYPES, Corruptor
from tests.unit.cleaning_helpers import real_pairs


def make_corpus(root):
    for lang in ("de", "zh"):
        folder = root / f"en-{lang}"
        folder.mkdir(parents=True)
        rows = real_pairs(lang) * 4  # repeats become gold duplicates
        (folder / "test.tsv").write_text("".join(f"{en}\t{xx}\t{page}\n" for _, en, xx, page in rows), encoding="utf-8")


def test_build_labels_noise_and_duplicates(tmp_path):
    make_corpus(tmp_path)
    rows = bench.build(tmp_path, "de", "test", seed=5, noise_rate=0.5, other_langs=["de", "zh"])
    kinds = {row.noise for row in rows}
    assert "clean" in kinds and "duplicate" in kinds and kinds <= {"clean", *NOISE_TYPES}
    clean = [(r.src, r.tgt) for r in rows if r.noise == "clean"]
    assert len(clean) == len(set(clean)) <= len(real_pairs("de"))  # gold keeps each pair once
    again = bench.build(tmp_path, "de", "test", seed=5, noise_rate=0.5, other_langs=["de", "zh"])
    assert again == rows  # deterministic for a seed


def test_corruptor_kinds():
    pairs = [(en, de) for _, en, de, _ in real_pairs("de")]
    import random

    corrupt = Corruptor(pairs, random.Random(1), other_lang=lambda i: "Ceci est une phrase en français.")
    s, t = pairs[1]
    assert corrupt("mojibake", 1, (s, t))[1] != t
    assert corrupt("wrong_lang", 1, (s, t)) == (s, "Ceci est une phrase en français.")
    assert "<" in "".join(corrupt("html", 1, (s, t))) or "&" in "".join(corrupt("html", 1, (s, t)))
    glued = corrupt("glued", 1, (s, t))
    assert len(glued[0]) > len(s) or len(glued[1]) > len(t)


def test_evaluate_exact_values():
    rows = [bench.BenchRow("a", "b", k) for k in ["clean", "clean", "clean", "clean", "misaligned", "html"]]
    keep = np.array([True, True, True, False, True, False])
    scores = bench.evaluate(rows, keep)
    assert scores.precision == 3 / 4 and scores.recall == 3 / 4 and abs(scores.f1 - 0.75) < 1e-12
    assert scores.noise_recall == {"misaligned": 0.0, "html": 1.0}


def test_peers_missing_are_reported_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv("BICLEANER_VENV", str(tmp_path / "nowhere"))
    monkeypatch.setenv("OPUSFILTER_VENV", str(tmp_path / "nowhere"))
    make_corpus(tmp_path / "corpus")
    report = bench.run_benchmark(tmp_path / "corpus", ["zh"], "test", 3,
                                 ["volctrans", "bicleaner-hardrules", "opusfilter"], tmp_path / "work",
                                 all_langs=("de", "zh"))
    assert report["systems"]["bicleaner-hardrules"] == {"note": "not installed"}
    assert report["systems"]["volctrans"]["f1"] > 0.8
    assert "not installed" in bench.format_report(report)
