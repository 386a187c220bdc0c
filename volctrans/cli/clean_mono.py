"""`volctrans clean-mono`: the same rule engine on monolingual text (one segment per line), e.g. BT input."""

from __future__ import annotations

import argparse

from volctrans.cli.clean import add_common, execute


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-l", "--lang", dest="src_lang", required=True, help="language of the text, e.g. de")
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    return execute(args, None)
