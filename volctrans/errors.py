"""One error type for the whole project, so the CLI can print a one-line message and exit non-zero."""

from __future__ import annotations


class VolctransError(Exception):
    """A problem the user can fix (bad input, bad config, missing tool). Printed as one line by the CLI."""


class InputError(VolctransError):
    """Bad input data, located at a file and (when known) a 1-based line number."""

    def __init__(self, path: str, line: int | None, reason: str):
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class OutputError(VolctransError):
    """An output that cannot be written where asked (unwritable folder, a folder in the way, disk full)."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ConfigError(VolctransError):
    """Invalid configuration; carries every problem found, not just the first."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        super().__init__(f"{source}: invalid configuration: " + "; ".join(self.problems))

