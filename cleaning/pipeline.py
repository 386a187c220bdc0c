"""Streaming cleaning of files: chunks of rows → workers (parallel, output kept in input order) → writers.

Memory stays flat: at most `2 × workers` chunks are in flight, and only the dedup hash set grows.
Malformed rows (missing column, bad UTF-8) are rejected with reason `malformed` unless `strict`.
"""

from __future__ import annotations

import collections
import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Iterator

from cleaning.config import CleanConfig
from cleaning.dedup import Deduplicator
from cleaning.engine import BatchResult, Engine
from volctrans.errors import InputError
from volctrans.io import MalformedRow, TsvRow, atomic_write, chunked, display_name, iter_tsv_rows, open_binary

MALFORMED = "malformed"


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

    def as_dict(self) -> dict:
        rate = self.total / self.seconds if self.seconds else 0.0
        return {"input": self.input, "total": self.total, "kept": self.kept, "rejected": self.rejected,
                "reasons": dict(sorted(self.reasons.items(), key=lambda kv: -kv[1])), "seconds": round(self.seconds, 3),
                "cpu_seconds": round(self.cpu_seconds, 3), "workers": self.workers, "rows_per_s": round(rate, 1),
                "rows_per_cpu_s": round(self.total / self.cpu_seconds, 1) if self.cpu_seconds else 0.0}


# --- worker side -----------------------------------------------------------------------------------------
_ENGINE: Engine | None = None


def _init_worker(config: CleanConfig, src_lang: str, tgt_lang: str | None) -> None:
    global _ENGINE
    _ENGINE = Engine(config, src_lang, tgt_lang)


def _run_chunk(payload: tuple[list[str], list[str] | None]) -> BatchResult:
    assert _ENGINE is not None
    return _ENGINE.run(*payload)


# --- reading ----------------------------------------------------------------------------------------------
def _iter_mono(path: str, strict: bool) -> Iterator[TsvRow | MalformedRow]:
    """Monolingual lines as TsvRow(source=line, target=''), bad UTF-8 as MalformedRow (or InputError)."""
    name = display_name(path)
    with open_binary(path) as handle:
        for count, raw in enumerate(handle, start=1):
            raw = raw.rstrip(b"\n").rstrip(b"\r")
            try:
                yield TsvRow(count, raw.decode("utf-8"), "", [])
            except UnicodeDecodeError as error:
                if strict:
                    raise InputError(name, count, f"invalid UTF-8 at byte {error.start}") from None
                yield MalformedRow(count, raw, f"invalid UTF-8 at byte {error.start}")


def _payload(chunk: list[TsvRow | MalformedRow], monolingual: bool) -> tuple[list[str], list[str] | None]:
    good = [row for row in chunk if isinstance(row, TsvRow)]
    return [row.source for row in good], None if monolingual else [row.target for row in good]


def _results(chunks: Iterator[list], config: CleanConfig, src_lang: str, tgt_lang: str | None,
             workers: int) -> Iterator[tuple[list, BatchResult]]:
    """(chunk, result) in input order; with workers > 1 at most 2 × workers chunks are in flight."""
    monolingual = tgt_lang is None
    if workers <= 1:
        engine = Engine(config, src_lang, tgt_lang)
        for chunk in chunks:
            yield chunk, engine.run(*_payload(chunk, monolingual))
        return
    # fork keeps start-up cheap (the LID model is loaded once per worker, lazily, after the fork).
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(config, src_lang, tgt_lang)) as pool:
        pending: collections.deque = collections.deque()
        for chunk in chunks:
            pending.append((chunk, pool.apply_async(_run_chunk, (_payload(chunk, monolingual),))))
            if len(pending) >= 2 * workers:
                done_chunk, result = pending.popleft()
                yield done_chunk, result.get()
        while pending:
            done_chunk, result = pending.popleft()
            yield done_chunk, result.get()


def _progress(enabled: bool):
    from tqdm import tqdm

    return tqdm(unit=" rows", unit_scale=True, disable=not enabled, file=sys.stderr, mininterval=1.0,
                smoothing=0.1, desc="clean")


def clean_file(config: CleanConfig, input_path: str, output_path: str, src_lang: str, tgt_lang: str | None,
               rejected_path: str | None = None, workers: int = 1, strict: bool = False,
               progress: bool = False) -> Report:
    """Clean a TSV (tgt_lang given) or a text file (tgt_lang None). Kept rows keep input order."""
    monolingual = tgt_lang is None
    rows = _iter_mono(input_path, strict) if monolingual else iter_tsv_rows(input_path, strict=strict)
    report = Report(display_name(input_path), workers=workers)
    dedup = Deduplicator(config.dedup)
    reasons: collections.Counter = collections.Counter()
    start, start_cpu = time.perf_counter(), _cpu()
    with atomic_write(output_path) as out, (atomic_write(rejected_path) if rejected_path else _null()) as rej, \
            _progress(progress) as bar:
        for chunk, result in _results(chunked(rows, config.chunk_size), config, src_lang, tgt_lang, workers):
            j = 0
            keep = result.keep.tolist()  # Python bools: numpy scalar indexing per row is slow
            kept_lines: list[str] = []  # written once per chunk
            for row in chunk:
                if isinstance(row, MalformedRow):
                    reasons[MALFORMED] += 1
                    if rej is not None:
                        rej.write(row.raw.decode("utf-8", "replace") + "\t" + MALFORMED + "\n")
                    continue
                reason = result.reasons[j]
                if keep[j]:
                    reason = dedup.check(result.keys[j]) or ""
                if not reason:
                    fields = [result.src[j]] if monolingual else [result.src[j], result.tgt[j], *row.extra]
                    kept_lines.append("\t".join(fields) + "\n")
                else:
                    for tag in reason.split(","):
                        reasons[tag] += 1
                    if rej is not None:
                        fields = [row.source] if monolingual else [row.source, row.target, *row.extra]
                        rej.write("\t".join(fields) + "\t" + reason + "\n")
                j += 1
            out.write("".join(kept_lines))
            report.kept += len(kept_lines)
            report.total += len(chunk)
            bar.update(len(chunk))
    report.seconds = time.perf_counter() - start
    report.cpu_seconds = _cpu() - start_cpu
    report.rejected = report.total - report.kept
    report.reasons = dict(reasons)
    return report


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the workers, once the pool is closed)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def write_report(report: Report, path: str) -> None:
    with atomic_write(path) as handle:
        json.dump(report.as_dict(), handle, indent=1, ensure_ascii=False)
        handle.write("\n")
