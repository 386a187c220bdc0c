import pytest

from volctrans import apertium

mode = apertium.apertium_mode("en", "es")


def test_mode_names():
    assert apertium.apertium_mode("en", "xx") is None


@pytest.mark.skipif(mode is None, reason="apertium + apertium-eng-spa not installed (optional baseline)")
def test_alignment_is_kept_with_empty_lines():
    lines = ["Click the Save button.", "", "Open a new document and type the text.", "Third line: 3 items."]
    out = apertium.translate(lines, mode)
    assert len(out) == 4 and out[1] == ""
    assert "documento" in out[2] and "3" in out[3]


def test_local_tree_is_used_and_its_modes_repointed(tmp_path, monkeypatch):
    """A tree unpacked without root (install_local) is found through VOLCTRANS_APERTIUM_ROOT; no network here."""
    bin_dir, modes = tmp_path / "usr/bin", tmp_path / "usr/share/apertium/modes"
    bin_dir.mkdir(parents=True)
    modes.mkdir(parents=True)
    (modes / "eng-spa.mode").write_text("lt-proc '/usr/share/apertium/apertium-eng-spa/eng-spa.automorf.bin'\n")
    # A stand-in program that lists one mode and upper-cases its input, like `apertium -l` / `apertium -u MODE`.
    (bin_dir / "apertium").write_text('#!/bin/sh\nif [ "$1" = -l ]; then echo eng-spa; else tr a-z A-Z; fi\n')
    (bin_dir / "apertium").chmod(0o755)
    apertium.repoint_modes(tmp_path)
    assert f"'{tmp_path}/usr/share/apertium/apertium-eng-spa/" in (modes / "eng-spa.mode").read_text()
    monkeypatch.setenv(apertium.LOCAL_ROOT_ENV, str(tmp_path))
    assert apertium.apertium_mode("en", "es") == "eng-spa"
    assert apertium.apertium_mode("en", "fr") is None
    assert apertium.translate(["Save the file.", ""], "eng-spa") == ["SAVE THE FILE.", ""]
    assert apertium.pair_packages("es", "en") == ["apertium-eng-spa"]


def test_the_cli_translates_a_file_line_for_line_with_a_local_tree(tmp_path, monkeypatch, capsys):
    """`volctrans apertium` with --install-to an already unpacked tree (the stand-in program): no network."""
    from volctrans.cli.main import main

    root = tmp_path / "apertium"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/apertium").write_text('#!/bin/sh\nif [ "$1" = -l ]; then echo eng-spa; else tr a-z A-Z; fi\n')
    (root / "usr/bin/apertium").chmod(0o755)
    monkeypatch.delenv(apertium.LOCAL_ROOT_ENV, raising=False)
    monkeypatch.setattr(apertium.shutil, "which", lambda name: None)  # as on a machine without a system Apertium
    (tmp_path / "src.txt").write_text("Save the file.\n\nÖffnen: 3 items.\n", encoding="utf-8")
    argv = ["apertium", "en-es", "-i", str(tmp_path / "src.txt"), "-o", str(tmp_path / "hyp.txt")]
    assert main([*argv, "--install-to", str(root)]) == 0
    assert (tmp_path / "hyp.txt").read_text(encoding="utf-8") == "SAVE THE FILE.\n\nÖFFNEN: 3 ITEMS.\n"
    monkeypatch.delenv(apertium.LOCAL_ROOT_ENV, raising=False)
    assert main([*argv[:-1], str(tmp_path / "other.txt")]) == 1  # neither system-wide nor --install-to
    assert "apertium: en-es not available" in capsys.readouterr().err
    assert not (tmp_path / "other.txt").exists()
