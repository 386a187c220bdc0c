"""Versioned JSON documents (learned constraints, lexicons): one reader that checks the format tag, one writer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from volctrans.errors import InputError
from volctrans.io import atomic_write


def read_versioned_json(path: str | Path, fmt: str, what: str) -> dict[str, Any]:
    """Parse `path` and check its "format" field; any problem is an InputError naming the file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(str(path), None, f"cannot read {what}: {error}") from error
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise InputError(str(path), None, f"not a {fmt} file")
    return doc


def write_json(path: str | Path, doc: dict[str, Any], readable: bool) -> None:
    """Atomic write; `readable` indents (files meant to be read by people), else compact."""
    with atomic_write(path) as handle:
        if readable:
            json.dump(doc, handle, indent=1, ensure_ascii=False)
        else:
            json.dump(doc, handle, ensure_ascii=False, separators=(",", ":"))
        handle.write("\n")
