"""Fix verification re-parses only the edited statement; it must judge like a full parse."""

from __future__ import annotations

import ast
import textwrap

import pytest

from fmperf_ls.analysis.source import Position, Range, SourceFile
from fmperf_ls.fixes import verify
from fmperf_ls.rules.base import Edit, Fix

TEXT = textwrap.dedent('''\
    import pandas as pd


    class Report:
        def peak(self, prices):
            doc = """
    not indented
    """
            value = prices[prices.a > 1]["b"]
            if value.empty:
                return 0
            return value.max()
    ''')


def _fix(*edits: tuple[int, int, int, int, str]) -> Fix:
    return Fix("test", tuple(
        Edit(Range(Position(line, column), Position(end_line, end_column)), text)
        for line, column, end_line, end_column, text in edits
    ))


def _full_parse_agrees(fixed: str | None, source: SourceFile, fix: Fix) -> bool:
    from fmperf_ls.fixes import apply_edits

    text = apply_edits(source, fix.edits)
    try:
        ast.parse(text)
    except SyntaxError:
        return fixed is None
    return fixed == text


@pytest.mark.parametrize("edits", [
    [(8, 16, 8, 41, 'prices.loc[prices.a > 1, "b"]')],
    [(8, 16, 8, 41, "prices[")],
    [(8, 16, 8, 41, "1\nx = 2")],
    [(8, 16, 8, 41, "(1,\n2)")],
    [(8, 8, 8, 8, "    ")],
    [(8, 0, 8, 0, "    ")],
    [(8, 41, 9, 0, "")],
    [(8, 41, 9, 0, " + 1\n")],
    [(8, 8, 8, 13, "result")],
    [(10, 0, 10, 0, "    ")],
    [(9, 0, 9, 0, "    ")],
    [(9, 8, 9, 23, "if value.empty and True:")],
    [(9, 8, 9, 23, "if value.empty")],
    [(10, 12, 10, 20, "pass")],
    [(10, 12, 10, 20, "else:")],
    [(5, 8, 5, 11, "text")],
    [(6, 0, 6, 12, '"""')],
    [(8, 16, 8, 41, "0"), (0, 0, 0, 0, "import numpy as np\n")],
    [(8, 16, 8, 41, "high"), (8, 8, 8, 8, 'high = prices[prices.a > 1]["b"]\n        ')],
    [(8, 16, 8, 41, "high"), (8, 8, 8, 8, 'high = prices[prices.a > 1]["b"]\n    ')],
    [(8, 16, 8, 22, "frame"), (8, 23, 8, 29, "frame")],
    [(8, 16, 8, 22, "frame("), (8, 23, 8, 29, "frame")],
    [(0, 19, 0, 19, ", numpy as np"), (8, 16, 8, 41, "np.zeros(1)")],
    [(11, 15, 11, 20, "x"), (10, 19, 10, 20, "1")],
    [(9, 11, 9, 16, "(value"), (10, 19, 10, 20, "1)")],
    [(3, 0, 3, 0, "LIMIT = 3\n\n"), (8, 16, 8, 41, "LIMIT")],
    [(3, 0, 3, 0, "LIMIT = \n\n"), (8, 16, 8, 41, "LIMIT")],
    [(3, 0, 3, 0, "LIMIT = 3"), (8, 16, 8, 41, "LIMIT")],
    [(4, 0, 4, 0, "LIMIT = 3\n")],
    [(5, 0, 5, 0, "LIMIT = 3\n")],
    [(7, 0, 7, 0, "LIMIT = 3\n")],
    [(12, 0, 12, 0, "LIMIT = 3\n")],
    [(2, 0, 2, 0, "LIMIT = 3\n")],
    [(8, 16, 8, 41, "0"), (0, 0, 0, 0, "import numpy as\n")],
])
def test_verdict_matches_a_full_parse(edits):
    source = SourceFile(TEXT)
    fix = _fix(*edits)

    fixed = verify(source, fix)

    assert _full_parse_agrees(fixed, source, fix)


def test_a_broken_file_skips_the_parse_check():
    source = SourceFile(TEXT + "def broken(:\n")

    assert verify(source, _fix((8, 16, 8, 41, "0"))) is not None
