"""Corpus I/O in one place: plain/gzip/stdin input with line-located errors, TSV and parallel files, atomic output.

Every reader decodes line by line so that invalid UTF-8 is reported with its line number, and every writer goes
through `atomic_write`, so a failed run never leaves a partial output file behind.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Iterable, Iterator, TypeVar

from volctrans.errors import InputError

STDIO = "-"
T = TypeVar("T")
MISSING_COLUMN = "missing column: expected source<TAB>target"


def utf8_problem(error: UnicodeDecodeError) -> str:
    """How every reader reports a line that is not UTF-8."""
    return f"invalid UTF-8 at byte {error.start}"


def display_name(path: str | os.PathLike) -> str:
    return "<stdin>" if str(path) == STDIO else str(path)


@contextlib.contextmanager
def open_binary(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open an input for binary reading: '-' is stdin, '*.gz' is decompressed."""
    name = str(path)
    if name == STDIO:
        yield sys.stdin.buffer
        return
    try:
        handle: BinaryIO = gzip.open(name, "rb") if name.endswith(".gz") else open(name, "rb")  # type: ignore[assignment]
    except OSError as error:
        raise InputError(name, None, f"cannot open: {error.strerror}") from error
    with handle:
        yield handle


def iter_lines(path: str | os.PathLike, allow_empty: bool = False) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, text without the line break). Raises InputError on bad UTF-8 or empty input."""
    name = display_name(path)
    count = 0
    with open_binary(path) as handle:
        try:
            for count, raw in enumerate(handle, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise InputError(name, count, utf8_problem(error)) from None
                yield count, text.rstrip("\n").rstrip("\r")
        except (gzip.BadGzipFile, EOFError, OSError) as error:
            raise InputError(name, count + 1, f"corrupt compressed input: {error}") from None
    if count == 0 and not allow_empty:
        raise InputError(name, None, "empty file")


def read_lines(path: str | os.PathLike, allow_empty: bool = False) -> list[str]:
    return [text for _, text in iter_lines(path, allow_empty=allow_empty)]


@dataclass
class TsvRow:
    """One TSV row: the source, the target and any further columns, kept as they were."""

    line: int
    source: str
    target: str
    extra: list[str]

    def fields(self) -> list[str]:
        return [self.source, self.target, *self.extra]


@dataclass
class MalformedRow:
    """A row that could not be parsed, with why; streams report these instead of dying."""

    line: int
    raw: bytes
    reason: str


def iter_tsv_rows(path: str | os.PathLike, strict: bool = True) -> Iterator[TsvRow | MalformedRow]:
    """Yield TsvRow for each `src<TAB>tgt[<TAB>extra...]` line.

    strict=True raises InputError at the first malformed line (missing column, invalid UTF-8);
    strict=False yields MalformedRow for it and goes on.
    """
    name = display_name(path)
    count = 0
    with open_binary(path) as handle:
        for count, raw in enumerate(handle, start=1):
            raw = raw.rstrip(b"\n").rstrip(b"\r")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                reason = utf8_problem(error)
                if strict:
                    raise InputError(name, count, reason) from None
                yield MalformedRow(count, raw, reason)
                continue
            columns = text.split("\t")
            if len(columns) < 2:
                reason = MISSING_COLUMN
                if strict:
                    raise InputError(name, count, reason)
                yield MalformedRow(count, raw, reason)
                continue
            yield TsvRow(count, columns[0], columns[1], columns[2:])
    if count == 0:
        raise InputError(name, None, "empty file")


def read_tsv(path: str | os.PathLike) -> list[TsvRow]:
    return [row for row in iter_tsv_rows(path, strict=True)]  # type: ignore[misc]


def iter_parallel(source_path: str | os.PathLike, target_path: str | os.PathLike) -> Iterator[tuple[int, str, str]]:
    """Yield (line, source, target) from two line-aligned files; a line-count mismatch is an error."""
    source_lines = iter_lines(source_path)
    target_lines = iter_lines(target_path)
    while True:
        source_item = next(source_lines, None)
        target_item = next(target_lines, None)
        if source_item is None and target_item is None:
            return
        if target_item is None:
            raise InputError(display_name(target_path), source_item[0],
                             f"line-count mismatch: {display_name(source_path)} has more lines")
        if source_item is None:
            raise InputError(display_name(source_path), target_item[0],
                             f"line-count mismatch: {display_name(target_path)} has more lines")
        yield source_item[0], source_item[1], target_item[1]


class _NonClosing(io.TextIOWrapper):
    def close(self) -> None:  # keep sys.stdout usable after the with-block
        self.flush()
        self.detach()


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, binary: bool = False) -> Iterator[IO]:
    """Write to a temporary file next to `path` and rename it into place only if the block succeeds.

    '-' writes to stdout. A '*.gz' path is gzip-compressed. Parent folders are created.
    """
    name = str(path)
    if name == STDIO:
        if binary:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        else:
            wrapper = _NonClosing(sys.stdout.buffer, encoding="utf-8", newline="\n", line_buffering=False)
            try:
                yield wrapper
            finally:
                wrapper.close()
        return
    target = Path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(descriptor)
    try:
        if name.endswith(".gz"):
            # mtime=0 keeps gzip output byte-identical across runs.
            raw = gzip.GzipFile(temp_name, "wb", mtime=0)
            handle: IO = raw if binary else io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        else:
            handle = open(temp_name, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": "\n"}))
        with handle:
            yield handle
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def write_lines(path: str | os.PathLike, lines) -> int:
    count = 0
    with atomic_write(path) as handle:
        for line in lines:
            handle.write(line + "\n")
            count += 1
    return count


def write_tsv(path: str | os.PathLike, rows) -> int:
    """Write rows (sequences of fields) as TSV. Tabs/newlines inside a field would corrupt the file: refuse them."""
    count = 0
    with atomic_write(path) as handle:
        for row in rows:
            for field in row:
                if "\t" in field or "\n" in field:
                    raise ValueError(f"field contains a tab or newline: {field[:60]!r}")
            handle.write("\t".join(row) + "\n")
            count += 1
    return count


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last may be shorter): streaming in bounded memory."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
