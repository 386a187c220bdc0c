"""Shared fixtures for the cleaning tests: real LibreOffice-help pairs (tests/data/cleaning)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "cleaning"


def real_pairs(lang: str | None = None) -> list[tuple[str, str, str, str]]:
    """(lang, en, xx, page id) rows."""
    rows = []
    for line in (DATA / "pairs.en-xx.tsv").read_text(encoding="utf-8").splitlines():
        row = tuple(line.split("\t"))
        if lang is None or row[0] == lang:
            rows.append(row)
    return rows
