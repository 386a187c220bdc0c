"""`volctrans backtranslate -m MODEL -l de -i mono.de.txt -o BT_DIR`: synthetic bitext as a corpus source."""

from __future__ import annotations

import argparse
import json
import sys

from volctrans.backtranslate import BacktranslateConfig, backtranslate
from volctrans.cli.common import add_config_arguments, add_field, config_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    def field(name: str, *flags: str, **kwargs) -> None:
        add_field(parser, BacktranslateConfig, name, *flags, **kwargs)

    add_config_arguments(parser, BacktranslateConfig)
    field("model", "-m", "--model", help="exported model that translates LANG → source language")
    field("lang", "-l", "--lang", help="language of the monolingual input")
    field("input", "-i", "--input", help="monolingual text (cleaned: see `volctrans clean-mono`)")
    field("out", "-o", "--out", help="corpus directory to write (or add a pair to)")
    field("source_lang")
    field("method", choices=("beam", "sampling", "noised"))
    field("beam_size", "--beam", type=int)
    field("sampling_topk", type=int)
    field("max_decoding_length", type=int, help="output pieces at most per sentence")
    field("max_length_ratio", type=float,
          help="cap each synthetic source at int(ratio × input pieces + 10) pieces (0: off)")
    field("tagged", action="store_true", help="prefix synthetic sources with <BT>")
    field("name", help="source name of the corpus")
    field("shard_size", type=int, help="lines per resumable shard")
    field("seed", type=int)
    field("device", choices=("cpu", "cuda", "auto"))
    field("threads", type=int)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(BacktranslateConfig, args)
    manifest = backtranslate(config)
    json.dump({"out": config.out, "pairs": manifest.pairs}, sys.stdout, indent=1)
    print()
    return 0
