"""`volctrans eval`: BLEU / spBLEU / chrF++ per pair and averaged, as a table and JSON.

    volctrans eval --hyp out.de --ref ref.de --pair en-de
    volctrans eval --hyp out.de --tsv test.tsv --pair en-de          (reference = TSV column 2; --ref-column)
    volctrans eval --spec en-de out.de ref.de --spec de-en out.en ref.en --json scores.json
    volctrans eval --spec base/en-de base.de ref.de --spec final/en-de final.de ref.de   (SYSTEM/PAIR rows)
"""

from __future__ import annotations

import argparse
import sys

from volctrans.errors import VolctransError
from volctrans.evaluate import format_table, score_files, write_scores
from volctrans.languages import check_pair


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hyp", help="hypotheses, one per line")
    parser.add_argument("--ref", help="references, one per line")
    parser.add_argument("--tsv", help="TSV whose --ref-column (default 2) holds the references")
    parser.add_argument("--ref-column", type=int, default=2, help="1-based column of --tsv/--spec TSV references")
    parser.add_argument("--pair", help="language pair of --hyp, e.g. en-de (picks the BLEU tokenizer)")
    parser.add_argument("--system", default="volctrans", help="system label for --hyp rows")
    parser.add_argument("--spec", nargs=3, action="append", metavar=("PAIR", "HYP", "REF"), default=[],
                        help="score several pairs in one table (REF: text file, or .tsv/.tsv.gz → --ref-column)")
    parser.add_argument("--json", help="also write the scores as JSON to this file")


def run(args: argparse.Namespace) -> int:
    jobs = [tuple(spec) for spec in args.spec]
    if args.hyp:
        reference = args.ref or args.tsv
        if not reference or (args.ref and args.tsv):
            raise VolctransError("give --hyp with exactly one of --ref or --tsv")
        if not args.pair:
            raise VolctransError("give --pair SRC-TGT with --hyp: the BLEU tokenizer depends on the target language")
        jobs.append((f"{args.system}/{args.pair}", args.hyp, reference))
    if not jobs:
        raise VolctransError("nothing to score: give --hyp/--ref, --hyp/--tsv or --spec")
    for label, _, _ in jobs:  # every pair is checked before any file is read
        check_pair(label.rpartition("/")[2])
    scores = [score_files(label, hyp_path, ref_path, args.ref_column) for label, hyp_path, ref_path in jobs]
    print(format_table(scores))
    if args.json:
        write_scores(scores, args.json)
        print(f"scores written to {args.json}", file=sys.stderr)
    return 0
