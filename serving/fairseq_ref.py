"""fairseq-generate as the reference engine: same inputs, same decoding settings, run as a measured subprocess.

Sources are SentencePiece-encoded and truncated exactly as the CTranslate2 translator does, binarized with the
model's dictionary (fairseq-preprocess) and decoded with fairseq-generate (`translation_multi_simple_epoch`,
`--encoder-langtok src --decoder-langtok`, `--required-batch-size-multiple 1` so no partial batch is dropped).
Hypotheses are read from the H- lines (pieces), language tokens dropped and decoded with the same SentencePiece
model, so string differences are decoding differences only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from serving.translator import DecodingOptions, Translator
from volctrans.artifacts import DICTIONARY, LANG_DICT, fairseq_env, plugin_dir
from volctrans.errors import VolctransError

_TRANSLATED = re.compile(r"Translated ([\d,]+) sentences \(([\d,]+) tokens\) in ([\d.]+)s")


@dataclass
class ChildRun:
    """A finished subprocess: exit status, wall time, peak resident memory (this child only), its output."""

    returncode: int
    wall_s: float
    peak_rss_mb: float
    output: str

    def last_line(self) -> str:
        """What a failure says (the exception line of a Python traceback), with the exit status."""
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        return f"{lines[-1] if lines else 'no output'} (exit status {self.returncode})"


def run_measured(command: list[str], env: dict | None = None) -> ChildRun:
    """Run a command, capturing stdout+stderr in a temp file, with its own peak RSS from wait4 (Linux)."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        return ChildRun(process.returncode, wall, usage.ru_maxrss / 1024.0, log.read())


@dataclass
class FairseqRun:
    hypotheses: list[str]
    pieces: list[list[str]]  # output pieces without language tokens ([] for empty sources)
    decode_s: float  # fairseq's own "Translated N sentences ... in Xs": decoding only, model load excluded
    wall_s: float  # the whole fairseq-generate process, model load included
    peak_rss_mb: float
    command: list[str] = field(default_factory=list)


@dataclass
class FairseqReference:
    """Where the fairseq side of a model lives: the checkpoint and the `volctrans prepare` folder."""

    checkpoint: str
    data: str  # prepared folder: dict.txt, bin/langs.txt

    @classmethod
    def for_model(cls, translator: Translator, checkpoint: str | None, data: str | None) -> "FairseqReference":
        provenance = translator.metadata.get("provenance", {})
        checkpoint = checkpoint or provenance.get("checkpoint")
        data = data or provenance.get("data")
        problems = []
        if not checkpoint or not Path(checkpoint).is_file():
            problems.append(f"fairseq checkpoint not found: {checkpoint} (pass --checkpoint)")
        if not data or not (Path(data) / DICTIONARY).is_file():
            problems.append(f"prepared data folder with dict.txt not found: {data} (pass --data)")
        if problems:
            raise VolctransError("; ".join(problems))
        return cls(str(checkpoint), str(data))


def run_fairseq_generate(reference: FairseqReference, translator: Translator, sources: list[str], references: list[str],
                         source_lang: str, target_lang: str, options: DecodingOptions, threads: int = 0,
                         device: str = "cpu") -> FairseqRun:
    """Translate `sources` with fairseq-generate; '' for empty sources (as the CT2 translator does)."""
    if options.sampling_topk != 1:
        raise VolctransError("the fairseq reference run supports beam search and greedy only")
    length_cap = length_cap_arguments(translator, options)
    todo = [i for i, text in enumerate(sources) if text.strip()]
    work = Path(tempfile.mkdtemp(prefix="volctrans-fairseq-"))
    env = fairseq_env(threads)
    try:
        raw = work / "raw"
        raw.mkdir()
        prefix = write_generate_inputs(raw, translator, sources, references, source_lang, target_lang, options, todo)
        bin_dir = work / "bin"
        dictionary = Path(reference.data) / DICTIONARY
        preprocess = run_measured([
            sys.executable, "-m", "fairseq_cli.preprocess", "--source-lang", source_lang, "--target-lang", target_lang,
            "--testpref", str(prefix), "--destdir", str(bin_dir), "--srcdict", str(dictionary),
            "--tgtdict", str(dictionary), "--workers", "1",
        ], env)
        if preprocess.returncode != 0:
            raise VolctransError(f"fairseq-preprocess failed: {preprocess.last_line()}")
        for lang in translator.langs:  # the multilingual task loads a dictionary per language
            if not (bin_dir / f"dict.{lang}.txt").exists():
                shutil.copy(dictionary, bin_dir / f"dict.{lang}.txt")
        command = [
            sys.executable, "-m", "fairseq_cli.generate", str(bin_dir), "--path", reference.checkpoint,
            # Checkpoints trained with the plugin's task (a subclass) need it registered to load their config;
            # generation itself only needs the base task.
            "--user-dir", str(plugin_dir()), "--task", "translation_multi_simple_epoch", "--lang-dict", str(translator.model_dir / LANG_DICT),
            "--lang-pairs", ",".join(translator.metadata.get("lang_pairs") or [f"{source_lang}-{target_lang}"]),
            "--source-lang", source_lang, "--target-lang", target_lang,
            "--encoder-langtok", "src", "--decoder-langtok", "--gen-subset", "test",
            "--beam", str(options.beam_size), "--nbest", "1", "--lenpen", str(options.length_penalty),
            *length_cap,  # same cap as the CT2 translator: max_decoding_length tokens plus the language token
            "--min-len", str(options.min_decoding_length + 1),
            "--max-tokens", str(options.max_batch_tokens), "--required-batch-size-multiple", "1",
            "--num-workers", "0", "--seed", "1",
        ]
        command += ["--fp16"] if device == "cuda" else ["--cpu"]
        if options.replace_unknowns:
            command += ["--replace-unk"]
        generate = run_measured(command, env)
        if generate.returncode != 0:
            raise VolctransError(f"fairseq-generate failed: {generate.last_line()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    by_id: dict[int, list[str]] = {}
    for line in generate.output.splitlines():
        if line.startswith("H-"):
            head, _score, *rest = line.split("\t")
            by_id[int(head[2:])] = rest[0].split() if rest else []
    if len(by_id) != len(todo):
        raise VolctransError(f"fairseq-generate returned {len(by_id)} of {len(todo)} hypotheses")
    pieces: list[list[str]] = [[] for _ in sources]
    lang_tokens = {translator.lang_token(lang) for lang in translator.langs}
    for position, index in enumerate(todo):
        pieces[index] = [t for t in by_id[position] if t not in lang_tokens]
    hypotheses = [translator.processor.decode(output) if output else "" for output in pieces]
    match = _TRANSLATED.search(generate.output)
    decode_s = float(match.group(3)) if match else generate.wall_s
    return FairseqRun(hypotheses, pieces, decode_s, generate.wall_s, generate.peak_rss_mb, command)


def write_generate_inputs(raw: Path, translator: Translator, sources: list[str], references: list[str],
                          source_lang: str, target_lang: str, options: DecodingOptions, todo: list[int]) -> Path:
    """SentencePiece-encoded `test.SRC` / `test.TGT` for fairseq-preprocess; returns their prefix. Sources are cut
    as the CT2 translator cuts them; references (fairseq-generate wants a target side, which only its own scoring
    reads) are cut to the model's target positions, or fairseq rejects the whole run ("Size of sample #N is
    invalid") on a test set with one long sentence."""
    limits = {source_lang: min(options.max_input_pieces, translator.max_input_pieces),
              target_lang: translator.max_output_tokens}
    for lang, texts in ((source_lang, sources), (target_lang, references or sources)):
        with open(raw / f"test.{lang}", "w", encoding="utf-8") as handle:
            for i in todo:
                pieces = translator.processor.encode(texts[i], out_type=str)[:limits[lang]]
                handle.write(" ".join(pieces) + "\n")
    return raw / "test"


def length_cap_arguments(translator, options) -> list[str]:
    """fairseq's --max-len-a/b giving the CT2 translator's cap plus the language token.

    Only the fixed cap has an exact fairseq equivalent: fairseq applies --max-len-a to the longest source of each
    batch, the translator to each sentence (`max_length_ratio`), so references refuse a ratio instead of differing.
    """
    if options.max_length_ratio > 0:
        raise VolctransError("the fairseq reference needs a fixed length cap (max_length_ratio 0): fairseq applies "
                             "--max-len-a per batch, not per sentence")
    return ["--max-len-a", "0", "--max-len-b", str(min(options.max_decoding_length, translator.max_output_tokens) + 1)]
