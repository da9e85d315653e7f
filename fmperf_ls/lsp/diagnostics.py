"""Findings and configuration problems as LSP diagnostics.

A file that does not parse gets no diagnostic of its own: the user's Python
language server already underlines the syntax error, and a second squiggle
from fmperf would only repeat it. parso recovers around the error, so the
findings elsewhere in the file are still reported while the user types.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from fmperf_ls.analysis.source import Position, Range, SourceFile
from fmperf_ls.config import ConfigProblem
from fmperf_ls.docs import rule_url
from fmperf_ls.lsp.convert import SEVERITIES, PositionCodec, uri_of
from fmperf_ls.rules.base import Finding

SOURCE = "fmperf"


def to_diagnostic(finding: Finding, source: SourceFile, codec: PositionCodec) -> types.Diagnostic:
    """One finding: code and link to its rule page, related places where it has some."""
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=uri_of(place.path),
                range=codec.range_to_lsp(_source_for(place.path, source), place.range),
            ),
            message=place.message,
        )
        for place in finding.related
    ]
    return types.Diagnostic(
        range=codec.range_to_lsp(source, finding.range),
        message=finding.message,
        severity=SEVERITIES[finding.severity],
        code=finding.code,
        code_description=types.CodeDescription(href=rule_url(finding.code)),
        source=SOURCE,
        related_information=related or None,
    )


def _source_for(path: str, source: SourceFile) -> SourceFile:
    """The file a related place is in, read from disk when it is another one.

    Columns go to the client in UTF-16 units, which only the line's text can
    tell: a callee's line may hold characters outside the Basic Multilingual Plane.
    """
    if path == source.path:
        return source
    try:
        status = os.stat(path)
    except OSError:
        return SourceFile("", path)  # gone: the place keeps its line, not its column
    return _file_on_disk(path, status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=64)
def _file_on_disk(path: str, mtime_ns: int, size: int) -> SourceFile:
    """The text of a file as it is on disk (keyed by its stamp, so an edit reads it again)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    return SourceFile(text, path)


def to_diagnostics(
    findings: Sequence[Finding], source: SourceFile, codec: PositionCodec
) -> list[types.Diagnostic]:
    return [to_diagnostic(finding, source, codec) for finding in findings]


def config_diagnostics(problems: Sequence[ConfigProblem], text: str) -> list[types.Diagnostic]:
    """One diagnostic per bad key of `[tool.fmperf]`, on the line that sets it."""
    lines = text.splitlines()
    return [
        types.Diagnostic(
            range=_key_range(problem.key, lines),
            message=f"[tool.fmperf] {problem.key}: {problem.message}",
            severity=types.DiagnosticSeverity.Error,
            source=SOURCE,
        )
        for problem in problems
    ]


def _key_range(key: str, lines: list[str]) -> types.Range:
    """The line of `key = ...` inside [tool.fmperf], else the table header, else line 0."""
    header, line_number = None, 0
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(lines):
        if line.strip().startswith("[tool.fmperf"):
            header = number
        elif header is not None and line.strip().startswith("["):
            break
        elif header is not None and pattern.match(line):
            line_number = number
            break
    else:
        line_number = header or 0
    if header is not None and line_number == 0:
        line_number = header
    width = len(lines[line_number]) if line_number < len(lines) else 0
    return types.Range(
        start=types.Position(line=line_number, character=0),
        end=types.Position(line=line_number, character=width),
    )


def pyproject_uri(path: Path) -> str:
    return uri_of(str(path))


def contains(span: Range, position: Position) -> bool:
    """Whether a position is on a span, its end included (a cursor after the last char)."""
    return span.start <= position <= span.end
