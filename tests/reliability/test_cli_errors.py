"""One error path: a VolctransError is one line and exit 1, an environment error (OSError) too; anything else is
a one-line bug report and exit 2, never a bare traceback; `--debug` shows the traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.reliability.conftest import run_cli
from volctrans.errors import ConfigError, VolctransError


def _raise(error: BaseException):
    def run(args):
        raise error

    return run


@pytest.fixture
def failing_eval(monkeypatch):
    """`volctrans eval` made to raise a given exception from inside its handler."""
    import volctrans.cli.evaluate as module

    def install(error: BaseException):
        monkeypatch.setattr(module, "run", _raise(error))

    return install


def test_an_unexpected_exception_is_a_one_line_bug_report(failing_eval, capsys):
    failing_eval(ZeroDivisionError("division by zero"))
    result = run_cli(["eval", "--hyp", "h", "--ref", "r"], capsys)
    assert result.exception is None and result.code == 2
    [line] = result.error_lines()
    assert line.startswith("volctrans eval: internal error: ZeroDivisionError: division by zero")
    assert "--debug" in line and "Traceback" not in result.err


def test_debug_shows_the_traceback(failing_eval, capsys):
    failing_eval(ZeroDivisionError("division by zero"))
    result = run_cli(["--debug", "eval", "--hyp", "h", "--ref", "r"], capsys)
    assert result.code == 2 and "Traceback (most recent call last)" in result.err
    assert result.error_lines()[-1].startswith("volctrans eval: internal error: ZeroDivisionError")
    result = run_cli(["eval", "--debug", "--hyp", "h", "--ref", "r"], capsys)  # after the command, too
    assert result.code == 2 and "Traceback (most recent call last)" in result.err


@pytest.mark.parametrize("error, expected", [
    (VolctransError("fairseq-generate failed:\nTraceback (most recent call last):\n  File x\nValueError: y"),
     "volctrans eval: error: fairseq-generate failed: | Traceback"),
    (ConfigError("cfg.yaml", ["a: bad\nvalue", "b: bad"]), "volctrans eval: error: cfg.yaml: invalid configuration: a: bad | value; b: bad"),
    (PermissionError(13, "Permission denied", "/data/x.tsv"), "volctrans eval: error: /data/x.tsv: Permission denied"),
    (OSError(28, "No space left on device"), "volctrans eval: error: No space left on device"),
    (MemoryError(), "volctrans eval: error: out of memory"),
    (ModuleNotFoundError("No module named 'fastapi'", name="fastapi"),
     "volctrans eval: error: missing Python package 'fastapi'"),
])
def test_every_error_is_one_line(failing_eval, capsys, error, expected):
    failing_eval(error)
    result = run_cli(["eval", "--hyp", "h", "--ref", "r"], capsys)
    assert result.exception is None and result.code == 1
    [line] = result.error_lines()
    assert line.startswith(expected)


def test_the_console_script_prints_one_line_for_a_bug(tmp_path):
    """The real entry point in a fresh process: stderr is exactly the bug-report line."""
    script = ("import sys, volctrans.cli.evaluate as m\n"
              "def run(args):\n    raise KeyError('boom')\n"
              "m.run = run\n"
              "from volctrans.cli.main import main\nsys.exit(main(sys.argv[1:]))\n")
    result = subprocess.run([sys.executable, "-c", script, "eval", "--hyp", "h", "--ref", "r"], capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "internal error: KeyError: 'boom'" in result.stderr
