import json

import pytest

from volctrans.data import libreoffice
from volctrans.data.corpus import Manifest, split_for_key
from volctrans.errors import VolctransError
from volctrans.io import read_tsv


def test_paragraphs_come_from_real_help_page(data_dir):
    html = (data_dir / "lohelp/en-US/text/swriter/main0110.html").read_text(encoding="utf-8")
    paragraphs = dict(libreoffice.extract_paragraphs(html))
    assert paragraphs["par_idN10553"] == "Table"
    assert paragraphs["par_idN10563"].startswith("Shows commands to insert, edit, and delete a table")
    # Navigation chrome (search box, module menu) has no paragraph id and is not collected.
    assert not any("Search in chosen module" in text for text in paragraphs.values())


def test_alignment_by_element_id(data_dir):
    root = data_dir / "lohelp"
    english = libreoffice.read_language(root, "en")
    german = libreoffice.read_language(root, "de")
    chinese = libreoffice.read_language(root, "zh")
    pairs, _ = libreoffice.align(english, german)
    by_id = {p.element_id: p for p in pairs}
    assert by_id["par_idN10553"].foreign == "Tabelle"
    assert by_id["par_idN105B8"].english == "Inserts a new table."
    assert by_id["par_idN105B8"].foreign == "Fügt eine neue Tabelle ein."
    zh_pairs, _ = libreoffice.align(english, chinese)
    assert {p.element_id for p in zh_pairs} & set(by_id)
    assert all(p.page == "swriter/main0110.html" for p in pairs)


def test_debian_names():
    assert libreoffice.debian_package("en") == "libreoffice-help-en-us"
    assert libreoffice.debian_package("zh") == "libreoffice-help-zh-cn"
    assert libreoffice.debian_package("pt_br") == "libreoffice-help-pt-br"
    assert libreoffice.help_dir_name("zh_tw") == "zh-TW"
    assert libreoffice.help_dir_name("de") == "de"


def test_build_writes_corpus_and_refuses_slovak(data_dir, tmp_path):
    root = data_dir / "lohelp"
    manifest = libreoffice.build(["de", "zh"], tmp_path, root, dev_fraction=0.0, test_fraction=0.0)
    assert manifest.licence == "MPL-2.0"
    loaded = Manifest.load(tmp_path)
    assert loaded.pairs["en-de"]["train"] == len(read_tsv(tmp_path / "en-de/train.tsv")) > 10
    assert loaded.pairs["en-de"]["test"] == 0
    assert json.loads((tmp_path / "manifest.json").read_text())["details"]["split"]["by"] == "help page"
    with pytest.raises(VolctransError, match="Czech"):
        libreoffice.build(["sk"], tmp_path / "sk", root)


def test_split_is_deterministic_and_by_key():
    keys = [f"swriter/page{i}.html" for i in range(2000)]
    splits = [split_for_key(k, 0.05, 0.05) for k in keys]
    assert splits == [split_for_key(k, 0.05, 0.05) for k in keys]
    assert 40 < splits.count("test") < 160 and 40 < splits.count("dev") < 160


def test_embedded_sample_has_no_page_in_two_splits(data_dir):
    for corpus in (data_dir.parent.parent / "data/sample", data_dir / "tiny"):
        manifest = Manifest.load(corpus)
        assert len(manifest.pairs) >= 2
        for pair in manifest.pairs:
            pages = {split: {row.extra[0].split("#")[0] for row in read_tsv(manifest.path(corpus, pair, split))}
                     for split in ("train", "dev", "test")}
            assert not pages["train"] & pages["test"] and not pages["train"] & pages["dev"]
            assert not pages["dev"] & pages["test"]
            train_english = {row.source for row in read_tsv(manifest.path(corpus, pair, "train"))}
            assert not train_english & {row.source for row in read_tsv(manifest.path(corpus, pair, "test"))}
