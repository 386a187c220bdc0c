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
