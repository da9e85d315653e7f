"""`# fmperf: ignore[...]` and `# noqa: ...` comments: reading and writing them.

Only real comments count: a `#` inside a string literal on the flagged line is
text, not a suppression, and the "ignore on this line" edit never lands inside
a multi-line string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fmperf_ls.analysis.source import Position, Range, SourceFile
from fmperf_ls.rules.base import Edit

_FMPERF = re.compile(r"#\s*fmperf\s*:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_NOQA = re.compile(
    r"#\s*noqa\b(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_SEPARATORS = re.compile(r"[\s,]+")
_ALL = frozenset({"*"})


@dataclass(frozen=True)
class Suppressions:
    by_line: dict[int, frozenset[str]]

    def hides(self, code: str, line: int) -> bool:
        codes = self.by_line.get(line)
        return codes is not None and (codes is _ALL or "*" in codes or code in codes)


def suppressions_of(source: SourceFile) -> Suppressions:
    """Suppression comments by 0-based line; cheap when the file has none."""
    by_line: dict[int, frozenset[str]] = {}
    if "fmperf" not in source.text and "noqa" not in source.text:
        return Suppressions(by_line)
    for line_number, line in enumerate(source.lines):
        if "#" not in line:
            continue
        comment_at = _comment_column(source, line_number)
        if comment_at is None:
            continue
        codes = _codes_in(line[comment_at:])
        if codes is not None:
            by_line[line_number] = codes
    return Suppressions(by_line)


def _codes_in(comment: str) -> frozenset[str] | None:
    """The codes a comment suppresses: both forms may share one comment."""
    found: list[frozenset[str]] = []
    for match in _FMPERF.finditer(comment):
        found.append(_parse_codes(match.group("codes")))
    for match in _NOQA.finditer(comment):
        codes = _parse_codes(match.group("codes"))
        if codes is not _ALL:
            codes = frozenset(code for code in codes if code.startswith("FMP"))
        if codes:
            found.append(codes)  # a noqa of other tools' codes says nothing about fmperf
    if not found:
        return None
    if any(codes is _ALL for codes in found):
        return _ALL
    return frozenset().union(*found)


def _parse_codes(text: str | None) -> frozenset[str]:
    """Codes separated by commas or spaces; none at all means every code."""
    if text is None or not text.strip():
        return _ALL
    return frozenset(code.upper() for code in _SEPARATORS.split(text.strip()) if code)


def _comment_column(source: SourceFile, line: int) -> int | None:
    """Column of the `#` that starts a real comment on the line, if any."""
    text = source.line_text(line)
    column = text.find("#")
    while column != -1:
        leaf = source.tree.get_leaf_for_position((line + 1, column), include_prefixes=True)
        if leaf is None or leaf.start_pos > (line + 1, column):
            return column  # in the prefix of the next leaf: a comment
        if leaf.type not in ("string", "fstring_string", "fstring_start", "error_leaf"):
            return column
        column = text.find("#", column + 1)
    return None


def ignore_edit(source: SourceFile, line: int, code: str) -> Edit | None:
    """The edit that adds `code` to the line's suppression comment.

    Merges into an existing `# fmperf: ignore[...]`, appends to any other
    comment, or adds a new one at the end of the line. The comment goes on the
    last line of the statement when the flagged line ends inside a string
    that continues on the next line, where a `#` would be text.
    """
    line = comment_line(source, line)
    text = source.line_text(line)
    comment_at = _comment_column(source, line)
    if comment_at is not None:
        match = _FMPERF.search(text, comment_at)
        if match is not None:
            codes = _parse_codes(match.group("codes"))
            if codes is _ALL or code in codes:
                return None
            merged = ",".join(sorted(codes | {code}))
            span = Range(Position(line, match.start()), Position(line, match.end()))
            return Edit(span, f"# fmperf: ignore[{merged}]")
        end = Position(line, len(text))
        return Edit(Range(end, end), f"  # fmperf: ignore[{code}]")
    end = Position(line, len(text.rstrip()))
    stop = Position(line, len(text))
    return Edit(Range(end, stop), f"  # fmperf: ignore[{code}]")


def comment_line(source: SourceFile, line: int) -> int:
    """The first line at or after `line` that a comment may end.

    Not one that ends inside a multi-line string, where a `#` would be text,
    nor one continued with a backslash, which must stay the line's last
    character.
    """
    for candidate in range(line, len(source.lines)):
        text = source.line_text(candidate)
        if text.endswith("\\") and _comment_column(source, candidate) is None:
            continue  # an explicit continuation: the comment goes after the next line
        leaf = source.tree.get_leaf_for_position((candidate + 1, len(text)), include_prefixes=True)
        if leaf is None or leaf.type not in ("string", "fstring_string", "fstring_end"):
            return candidate
        if leaf.end_pos[0] == candidate + 1:
            return candidate
    return line
