"""Streaming cleaning of files: chunks of raw lines → workers (decode, split, clean, format; parallel, output
kept in input order) → deduplication and writing in the parent.

Memory stays flat: at most `2 × workers` chunks are in flight, and only the dedup hash set grows.
Malformed rows are rejected with their own reason, `invalid_utf8` or `missing_column` (unless `strict`, where the
first one stops the run with `file:line: reason`); the first few are logged with their line numbers and the
report lists the lines of the first `MALFORMED_LISTED`. Empty input is an error, as for every other command.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import json
import logging
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Iterator

from cleaning.config import CleanConfig
from cleaning.dedup import DUPLICATE, Deduplicator
from cleaning.engine import Engine
from volctrans.errors import InputError
from volctrans.languages import check_language
from volctrans.io import MISSING_COLUMN, atomic_write, display_name, open_lines, utf8_problem

INVALID_UTF8 = "invalid_utf8"  # reason tags of malformed rows
MISSING_COLUMN_TAG = "missing_column"
MALFORMED_LOGGED = 10  # malformed rows logged one by one (file:line: reason)
MALFORMED_LISTED = 100  # malformed rows listed in the report

logger = logging.getLogger(__name__)


@dataclass
class Report:
    input: str
    total: int = 0
    kept: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process and its workers: rows / cpu_seconds is the rate per core
    workers: int = 1
    malformed_lines: list[dict] = field(default_factory=list)  # the first MALFORMED_LISTED: {"line", "reason"}

    def as_dict(self) -> dict:
        rate = self.total / self.seconds if self.seconds else 0.0
        return {"input": self.input, "total": self.total, "kept": self.kept, "rejected": self.rejected,
                "reasons": dict(sorted(self.reasons.items(), key=lambda kv: -kv[1])),
                "malformed_lines": self.malformed_lines, "seconds": round(self.seconds, 3),
                "cpu_seconds": round(self.cpu_seconds, 3), "workers": self.workers, "rows_per_s": round(rate, 1),
                "rows_per_cpu_s": round(self.total / self.cpu_seconds, 1) if self.cpu_seconds else 0.0}


# --- worker side: parse, clean and format one chunk of raw lines -----------------------------------------
@dataclass
class ChunkOutput:
    """What a worker sends back: formatted lines, so the parent only deduplicates and writes."""

    rows: int
    kept: list[str]  # output lines of rows that passed the rules ("\n"-terminated), input order
    kept_index: list[int]  # their row index in the chunk
    keys: list[int]  # their dedup keys
    kept_raw: list[str] | None  # their original fields, for "duplicate" lines in the rejected file
    rejected: list[tuple[int, str]]  # (row index, rejected-file line) for rule and malformed rejections
    reasons: dict[str, int]  # tag counts of `rejected`
    error: tuple[int, str] | None = None  # strict mode: (line, reason) of the first malformed row
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) of the malformed rows


@dataclass
class _ChunkCleaner:
    engine: Engine
    monolingual: bool
    strict: bool
    want_rejected: bool

    def _decode(self, lines: list[bytes]) -> tuple[list[bytes], list[str | None], list[tuple[int, str, str]]]:
        """Lines without their line break, their text (None if not UTF-8) and (index, tag, reason) of the
        malformed ones. One decode call for the whole chunk unless it holds invalid UTF-8."""
        stripped = [line.rstrip(b"\n").rstrip(b"\r") for line in lines]
        bad: list[tuple[int, str, str]] = []
        try:
            texts: list[str | None] = b"\n".join(stripped).decode("utf-8").split("\n")
        except UnicodeDecodeError:
            texts = []
            for i, raw in enumerate(stripped):
                try:
                    texts.append(raw.decode("utf-8"))
                except UnicodeDecodeError as error:
                    texts.append(None)
                    bad.append((i, INVALID_UTF8, utf8_problem(error)))
        return stripped, texts, bad

    def __call__(self, first_line: int, lines: list[bytes]) -> ChunkOutput:
        raw_lines, texts, bad = self._decode(lines)
        good: list[int] = []
        columns: list[list[str]] = []
        if self.monolingual:
            good = [i for i, text in enumerate(texts) if text is not None]
            columns = [[texts[i]] for i in good]  # type: ignore[list-item]
        else:
            for i, text in enumerate(texts):
                if text is None:
                    continue
                fields = text.split("\t")
                if len(fields) < 2:
                    bad.append((i, MISSING_COLUMN_TAG, MISSING_COLUMN))
                    continue
                good.append(i)
                columns.append(fields)
        if bad:
            bad.sort()
            if self.strict:
                index, _, reason = bad[0]
                return ChunkOutput(len(lines), [], [], [], None, [], {}, error=(first_line + index, reason))
        result = self.engine.run([f[0] for f in columns], None if self.monolingual else [f[1] for f in columns])
        out = ChunkOutput(len(lines), [], [], [], [] if self.want_rejected else None, [], {},
                          malformed=[(first_line + i, reason) for i, _, reason in bad])
        reasons: collections.Counter = collections.Counter()
        for i, tag, _ in bad:
            reasons[tag] += 1
            if self.want_rejected:
                out.rejected.append((i, raw_lines[i].decode("utf-8", "replace") + "\t" + tag + "\n"))
        keep = result.keep.tolist()  # Python bools: numpy scalar indexing per row is slow
        for j, (i, fields) in enumerate(zip(good, columns)):
            if keep[j]:
                fields_out = [result.src[j]] if self.monolingual else [result.src[j], result.tgt[j], *fields[2:]]
                out.kept.append("\t".join(fields_out) + "\n")
                out.kept_index.append(i)
                out.keys.append(result.keys[j])
                if out.kept_raw is not None:
                    out.kept_raw.append("\t".join(fields))
            else:
                reason = result.reasons[j]
                for tag in reason.split(","):
                    reasons[tag] += 1
                if self.want_rejected:
                    out.rejected.append((i, "\t".join(fields) + "\t" + reason + "\n"))
        if bad and self.want_rejected:
            out.rejected.sort()
        out.reasons = dict(reasons)
        return out


_CLEANER: _ChunkCleaner | None = None


def _init_worker(config: CleanConfig, src_lang: str, tgt_lang: str | None, strict: bool, want_rejected: bool) -> None:
    global _CLEANER
    _CLEANER = _ChunkCleaner(Engine(config, src_lang, tgt_lang), tgt_lang is None, strict, want_rejected)


def _run_chunk(first_line: int, lines: list[bytes]) -> ChunkOutput:
    assert _CLEANER is not None
    return _CLEANER(first_line, lines)


# --- parent side: read raw lines, hand out chunks, deduplicate and write in input order --------------------
def _raw_chunks(path: str, size: int) -> Iterator[tuple[int, list[bytes]]]:
    """(first line number, raw lines) of `size` lines each. Decoding and splitting happen in the workers, so
    the parent's share of the work (and what crosses process boundaries: one bytes object per line) stays
    small."""
    with open_lines(path) as reader:  # a damaged .gz is an InputError at its line
        while lines := list(itertools.islice(reader, size)):
            yield reader.line - len(lines) + 1, lines


def _results(chunks: Iterator[tuple[int, list[bytes]]], cleaner_args: tuple, workers: int) -> Iterator[ChunkOutput]:
    """Chunk outputs in input order; with workers > 1 at most 2 × workers chunks are in flight."""
    if workers <= 1:
        _init_worker(*cleaner_args)
        for first_line, lines in chunks:
            yield _run_chunk(first_line, lines)
        return
    # fork keeps start-up cheap (the LID model is loaded once per worker, lazily, after the fork).
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=cleaner_args) as pool:
        pending: collections.deque = collections.deque()
        for first_line, lines in chunks:
            pending.append(pool.apply_async(_run_chunk, (first_line, lines)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _progress(enabled: bool):
    if not enabled:  # importing tqdm costs ~50 ms: a few % of a 30k-row run
        return _NullBar()
    from tqdm import tqdm

    return tqdm(unit=" rows", unit_scale=True, file=sys.stderr, mininterval=1.0, smoothing=0.1, desc="clean")


def clean_file(config: CleanConfig, input_path: str, output_path: str, src_lang: str, tgt_lang: str | None,
               rejected_path: str | None = None, workers: int = 1, strict: bool = False,
               progress: bool = False) -> Report:
    """Clean a TSV (tgt_lang given) or a text file (tgt_lang None). Kept rows keep input order."""
    check_language(src_lang, "source language" if tgt_lang is not None else "language")
    if tgt_lang is not None:
        check_language(tgt_lang, "target language")
    name = display_name(input_path)
    report = Report(name, workers=workers)
    dedup = Deduplicator(config.dedup)
    reasons: collections.Counter = collections.Counter()
    cleaner_args = (config, src_lang, tgt_lang, strict, rejected_path is not None)
    start, start_cpu = time.perf_counter(), _cpu()
    with atomic_write(output_path) as out, (atomic_write(rejected_path) if rejected_path else _null()) as rej, \
            _progress(progress) as bar:
        for chunk in _results(_raw_chunks(input_path, config.chunk_size), cleaner_args, workers):
            if chunk.error is not None:
                raise InputError(name, *chunk.error)
            _note_malformed(report, name, chunk.malformed, reasons)
            reasons.update(chunk.reasons)
            duplicates: list[tuple[int, str]] = []
            kept_lines = chunk.kept
            if dedup.mode != "off":
                check = dedup.check
                unique = [check(key) is None for key in chunk.keys]
                if not all(unique):
                    kept_lines = [line for line, ok in zip(chunk.kept, unique) if ok]
                    reasons[DUPLICATE] += len(chunk.kept) - len(kept_lines)
                    if chunk.kept_raw is not None:
                        duplicates = [(index, f"{raw}\t{DUPLICATE}\n") for index, raw, ok
                                      in zip(chunk.kept_index, chunk.kept_raw, unique) if not ok]
            out.write("".join(kept_lines))
            if rej is not None:
                rej.write("".join(line for _, line in heapq.merge(chunk.rejected, duplicates)))
            report.kept += len(kept_lines)
            report.total += chunk.rows
            bar.update(chunk.rows)
        if report.total == 0:
            raise InputError(name, None, "empty file")  # inside the `with`: no output file is left behind
    malformed = reasons.get(INVALID_UTF8, 0) + reasons.get(MISSING_COLUMN_TAG, 0)
    if malformed > MALFORMED_LOGGED:
        logger.warning("%s: %d malformed rows in all (the first %d are listed in --report)", name, malformed,
                       min(malformed, MALFORMED_LISTED))
    report.seconds = time.perf_counter() - start
    report.cpu_seconds = _cpu() - start_cpu
    report.rejected = report.total - report.kept
    report.reasons = dict(reasons)
    return report


def _note_malformed(report: Report, name: str, malformed: list[tuple[int, str]], seen: collections.Counter) -> None:
    """Log the first malformed rows with their line numbers; keep the first MALFORMED_LISTED for the report."""
    already = seen.get(INVALID_UTF8, 0) + seen.get(MISSING_COLUMN_TAG, 0)
    for offset, (line, reason) in enumerate(malformed):
        tag = INVALID_UTF8 if reason.startswith("invalid UTF-8") else MISSING_COLUMN_TAG
        if already + offset < MALFORMED_LOGGED:
            logger.warning("%s:%d: %s: rejected (%s)", name, line, reason, tag)
        if len(report.malformed_lines) < MALFORMED_LISTED:
            report.malformed_lines.append({"line": line, "reason": reason})


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the workers, once the pool is closed)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class _NullBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, count: int) -> None:
        pass


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def write_report(report: Report, path: str) -> None:
    with atomic_write(path) as handle:
        json.dump(report.as_dict(), handle, indent=1, ensure_ascii=False)
        handle.write("\n")
