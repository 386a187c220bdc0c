"""Throughput with quality, in one run on the same inputs: fairseq-generate vs CTranslate2 precisions.

A stage: it composes the serving library (translator, fairseq reference, parity) with scoring (volctrans.evaluate).

Every engine runs in its own process (so peak RSS is its own): fairseq-generate as a subprocess (decoding time from
its own "Translated N sentences in Xs" line, model load excluded; wall time reported too), each CTranslate2
precision in a spawned worker (load and decode timed separately). For each: sentences/s, target tokens/s
(SentencePiece pieces generated, language token and </s> excluded), single-sentence latency p50/p95 (what one
lone server request costs), peak RSS, peak GPU memory (GPU rows: device memory in use while the engine ran,
minus what was in use before, read through NVML by `serving.gpu_memory`), BLEU and chrF++ (`volctrans.evaluate.score_pair`) and the % of outputs identical to fairseq-generate. Speed
ratios are to fairseq-generate's decoding time. GPU precisions give "no GPU" rows when CUDA is absent.
"roofline %" is tokens/s × FLOPs per target token (from the model shape) as a % of the GPU's datasheet fp16 peak,
or on CPU of the fp32 GEMM rate measured on this machine with the same threads: how far each engine is from what
the hardware can do, and so what speed-up over fairseq is possible at all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import multiprocessing
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from serving.engine import engine_info
from serving.fairseq_ref import FairseqReference, run_fairseq_generate
from serving.gpu_memory import GpuMemoryMonitor
from serving.parity import TestSet, agreement
from serving.translator import DecodingOptions, Translator
from volctrans.artifacts import load_model_config
from volctrans.errors import VolctransError

logger = logging.getLogger(__name__)

CPU_COMPUTE_TYPES = ("float32", "int8")
GPU_COMPUTE_TYPES = ("float16", "int8_float16")
# Dense fp16/bf16 tensor-core peak (TFLOP/s) for the roofline, by a substring of the GPU name.
PEAK_TFLOPS = {"H200": 989.0, "H100 PCIe": 756.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0,
               "L4": 121.0, "T4": 65.0, "V100": 125.0}


@dataclass
class EngineResult:
    engine: str  # fairseq | ctranslate2
    compute_type: str
    device: str
    status: str = "ok"  # ok | no GPU | error: ...
    sentences: int = 0
    decode_s: float | None = None
    load_s: float | None = None
    sent_per_s: float | None = None
    tok_per_s: float | None = None
    speedup: float | None = None  # sent/s relative to fairseq-generate
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    peak_rss_mb: float | None = None
    peak_gpu_mb: float | None = None  # GPU rows: device memory the engine added (NVML), see serving.gpu_memory
    bleu: float | None = None
    chrf: float | None = None
    identical_to_fairseq_pct: float | None = None
    roofline_pct: float | None = None  # tok/s × FLOPs per token as a % of `roofline_peak_gflops`
    roofline_peak_gflops: float | None = None  # GPU: datasheet fp16 peak; CPU: measured fp32 GEMM rate, same threads
    hypotheses: list[str] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("hypotheses")
        return data


@dataclass
class BenchConfig:
    model: str
    test: TestSet
    checkpoint: str | None = None
    data: str | None = None
    device: str = "cpu"  # cpu | cuda | auto
    threads: int = 2
    options: DecodingOptions = field(default_factory=DecodingOptions)
    latency_sentences: int = 50
    engines: tuple[str, ...] = ("fairseq", "float32", "int8", "float16", "int8_float16")
    peak_tflops: float | None = None


def cuda_devices() -> int:
    import ctranslate2

    try:
        return ctranslate2.get_cuda_device_count()
    except Exception:  # a CPU-only build may raise instead of returning 0
        return 0


def flops_per_target_token(model_dir: Path, beam_size: int, source_target_ratio: float = 1.0) -> float | None:
    """≈ 2 × multiply-adds per output token: decoder layers and output projection for every beam, plus the encoder
    amortised over the target (× source/target length ratio). Attention over the context is left out (short inputs)."""
    metadata = load_model_config(model_dir)
    shape = (metadata.get("provenance") or {}).get("train_config") or {}
    try:
        d, f = int(shape["embed_dim"]), int(shape["ffn_dim"])
        encoder_layers, decoder_layers = int(shape["encoder_layers"]), int(shape["decoder_layers"])
    except (KeyError, TypeError, ValueError):
        return None
    vocabulary = len(json.loads((model_dir / "shared_vocabulary.json").read_text(encoding="utf-8")))
    encoder = encoder_layers * (4 * d * d + 2 * d * f)
    decoder = decoder_layers * (8 * d * d + 2 * d * f) + d * vocabulary
    return 2.0 * (beam_size * decoder + source_target_ratio * encoder)


def _cpu_sgemm_gflops(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """Attainable fp32 GEMM rate of this CPU with `threads` threads (best of `repeats` square products, torch's
    BLAS): the CPU roofline. Decoding GEMMs are skinnier and reach less; int8 rows may exceed it."""
    import torch

    torch.set_num_threads(max(threads, 1))
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size ** 3 / best / 1e9


def _gpu_peak_tflops() -> tuple[str, float | None]:
    import subprocess

    try:
        name = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                              text=True, timeout=20).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown GPU", None
    return name, next((peak for key, peak in PEAK_TFLOPS.items() if key in name), None)


def _ct2_worker(model: str, device: str, compute_type: str, threads: int, sources: list[str], source_lang: str,
                target_lang: str, options: DecodingOptions, latency_sentences: int) -> dict:
    """Runs in a fresh process: load, translate everything once, then time single-sentence requests."""
    start = time.perf_counter()
    translator = Translator(model, device=device, compute_type=compute_type, intra_threads=threads)
    load_s = time.perf_counter() - start
    translator.translate(sources[:8], source_lang, target_lang, options)  # warm-up (allocations, caches)
    start = time.perf_counter()
    pieces = translator.translate_pieces(sources, source_lang, target_lang, options)
    hypotheses = [translator.processor.decode(output) if output else "" for output in pieces]
    decode_s = time.perf_counter() - start
    latencies = []
    for text in [s for s in sources if s.strip()][:latency_sentences]:
        begin = time.perf_counter()
        translator.translate([text], source_lang, target_lang, options)
        latencies.append((time.perf_counter() - begin) * 1000)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"hypotheses": hypotheses, "tokens": sum(len(output) for output in pieces), "load_s": load_s,
            "decode_s": decode_s, "latencies": latencies, "peak_rss_mb": peak_rss_mb}


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100), rounded; None when empty."""
    return round(float(np.percentile(values, q, method="inverted_cdf")), 2) if values else None


def run_benchmark(config: BenchConfig) -> list[EngineResult]:
    # Imported here, not at the top: the CTranslate2 workers import this module, and their peak RSS is measured.
    from volctrans.evaluate import score_pair

    test = config.test
    model_dir = Path(config.model)
    translator = Translator(model_dir, device="cpu", intra_threads=1)  # tokenizer and metadata only
    gpus = cuda_devices() if config.device in ("cuda", "auto") else 0
    results: list[EngineResult] = []

    def pieces(texts: list[str]) -> int:  # for the source/target length ratio of the roofline
        return sum(len(translator.processor.encode(text)) for text in texts)

    def finish(result: EngineResult, tokens: int) -> EngineResult:
        result.sentences = len(test.sources)
        result.sent_per_s = round(len(test.sources) / result.decode_s, 2)
        result.tok_per_s = round(tokens / result.decode_s, 1)
        score = score_pair(test.pair, result.hypotheses, test.references)
        result.bleu, result.chrf = score.bleu, score.chrf
        logger.info("%s %s %s: %.1f sent/s, BLEU %.2f", result.engine, result.compute_type, result.device,
                    result.sent_per_s, result.bleu)
        return result

    fairseq = None
    if "fairseq" in config.engines:
        reference = FairseqReference.for_model(translator, config.checkpoint, config.data)
        fairseq_device = "cuda" if gpus else "cpu"
        logger.info("fairseq-generate on %d sentences (%s, beam %d)", len(test.sources), fairseq_device,
                    config.options.beam_size)
        with GpuMemoryMonitor() if gpus else contextlib.nullcontext() as memory:
            run = run_fairseq_generate(reference, translator, test.sources, test.references, test.source_lang,
                                       test.target_lang, config.options, config.threads, fairseq_device)
        fairseq = finish(EngineResult("fairseq", "float16" if gpus else "float32", fairseq_device,
                                      decode_s=round(run.decode_s, 3), load_s=round(run.wall_s - run.decode_s, 2),
                                      peak_rss_mb=round(run.peak_rss_mb, 1), hypotheses=run.hypotheses,
                                      peak_gpu_mb=memory.peak_mb if gpus else None),
                         sum(len(output) for output in run.pieces))
        fairseq.speedup = 1.0
        fairseq.identical_to_fairseq_pct = 100.0
        results.append(fairseq)

    context = multiprocessing.get_context("spawn")
    for compute_type in [e for e in config.engines if e != "fairseq"]:
        device = "cuda" if compute_type in GPU_COMPUTE_TYPES else "cpu"
        if device == "cuda" and not gpus:
            results.append(EngineResult("ctranslate2", compute_type, device, status="no GPU"))
            continue
        logger.info("CTranslate2 %s on %s", compute_type, device)
        try:
            with GpuMemoryMonitor() if device == "cuda" else contextlib.nullcontext() as memory, \
                    ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                output = pool.submit(_ct2_worker, str(model_dir), device, compute_type, config.threads,
                                     test.sources, test.source_lang, test.target_lang, config.options,
                                     config.latency_sentences).result()
        except (VolctransError, RuntimeError, ValueError) as error:
            results.append(EngineResult("ctranslate2", compute_type, device, status=f"error: {error}"))
            continue
        result = finish(EngineResult(
            "ctranslate2", compute_type, device, decode_s=round(output["decode_s"], 3),
            load_s=round(output["load_s"], 2), peak_rss_mb=round(output["peak_rss_mb"], 1),
            latency_p50_ms=_percentile(output["latencies"], 50), latency_p95_ms=_percentile(output["latencies"], 95),
            hypotheses=output["hypotheses"], peak_gpu_mb=memory.peak_mb if device == "cuda" else None), output["tokens"])
        if fairseq is not None:
            result.speedup = round(result.sent_per_s / fairseq.sent_per_s, 2)
            result.identical_to_fairseq_pct = round(agreement(result.hypotheses, fairseq.hypotheses), 2)
        results.append(result)

    flops = flops_per_target_token(model_dir, config.options.beam_size,
                                   pieces(test.sources) / max(pieces(test.references), 1))
    peaks: dict[str, float | None] = {}
    if gpus:
        name, listed = _gpu_peak_tflops()
        peak_tflops = config.peak_tflops or listed
        peaks["cuda"] = peak_tflops * 1e3 if peak_tflops else None  # GFLOP/s, like the CPU figure
        logger.info("GPU %s: peak %s TFLOP/s, %s FLOPs per target token", name, peak_tflops, flops)
    if flops and any(r.device == "cpu" and r.status == "ok" for r in results):
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            peaks["cpu"] = round(pool.submit(_cpu_sgemm_gflops, config.threads).result(), 1)
        logger.info("CPU fp32 GEMM: %.1f GFLOP/s with %d threads, %.3g FLOPs per target token", peaks["cpu"],
                    config.threads, flops)
    for result in results:
        peak = peaks.get(result.device)
        if flops and peak and result.status == "ok":
            result.roofline_peak_gflops = peak
            result.roofline_pct = round(100 * result.tok_per_s * flops / (peak * 1e9), 4)
    return results


def format_table(results: list[EngineResult]) -> str:
    header = ("| engine | precision | device | sent/s | tok/s | × fairseq | p50 ms | p95 ms | peak RSS MB | "
              "peak GPU MB | BLEU | chrF++ | = fairseq % | load s | roofline % |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]

    def cell(value, fmt="{}"):
        return "n/a" if value is None else fmt.format(value)

    for r in results:
        if r.status != "ok":
            lines.append(f"| {r.engine} | {r.compute_type} | {r.device} | {r.status} |" + " |" * 11)
            continue
        lines.append(" ".join([
            f"| {r.engine} | {r.compute_type} | {r.device} |", cell(r.sent_per_s, "{:.1f}"), "|",
            cell(r.tok_per_s, "{:.0f}"), "|", cell(r.speedup, "{:.2f}×"), "|", cell(r.latency_p50_ms, "{:.1f}"), "|",
            cell(r.latency_p95_ms, "{:.1f}"), "|", cell(r.peak_rss_mb, "{:.0f}"), "|", cell(r.peak_gpu_mb, "{:.0f}"),
            "|", cell(r.bleu, "{:.2f}"), "|",
            cell(r.chrf, "{:.2f}"), "|", cell(r.identical_to_fairseq_pct, "{:.1f}"), "|", cell(r.load_s, "{:.2f}"),
            "|", cell(r.roofline_pct, "{:.3g}"), "|"]))
    return "\n".join(lines)


@dataclass
class BenchReport:
    """One `volctrans bench` run: its setting, the engine build, and a row per engine/precision."""
    config: BenchConfig
    results: list[EngineResult]
    engine: dict
    started: str
    command: str

    def header(self) -> str:
        options, engine = self.config.options, self.engine
        cublas = engine.get("cublas")
        line = (f"{self.config.test.pair}, {len(self.config.test.sources)} sentences, beam {options.beam_size}, "
                f"lenpen {options.length_penalty}, {self.config.threads} threads, "
                f"{platform.processor() or platform.machine()}, {self.started}")
        build = f"CTranslate2 {engine['ctranslate2']}: {engine['build']}"
        if cublas and self.config.device != "cpu":
            build += f"; {cublas['wanted']} → {cublas.get('file') or cublas.get('error')}"
        return f"{line}\n{build}"

    def as_dict(self) -> dict:
        return {"command": self.command, "date": self.started, "pair": self.config.test.pair,
                "sentences": len(self.config.test.sources), "options": self.config.options.__dict__,
                "threads": self.config.threads, "engine": self.engine,
                "results": [result.as_dict() for result in self.results]}


def benchmark(config: BenchConfig, command: str) -> BenchReport:
    """Run every engine of `config` and describe the run (date, CTranslate2 build) for the table and the JSON."""
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    results = run_benchmark(config)
    return BenchReport(config, results, engine_info(), started, command)
