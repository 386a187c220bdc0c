import random

import pytest

from volctrans.backtranslate import BT_TAG, FILLER, BacktranslateConfig, add_noise, backtranslate
from volctrans.config import from_dict
from volctrans.data.corpus import Manifest
from volctrans.errors import ConfigError, VolctransError
from volctrans.io import read_tsv


class _RecordingTranslator:
    """Stands in for the CT2 model to test sharding and resume: 'translates' by tagging the text."""

    def __init__(self):
        self.calls = []

    def lang_token(self, lang):
        return f"__{lang}__"

    def check_direction(self, source_lang, target_lang):
        self.lang_token(source_lang)
        self.lang_token(target_lang)

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
    assert Manifest.load(tmp_path / "bt").synthetic == {"en-de": "source"}



class _FailingTranslator(_RecordingTranslator):
    """Dies on its second batch, like a run killed in the middle."""

    def translate(self, texts, source_lang, target_lang, options=None):
        if self.calls:
            raise KeyboardInterrupt
        return super().translate(texts, source_lang, target_lang, options)


def test_interrupted_run_resumes_at_first_missing_shard(tmp_path):
    (tmp_path / "mono.de").write_text("Eins.\nZwei.\nDrei.\nVier.\nFünf.\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        backtranslate(_config(tmp_path), _FailingTranslator())
    assert (tmp_path / "bt/.shards/shard-00000.tsv").exists() and not (tmp_path / "bt/manifest.json").exists()

    # Other settings would mix two runs' outputs: refused, naming what changed.
    with pytest.raises(VolctransError, match="shard_size: 2 → 3"):
        backtranslate(_config(tmp_path, shard_size=3), _RecordingTranslator())

    translator = _RecordingTranslator()
    backtranslate(_config(tmp_path), translator)
    assert translator.calls == [["Drei.", "Vier."], ["Fünf."]]  # the finished shard is not translated again
    assert [r.source for r in read_tsv(tmp_path / "bt/en-de/train.tsv")][:2] == ["EN(Eins.)", "EN(Zwei.)"]
    assert not (tmp_path / "bt/.shards").exists()


def test_shards_of_unknown_origin_are_refused(tmp_path):
    (tmp_path / "mono.de").write_text("Eins.\n", encoding="utf-8")
    (tmp_path / "bt/.shards").mkdir(parents=True)
    (tmp_path / "bt/.shards/shard-00000.tsv").write_text("EARLIER\tEins.\tbt:mono.de:1\n")
    with pytest.raises(VolctransError, match="settings.json"):
        backtranslate(_config(tmp_path), _RecordingTranslator())


def test_decoding_options_and_sampling_seed(tmp_path, monkeypatch):
    import ctranslate2

    seeds = []
    monkeypatch.setattr(ctranslate2, "set_random_seed", seeds.append)
    (tmp_path / "mono.de").write_text("Eins.\nZwei.\nDrei.\n", encoding="utf-8")

    class Options(_RecordingTranslator):
        def translate(self, texts, source_lang, target_lang, options=None):
            self.options = options
            return super().translate(texts, source_lang, target_lang, options)

    translator = Options()
    backtranslate(_config(tmp_path, method="sampling", sampling_topk=5, max_decoding_length=40, seed=7), translator)
    assert (translator.options.beam_size, translator.options.sampling_topk) == (1, 5)
    assert translator.options.max_decoding_length == 40
    assert seeds == [7 * 100_003, 7 * 100_003 + 1]  # one seed per shard: a resumed shard draws the same samples

    seeds.clear()
    backtranslate(_config(tmp_path, out=str(tmp_path / "beam"), method="beam", beam_size=3), translator)
    assert translator.options.beam_size == 3 and translator.options.sampling_topk == 1 and seeds == []


def test_config_problems(tmp_path):
    with pytest.raises(ConfigError) as info:
        _config(tmp_path, method="greedy", lang="en", max_decoding_length=0)
    assert "method" in str(info.value) and "differ" in str(info.value) and "max_decoding_length" in str(info.value)
