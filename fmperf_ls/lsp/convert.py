"""Positions and ranges between the analysis and the protocol.

The analysis counts columns in code points; LSP counts them in the unit the
client and server agreed on at `initialize` (UTF-16 unless the client offers
another; Neovim 0.10+ prefers UTF-8). Lines are 0-based on both sides.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from fmperf_ls.analysis.source import Position, Range, SourceFile
from fmperf_ls.rules.base import Severity

SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFORMATION: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


class PositionCodec:
    """Converts columns for one position encoding (utf-8, utf-16 or utf-32)."""

    def __init__(self, encoding: str = types.PositionEncodingKind.Utf16.value):
        self.encoding = str(getattr(encoding, "value", encoding))

    def to_lsp(self, source: SourceFile, position: Position) -> types.Position:
        line = max(position.line, 0)
        if self.encoding == "utf-32":
            column = position.column
        elif self.encoding == "utf-8":
            prefix = source.line_text(line)[: position.column]
            column = len(prefix.encode("utf-8", "surrogatepass"))
        else:
            column = source.utf16_column(Position(line, position.column))
        return types.Position(line=line, character=max(column, 0))

    def from_lsp(self, source: SourceFile, position: types.Position) -> Position:
        """The code-point position; a column past the line's end stays past it."""
        line, character = max(position.line, 0), max(position.character, 0)
        if self.encoding == "utf-32":
            return Position(line, character)
        if self.encoding == "utf-8":
            return _from_utf8(source.line_text(line), line, character)
        return source.from_utf16(line, character)

    def range_to_lsp(self, source: SourceFile, span: Range) -> types.Range:
        start, end = self.to_lsp(source, span.start), self.to_lsp(source, span.end)
        return types.Range(start=start, end=end)

    def range_from_lsp(self, source: SourceFile, span: types.Range) -> Range:
        return Range(self.from_lsp(source, span.start), self.from_lsp(source, span.end))


def _from_utf8(text: str, line: int, byte_column: int) -> Position:
    units, column = 0, 0
    while column < len(text) and units < byte_column:
        units += len(text[column].encode("utf-8", "surrogatepass"))
        column += 1
    return Position(line, column + max(0, byte_column - units))


def path_of(uri: str) -> str:
    """The file path of a `file:` URI; other schemes keep the URI as their name."""
    path = to_fs_path(uri)
    return path if path else uri


def uri_of(path: str) -> str:
    if "://" in path or path.startswith("untitled:"):
        return path
    return from_fs_path(str(Path(path))) or path
