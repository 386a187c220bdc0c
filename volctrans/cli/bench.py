"""`volctrans bench -m MODEL --checkpoint CKPT -i TEST [--device cpu|cuda] [--json FILE]`: speed with quality."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from serving.parity import read_test_set
from volctrans.bench import CPU_COMPUTE_TYPES, GPU_COMPUTE_TYPES, BenchConfig, benchmark, format_table
from volctrans.cli.common import add_decoding_arguments, decoding_options
from volctrans.io import atomic_write


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", required=True, help="model directory written by `volctrans export`")
    parser.add_argument("--checkpoint", help="fairseq checkpoint (default: the one recorded in the model)")
    parser.add_argument("--data", help="`volctrans prepare` folder (default: the one recorded in the model)")
    parser.add_argument("-i", "--input", required=True, help="test TSV: source<TAB>reference (.gz ok)")
    parser.add_argument("--pair", help="language pair, e.g. en-de (default: the input's folder name)")
    parser.add_argument("--limit", type=int, help="first N test lines only")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"),
                        help="cuda/auto add float16 and int8_float16 rows (\"no GPU\" rows without CUDA)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for every engine")
    parser.add_argument("--engines", default=",".join(("fairseq", *CPU_COMPUTE_TYPES, *GPU_COMPUTE_TYPES)),
                        help="comma-separated subset of fairseq,float32,int8,float16,int8_float16")
    parser.add_argument("--latency-sentences", type=int, default=50, help="single-sentence requests timed")
    parser.add_argument("--peak-tflops", type=float, help="GPU peak for the roofline (default: by GPU name)")
    parser.add_argument("--json", help="write the results (one object per engine/precision) to this file")
    add_decoding_arguments(parser)


def run(args: argparse.Namespace) -> int:
    test = read_test_set(args.input, args.pair, args.limit)
    config = BenchConfig(model=args.model, test=test, checkpoint=args.checkpoint, data=args.data, device=args.device,
                         threads=args.threads, options=decoding_options(args),
                         latency_sentences=args.latency_sentences,
                         engines=tuple(e.strip() for e in args.engines.split(",") if e.strip()),
                         peak_tflops=args.peak_tflops)
    report = benchmark(config, command=shlex.join(["volctrans", *sys.argv[1:]]))
    print(report.header())
    print(format_table(report.results))
    if args.json:
        with atomic_write(args.json) as handle:
            json.dump(report.as_dict(), handle, indent=2)
            handle.write("\n")
    return 0
