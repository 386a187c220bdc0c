"""`volctrans parity -m MODEL --checkpoint CKPT -i TEST`: % of CT2 outputs identical to fairseq-generate."""

from __future__ import annotations

import argparse
import json

from serving.fairseq_ref import FairseqReference
from serving.parity import parity_runs, read_test_set
from volctrans.cli.common import add_decoding_arguments, decoding_options
from volctrans.io import atomic_write


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", required=True, help="model directory written by `volctrans export`")
    parser.add_argument("--checkpoint", help="fairseq checkpoint (default: the one recorded in the model)")
    parser.add_argument("--data", help="`volctrans prepare` folder (default: the one recorded in the model)")
    parser.add_argument("-i", "--input", required=True, action="append",
                        help="test TSV source<TAB>reference; repeat for several pairs (pair from the folder name)")
    parser.add_argument("--limit", type=int, help="first N lines of each test set")
    parser.add_argument("--also-greedy", action="store_true", help="check beam 1 as well as --beam")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-identical", type=float, default=None,
                        help="exit 1 if a beam run is below this %% (greedy must always be 100%%)")
    parser.add_argument("--json", help="write the reports here")
    add_decoding_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from serving.translator import Translator

    tests = [read_test_set(path, limit=args.limit) for path in args.input]  # input errors first, before any work
    translator = Translator(args.model, intra_threads=args.threads)
    reference = FairseqReference.for_model(translator, args.checkpoint, args.data)
    reports, failed = parity_runs(translator, reference, tests, decoding_options(args), args.threads,
                                  also_greedy=args.also_greedy, min_identical=args.min_identical)
    for report in reports:
        print(report.summary())
        for mismatch in report.mismatches:
            print(f"  line {mismatch['line']}: fairseq {mismatch['fairseq']!r} | ct2 {mismatch['ct2']!r}")
    if args.json:
        with atomic_write(args.json) as handle:
            json.dump([report.as_dict() for report in reports], handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    return 1 if failed else 0
