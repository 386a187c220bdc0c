"""Shared pieces of the reliability suite: a random-weight model (built in about a second), a CLI runner that
records what a user would see, and snapshots of a folder to prove that a failed run left nothing behind."""

from __future__ import annotations

import gzip
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import DATA

PAIRS = ["en-de", "de-en", "en-zh", "zh-en"]  # English-centric: de→zh and en→en are not trained


def tiny_sentences() -> list[str]:
    sentences = []
    for pair in ("en-de", "en-zh"):
        with gzip.open(DATA / "tiny" / pair / "train.tsv.gz", "rt", encoding="utf-8") as handle:
            for line in handle:
                sentences.extend(line.rstrip("\n").split("\t")[:2])
    return sentences


@pytest.fixture(scope="session")
def random_model(tmp_path_factory) -> Path:
    from tests.reliability.random_model import build_random_model

    return build_random_model(tmp_path_factory.mktemp("random-model") / "model", tiny_sentences(), PAIRS)


@dataclass
class CliResult:
    code: int | None
    out: str
    err: str
    exception: BaseException | None = None  # raised out of main(): a traceback for the user

    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_cli(argv: list[str], capsys) -> CliResult:
    """`volctrans ARGV` in this process, as the console script runs it (logging goes to pytest, not stderr)."""
    from volctrans.cli.main import main

    capsys.readouterr()
    code, exception = None, None
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException as error:  # noqa: BLE001 - what escapes main() is what the user sees as a traceback
        exception = error
        traceback.print_exc()
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err, exception)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under `folder` (hidden ones too) → (size, mtime_ns); folders count as size -1."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            found[os.path.relpath(os.path.join(root, name), folder)] = (-1, 0)
        for name in files:
            stat = os.stat(os.path.join(root, name))
            found[os.path.relpath(os.path.join(root, name), folder)] = (stat.st_size, stat.st_mtime_ns)
    return found


def unwritable_dir(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (a chmod 555 folder, or for root a sysfs folder)."""
    if os.geteuid() != 0:
        folder = tmp_path / "readonly"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    folder = Path("/sys/kernel")
    probe = folder / "volctrans-probe"
    try:
        probe.mkdir()
    except PermissionError:
        return folder
    except OSError:
        pass
    else:
        probe.rmdir()
    pytest.skip("no unwritable folder available as root here")


from tests.serving.conftest import tiny_model  # noqa: E402,F401  (the trained tiny model, for the slow tests)
