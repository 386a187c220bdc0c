"""Monolingual sentences from Debian's translated man pages (roff) and fortunes, as back-translation input."""

import gzip
import json

from volctrans.cli.main import main
from volctrans.data import debian_mono

LS_PAGE = r""".\" -*- coding: UTF-8 -*-
.TH LS 1 "Septiembre de 2022" "GNU coreutils 9.1" "Órdenes de usuario"
.SH NOMBRE
ls \- lista el contenido de un directorio
.SH DESCRIPCIÓN
.PP
Por defecto, muestra información de los ARCHIVO (pueden ser uno o varios)
del directorio actual. Ordena alfabéticamente la salida si no se especifica
ninguna de las opciones \fB\-cftuvSUX\fP ni \fB\-\-sort\fP.
.TP
\fB\-a\fP, \fB\-\-all\fP
no oculta las entradas que comienzan con .
.TS
tab(;);
l l.
a;b
.TE
.B Atención:
el valor de retorno de una llamada realizada con éxito dependerá de la propia llamada.
"""

FORTUNES = "El que paga mal, paga dos veces.\n%\nLa palabra es el espejo\nde la acción.\n%\nCorto.\n%\n"


def test_roff_text_keeps_running_text_and_resolves_escapes():
    paragraphs = list(debian_mono.roff_paragraphs(LS_PAGE))
    assert "ls - lista el contenido de un directorio" in paragraphs
    text = " ".join(paragraphs)
    assert "\\f" not in text and ".TH" not in text and "tab(;)" not in text
    kept = [s for s in debian_mono.sentences(paragraphs) if debian_mono.keep_sentence(s)]
    assert "Por defecto, muestra información de los ARCHIVO (pueden ser uno o varios) del directorio actual." in kept
    assert any(s.startswith("Atención: el valor de retorno") for s in kept)
    assert not any(s.startswith("-") for s in kept)


def test_fortunes_and_japanese_sentence_ends():
    assert list(debian_mono.fortune_entries(FORTUNES)) == [
        "El que paga mal, paga dos veces.", "La palabra es el espejo de la acción.", "Corto."]
    assert list(debian_mono.sentences(["これはペンです。あれは本です。"])) == ["これはペンです。", "あれは本です。"]
    assert not debian_mono.keep_sentence("Corto.")  # fewer than 4 words


def test_build_drops_duplicates_and_held_out_sentences(tmp_path):
    root = tmp_path / "root"
    (root / "usr/share/man/es/man1").mkdir(parents=True)
    (root / "usr/share/man/es/man1/ls.1.gz").write_bytes(gzip.compress(LS_PAGE.encode()))
    (root / "usr/share/games/fortunes/es").mkdir(parents=True)
    (root / "usr/share/games/fortunes/es/refranes").write_text(FORTUNES * 2, encoding="utf-8")
    held = tmp_path / "held"
    (held / "en-es").mkdir(parents=True)
    (held / "en-es/test.tsv").write_text("He who pays badly pays twice.\tEl que paga mal, paga dos veces.\n")
    (held / "manifest.json").write_text(json.dumps({"name": "lo", "licence": "MPL-2.0", "source_lang": "en",
                                                    "files": {"en-es": {"test": "en-es/test.tsv"}}}))
    assert main(["data", "debian-mono", "--lang", "es", "--extracted", str(root), "--out", str(tmp_path / "out"),
                 "--held-out", str(held)]) == 0
    lines = (tmp_path / "out/mono/es.txt").read_text(encoding="utf-8").splitlines()
    assert "La palabra es el espejo de la acción." in lines
    assert "El que paga mal, paga dos veces." not in lines  # in the held-out test split
    assert len(lines) == len(set(lines))
    details = json.loads((tmp_path / "out/manifest.json").read_text())["details"]["es"]
    assert details["held_out"] == 1 and details["duplicates"] >= 1


def test_no_text_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["data", "debian-mono", "--lang", "es", "--extracted", str(tmp_path / "empty"),
                 "--out", str(tmp_path / "out")]) == 1
    assert "no es sentences" in capsys.readouterr().err
