"""`volctrans export`: fairseq checkpoint → self-contained CTranslate2 model directory."""

from __future__ import annotations

import argparse

from serving.export import QUANTIZATIONS, ExportConfig, export
from volctrans.cli.common import add_field, config_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_field(parser, ExportConfig, "checkpoint", required=True, help="fairseq checkpoint (e.g. checkpoint_best.pt)")
    add_field(parser, ExportConfig, "data", required=True, help="the `volctrans prepare` output folder used for training")
    add_field(parser, ExportConfig, "out", "-o", "--out", required=True, help="model directory to write")
    add_field(parser, ExportConfig, "quantization", choices=QUANTIZATIONS)
    add_field(parser, ExportConfig, "force", action="store_true", help="overwrite an existing model directory")


def run(args: argparse.Namespace) -> int:
    print(export(config_from_args(ExportConfig, args)))
    return 0
