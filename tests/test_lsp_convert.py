"""Columns between code points and the three LSP position encodings."""

from __future__ import annotations

import pytest
from lsprotocol import types

from fmperf_ls.analysis.source import Position, SourceFile
from fmperf_ls.lsp.convert import PositionCodec

TEXT = 'x = ("\N{GRINNING FACE}é", frame)\n'
FRAME = Position(0, 10)  # code points: x = ("😀é", |frame


@pytest.mark.parametrize(
    ("encoding", "column"), [("utf-16", 11), ("utf-8", 14), ("utf-32", 10)]
)
def test_round_trip_through_each_encoding(encoding: str, column: int):
    source, codec = SourceFile(TEXT), PositionCodec(encoding)

    lsp = codec.to_lsp(source, FRAME)

    assert (lsp.line, lsp.character) == (0, column)
    assert codec.from_lsp(source, lsp) == FRAME


def test_positions_past_the_end_stay_past_it():
    source, codec = SourceFile(TEXT), PositionCodec("utf-8")

    far = codec.from_lsp(source, types.Position(line=40, character=7))

    assert far == Position(40, 7)
    assert codec.to_lsp(source, far) == types.Position(line=40, character=0)


def test_a_related_place_in_another_file_gets_that_files_utf16_columns(tmp_path):
    """The callee's line holds an emoji: its column in UTF-16 units is one more."""
    from fmperf_ls.analysis.source import Range
    from fmperf_ls.lsp.diagnostics import to_diagnostic
    from fmperf_ls.rules.base import Finding, Related

    callee = tmp_path / "helpers.py"
    callee.write_text("def label(asset):\n    return ('\N{GRINNING FACE}', asset.sensors)\n")
    read = Range(Position(1, 17), Position(1, 30))  # `asset.sensors`, in code points
    finding = Finding("FMP102", Range(Position(0, 0), Position(0, 5)), "reads lazily",
                      related=(Related(str(callee), read, "loaded lazily here"),))

    diagnostic = to_diagnostic(finding, SourceFile("label(a)\n", str(tmp_path / "use.py")),
                               PositionCodec("utf-16"))

    place = diagnostic.related_information[0].location.range
    assert (place.start.character, place.end.character) == (18, 31)
