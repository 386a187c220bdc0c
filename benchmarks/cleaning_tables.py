"""Render the clean-bench JSON reports (benchmarks/cleaning.sh) as the Markdown tables of docs/benchmarks.md.

Usage: python benchmarks/cleaning_tables.py runs/clean-bench
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NAMES = {"volctrans": "volctrans", "volctrans+lexicon": "volctrans+lexicon",
         "bicleaner-hardrules": "bicleaner-hardrules", "opusfilter": "OpusFilter (defaults)"}


def table(report: dict) -> str:
    langs = report["langs"]
    head = "| system | P | R | F1 | " + " | ".join(f"en-{lang} F1" for lang in langs) + " | pairs/s/core |"
    lines = [head, "|" + "---|" * (5 + len(langs))]
    for name, r in report["systems"].items():
        if "f1" not in r:
            lines.append(f"| {NAMES[name]} | {r['note']} |")
            continue
        per = " | ".join(f"{r['f1_per_lang'][lang]:.3f}" for lang in langs)
        lines.append(f"| {NAMES[name]} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {per} | "
                     f"{r['pairs_per_s']:,.0f} |")
    return "\n".join(lines)


def recall_table(main: dict, bracket: dict) -> str:
    systems = [s for s in main["systems"] if "f1" in main["systems"][s]]
    lines = ["| noise | " + " | ".join(NAMES[s] for s in systems) + " |", "|" + "---|" * (1 + len(systems))]
    for kind in main["systems"][systems[0]]["noise_recall"]:
        cells = []
        for s in systems:
            a = main["systems"][s]["noise_recall"][kind]
            b = bracket["systems"].get(s, {}).get("noise_recall", {}).get(kind)
            cells.append(f"{a:.3f}" + (f" ({b:.3f})" if b is not None else ""))
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    folder = Path(sys.argv[1])
    reports = {name: json.loads((folder / f"{name}.json").read_text()) for name in
               ("heldout_test", "heldout_dev", "all_test", "tune")}
    for name in ("heldout_test", "heldout_dev", "all_test", "tune"):
        r = reports[name]
        some = next(v for v in r["systems"].values() if "pairs" in v)
        print(f"### {name}: split={r['split']} seed={r['seed']} ({some['pairs']:,} rows, "
              f"{some['counts']['clean']:,} clean)\n")
        print(table(r) + "\n")
    print("### recall per noise type: all_test (heldout_test)\n")
    print(recall_table(reports["all_test"], reports["heldout_test"]))


if __name__ == "__main__":
    main()
