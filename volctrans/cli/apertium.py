"""`volctrans apertium en-es -i SRC -o HYP [--install-to DIR]`: the rule-based baseline, line for line."""

from __future__ import annotations

import argparse

from volctrans.apertium import translate_file
from volctrans.languages import check_pair


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pair", help="source-target, e.g. en-es")
    parser.add_argument("-i", "--input", required=True, help="one segment per line")
    parser.add_argument("-o", "--out", required=True)
    parser.add_argument("--install-to", help="when Apertium or the pair is not installed system-wide, unpack it "
                                             "from Debian's packages into this folder (apt-get download; no root)")


def run(args: argparse.Namespace) -> int:
    source, target = check_pair(args.pair)
    print(f"{args.out}: {translate_file(source, target, args.input, args.out, args.install_to)} lines")
    return 0
