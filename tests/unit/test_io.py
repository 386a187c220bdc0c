import gzip

import pytest

from volctrans.errors import InputError
from volctrans.io import (MalformedRow, TsvRow, atomic_write, iter_lines, iter_parallel, iter_tsv_rows, read_tsv,
                          write_tsv)


def test_tsv_keeps_extra_columns_and_reads_gzip(tmp_path):
    path = tmp_path / "pairs.tsv.gz"
    write_tsv(path, [["Save the file.", "Speichern Sie die Datei.", "page1#p1", "x"], ["保存", "Сохранить"]])
    rows = read_tsv(path)
    assert [r.fields() for r in rows] == [["Save the file.", "Speichern Sie die Datei.", "page1#p1", "x"], ["保存", "Сохранить"]]
    assert rows[0].line == 1 and rows[1].extra == []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        assert handle.readline().startswith("Save the file.\t")


def test_missing_column_is_located(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("Hello\tHallo\nonly one column\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_tsv(path)
    assert str(info.value) == f"{path}:2: missing column: expected source<TAB>target"


def test_invalid_utf8_is_located_and_reported_in_lenient_mode(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_bytes("Hello\tHallo\n".encode() + b"caf\xe9\tCaf\xc3\xa9\n" + "Yes\tJa\n".encode())
    with pytest.raises(InputError, match=r"bad.tsv:2: invalid UTF-8 at byte 3"):
        read_tsv(path)
    rows = list(iter_tsv_rows(path, strict=False))
    assert isinstance(rows[0], TsvRow) and isinstance(rows[2], TsvRow)
    assert isinstance(rows[1], MalformedRow) and rows[1].line == 2 and "UTF-8" in rows[1].reason


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.tsv"
    path.write_text("")
    with pytest.raises(InputError, match="empty file"):
        read_tsv(path)
    assert list(iter_lines(path, allow_empty=True)) == []


def test_parallel_line_count_mismatch(tmp_path):
    (tmp_path / "a.en").write_text("one\ntwo\nthree\n", encoding="utf-8")
    (tmp_path / "a.de").write_text("eins\nzwei\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"a.de:3: line-count mismatch"):
        list(iter_parallel(tmp_path / "a.en", tmp_path / "a.de"))


def test_crlf_is_stripped(tmp_path):
    path = tmp_path / "win.txt"
    path.write_bytes(b"eins\r\nzwei\r\n")
    assert [t for _, t in iter_lines(path)] == ["eins", "zwei"]


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("partial\n")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_write(target) as handle:
        handle.write("complete\n")
    assert target.read_text() == "complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_write_tsv_refuses_embedded_tabs(tmp_path):
    with pytest.raises(ValueError):
        write_tsv(tmp_path / "x.tsv", [["a\tb", "c"]])
    assert not (tmp_path / "x.tsv").exists()


def test_chunked_keeps_order_and_the_short_tail():
    from volctrans.io import chunked

    assert list(chunked(iter(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []
