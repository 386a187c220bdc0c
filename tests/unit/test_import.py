import pytest

from volctrans.data.corpus import Manifest
from volctrans.data.imported import import_corpora
from volctrans.errors import ConfigError
from volctrans.io import read_tsv


def test_import_tsv_and_plain_files(tmp_path):
    (tmp_path / "pub.tsv").write_text("Save the file.\tSpeichern Sie die Datei.\nOpen\tÖffnen\n", encoding="utf-8")
    (tmp_path / "m.en").write_text("Hello\nThank you\n", encoding="utf-8")
    (tmp_path / "m.de").write_text("Hallo\nDanke\n", encoding="utf-8")
    (tmp_path / "dev.tsv").write_text("Close\tSchließen\n", encoding="utf-8")
    listing = tmp_path / "sources.tsv"
    listing.write_text(f"# source pair split path\npublic en-de train {tmp_path / 'pub.tsv'}\n"
                       f"public en-de dev {tmp_path / 'dev.tsv'}\n"
                       f"mined en-de train {tmp_path / 'm.en'},{tmp_path / 'm.de'}\n", encoding="utf-8")
    manifests = import_corpora(listing, tmp_path / "out")
    assert [m.name for m in manifests] == ["public", "mined"]
    assert Manifest.load(tmp_path / "out/public").pairs == {"en-de": {"train": 2, "dev": 1}}
    rows = read_tsv(tmp_path / "out/mined/en-de/train.tsv")
    assert [(r.source, r.target, r.extra) for r in rows] == [("Hello", "Hallo", ["m.en:1"]), ("Thank you", "Danke", ["m.en:2"])]


def test_every_problem_in_the_list_is_reported(tmp_path):
    (tmp_path / "a.tsv").write_text("a\tb\n")
    listing = tmp_path / "sources.tsv"
    listing.write_text(f"public en-de training {tmp_path / 'a.tsv'}\nmined en_de train /nonexistent.tsv\n"
                       f"bt en-xx-yy dev {tmp_path / 'a.tsv'} extra\n")
    with pytest.raises(ConfigError) as info:
        import_corpora(listing, tmp_path / "out")
    problems = " | ".join(info.value.problems)
    assert "line 1: split 'training'" in problems and "line 2: pair 'en_de'" in problems
    assert "/nonexistent.tsv: no such file" in problems and "line 3: expected 4 fields" in problems
    assert not (tmp_path / "out").exists()
