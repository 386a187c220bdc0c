"""`volctrans backtranslate -m MODEL -l de -i mono.de.txt -o BT_DIR`: synthetic bitext as a corpus source."""

from __future__ import annotations

import argparse
import json
import sys

from volctrans.backtranslate import BacktranslateConfig, backtranslate
from volctrans.config import from_dict


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", required=True, help="exported model that translates LANG → source language")
    parser.add_argument("-l", "--lang", required=True, help="language of the monolingual input")
    parser.add_argument("-i", "--input", required=True, help="monolingual text (cleaned: see `volctrans clean-mono`)")
    parser.add_argument("-o", "--out", required=True, help="corpus directory to write (or add a pair to)")
    parser.add_argument("--source-lang", default="en")
    parser.add_argument("--method", default="beam", choices=("beam", "sampling", "noised"))
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--sampling-topk", type=int, default=10)
    parser.add_argument("--max-decoding-length", type=int, default=256, help="output pieces at most per sentence")
    parser.add_argument("--max-length-ratio", type=float, default=2.0,
                        help="cap each synthetic source at int(ratio × input pieces + 10) pieces (0: off)")
    parser.add_argument("--tagged", action="store_true", help="prefix synthetic sources with <BT>")
    parser.add_argument("--name", default="bt", help="source name of the corpus")
    parser.add_argument("--shard-size", type=int, default=10_000, help="lines per resumable shard")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--threads", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    config = from_dict(BacktranslateConfig, {
        "model": args.model, "lang": args.lang, "input": args.input, "out": args.out, "source_lang": args.source_lang,
        "method": args.method, "beam_size": args.beam, "sampling_topk": args.sampling_topk,
        "max_decoding_length": args.max_decoding_length, "max_length_ratio": args.max_length_ratio, "tagged": args.tagged,
        "name": args.name, "shard_size": args.shard_size, "seed": args.seed, "device": args.device,
        "threads": args.threads}, source="command line")
    manifest = backtranslate(config)
    json.dump({"out": args.out, "pairs": manifest.pairs}, sys.stdout, indent=1)
    print()
    return 0
