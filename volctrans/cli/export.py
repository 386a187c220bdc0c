"""`volctrans export`: fairseq checkpoint → self-contained CTranslate2 model directory."""

from __future__ import annotations

import argparse

from serving.export import QUANTIZATIONS, ExportConfig, export


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="fairseq checkpoint (e.g. checkpoint_best.pt)")
    parser.add_argument("--data", required=True, help="the `volctrans prepare` output folder used for training")
    parser.add_argument("-o", "--out", required=True, help="model directory to write")
    parser.add_argument("--quantization", default="float32", choices=QUANTIZATIONS)
    parser.add_argument("--force", action="store_true", help="overwrite an existing model directory")


def run(args: argparse.Namespace) -> int:
    out = export(ExportConfig(args.checkpoint, args.data, args.out, args.quantization, args.force))
    print(out)
    return 0
