"""`volctrans translate -m MODEL -s SRC -t TGT[,TGT...] [-i FILE|-] [-o FILE|-]`: streaming batch translation."""

from __future__ import annotations

import argparse
import sys

from serving.batch import ON_ERROR, BatchConfig, translate_file
from volctrans.cli.common import (add_decoding_arguments, add_device_arguments, add_field, comma_list, decoding_options,
                                  given, load_translator)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", required=True, help="model directory written by `volctrans export`")
    add_field(parser, BatchConfig, "source_lang", "-s", "--source-lang", required=True)
    add_field(parser, BatchConfig, "target_langs", "-t", "--target-lang", type=comma_list, required=True,
              help="target language, or several comma-separated (de,fr,zh): see -o")
    add_field(parser, BatchConfig, "input", "-i", "--input", help="text file (.gz ok), '-' for stdin")
    add_field(parser, BatchConfig, "output", "-o", "--output",
              help="output (written atomically, .gz ok), '-' for stdout. With several targets: a path with '{tgt}' "
                   "gets one file per target, otherwise rows get one column per target")
    add_field(parser, BatchConfig, "tsv_column", "--tsv-column", type=int, metavar="N",
              help="input is TSV: translate column N (1-based), keep all columns and append the translation")
    add_field(parser, BatchConfig, "on_error", "--on-error", choices=ON_ERROR,
              help="invalid UTF-8 / missing column: stop naming the line, or write an empty line and log it")
    add_field(parser, BatchConfig, "chunk_lines", "--chunk-lines", type=int,
              help="lines read, length-sorted and translated together (bounds memory)")
    parser.add_argument("--quiet", dest="progress", action="store_false", default=None, help="no progress bar")
    add_decoding_arguments(parser)
    add_device_arguments(parser)


def run(args: argparse.Namespace) -> int:
    translator = load_translator(args)
    config = BatchConfig(**given(BatchConfig, args))  # validated with the decoding options by translate_file
    stats = translate_file(translator, config, decoding_options(args))
    if config.progress:
        skipped = f", {stats.skipped} skipped" if stats.skipped else ""
        print(f"translated {stats.lines} lines × {stats.targets} target(s) in {stats.seconds:.1f}s "
              f"({stats.sent_per_s:.1f} sent/s{skipped}), {translator.describe()}", file=sys.stderr)
    return 0
