"""Apply normalization, then the configured rules in order, to one in-memory batch.

Rules run on the rows still alive: each rejected row is tagged by the first rule that failed it and the
expensive rules late in the order (language ID, the learned rule) only see survivors (plus at most 2% of rows
that failed since the view was last shrunk; their scores are ignored). With `all_reasons` every rule sees
every row and every failing tag is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaning import dedup
from cleaning.config import CleanConfig
from cleaning.normalize import Normalizer
from cleaning.rules import RULES, PairBatch, Rule, RuleContext, Side


# Shrink the view when more than 1/SHRINK_AT of its rows have failed (see Engine.run).
SHRINK_AT = 50


@dataclass
class BatchResult:
    keep: np.ndarray  # bool per row (before dedup: duplicates are decided in input order by the caller)
    reasons: list[str]  # "" for kept rows, else comma-separated tags
    src: list[str]  # normalized text
    tgt: list[str] | None
    keys: list[int]  # dedup key per row (0 for rejected rows and when dedup is off)


class Engine:
    def __init__(self, config: CleanConfig, src_lang: str, tgt_lang: str | None = None):
        self.config = config
        self.monolingual = tgt_lang is None
        self.context = RuleContext(src_lang, tgt_lang)
        self.rules: list[Rule] = []
        for name, params in config.rules.items():
            cls = RULES[name]
            if cls.pair and self.monolingual:
                continue  # pair rules have nothing to compare in monolingual text
            self.rules.append(cls(params, self.context))
        self._normalize_src = Normalizer(config.normalize, src_lang)
        self._normalize_tgt = Normalizer(config.normalize, tgt_lang or src_lang)

    def _checks(self, view: Side | PairBatch, rule: Rule) -> list[tuple[str, np.ndarray]]:
        """[(tag, keep mask)] for one rule: per side for side rules, once for pair rules."""
        if rule.pair or isinstance(view, Side):  # a pair rule, or a side rule in monolingual cleaning
            return [(rule.name, rule.accept(rule.score(view)))]
        return [(f"{rule.name}(src)", rule.accept(rule.score(view.src))),
                (f"{rule.name}(tgt)", rule.accept(rule.score(view.tgt)))]

    def run(self, src_raw: list[str], tgt_raw: list[str] | None = None) -> BatchResult:
        src = self._normalize_src(src_raw)
        tgt = None if tgt_raw is None else self._normalize_tgt(tgt_raw)
        src_side = Side(src, self.context.src_lang, src_raw, "src")
        view: Side | PairBatch = src_side
        if tgt is not None:
            view = PairBatch(src_side, Side(tgt, self.context.tgt_lang, tgt_raw, "tgt"))
        n = len(src)
        keep = np.ones(n, dtype=bool)
        reasons: dict[int, list[str]] = {}  # failing tags of rejected rows
        rows = np.arange(n)  # global indices of the rows `view` holds
        alive = np.ones(n, dtype=bool)  # per row of `view`: not failed yet (all True with all_reasons)
        for rule in self.rules:
            if not alive.any():
                break
            failed = np.zeros(len(rows), dtype=bool)
            for tag, ok in self._checks(view, rule):
                bad = ~ok & alive  # rows that failed an earlier rule keep that rule's tag only
                for i in rows[bad].tolist():
                    reasons.setdefault(i, []).append(tag)
                failed |= bad
            if failed.any():
                keep[rows[failed]] = False
                if not self.config.all_reasons:
                    alive &= ~failed
                    # Shrink the view once enough rows have failed (each shrink copies the cached features and
                    # drops the batch code-point view); until then later rules also score the few failed rows,
                    # and their results are ignored. Features computed so far travel with the survivors.
                    if (len(alive) - np.count_nonzero(alive)) * SHRINK_AT > len(alive):
                        survivors = np.flatnonzero(alive)
                        view = view.take(survivors)
                        rows = rows[survivors]
                        alive = np.ones(len(rows), dtype=bool)
        # Keys only for survivors: rejected rows never enter the dedup set.
        survivors = np.flatnonzero(keep).tolist()
        dedup_keys = [0] * n
        if self.config.dedup.mode != "off" and survivors:
            found = dedup.keys([src[i] for i in survivors], None if tgt is None else [tgt[i] for i in survivors],
                               self.config.dedup.mode)
            for i, key in zip(survivors, found):
                dedup_keys[i] = key
        tags = [""] * n
        for i, failed_tags in reasons.items():
            tags[i] = ",".join(failed_tags)
        return BatchResult(keep, tags, src, tgt, dedup_keys)
