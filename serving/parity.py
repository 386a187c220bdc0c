"""Parity of the CTranslate2 runtime with fairseq-generate on a test set: % of identical outputs.

Outputs are compared as SentencePiece piece sequences (stricter than strings: '▁ ▁' and '▁' both decode to '').

Greedy decoding must match 100%. For beam search the report gives both CTranslate2's own ranking and the
fairseq-compatible re-ranking that `Translator` uses by default (see `serving.translator.fairseq_rerank`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from serving.fairseq_ref import FairseqReference, FairseqRun, run_fairseq_generate
from serving.translator import DecodingOptions, Translator
from volctrans.errors import VolctransError
from volctrans.io import iter_tsv_rows

_PAIR_DIR = re.compile(r"^([a-z]{2,3}(?:_[a-z]+)?)-([a-z]{2,3}(?:_[a-z]+)?)$", re.IGNORECASE)


@dataclass
class TestSet:
    pair: str
    sources: list[str]
    references: list[str]

    @property
    def source_lang(self) -> str:
        return self.pair.split("-", 1)[0]

    @property
    def target_lang(self) -> str:
        return self.pair.split("-", 1)[1]


def read_test_set(path: str | Path, pair: str | None = None, limit: int | None = None) -> TestSet:
    """A `source<TAB>reference[<TAB>...]` test file; the pair comes from `pair` or the folder name (`en-de/`)."""
    if pair is None:
        match = _PAIR_DIR.match(Path(path).parent.name)
        if not match:
            raise VolctransError(f"{path}: cannot tell the language pair from the folder name; pass --pair SRC-TGT")
        pair = match.group(0)
    if not _PAIR_DIR.match(pair):
        raise VolctransError(f"pair '{pair}' is not of the form src-tgt")
    sources, references = [], []
    for row in iter_tsv_rows(path, strict=True):
        if limit is not None and len(sources) >= limit:
            break
        sources.append(row.source)
        references.append(row.target)
    return TestSet(pair, sources, references)


def agreement(left: list, right: list) -> float:
    if len(left) != len(right):
        raise VolctransError(f"cannot compare {len(left)} outputs with {len(right)}")
    return 100.0 * sum(a == b for a, b in zip(left, right)) / max(len(left), 1)


@dataclass
class ParityReport:
    pair: str
    sentences: int
    beam_size: int
    length_penalty: float
    identical_pct: float  # CT2 with fairseq-compatible scoring (what `translate` does) vs fairseq-generate
    identical_ct2_ranking_pct: float | None  # CT2's own beam ranking vs fairseq (None for greedy: same thing)
    mismatches: list[dict] = field(default_factory=list)  # the first few differing outputs

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        text = (f"{self.pair} beam {self.beam_size} lenpen {self.length_penalty}: {self.identical_pct:.1f}% of "
                f"{self.sentences} identical to fairseq-generate")
        if self.identical_ct2_ranking_pct is not None:
            text += f" (CT2's own beam ranking: {self.identical_ct2_ranking_pct:.1f}%)"
        return text


def parity(translator: Translator, reference: FairseqReference, test: TestSet, options: DecodingOptions,
           threads: int = 0, fairseq_run: FairseqRun | None = None, show: int = 5) -> ParityReport:
    """Compare CT2 (this translator) with fairseq-generate on the same sources and settings."""
    if fairseq_run is None:
        fairseq_run = run_fairseq_generate(reference, translator, test.sources, test.references, test.source_lang,
                                           test.target_lang, options, threads)
    expected = fairseq_run.pieces
    ours = translator.translate_pieces(test.sources, test.source_lang, test.target_lang,
                                       dataclasses.replace(options, fairseq_scoring=True))
    ct2_ranking = None
    if options.beam_size > 1:
        raw = translator.translate_pieces(test.sources, test.source_lang, test.target_lang,
                                          dataclasses.replace(options, fairseq_scoring=False))
        ct2_ranking = round(agreement(raw, expected), 2)
    mismatches = [{"line": i + 1, "source": test.sources[i], "fairseq": " ".join(expected[i]), "ct2": " ".join(ours[i])}
                  for i in range(len(ours)) if ours[i] != expected[i]][:show]
    return ParityReport(test.pair, len(test.sources), options.beam_size, options.length_penalty,
                        round(agreement(ours, expected), 2), ct2_ranking, mismatches)


def parity_runs(translator: Translator, reference: FairseqReference, tests: list[TestSet], options: DecodingOptions,
                threads: int = 0, also_greedy: bool = False, min_identical: float | None = None
                ) -> tuple[list[ParityReport], bool]:
    """Every test set at `options` (and at beam 1 with also_greedy); the reports, and whether one fell below its
    threshold: greedy must match fairseq exactly (100%), a beam run at least `min_identical`% when given."""
    runs = [options] + ([dataclasses.replace(options, beam_size=1)] if also_greedy and options.beam_size > 1 else [])
    reports, failed = [], False
    for test in tests:
        for run_options in runs:
            report = parity(translator, reference, test, run_options, threads)
            threshold = 100.0 if run_options.beam_size == 1 else min_identical
            failed |= threshold is not None and report.identical_pct < threshold
            reports.append(report)
    return reports, failed
