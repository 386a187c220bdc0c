"""The `lexical` rule: a lexicon learned from clean pairs separates aligned from misaligned pairs."""

from __future__ import annotations

from cleaning import lexicon
from cleaning.config import config_from_dict
from cleaning.engine import Engine
from tests.unit.cleaning_helpers import real_pairs
from volctrans.cli.main import main


def test_tokens_for_spaced_and_unspaced_languages():
    assert lexicon.tokens("Klicken Sie auf OK, 2 Mal.", "de") == {"klicken", "sie", "auf", "ok", "mal"}
    assert lexicon.tokens("点击 OK 按钮", "zh") == {"点击", "ok", "按钮"}


def test_learned_lexicon_flags_misaligned_pairs(tmp_path):
    pairs = [(en, de) for _, en, de, _ in real_pairs("de")]
    lex = lexicon.learn(pairs * 3, "en", "de", min_count=3, min_dice=0.5, max_df=1.0)
    path = tmp_path / "en-de.json"
    lexicon.save(lex, path)
    config = config_from_dict({"rules": {"lexical": {"path": str(tmp_path / "{src}-{tgt}.json"), "min_known": 2}}})
    engine = Engine(config, "en", "de")
    src = [p[0] for p in pairs]
    tgt = [p[1] for p in pairs]
    assert engine.run(src, tgt).reasons == [""] * len(pairs)
    shifted = engine.run(src, tgt[1:] + tgt[:1]).reasons
    assert shifted.count("lexical") >= len(pairs) - 1


def test_cli_clean_lexicon(tmp_path, data_dir):
    out = tmp_path / "en-zh.json"
    assert main(["clean-lexicon", "-s", "en", "-t", "zh", "-i", str(data_dir / "tiny/en-zh/train.tsv.gz"),
                 "-o", str(out)]) == 0
    assert lexicon.load(out)["tgt_lang"] == "zh" and lexicon.load(out)["src_to_tgt"]
    # Too few pairs to learn any word: an empty lexicon would make the `lexical` rule accept every pair.
    data = tmp_path / "pairs.tsv"
    data.write_text("".join(f"{en}\t{zh}\n" for _, en, zh, _ in real_pairs("zh") * 4), encoding="utf-8")
    assert main(["clean-lexicon", "-s", "en", "-t", "zh", "-i", str(data), "-o", str(tmp_path / "x.json")]) == 1
    assert not (tmp_path / "x.json").exists()
