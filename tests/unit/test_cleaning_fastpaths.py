"""The fast paths of the cleaning engine give exactly what the plain per-text code gives.

Each fast path (batch regex scans, chained `in` tests, vectorized code-point counts, lazily shrunk views) is
checked against a straightforward reference on real multilingual pairs, their corruptions and synthetic strings
built to hit the edge cases (newlines, NULs, CJK marks, stacked quotes).
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import re

import pytest

import cleaning.engine as engine_module
from cleaning import text as T
from cleaning.config import load_config
from cleaning.corrupt import NOISE_TYPES, Corruptor
from cleaning.engine import Engine
from cleaning.features import INNER_PUNCT, number_jaccard
from cleaning.langid import STOPWORD_SETS, stopword_decides
from cleaning.normalize import NormalizeParams, Normalizer
from cleaning.rules import RuleContext
from cleaning.rules.markup import _URL, Url, UrlParams
from cleaning.rules.noise import BadEncoding
from cleaning.rules.content import Identical, IdenticalParams, RepeatedWords, RepeatedWordsParams
from cleaning.rules.base import NoParams
from cleaning.views import PairBatch, Side
from cleaning.rules.noise import mojibake_pattern
from tests.unit.cleaning_helpers import real_pairs

ODD = ["a", "A", ".", " ", "。", "？", "?", "!", "\n", ")", "»", "«", "Б", "б", "1", "\x00", "…", "；", "”"]


def synthetic(length: int = 3) -> list[str]:
    return ["".join(p) for p in itertools.product(ODD, repeat=length)]


def real_texts() -> list[str]:
    rows = real_pairs()
    return [r[1] for r in rows] + [r[2] for r in rows]


def noisy_pairs(lang: str) -> list[tuple[str, str]]:
    """Real pairs plus every noise type applied to each of them (several random draws)."""
    pairs = [(r[1], r[2]) for r in real_pairs(lang)]
    rng = random.Random(5)
    corrupt = Corruptor(pairs, rng, unspaced=T.is_unspaced(lang))
    out = list(pairs)
    for _ in range(3):
        for noise in NOISE_TYPES:
            if noise in ("wrong_lang", "duplicate"):  # need the corpus / added below
                continue
            for j, pair in enumerate(pairs):
                made = corrupt(noise, j, pair)
                if made is not None:
                    out.append(made)
    return out + pairs  # and exact duplicates


def test_sentence_counts_match_per_text_count():
    for texts in (real_texts(), synthetic(4)[:20000], []):
        assert T.sentence_counts(texts).tolist() == [T.sentence_count(t) for t in texts]
    # a NUL inside a text: the batch falls back to per-text counting
    assert T.sentence_counts(["a. B\x00c. D", "x"]).tolist() == [3, 1]


def test_terminal_codes_match_terminal_class():
    texts = real_texts() + synthetic(3) + ["", " ", "»"]
    assert T.terminal_codes(texts).tolist() == [T.TERMINAL_CODES[T.terminal_class(t)] for t in texts]


def test_char_counts_match_regex():
    texts = real_texts() + synthetic(3) + ["", "[[]]（）「」%/= \U0002a6e0\U0010ffff"]
    punct = re.compile("[" + re.escape(INNER_PUNCT) + "]")
    view = T.CharView(texts)
    assert view.count_chars(INNER_PUNCT).tolist() == [len(punct.findall(t)) for t in texts]


def test_rows_containing():
    texts = real_texts() + synthetic(2)
    for chars in ("<", "<&=", "\\%", "abcd", "\x00"):
        assert T.rows_containing(texts, chars) == [i for i, t in enumerate(texts) if any(c in t for c in chars)]


def test_fast_mojibake_pattern_finds_the_same_matches():
    fast, plain = mojibake_pattern(fast=True), mojibake_pattern(fast=False)
    chars = "ÃÂâÐÑäåæçèéãï€»¿\u0083\u0080\u00bfa ‘’“”•–—˜™š›œžŸ¢¦¡\u009d"
    texts = ["".join(p) for p in itertools.product(chars, repeat=3)]
    texts += [t.encode("utf-8").decode("cp1252", "replace") for t in real_texts()]  # real mojibake
    texts += [t.encode("utf-8").decode("latin-1") for t in real_texts()]
    found = 0
    for text in texts:
        expected = [m.span() for m in plain.finditer(text)]
        assert [m.span() for m in fast.finditer(text)] == expected, text
        found += len(expected)
    assert found > 1000


def _stopword_reference(texts, expected, languages, min_hits):
    own = STOPWORD_SETS[expected]
    others = [STOPWORD_SETS[lang] for lang in sorted(set(languages)) if lang in STOPWORD_SETS and lang != expected]
    out = []
    for text in texts:
        words = set(text.lower().split())
        hits = len(words & own)
        out.append(hits >= min_hits and all(3 * len(words & other) <= hits for other in others))
    return out


def test_stopword_check_matches_per_language_reference():
    rng = random.Random(3)
    vocabulary = sorted(set().union(*STOPWORD_SETS.values())) + ["Calc", "DIE", "Der", "x"]
    texts = real_texts() + [" ".join(rng.choices(vocabulary, k=rng.randint(1, 12))) for _ in range(3000)]
    texts += ["İst DIE\u2028Der\u00a0the", "ΣΑΣ die\tder", "DER\u3000DIE  das"]  # case mappings, odd spaces
    languages = ["en", "de", "fr", "es", "it", "pt", "nl", "ru", "zh", "ja"]
    for expected in ("en", "de", "fr", "es", "nl"):
        for min_hits in (1, 2, 3):
            reference = _stopword_reference(texts, expected, languages, min_hits)
            assert stopword_decides(texts, expected, languages, min_hits).tolist() == reference
            tokens = [text.split() for text in texts]
            assert stopword_decides(texts, expected, languages, min_hits, tokens=tokens).tolist() == reference


def test_ascii_normalization_fast_path():
    table_path = Normalizer(NormalizeParams(), "en")
    texts = ["a\tb", "a\x01b", "\x7fx", "plain text", "  two  spaces ", "a\rb\nc", "\x00", "", "tab\t"]
    texts += ["".join(p) for p in itertools.product(["a", " ", "\t", "\x0b", "\x1f", "\x7f", "\n"], repeat=3)]
    table = table_path._table
    expected = [" ".join(t.translate(table).split()) for t in texts]
    assert table_path(texts) == expected
    no_control = Normalizer(NormalizeParams(remove_control=False), "en")
    assert no_control(["a\x01b"]) == ["a\x01b"]


def _identical_reference(src, tgt, min_chars):
    out = []
    for s, t in zip(src, tgt):
        if (len(s) < min_chars or s[:2].casefold() != t[:2].casefold()
                or abs(len(s) - len(t)) > 0.3 * max(len(s), len(t)) + 3):
            out.append(0.0)
            continue
        a, b = re.sub(r"[\W\d_]+", "", s).casefold(), re.sub(r"[\W\d_]+", "", t).casefold()
        out.append(1.0 if a and a == b else 0.0)
    return out


def _repeated_reference(tokens, max_repeats, max_share, min_words):
    out = []
    for toks in tokens:
        n, score = len(toks), 0.0
        if n >= 2:
            if any(a == b for a, b in zip(toks, toks[1:])):
                run, best = 1, 1
                for a, b in zip(toks, toks[1:]):
                    run = run + 1 if a == b and a.isalpha() else 1
                    best = max(best, run)
                score = best / (max_repeats + 1)
            if n >= min_words and len(set(toks)) <= n * (1 - max_share) + 1:
                score = max(score, max(map(toks.count, set(toks))) / n / max_share * (1 - 1e-9))
        out.append(score)
    return out


def test_prefiltered_rules_match_references():
    pairs = noisy_pairs("de") + [("Calc 3.", "calc 3"), ("OK", "OK"), ("Chapter 12", "chapter 12!")]
    src, tgt = [p[0] for p in pairs], [p[1] for p in pairs]
    context = RuleContext("en", "de")
    batch = PairBatch.of(src, tgt, "en", "de")
    assert Identical(IdenticalParams(), context).score(batch).tolist() == _identical_reference(src, tgt, 4)
    rng = random.Random(2)
    words = ["a", "b", "home", "1", "-"]
    texts = src + tgt + [" ".join(rng.choices(words, k=rng.randint(0, 12))) for _ in range(2000)]
    side = Side(texts, "en")
    variants = (RepeatedWordsParams(), RepeatedWordsParams(max_share=0.9, min_words=2),
                RepeatedWordsParams(max_repeats=1))
    for p in variants:
        got = RepeatedWords(p, context).score(side).tolist()
        assert got == _repeated_reference(side.feature("tokens"), p.max_repeats, p.max_share, p.min_words)


@pytest.mark.parametrize("lang", ["de", "zh", "ja", "ru"])
def test_lazy_view_shrinking_keeps_first_reasons(monkeypatch, lang):
    """Shrinking the view late (rules also score rows that already failed) gives the same decisions and
    first-failing tags as shrinking after every rule, and the first tag of `all_reasons`."""
    pairs = noisy_pairs(lang)
    src, tgt = [p[0] for p in pairs], [p[1] for p in pairs]
    config = load_config()
    results = []
    for shrink_at in (10**9, 50, 1):  # after every failure, the default, almost never
        monkeypatch.setattr(engine_module, "SHRINK_AT", shrink_at)
        results.append(Engine(config, "en", lang).run(src, tgt))
    everything = Engine(dataclasses.replace(config, all_reasons=True), "en", lang).run(src, tgt)
    first = results[0]
    assert not first.keep.all() and first.keep.any()
    for other in results[1:]:
        assert other.keep.tolist() == first.keep.tolist()
        assert other.reasons == first.reasons
        assert other.keys == first.keys
    assert everything.keep.tolist() == first.keep.tolist()
    for tags, first_tags in zip(everything.reasons, first.reasons):
        # the first failing rule's tags (one per failing side) lead the full list
        first_list = first_tags.split(",") if first_tags else []
        assert tags.split(",")[:len(first_list)] == first_list if tags else not first_list
        assert len({tag.split("(")[0] for tag in first_list}) <= 1


def test_url_bad_encoding_and_numbers_match_references():
    texts = real_texts() + ["see https://x.org/a b", "www.example.com", "mail me: a.b@c.de now", "a/b www x@y",
                            "HTTP://X.ORG", "ftp://x", "bad \ufffd\ufffd", "\ufffd", "1.000,5 and 2", ""]
    context = RuleContext("en", "de")
    side = Side(texts, "en")
    token = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.]+")
    reference = [sum(map(len, token.findall(t))) / max(len(t), 1) if _URL.search(t) else 0.0 for t in texts]
    assert Url(UrlParams(), context).score(side).tolist() == reference
    assert BadEncoding(NoParams(), context).score(side).tolist() == [float(t.count("\ufffd")) for t in texts]
    numbers = side.feature("numbers")
    shifted = numbers[1:] + numbers[:1]
    assert number_jaccard(numbers, shifted).tolist() == [
        len(a & b) / len(a | b) if (a or b) else 1.0 for a, b in zip(numbers, shifted)]

