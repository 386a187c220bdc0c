"""The per-sentence relative length cap (fairseq's --max-len-a/b rule) on the real tiny model."""

import pytest

from serving.fairseq_ref import length_cap_arguments
from serving.translator import DecodingOptions, Translator
from volctrans.errors import VolctransError

SOURCES = ["Inserts a new table.", "Save the document.", "", "Select the cells and choose Format - Cells, then click the "
           "Borders tab and choose the line style for the selected cells."]


def test_output_cap_rule(tiny_model):
    translator = Translator(tiny_model.model, intra_threads=1)
    fixed = DecodingOptions(max_decoding_length=50)
    assert translator.output_cap(3, fixed) == 50
    relative = DecodingOptions(max_decoding_length=50, max_length_ratio=1.5, max_length_extra=2)
    assert translator.output_cap(4, relative) == 8  # int(1.5 × 4 + 2)
    assert translator.output_cap(40, relative) == 50  # the global cap still applies
    assert translator.output_cap(0, DecodingOptions(max_length_ratio=0.5, max_length_extra=0)) == 1


@pytest.mark.parametrize("beam", [1, 3])
def test_relative_cap_bounds_each_output_and_keeps_order(tiny_model, beam):
    translator = Translator(tiny_model.model, intra_threads=1)
    options = DecodingOptions(beam_size=beam, max_length_ratio=0.5, max_length_extra=1)
    pieces = translator.translate_pieces(SOURCES, "en", "de", options)
    assert pieces[2] == []
    for source, output in zip(SOURCES, pieces):
        if source:
            source_pieces = len(translator.processor.encode(source))
            assert len(output) <= int(0.5 * source_pieces + 1)
    # A cap no output reaches changes nothing: the grouping by cap keeps every sentence in its place.
    loose = DecodingOptions(beam_size=beam, max_length_ratio=10.0, max_length_extra=200)
    assert translator.translate(SOURCES, "en", "de", loose) == translator.translate(SOURCES, "en", "de",
                                                                                     DecodingOptions(beam_size=beam))


def test_invalid_ratio_is_reported_and_fairseq_reference_refuses_it(tiny_model):
    assert "max_length_ratio and max_length_extra must be ≥ 0" in DecodingOptions(max_length_ratio=-1).validate()
    translator = Translator(tiny_model.model, intra_threads=1)
    assert length_cap_arguments(translator, DecodingOptions(max_decoding_length=20)) == ["--max-len-a", "0", "--max-len-b", "21"]
    with pytest.raises(VolctransError, match="per batch"):
        length_cap_arguments(translator, DecodingOptions(max_length_ratio=1.2))
