import polib
import pytest

from volctrans.data import gettext
from volctrans.data.corpus import Manifest
from volctrans.io import read_tsv


@pytest.mark.parametrize("raw, expected", [
    ("_Open File", "Open File"),
    ("&Save", "Save"),
    ("Save ~As...", "Save As..."),
    ("ファイル(_F)", "ファイル"),
    ("打开(&O)...", "打开..."),
    ("snake_case name", "snake_case name"),
    ("Fish && Chips", "Fish & Chips"),
])
def test_accelerators(raw, expected):
    assert gettext.strip_accelerators(raw) == expected


@pytest.mark.parametrize("raw", ["%s", "%(count)d: %s", "{0} / {1}", "  ", "%d%%", "${HOME}"])
def test_format_only_strings_are_dropped(raw):
    assert gettext.clean_message(raw) is None


def _catalog(path, language, entries):
    po = polib.POFile()
    po.metadata = {"Language": language, "Content-Type": "text/plain; charset=UTF-8"}
    for msgid, msgstr, flags in entries:
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=flags))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".mo":
        po.save_as_mofile(str(path))
    else:
        po.save(str(path))


def test_build_from_po_and_mo(tmp_path):
    _catalog(tmp_path / "in/gedit.po", "de", [
        ("_Open", "Ö_ffnen", []), ("Save the current file", "Die aktuelle Datei speichern", []),
        ("%s", "%s", []), ("Fuzzy entry", "Unsicher", ["fuzzy"]), ("Untranslated", "", []),
    ])
    _catalog(tmp_path / "in/locale/ja/LC_MESSAGES/nautilus.mo", "", [("_File", "ファイル(_F)", [])])
    manifest = gettext.build([str(tmp_path / "in")], tmp_path / "out", dev_fraction=0, test_fraction=0)
    assert set(manifest.pairs) == {"en-de", "en-ja"}
    rows = read_tsv(tmp_path / "out/en-de/train.tsv")
    assert [(r.source, r.target) for r in rows] == [("Open", "Öffnen"), ("Save the current file", "Die aktuelle Datei speichern")]
    assert [(r.source, r.target, r.extra) for r in read_tsv(tmp_path / "out/en-ja/train.tsv")] == [("File", "ファイル", ["nautilus"])]
    assert Manifest.load(tmp_path / "out").name == "gettext"


def test_held_out_strings_of_another_corpus_are_dropped(tmp_path):
    _catalog(tmp_path / "in/writer.po", "es", [
        ("Save the document.", "Guarde el documento.", []),
        ("Open a file.", "Abra un archivo.", []),
        ("Close the window.", "Cierre la ventana.", []),
    ])
    held = tmp_path / "lo"
    (held / "en-es").mkdir(parents=True)
    (held / "en-es/test.tsv").write_text("Close it.\tCierre la ventana.\n", encoding="utf-8")
    (held / "en-es/dev.tsv").write_text("Open a file.\tAbrir archivo.\n", encoding="utf-8")
    Manifest(name="lo", licence="MPL-2.0", source_lang="en",
             files={"en-es": {"dev": "en-es/dev.tsv", "test": "en-es/test.tsv"}}).save(held)
    manifest = gettext.build([str(tmp_path / "in")], tmp_path / "out", ["es"], dev_fraction=0.0, test_fraction=0.0,
                             held_out=held)
    rows = read_tsv(tmp_path / "out/en-es/train.tsv")
    assert [r.source for r in rows] == ["Save the document."]  # one matched the English side, one the Spanish
    assert manifest.details["held_out_dropped"] == {"es": 2}
