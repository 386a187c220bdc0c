import random

import pytest

from volctrans.backtranslate import BT_TAG, FILLER, BacktranslateConfig, add_noise, backtranslate
from volctrans.config import from_dict
from volctrans.data.corpus import Manifest
from volctrans.errors import ConfigError
from volctrans.io import read_tsv


class _RecordingTranslator:
    """Stands in for the CT2 model to test sharding and resume: 'translates' by tagging the text."""

    def __init__(self):
        self.calls = []

    def lang_token(self, lang):
        return f"__{lang}__"

    def translate(self, texts, source_lang, target_lang, options=None):
        self.calls.append(list(texts))
        return [f"EN({text})" for text in texts]


def _config(tmp_path, **overrides):
    values = {"model": "unused", "lang": "de", "input": str(tmp_path / "mono.de"), "out": str(tmp_path / "bt"),
              "shard_size": 2, **overrides}
    return from_dict(BacktranslateConfig, values)


def test_noise_is_bounded_and_reproducible():
    text = "Wählen Sie Format - Zeichen und klicken Sie auf das Register Schrifteffekt ."
    first = add_noise(text, random.Random(3))
    assert first == add_noise(text, random.Random(3))
    words = first.split()
    assert len(words) <= len(text.split())
    assert set(words) <= set(text.split()) | {FILLER}
    assert add_noise("", random.Random(1)) == ""


def test_shards_resume_and_tagging(tmp_path):
    (tmp_path / "mono.de").write_text("Eins.\nZwei.\n\nDrei.\nVier.\nFünf.\n", encoding="utf-8")
    translator = _RecordingTranslator()
    manifest = backtranslate(_config(tmp_path, tagged=True), translator)
    assert manifest.name == "bt" and manifest.pairs == {"en-de": {"train": 5}}
    rows = read_tsv(tmp_path / "bt/en-de/train.tsv")
    assert [r.target for r in rows] == ["Eins.", "Zwei.", "Drei.", "Vier.", "Fünf."]  # empty line skipped
    assert rows[0].source == f"{BT_TAG} EN(Eins.)" and rows[2].extra == ["bt:mono.de:4"]
    assert not (tmp_path / "bt/.shards").exists()
    assert Manifest.load(tmp_path / "bt").details["backtranslation"]["en-de"]["tagged"] is True

    # Resume: a finished shard from an interrupted run is not translated again.
    (tmp_path / "bt/.shards").mkdir()
    (tmp_path / "bt/.shards/shard-00000.tsv").write_text("EARLIER\tEins.\tbt:mono.de:1\nEARLIER\tZwei.\tbt:mono.de:2\n")
    translator = _RecordingTranslator()
    backtranslate(_config(tmp_path), translator)
    assert translator.calls == [["Drei.", "Vier."], ["Fünf."]]
    assert read_tsv(tmp_path / "bt/en-de/train.tsv")[0].source == "EARLIER"


def test_config_problems(tmp_path):
    with pytest.raises(ConfigError) as info:
        _config(tmp_path, method="greedy", lang="en")
    assert "method" in str(info.value) and "differ" in str(info.value)
