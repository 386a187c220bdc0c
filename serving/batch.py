"""Streaming batch translation of files of any size: text or one TSV column, one or several target languages.

Input is read `chunk_lines` lines at a time (memory is bounded by the chunk, not the file); each chunk is sorted by
length and batched by tokens inside CTranslate2, and written back in input order. Output rows are the kept
columns (all input columns in TSV mode, none in text mode) followed by one translation per target language.
With several targets, an output path containing `{tgt}` gets one file per target instead.

Bad input: an empty line gives an empty translation; invalid UTF-8 (or a TSV row without the column) stops the run
with `path:line: reason` (`on_error="fail"`), or, with `on_error="skip"`, writes an empty line and logs a warning.
An empty input (no line at all) is an error, and only the directions the model was trained on are translated.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Iterator

from serving.translator import DecodingOptions, Translator
from volctrans.errors import ConfigError, InputError
from volctrans.io import atomic_write, chunked, display_name, open_lines, utf8_problem

logger = logging.getLogger(__name__)

ON_ERROR = ("fail", "skip")
TARGET_PLACEHOLDER = "{tgt}"


@dataclass
class BatchConfig:
    source_lang: str
    target_langs: list[str]
    input: str = "-"
    output: str = "-"
    tsv_column: int | None = None  # 1-based column to translate; None: the whole line is the text
    on_error: str = "fail"  # fail | skip
    chunk_lines: int = 4000  # lines read, sorted and translated together (bounds memory)
    progress: bool = True

    def validate(self) -> list[str]:
        problems = []
        if not self.target_langs:
            problems.append("at least one target language is needed")
        if len(set(self.target_langs)) != len(self.target_langs):
            problems.append(f"target languages repeat: {','.join(self.target_langs)}")
        if self.on_error not in ON_ERROR:
            problems.append(f"on_error must be one of {', '.join(ON_ERROR)}")
        if self.tsv_column is not None and self.tsv_column < 1:
            problems.append("tsv_column is 1-based and must be ≥ 1")
        if self.chunk_lines < 1:
            problems.append("chunk_lines must be ≥ 1")
        if self.per_target_files() and self.output == "-":
            problems.append("'{tgt}' needs an output path, not stdout")
        return problems

    def per_target_files(self) -> bool:
        return TARGET_PLACEHOLDER in self.output

    def output_paths(self) -> list[str]:
        if self.per_target_files():
            return [self.output.replace(TARGET_PLACEHOLDER, lang) for lang in self.target_langs]
        return [self.output]


@dataclass
class Record:
    """One input line: the text to translate and the columns to keep, or why it was skipped."""

    line: int
    text: str
    kept: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class BatchStats:
    lines: int = 0
    skipped: int = 0
    seconds: float = 0.0
    targets: int = 1

    @property
    def sent_per_s(self) -> float:
        """Translations per second (lines × target languages)."""
        return self.lines * self.targets / max(self.seconds, 1e-9)


def iter_records(path: str, tsv_column: int | None, on_error: str) -> Iterator[Record]:
    """Decode the input line by line; a bad line raises InputError (fail) or becomes a Record with .error (skip)."""
    name = display_name(path)
    number = 0
    with open_lines(path) as lines:
        for number, raw in enumerate(lines, start=1):
            raw = raw.rstrip(b"\n").rstrip(b"\r")
            reason = None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                text, reason = "", utf8_problem(error)
            kept: list[str] = []
            if reason is None and tsv_column is not None:
                kept = text.split("\t")
                if len(kept) < tsv_column:
                    text, reason = "", f"missing column {tsv_column} (row has {len(kept)})"
                else:
                    text = kept[tsv_column - 1]
            if reason is not None:
                if on_error == "fail":
                    raise InputError(name, number, reason + " (use --on-error skip to write an empty line instead)")
                logger.warning("%s:%d: %s: skipped, empty output line written", name, number, reason)
                yield Record(number, "", [], reason)
                continue
            yield Record(number, text, kept)
    if number == 0:
        raise InputError(name, None, "empty file")


def _field(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def translate_file(translator: Translator, config: BatchConfig, options: DecodingOptions) -> BatchStats:
    from tqdm import tqdm

    problems = config.validate() + options.validate()
    if problems:
        raise ConfigError("translate", problems)
    for lang in config.target_langs:  # fail fast on a typo or an untrained direction, before reading input
        translator.check_direction(config.source_lang, lang)
    stats = BatchStats(targets=len(config.target_langs))
    start = time.perf_counter()
    records = iter_records(config.input, config.tsv_column, config.on_error)
    with contextlib.ExitStack() as stack:
        outputs = [stack.enter_context(atomic_write(path)) for path in config.output_paths()]
        # disable=None: a bar only on a terminal, never in a log file or between the lines of an error
        progress = stack.enter_context(tqdm(desc="translate", unit="sent", disable=None if config.progress else True,
                                            dynamic_ncols=True))
        for chunk in chunked(records, config.chunk_lines):
            texts = [record.text for record in chunk]
            translations = [translator.translate(texts, config.source_lang, lang, options)
                            for lang in config.target_langs]
            for row, record in enumerate(chunk):
                if record.error is not None:
                    stats.skipped += 1
                    for out in outputs:
                        out.write("\n")
                    continue
                per_target = [_field(translation[row]) for translation in translations]
                if config.per_target_files():
                    for out, text in zip(outputs, per_target):
                        out.write("\t".join([*record.kept, text]) + "\n")
                else:
                    outputs[0].write("\t".join([*record.kept, *per_target]) + "\n")
            stats.lines += len(chunk)
            progress.update(len(chunk) * len(config.target_langs))
    stats.seconds = time.perf_counter() - start
    return stats
