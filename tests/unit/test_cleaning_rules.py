"""Each rule family on real multilingual pairs and on the noise it is meant to catch."""

from __future__ import annotations

import numpy as np
import pytest

from cleaning.config import CleanConfig, config_from_dict, load_config
from cleaning.engine import Engine
from cleaning.rules import RULES, PairBatch, RuleContext
from tests.unit.cleaning_helpers import real_pairs

LANGS = ["de", "zh", "ru", "ja"]


@pytest.fixture(scope="module")
def engines():
    config = load_config()
    return {lang: Engine(config, "en", lang) for lang in LANGS}


def reasons_for(engine: Engine, pairs: list[tuple[str, str]]) -> list[str]:
    result = engine.run([p[0] for p in pairs], [p[1] for p in pairs])
    return result.reasons


@pytest.mark.parametrize("lang", LANGS)
def test_real_clean_pairs_are_kept(engines, lang):
    rows = real_pairs(lang)
    reasons = reasons_for(engines[lang], [(r[1], r[2]) for r in rows])
    assert reasons == [""] * len(rows)


def test_each_noise_gets_its_tag(engines):
    (_, en, de, _), (_, en2, de2, _) = real_pairs("de")[:2]
    cases = {
        "empty(tgt)": (en, "   "),
        "identical": (en, en),
        "only_symbols(tgt)": (en, "12.5 % — 2023 / 44"),
        "html(tgt)": (en, '<a href="x">' + de + "</a>"),
        "mojibake(tgt)": (en2, de2.encode("utf-8").decode("cp1252", "replace")),  # de2 has "Ä"
        "bad_encoding(tgt)": (en, de.replace("e", "\ufffd", 2)),
        "escaped_unicode(tgt)": (en, de + " \\u00fc"),
        "url(tgt)": (en, "https://help.libreoffice.org/latest/de/text/scalc/main0000.html"),
        "repeated_words(src)": ("click click click click click here " + en, de),
        "repeated_chars(tgt)": (en, de + " !!!!!!!!!!!!"),
        "length_ratio": (en + " " + en2 + " " + en, de),
        "number_mismatch": (en + " See page 12.", de + " Siehe Seite 47."),
    }
    engine = engines["de"]
    got = reasons_for(engine, list(cases.values()))
    for (expected, _), reason in zip(cases.items(), got):
        assert reason.split(",")[0] == expected, (expected, reason)


def test_wrong_script_and_language():
    config = load_config()
    config.all_reasons = True  # a wrong-script text may also fail length rules first
    (_, en, zh, _) = real_pairs("zh")[0]
    (_, _, ru, _) = real_pairs("ru")[0]
    (_, en_de, de, _) = real_pairs("de")[2]
    zh_tags = [r.split(",") for r in reasons_for(Engine(config, "en", "zh"), [(en, ru), (en, zh)])]
    assert "wrong_script(tgt)" in zh_tags[0] and zh_tags[1] == [""]
    assert "wrong_script(tgt)" in reasons_for(Engine(config, "en", "ja"), [(en_de, de)])[0].split(",")
    # French where German is expected: same script, so language ID has to catch it.
    french = "Cliquez ici pour appliquer l'alignement aux objets Fontwork sélectionnés dans le document."
    assert reasons_for(Engine(config, "en", "de"), [(en_de, french)])[0] == "wrong_lang(tgt)"


def test_cjk_length_ratio_is_script_aware(engines):
    # A Chinese translation has ~3x fewer characters than its English source: not a length mismatch.
    for _, en, zh, _ in real_pairs("zh"):
        batch = PairBatch.of([en], [zh], "en", "zh")
        rule = RULES["length_ratio"](RULES["length_ratio"].params_class(), RuleContext("en", "zh"))
        assert rule.accept(rule.score(batch)).all()


def test_score_is_pure_and_accept_is_threshold():
    rule_cls = RULES["length_ratio"]
    batch = PairBatch.of(["a b c d e f g h", "x"], ["a b c d e f g h", "a much longer target sentence here"], "en", "de")
    rule = rule_cls(rule_cls.params_class(max_ratio=2.0), RuleContext("en", "de"))
    first, second = rule.score(batch), rule.score(batch)
    np.testing.assert_array_equal(first, second)
    assert rule.accept(first).tolist() == [True, False]
    loose = rule_cls(rule_cls.params_class(max_ratio=100.0), RuleContext("en", "de"))
    assert loose.accept(first).tolist() == [True, True]


def test_all_reasons_reports_every_failing_rule():
    config = load_config()
    config.all_reasons = True
    engine = Engine(config, "en", "de")
    result = engine.run(["Click OK."], ["<b>12345 67890</b>"])
    tags = result.reasons[0].split(",")
    assert {"html(tgt)", "alpha_ratio(tgt)"} <= set(tags)


def test_monolingual_engine_skips_pair_rules():
    engine = Engine(load_config(), "de")
    assert all(not rule.pair for rule in engine.rules)
    rows = [r[2] for r in real_pairs("de")]
    result = engine.run(rows + ["", "Ã¼berall Ã¤hnlich"])
    assert result.reasons[: len(rows)] == [""] * len(rows)
    assert result.reasons[len(rows):] == ["empty", "mojibake"]


def test_config_errors_are_reported_all_at_once():
    from volctrans.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        config_from_dict({"rules": {"length_ratio": {"max_ratio": "x", "bogus": 1}, "no_such_rule": {}},
                          "dedup": {"mode": "sometimes"}, "typo": True})
    problems = " | ".join(caught.value.problems)
    for needle in ("unknown key 'typo'", "unknown rule 'no_such_rule'", "rules.length_ratio: unknown key 'bogus'",
                   "max_ratio: expected a number", "dedup: mode: expected one of"):
        assert needle in problems
    assert len(caught.value.problems) == 5


def test_registry_has_the_issue_rules():
    needed = {"empty", "too_short", "too_long", "length_ratio", "word_ratio", "identical", "only_symbols",
              "alpha_ratio", "url", "html", "repeated_words", "repeated_chars", "unicode_noise", "mojibake",
              "escaped_unicode", "bad_encoding", "number_mismatch", "punct_mismatch", "wrong_script", "wrong_lang",
              "sentence_count", "entity_mismatch", "learned", "lexical"}
    assert needed <= set(RULES)
    for cls in RULES.values():
        cls.params_class()  # every params dataclass has defaults


def test_default_config_is_valid_and_ordered():
    config = load_config()
    names = list(config.rules)
    assert names[0] == "empty" and names[-1] == "wrong_lang"
    assert isinstance(config, CleanConfig)


def test_langid_py_backend_is_restricted_to_configured_languages():
    from cleaning.langid import make_identifier

    identifier = make_identifier("langid", ["en", "de", "fr"])
    assert identifier.name == "langid" and identifier.languages == ["de", "en", "fr"]
    german = "Klicken Sie hier, um die Ausrichtung auf die gewählten Objekte anzuwenden."
    p_de, p_other = identifier.probabilities([german], "de")
    assert p_de[0] > 0.9 and p_other[0] == 0.0
    p_en, p_other = identifier.probabilities([german], "en")
    assert p_en[0] == 0.0 and p_other[0] > 0.9
    config = config_from_dict({"rules": {"wrong_lang": {"backend": "langid", "languages": ["en", "de", "fr"],
                                                        "stopword_hits": 0}}})
    engine = Engine(config, "en", "de")
    french = "Cliquez ici pour appliquer l'alignement aux objets sélectionnés."
    assert engine.run(["Click here to apply the alignment.", "Click here to apply the alignment."],
                      [german, french]).reasons == ["", "wrong_lang(tgt)"]


def test_optional_web_crawl_rules():
    config = config_from_dict({"rules": {"long_word": {}, "avg_word_length": {}, "breadcrumbs": {},
                                         "unbalanced_brackets": {}}, "all_reasons": True})
    engine = Engine(config, "en", "de")
    (_, en, de, _) = real_pairs("de")[0]
    rows = [
        (en, de),
        (en, "".join(de.split())),  # glued words
        ("T h i s i s s p a c e d o u t", de),
        ("Home > Help > Calc > Functions", de),
        (en + " (see", de + " (siehe"),
    ]
    reasons = engine.run([r[0] for r in rows], [r[1] for r in rows]).reasons
    assert reasons[0] == ""
    assert "long_word(tgt)" in reasons[1]
    assert "avg_word_length(src)" in reasons[2]
    assert "breadcrumbs(src)" in reasons[3]
    assert reasons[4] == "unbalanced_brackets(src),unbalanced_brackets(tgt)"
    # a Chinese sentence is one long token: not a long word
    (_, en_zh, zh, _) = real_pairs("zh")[0]
    assert Engine(config, "en", "zh").run([en_zh], [zh * 3]).reasons == [""]
