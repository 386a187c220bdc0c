"""Corpus I/O in one place: plain/gzip/stdin input with line-located errors, TSV and parallel files, staged output.

Every reader goes through `open_lines`, which decodes nothing but counts lines and turns a broken .gz (not gzip,
cut short, damaged, bad CRC) or a read error into `InputError(file, line, reason)`; readers decode line by line
so that invalid UTF-8 is reported with its line number. Every file output goes through `atomic_write` and every
folder output through `staged_directory`: the result is written under a hidden temporary name next to the target
(`.NAME.<pid>.<random>.tmp`) and renamed into place only when complete, so a failed or killed run never leaves a
partial output, and the temporary files of killed runs are removed by the next run that writes the same target.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gzip
import io
import os
import re
import secrets
import shutil
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Iterable, Iterator, TypeVar

from volctrans.errors import InputError, OutputError

STDIO = "-"
T = TypeVar("T")
MISSING_COLUMN = "missing column: expected source<TAB>target"
# What reading a damaged or truncated .gz raises: gzip's own error, zlib's (not an OSError), or EOFError.
_READ_ERRORS = (gzip.BadGzipFile, zlib.error, EOFError, OSError)


def utf8_problem(error: UnicodeDecodeError) -> str:
    """How every reader reports a line that is not UTF-8."""
    return f"invalid UTF-8 at byte {error.start}"


def display_name(path: str | os.PathLike) -> str:
    return "<stdin>" if str(path) == STDIO else str(path)


def _read_problem(error: BaseException) -> str:
    if isinstance(error, (gzip.BadGzipFile, zlib.error, EOFError)):
        return f"corrupt compressed input (gzip: {str(error) or type(error).__name__})"
    return f"cannot read: {getattr(error, 'strerror', None) or error}"


@contextlib.contextmanager
def open_binary(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open an input for binary reading: '-' is stdin, '*.gz' is decompressed. Prefer `open_lines`."""
    name = str(path)
    if name == STDIO:
        yield sys.stdin.buffer
        return
    try:
        handle: BinaryIO = gzip.open(name, "rb") if name.endswith(".gz") else open(name, "rb")  # type: ignore[assignment]
    except OSError as error:
        raise InputError(name, None, f"cannot open: {error.strerror}") from None
    with handle:
        yield handle


class LineReader:
    """Raw lines (with their line break) of an input; `line` is the number of the last line returned. A damaged
    .gz or a read error becomes InputError at the line where it happened."""

    def __init__(self, handle: BinaryIO, name: str):
        self._lines = iter(handle)
        self.name = name
        self.line = 0

    def __iter__(self) -> "LineReader":
        return self

    def __next__(self) -> bytes:
        try:
            raw = next(self._lines)
        except StopIteration:
            raise
        except _READ_ERRORS as error:
            raise InputError(self.name, self.line + 1, _read_problem(error)) from None
        self.line += 1
        return raw


@contextlib.contextmanager
def open_lines(path: str | os.PathLike) -> Iterator[LineReader]:
    """The one way inputs are read: '-' is stdin, '*.gz' is decompressed, errors are located (see LineReader)."""
    with open_binary(path) as handle:
        yield LineReader(handle, display_name(path))


def iter_lines(path: str | os.PathLike, allow_empty: bool = False) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, text without the line break). Raises InputError on bad UTF-8 or empty input."""
    name = display_name(path)
    count = 0
    with open_lines(path) as lines:
        for count, raw in enumerate(lines, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InputError(name, count, utf8_problem(error)) from None
            yield count, text.rstrip("\n").rstrip("\r")
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
    with open_lines(path) as lines:
        for count, raw in enumerate(lines, start=1):
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


# Temporary outputs: `.NAME.<pid>.<6 hex>.tmp` (ours) or `.NAME.<8 chars>.tmp` (tempfile.mkstemp, older versions).
_TEMP = re.compile(r"^(?:(?P<pid>\d+)\.[0-9a-f]{6}|[a-z0-9_]{8})\.tmp$")
_LEGACY_TEMP_AGE_S = 3600.0  # a temp file without a pid is only removed once it is this old
# Errors of a write that say something about the output, not about the program.
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO, errno.EACCES, errno.EPERM}


def temp_path(target: Path) -> Path:
    """A fresh hidden temporary name next to `target`, carrying this process's id (see remove_stale_temps)."""
    return target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp"


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temps(target: str | os.PathLike) -> list[Path]:
    """Remove the temporary files and folders a killed run left next to `target`: those whose process is gone
    (and those of older versions, without a pid, once an hour old). Returns what was removed."""
    target = Path(target)
    prefix = f".{target.name}."
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = _TEMP.match(entry.name[len(prefix):])
        if match is None:
            continue
        try:
            if match.group("pid") is not None:
                if _process_alive(int(match.group("pid"))):
                    continue
            elif time.time() - entry.stat(follow_symlinks=False).st_mtime < _LEGACY_TEMP_AGE_S:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def _make_parent(target: Path) -> list[Path]:
    """Create the missing folders above `target`; return those created (innermost first), so that a failed
    run can remove them again and leave nothing behind."""
    created = []
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        created.append(folder)
        folder = folder.parent
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _remove_folders(created)
        raise OutputError(str(target.parent), f"cannot create the output folder: {error.strerror}") from None
    if not target.parent.is_dir():
        raise OutputError(str(target.parent), "is not a folder")
    return created


def _remove_folders(created: list[Path]) -> None:
    for folder in created:  # innermost first; only if still empty
        try:
            folder.rmdir()
        except OSError:
            return


def _output_error(target: Path, error: OSError) -> OutputError:
    return OutputError(str(target), f"cannot write: {error.strerror or error}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, binary: bool = False) -> Iterator[IO]:
    """Write to a temporary file next to `path` and rename it into place only if the block succeeds.

    '-' writes to stdout. A '*.gz' path is gzip-compressed (byte-identical across runs). Parent folders are
    created (and removed again if the write fails). The file is flushed to disk before the rename, so the target is always either the old or the
    complete new file. Stale temporary files of killed runs writing the same target are removed first. An
    output that cannot be written (an unwritable folder, a folder in the way, a full disk) is an OutputError.
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
    if target.is_dir():
        raise OutputError(name, "is a directory (give a file name)")
    created = _make_parent(target)
    remove_stale_temps(target)
    temp = temp_path(target)
    try:
        raw = open(temp, "xb")
    except OSError as error:
        _remove_folders(created)
        raise OutputError(name, f"cannot write in {target.parent}: {error.strerror}") from None
    handle: IO | None = None
    try:
        if name.endswith(".gz"):
            # mtime=0 and the target's own name keep gzip output byte-identical across runs.
            compressed = gzip.GzipFile(filename=target.name[:-3], mode="wb", fileobj=raw, mtime=0)
            handle = compressed if binary else io.TextIOWrapper(compressed, encoding="utf-8", newline="\n")
        else:
            handle = raw if binary else io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        yield handle
        handle.close()  # a gzip or text wrapper closes `raw` too
        if not raw.closed:
            raw.close()
        _fsync(temp)
        os.replace(temp, target)
    except BaseException as error:
        for closing in (handle, raw):
            with contextlib.suppress(Exception):
                if closing is not None:
                    closing.close()
        with contextlib.suppress(OSError):
            os.unlink(temp)
        _remove_folders(created)
        if isinstance(error, OSError) and error.errno in _OUTPUT_ERRNOS and error.filename in (None, str(temp)):
            raise _output_error(target, error) from None
        raise


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def replace_directory(staging: Path, target: Path) -> None:
    """Put the folder `staging` in place of `target` (which may exist): never a mix of the two. With an
    existing target the two are exchanged atomically where the system allows it, and the old one removed."""
    try:
        if not target.exists():
            try:
                os.rename(staging, target)
                return
            except OSError as error:
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
        if _exchange(staging, target):
            shutil.rmtree(staging)  # now the old folder
            return
        old = temp_path(target)
        os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old)
    except OSError as error:
        raise _output_error(target, error) from None


@contextlib.contextmanager
def staged_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Build a folder output in a hidden temporary folder next to `path`; on success it replaces `path` whole
    (an existing folder's old content does not survive), on failure it is removed and `path` is untouched."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise OutputError(str(target), "exists and is not a folder")
    created = _make_parent(target)
    remove_stale_temps(target)
    staging = temp_path(target)
    try:
        staging.mkdir()
    except OSError as error:
        _remove_folders(created)
        raise OutputError(str(target), f"cannot write in {target.parent}: {error.strerror}") from None
    try:
        yield staging
        replace_directory(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_folders(created)
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
