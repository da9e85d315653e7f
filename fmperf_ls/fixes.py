"""Applying fixes to text, adding imports, and checking a fix before it is offered.

A fix is never trusted: it is applied to a copy, and dropped when its edits
overlap, when the result stops parsing, or when it only works once.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable, Sequence

from fmperf_ls.analysis.source import Position, Range, SourceFile
from fmperf_ls.rules.base import Edit, Finding, Fix, Safety

logger = logging.getLogger(__name__)


def apply_edits(source: SourceFile, edits: Iterable[Edit]) -> str:
    """The text with the edits applied; edits must not overlap."""
    ordered = sorted(edits, key=lambda edit: (edit.range.start, edit.range.end))
    pieces, cursor = [], 0
    for edit in ordered:
        start, end = source.offset(edit.range.start), source.offset(edit.range.end)
        if start < cursor:
            raise ValueError(f"overlapping edits at {edit.range}")
        pieces.append(source.text[cursor:start])
        pieces.append(edit.new_text)
        cursor = end
    pieces.append(source.text[cursor:])
    return "".join(pieces)


def merge_fixes(fixes: Sequence[Fix]) -> list[Edit]:
    """The edits of several fixes that can be applied together in one pass.

    A fix whose edits overlap one already taken waits for the next pass; two
    fixes that insert the same text at the same place (the same import) are
    applied once.
    """
    taken: list[Edit] = []
    for fix in fixes:
        local = [edit for edit in fix.edits if edit.path is None]
        if any(_conflicts(edit, other) for edit in local for other in taken):
            continue
        for edit in local:
            if edit not in taken:
                taken.append(edit)
    return taken


def _conflicts(edit: Edit, other: Edit) -> bool:
    if edit == other:
        return False
    a, b = edit.range, other.range
    if a.start == a.end == b.start == b.end:
        return True  # two insertions at one place: their order would be arbitrary
    return a.start < b.end and b.start < a.end or a.start == b.start


def verify(source: SourceFile, fix: Fix) -> str | None:
    """The fixed text when the fix is sound, else None (and a debug log line)."""
    try:
        fixed = apply_edits(source, (edit for edit in fix.edits if edit.path is None))
    except ValueError as error:
        logger.debug("fix %r dropped: %s", fix.message, error)
        return None
    if source.syntax_problem is None and SourceFile(fixed).syntax_problem is not None:
        logger.debug("fix %r dropped: the result does not parse", fix.message)
        return None
    return fixed


def import_edit(source: SourceFile, module: str, name: str) -> Edit | None:
    """The edit that makes `name` importable from `module`, or None if it already is.

    Merges into an existing `from module import ...` when there is one,
    otherwise inserts a new line after the module's last top-level import
    (or after its docstring and `__future__` imports).
    """
    existing = _from_imports(source, module)
    for node in existing:
        if name in _imported_names(node):
            return None
    if existing:
        last_name = existing[0].get_defined_names()[-1]
        end = Range.of(_import_tail(last_name)).end
        return Edit(Range(end, end), f", {name}")
    line = _insertion_line(source)
    at = Position(line, 0)
    return Edit(Range(at, at), f"from {module} import {name}\n")


def _from_imports(source: SourceFile, module: str) -> list:
    found = []
    for node in source.tree.iter_imports():
        if node.type != "import_from" or node.level:
            continue
        if ".".join(part.value for part in node.get_from_names()) != module:
            continue
        if node.is_star_import():
            continue
        found.append(node)
    return found


def _imported_names(node) -> set[str]:
    return {name.value for name in node.get_defined_names()}


def _import_tail(name):
    """`a as b` ends at b: insert after the alias, not inside it."""
    parent = name.parent
    return parent if parent.type == "import_as_name" else name


def _insertion_line(source: SourceFile) -> int:
    """The line after the last top-level import, or after the docstring."""
    line = 0
    for child in source.tree.children:
        if child.type == "simple_stmt":
            first = child.children[0]
            if first.type in ("import_name", "import_from"):
                line = child.end_pos[0] - 1
                continue
            if first.type == "string" and line == 0 and child is source.tree.children[0]:
                line = child.end_pos[0] - 1
                continue
        if line:
            break
    return line


MAX_PASSES = 8


def fix_text(
    text: str,
    path: str,
    check: Callable[[SourceFile], Sequence[Finding]],
    unsafe: bool = False,
) -> tuple[str, int]:
    """Apply fixes until none is left; returns the text and how many were applied.

    Fixes whose edits overlap wait for a later pass, which re-checks the text,
    so each fix is always computed against the text it edits.
    """
    applied = 0
    for _ in range(MAX_PASSES):
        source = SourceFile(text, path)
        chosen = [
            finding.fix
            for finding in check(source)
            if finding.fix is not None and (unsafe or finding.fix.safety is Safety.SAFE)
        ]
        edits = merge_fixes(chosen)
        if not edits:
            break
        text = apply_edits(source, edits)
        applied += sum(1 for fix in chosen if all(edit in edits for edit in fix.edits
                                                   if edit.path is None))
    return text, applied
