"""Code actions: a quick fix per finding, "ignore on this line", and fix-all.

Every edit offered is re-parsed first. Quick fixes were verified by the engine
when the finding was made (`fixes.verify`); the ignore comment is checked
here by parsing the top-level statement it lands in, which costs well under a
millisecond where re-parsing the whole file would cost a hundred.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lsprotocol import types

from fmperf_ls import fixes
from fmperf_ls.analysis.source import Position, Range, SourceFile
from fmperf_ls.lsp.convert import PositionCodec, uri_of
from fmperf_ls.lsp.diagnostics import to_diagnostic
from fmperf_ls.rules.base import Edit, Finding, Fix, Safety
from fmperf_ls.suppression import ignore_edit

logger = logging.getLogger(__name__)

QUICKFIX = types.CodeActionKind.QuickFix.value
FIX_ALL = "source.fixAll.fmperf"
KINDS: list[str] = [QUICKFIX, "source.fixAll.fmperf"]


@dataclass(frozen=True)
class Target:
    """The document the actions edit, as the client last described it."""

    uri: str
    version: int | None
    source: SourceFile
    codec: PositionCodec
    document_changes: bool


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether the client asked for this kind: `source` includes `source.fixAll.fmperf`."""
    if not only:
        return kind == QUICKFIX
    return any(kind == asked or kind.startswith(f"{asked}.") for asked in only)


def quick_actions(
    target: Target, findings: Iterable[Finding], span: types.Range
) -> list[types.CodeAction]:
    """The fix and the ignore action of each finding that touches the requested range."""
    wanted_span = target.codec.range_from_lsp(target.source, span)
    actions: list[types.CodeAction] = []
    ignored: set[tuple[int, str]] = set()
    for finding in findings:
        if not _touches(finding.range, wanted_span):
            continue  # elsewhere in the file: the client asked about this range only
        diagnostic = to_diagnostic(finding, target.source, target.codec)
        if finding.fix is not None:
            actions.append(_fix_action(target, finding.fix, diagnostic))
        key = (finding.range.start.line, finding.code)
        if key not in ignored:
            ignored.add(key)
            action = _ignore_action(target, finding, diagnostic)
            if action is not None:
                actions.append(action)
    return actions


def fix_all_action(target: Target, fixed: str) -> types.CodeAction | None:
    """One edit from the current text to the text with every safe fix applied."""
    text = target.source.text
    if fixed == text:
        return None  # nothing safe to fix: no empty action in the menu
    if SourceFile(fixed).syntax_problem is not None and target.source.syntax_problem is None:
        logger.warning("fix-all result for %s does not parse; not offered", target.uri)
        return None  # never offer text that breaks a file that parsed
    edit = _minimal_edit(target.source, fixed)
    return types.CodeAction(
        title="fmperf: apply all safe fixes",
        kind=FIX_ALL,
        edit=_workspace_edit(target, {target.uri: [_text_edit(target, edit)]}),
    )


def _touches(finding: Range, span: Range) -> bool:
    return finding.start <= span.end and span.start <= finding.end


def _fix_action(target: Target, fix: Fix, diagnostic: types.Diagnostic) -> types.CodeAction:
    by_uri: dict[str, list[types.TextEdit]] = {}
    for edit in fix.edits:
        uri = target.uri if edit.path is None else uri_of(edit.path)
        by_uri.setdefault(uri, []).append(_text_edit(target, edit))
    safe = fix.safety is Safety.SAFE
    title = f"fmperf: {fix.message}" + ("" if safe else " (unsafe)")
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=safe,
        edit=_workspace_edit(target, by_uri),
    )


def _ignore_action(
    target: Target, finding: Finding, diagnostic: types.Diagnostic
) -> types.CodeAction | None:
    edit = ignore_edit(target.source, finding.range.start.line, finding.code)
    if edit is None:
        return None  # the line already ignores this code
    if not reparses(target.source, edit):
        logger.debug("ignore comment for %s dropped: it would not parse", finding.code)
        return None  # a comment that breaks the statement is worse than no action
    return types.CodeAction(
        title=f"fmperf: ignore {finding.code} on this line",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=_workspace_edit(target, {target.uri: [_text_edit(target, edit)]}),
    )


def reparses(source: SourceFile, edit: Edit) -> bool:
    """Whether the text still parses with the edit, checked on its top-level statement.

    A top-level statement starts at column 0 and parses on its own, so only
    its lines need parsing. Where that shortcut cannot judge (the statement did
    not parse before, or uses syntax newer than this Python), the whole file
    is verified by `fixes.verify`.
    """
    first, last = _statement_lines(source, edit.range)
    before = "".join(source.lines[first : last + 1])
    local = SourceFile(before)
    shifted = Range(
        Position(edit.range.start.line - first, edit.range.start.column),
        Position(edit.range.end.line - first, edit.range.end.column),
    )
    after = fixes.apply_edits(local, [Edit(shifted, edit.new_text)])
    try:
        ast.parse(before)
    except (SyntaxError, ValueError):
        return fixes.verify(source, Fix("ignore", (edit,))) is not None
    try:
        ast.parse(after)
    except (SyntaxError, ValueError):
        return False
    return True


def _statement_lines(source: SourceFile, span: Range) -> tuple[int, int]:
    """First and last line (0-based) of the top-level statements around a span."""
    first, last = span.start.line, span.end.line
    for child in source.tree.children:
        start, end = child.start_pos[0] - 1, child.end_pos[0] - 1
        if child.end_pos[1] == 0:
            end -= 1  # a newline token ends at column 0 of the next line
        if end < span.start.line or start > span.end.line:
            continue  # a statement the edit does not touch
        first, last = min(first, start), max(last, end)
    return max(first, 0), min(last, len(source.lines) - 1)


def _minimal_edit(source: SourceFile, fixed: str) -> Edit:
    """One replacement covering only the lines that differ."""
    old, new = source.lines, fixed.splitlines(keepends=True)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    start = Position(head, 0)
    end_line = len(old) - tail
    end = Position(end_line, 0) if end_line < len(old) else _end_of(source)
    return Edit(Range(start, end), "".join(new[head : len(new) - tail]))


def _end_of(source: SourceFile) -> Position:
    """The end of the text: the start of the line after a final newline."""
    last = len(source.lines) - 1
    if source.text.endswith(("\n", "\r")):
        return Position(last + 1, 0)
    return Position(last, len(source.lines[last]))


def _text_edit(target: Target, edit: Edit) -> types.TextEdit:
    return types.TextEdit(
        range=target.codec.range_to_lsp(target.source, edit.range), new_text=edit.new_text
    )


def _workspace_edit(
    target: Target, by_uri: dict[str, list[types.TextEdit]]
) -> types.WorkspaceEdit:
    """Versioned document edits where the client takes them, plain changes elsewhere."""
    if not target.document_changes:
        return types.WorkspaceEdit(changes=by_uri)
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=target.version if uri == target.uri else None
                ),
                edits=list(edits),
            )
            for uri, edits in by_uri.items()
        ]
    )
