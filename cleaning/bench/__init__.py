"""Labelled noisy benchmark for cleaners: build it from real clean pairs, run systems, score keep decisions.

A benchmark row is (src, tgt, noise_type); noise_type "clean" rows should be kept, all others rejected.
Duplicates of an earlier kept row (after case/punctuation folding) are labelled "duplicate", so the figures are
"after dedup"; peers that do not deduplicate get the same dedup step applied to their keep decisions.

builder.py makes the rows, systems.py runs volctrans and the peers on them, scoring.py scores keep decisions,
runner.py puts the three together (`volctrans clean-bench`).
"""

from cleaning.bench.builder import CLEAN, BenchRow, build, read_corpus, write
from cleaning.bench.runner import format_report, run_benchmark
from cleaning.bench.scoring import Scores, apply_dedup, evaluate
from cleaning.bench.systems import SYSTEMS, RunResult

__all__ = ["CLEAN", "SYSTEMS", "BenchRow", "RunResult", "Scores", "apply_dedup", "build", "evaluate", "format_report",
           "read_corpus", "run_benchmark", "write"]
