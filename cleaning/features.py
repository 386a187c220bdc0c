"""Cross-lingual agreement signals of a pair, and the learned rule's feature vector built from them.

The signals compare the two sides' per-text features (cleaning/views.py): the agreement rules threshold them one by
one, the learned rule reads them all at once (`pair_features`, named for the constraints file).
"""

from __future__ import annotations

import numpy as np

from cleaning import text as T
from cleaning.views import PairBatch

INNER_PUNCT = ",，、:：;；()（）[]\"“”„«»「」%/="  # counted for punct_diff

FEATURE_NAMES = (
    "abs_log_char_ratio",  # |log((eff_chars_src + 8) / (eff_chars_tgt + 8))|, CJK chars weighted
    "abs_log_word_ratio",  # |log((words_src + 2) / (words_tgt + 2))|
    "log_chars",  # log(1 + mean effective length): short pairs tolerate larger ratios
    "number_miss",  # 1 − Jaccard(numbers_src, numbers_tgt)
    "entity_miss",  # 1 − overlap of copied tokens (names, %VARS%, paths)
    "terminal_mismatch",  # 0 same final punctuation, 1 one side has none, 2 question/exclamation vs not
    "sentence_diff",  # |sentences_src − sentences_tgt|
    "punct_diff",  # |inner punctuation count difference| / (1 + larger count)
)


def number_jaccard(src_numbers: list[frozenset[str]], tgt_numbers: list[frozenset[str]]) -> np.ndarray:
    """Jaccard overlap of the digit sequences of each pair; 1 when neither side has any."""
    out = np.ones(len(src_numbers))
    for i in [i for i, (a, b) in enumerate(zip(src_numbers, tgt_numbers)) if a or b]:
        a, b = src_numbers[i], tgt_numbers[i]
        out[i] = len(a & b) / len(a | b)
    return out


def terminal_mismatch(src_codes: np.ndarray, tgt_codes: np.ndarray) -> np.ndarray:
    """0 same final punctuation class, 1 one side has none, 2 question/exclamation versus anything else.

    Takes the `terminal` feature of both sides (codes of `text.terminal_class`). '.', ':' and ';' trade places
    across languages, so they only count against a missing mark.
    """
    question = (T.TERMINAL_CODES["?"], T.TERMINAL_CODES["!"])
    src_q, tgt_q = np.isin(src_codes, question), np.isin(tgt_codes, question)
    missing = (src_codes == 0) != (tgt_codes == 0)
    return np.where(src_codes == tgt_codes, 0.0, np.where(src_q != tgt_q, 2.0, np.where(missing, 1.0, 0.0)))


def entity_overlap(src: list[frozenset[str]], tgt: list[frozenset[str]], min_entities: int = 1) -> np.ndarray:
    """Share of copyable tokens (union of both sides) present on both sides; 1 when fewer than min_entities."""
    out = np.ones(len(src))
    for i, (a, b) in enumerate(zip(src, tgt)):
        if a or b:
            union = a | b
            if len(union) >= min_entities:
                out[i] = len(a & b) / len(union)
    return out


def pair_features(batch: PairBatch) -> np.ndarray:
    """(rows, len(FEATURE_NAMES)) float64 matrix; pure function of the texts."""
    src, tgt = batch.src, batch.tgt
    s_eff, t_eff = src.feature("eff_chars"), tgt.feature("eff_chars")
    s_w, t_w = src.feature("words"), tgt.feature("words")
    ps = src.feature("charview").count_chars(INNER_PUNCT).astype(np.float64)
    pt = tgt.feature("charview").count_chars(INNER_PUNCT).astype(np.float64)
    columns = [
        np.abs(np.log((s_eff + 8.0) / (t_eff + 8.0))),
        np.abs(np.log((s_w + 2.0) / (t_w + 2.0))),
        np.log1p((s_eff + t_eff) / 2.0),
        1.0 - number_jaccard(src.feature("numbers"), tgt.feature("numbers")),
        1.0 - entity_overlap(src.feature("entities"), tgt.feature("entities")),
        terminal_mismatch(src.feature("terminal"), tgt.feature("terminal")),
        np.abs(src.feature("sentences") - tgt.feature("sentences")).astype(np.float64),
        np.abs(ps - pt) / (1.0 + np.maximum(ps, pt)),
    ]
    return np.stack(columns, axis=1)
