"""Back-translated pairs train only the direction whose target side is real (synthetic text is never a target)."""

import json

import pytest

from volctrans.config import from_dict
from volctrans.data.corpus import Manifest
from volctrans.train import TrainConfig, data_categories, directions


def _config(tmp_path, **overrides):
    return from_dict(TrainConfig, {"data": str(tmp_path), "save_dir": str(tmp_path / "ckpt"), **overrides})


@pytest.mark.parametrize("which, expected", [("both", ["en-de"]), ("en-xx", ["en-de"]), ("xx-en", [])])
def test_back_translation_never_trains_into_the_synthetic_side(tmp_path, which, expected):
    config = _config(tmp_path, directions=which)
    assert directions(config, ["en-de"], {"en-de": "source"}) == expected
    # A real pair is used in both directions; a forward-translated one (synthetic target) only backwards.
    assert directions(config, ["en-de"]) == {"both": ["en-de", "de-en"], "en-xx": ["en-de"], "xx-en": ["de-en"]}[which]
    assert directions(config, ["en-de"], {"en-de": "target"}) == {"both": ["de-en"], "en-xx": [], "xx-en": ["de-en"]}[which]


def test_data_categories_reads_synthetic_sides_from_prepared(tmp_path):
    prepared = {
        "pairs": {"en-de": {}, "en-ja": {}}, "main_source": "libreoffice",
        "sources": {"libreoffice": {"dir": "bin", "pairs": {"en-de": {}, "en-ja": {}}},
                    "bt": {"dir": "bin-bt", "pairs": {"en-de": {}, "en-ja": {}},
                           "synthetic": {"en-de": "source", "en-ja": "source"}}},
    }
    categories = data_categories(_config(tmp_path, directions="both"), prepared)
    assert categories["main"][1] == ["en-de", "de-en", "en-ja", "ja-en"]
    assert categories["bt"][1] == ["en-de", "en-ja"]


def test_old_bt_manifests_are_recognised_by_their_details(tmp_path):
    manifest = Manifest(name="bt", licence="x", source_lang="en", pairs={"en-de": {"train": 1}},
                        details={"backtranslation": {"en-de": {"tagged": True}}})
    assert manifest.synthetic_side("en-de") == "source"
    assert Manifest(name="lo", licence="x", source_lang="en").synthetic_side("en-de") is None
    manifest.save(tmp_path)
    assert json.loads((tmp_path / "manifest.json").read_text())["synthetic"] == {}
