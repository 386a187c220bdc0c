"""Normalization (safe NFKC, control characters, whitespace) and duplicate keys."""

from __future__ import annotations

from cleaning.dedup import DedupParams, Deduplicator, keys
from cleaning.normalize import NormalizeParams, Normalizer


def test_safe_nfkc_latin():
    norm = Normalizer(NormalizeParams(), "de")
    assert norm(["ﬁnden\u00a0Sie  den\tText\u200b  "]) == ["finden Sie den Text"]
    assert norm(["5 m² … ™"]) == ["5 m² … ™"]  # meaning-bearing compatibility forms are kept
    assert norm(["ＡＢＣ１２３"]) == ["ABC123"]
    assert norm(["a\x00b\x1fc"]) == ["abc"]


def test_cjk_keeps_fullwidth_punctuation():
    norm = Normalizer(NormalizeParams(), "zh")
    assert norm(["在链接的单元格中输入 ＃ＮＶ（１２），完成。"]) == ["在链接的单元格中输入 ＃NV（12），完成。"]


def test_disabled_is_identity():
    text = ["  ﬁ\u00a0x  "]
    assert Normalizer(NormalizeParams(enabled=False), "en")(text) == text


def test_dedup_exact_and_folded():
    src = ["Click OK.", "click ok", "Click OK."]
    tgt = ["Klicken Sie auf OK.", "Klicken Sie auf OK", "Klicken Sie auf OK."]
    folded = Deduplicator(DedupParams("normalized"))
    assert [folded.check(k) for k in keys(src, tgt, "normalized")] == [None, "duplicate", "duplicate"]
    exact = Deduplicator(DedupParams("exact"))
    assert [exact.check(k) for k in keys(src, tgt, "exact")] == [None, None, "duplicate"]
    # keys are stable across processes (not Python's salted hash)
    assert keys(["a"], ["b"], "exact") == [int.from_bytes(__import__("hashlib").blake2b(b"a\tb", digest_size=8).digest(), "little")]
