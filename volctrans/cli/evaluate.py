"""`volctrans eval`: BLEU / spBLEU / chrF++ per pair and averaged, as a table and JSON.

    volctrans eval --hyp out.de --ref ref.de --pair en-de
    volctrans eval --hyp out.de --tsv test.tsv --pair en-de          (reference = TSV column 2; --ref-column)
    volctrans eval --spec en-de out.de ref.de --spec de-en out.en ref.en --json scores.json
    volctrans eval --spec base/en-de base.de ref.de --spec final/en-de final.de ref.de   (SYSTEM/PAIR rows)
"""

from __future__ import annotations

import argparse
import json
import sys

from volctrans.evaluate import average, format_table, score_pair
from volctrans.errors import InputError, VolctransError
from volctrans.io import atomic_write, iter_tsv_rows, read_lines
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


def read_references(path: str, column: int) -> list[str]:
    if ".tsv" in path:
        refs = []
        for row in iter_tsv_rows(path, strict=True):
            fields = row.fields()
            if column > len(fields):
                raise InputError(path, row.line, f"no column {column} (row has {len(fields)})")
            refs.append(fields[column - 1])
        return refs
    return read_lines(path)


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
    scores = []
    for label, hyp_path, ref_path in jobs:
        system, _, pair = label.rpartition("/")
        hypotheses = read_lines(hyp_path, allow_empty=True)
        references = read_references(ref_path, args.ref_column)
        if len(hypotheses) != len(references):
            raise InputError(hyp_path, None, f"{len(hypotheses)} lines but the reference {ref_path} has {len(references)}")
        scores.append(score_pair(pair, hypotheses, references, system or "volctrans"))
    print(format_table(scores))
    if args.json:
        with atomic_write(args.json) as handle:
            json.dump({"pairs": [s.as_dict() for s in scores], "average": average(scores)}, handle, indent=2,
                      ensure_ascii=False)
            handle.write("\n")
        print(f"scores written to {args.json}", file=sys.stderr)
    return 0
