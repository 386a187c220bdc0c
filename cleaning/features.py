"""Pair features for the learned rule: cheap, language-agnostic agreement signals, named for the rules file."""

from __future__ import annotations

import numpy as np

from cleaning.rules.agreement import entity_overlap, number_jaccard, terminal_mismatch
from cleaning.rules.base import PairBatch

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
