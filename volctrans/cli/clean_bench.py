"""`volctrans clean-bench`: build the labelled noisy benchmark and score volctrans and peers on it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, required=True, help="folder with en-<xx>/<split>.tsv (LibreOffice help)")
    parser.add_argument("--langs", default="es,ja", help="target languages to evaluate")
    parser.add_argument("--split", default="test", help="which split the clean pairs come from")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-clean", type=int, default=None, help="clean pairs per language (default: all)")
    parser.add_argument("--systems", default="volctrans,volctrans+lexicon,bicleaner-hardrules,opusfilter",
                        help="volctrans+lexicon adds the `lexical` rule with lexicons learned on the train split")
    parser.add_argument("--config", default=None, help="our rules YAML (default: packaged)")
    parser.add_argument("--workdir", type=Path, default=Path("runs/clean-bench"))
    parser.add_argument("--json", default=None, help="also write the full report as JSON")


def run(args: argparse.Namespace) -> int:
    from cleaning.bench import SYSTEMS, format_report, run_benchmark
    from volctrans.errors import VolctransError

    systems = [s for s in args.systems.split(",") if s]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise VolctransError(f"unknown systems {unknown} (known: {', '.join(SYSTEMS)})")
    report = run_benchmark(args.corpus, args.langs.split(","), args.split, args.seed, systems, args.workdir,
                           args.config, args.max_clean)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0
