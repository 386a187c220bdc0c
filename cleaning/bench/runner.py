"""`volctrans clean-bench`: build the rows per language, run every system on them, score and report."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from cleaning.bench.builder import build, read_corpus, write
from cleaning.bench.scoring import apply_dedup, evaluate
from cleaning.bench.systems import SYSTEMS
from volctrans.errors import VolctransError


def ensure_lexicon(root: Path, lang: str, workdir: Path) -> Path:
    """The en-<lang> lexicon learned from the TRAIN split (never the evaluated split), cached in workdir."""
    from cleaning import lexicon

    path = workdir / "lexicons" / f"en-{lang}.json"
    if not path.exists():
        pairs = [(s, t) for s, t, _ in read_corpus(root, lang, "train")]
        lexicon.save(lexicon.learn(pairs, "en", lang), path)
    return path


def run_benchmark(root: Path, langs: Sequence[str], split: str, seed: int, systems: Sequence[str],
                  workdir: Path, config_path: str | None = None, max_clean: int | None = None,
                  all_langs: Sequence[str] = ("de", "fr", "es", "ru", "zh", "ja")) -> dict:
    per_system: dict[str, dict] = {name: {"rows": [], "keep": [], "seconds": 0.0, "note": "", "per_lang": {}}
                                   for name in systems}
    for lang in langs:
        rows = build(root, lang, split, seed, max_clean=max_clean, other_langs=all_langs)
        workdir.mkdir(parents=True, exist_ok=True)  # only once the corpus has been read: a bad one leaves nothing
        path = workdir / f"noisy.{split}.s{seed}.en-{lang}.tsv"
        write(rows, path)
        for name in systems:
            runner = SYSTEMS[name]
            kwargs: dict = {"config_path": config_path} if name.startswith("volctrans") else {}
            if name == "volctrans+lexicon":
                if split == "train":
                    raise VolctransError("volctrans+lexicon learns its lexicon on the train split: evaluate another split")
                kwargs["lexicon_path"] = str(ensure_lexicon(root, lang, workdir))
            result = runner(path, len(rows), "en", lang, **kwargs)
            slot = per_system[name]
            if result.keep is None:
                slot["note"] = result.note
                continue
            keep = result.keep if name.startswith("volctrans") else apply_dedup(rows, result.keep)
            slot["rows"].extend(rows)
            slot["keep"].append(keep)
            slot["per_lang"][lang] = round(evaluate(rows, keep).f1, 4)
            slot["seconds"] += result.seconds
    report = {"split": split, "seed": seed, "langs": list(langs), "systems": {}}
    for name, slot in per_system.items():
        if not slot["keep"]:
            report["systems"][name] = {"note": slot["note"] or "no result"}
            continue
        keep = np.concatenate(slot["keep"])
        scores = evaluate(slot["rows"], keep)
        report["systems"][name] = {
            "precision": round(scores.precision, 4), "recall": round(scores.recall, 4), "f1": round(scores.f1, 4),
            "pairs_per_s": round(len(keep) / slot["seconds"], 1), "pairs": len(keep), "f1_per_lang": slot["per_lang"],
            "noise_recall": {k: round(v, 3) for k, v in scores.noise_recall.items()}, "counts": scores.counts}
    return report


def format_report(report: dict) -> str:
    lines = [f"split={report['split']} seed={report['seed']} langs={','.join(report['langs'])}",
             f"{'system':22} {'P':>6} {'R':>6} {'F1':>6} {'pairs/s/core':>12}"]
    kinds: list[str] = []
    for name, r in report["systems"].items():
        if "f1" not in r:
            lines.append(f"{name:22} {r['note']}")
            continue
        lines.append(f"{name:22} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} {r['pairs_per_s']:12.0f}")
        kinds = kinds or list(r["noise_recall"])
    lines.append("F1 per language pair:")
    for name, r in report["systems"].items():
        if "f1" in r:
            lines.append(f"{name:22} " + " ".join(f"en-{lang} {f1:.3f}" for lang, f1 in r["f1_per_lang"].items()))
    lines.append("recall per noise type (share rejected):")
    lines.append(f"{'noise':16} " + " ".join(f"{n[:20]:>20}" for n, r in report["systems"].items() if "f1" in r))
    for kind in kinds:
        lines.append(f"{kind:16} " + " ".join(f"{r['noise_recall'].get(kind, float('nan')):20.3f}"
                                               for r in report["systems"].values() if "f1" in r))
    return "\n".join(lines)
