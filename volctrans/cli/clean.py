"""`volctrans clean`: rule-based cleaning of a source<TAB>target[<TAB>extra...] corpus."""

from __future__ import annotations

import argparse
import json
import sys


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--input", default="-", help="input file ('-' = stdin, *.gz ok)")
    parser.add_argument("-o", "--output", default="-", help="kept rows ('-' = stdout, *.gz ok)")
    parser.add_argument("--rejected", default=None, help="rejected rows with a reason column appended")
    parser.add_argument("--config", default=None, help="rules YAML (default: the packaged cleaning/default_rules.yaml)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (output keeps input order)")
    parser.add_argument("--report", default=None, help="write counts per reason and throughput as JSON")
    parser.add_argument("--strict", action="store_true", help="a malformed row is an error (file:line), not a rejection")
    parser.add_argument("--progress", action="store_true", default=None,
                        help="show a progress bar with rate (default: when stderr is a terminal)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--src-lang", required=True, help="language of column 1, e.g. en")
    parser.add_argument("-t", "--tgt-lang", required=True, help="language of column 2, e.g. de")
    add_common(parser)


def execute(args: argparse.Namespace, tgt_lang: str | None) -> int:
    from cleaning.config import load_config
    from cleaning.pipeline import clean_file, write_report

    config = load_config(args.config)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    report = clean_file(config, args.input, args.output, args.src_lang, tgt_lang, rejected_path=args.rejected,
                        workers=max(1, args.workers), strict=args.strict, progress=progress)
    if args.report:
        write_report(report, args.report)
    summary = report.as_dict()
    print(json.dumps({k: summary[k] for k in ("total", "kept", "rejected", "rows_per_s", "rows_per_cpu_s")}),
          file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    return execute(args, args.tgt_lang)
