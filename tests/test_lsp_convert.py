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
