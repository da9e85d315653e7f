"""Applying fixes to text, adding imports, and checking a fix before it is offered.

A fix is never trusted: it is applied to a copy, and dropped when its edits
overlap, when the result stops parsing, or when it only works once.
"""

from __future__ import annotations

import ast
import logging
import textwrap
from collections.abc import Callable, Iterable, Sequence

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
    local = [edit for edit in fix.edits if edit.path is None]
    try:
        fixed = apply_edits(source, local)
    except ValueError as error:
        logger.debug("fix %r dropped: %s", fix.message, error)
        return None
    if source.syntax_problem is None and not _statement_parses(source, local, fixed):
        logger.debug("fix %r dropped: the result does not parse", fix.message)
        return None
    return fixed


_STATEMENTS = frozenset({
    "simple_stmt", "if_stmt", "for_stmt", "while_stmt", "try_stmt", "with_stmt", "funcdef",
    "classdef", "decorated", "async_stmt", "async_funcdef",
})  # fmt: skip


def _statement_parses(source: SourceFile, edits: list[Edit], fixed: str) -> bool:
    """Whether the fixed text parses, re-parsing only the edited statements when it can.

    Re-parsing a whole file per offered fix made the command line spend more
    time verifying fixes than finding them. Edits are grouped by the smallest
    statement around each; every group is checked on its statement alone,
    dedented. An edit outside any statement, or a statement that does not
    stand alone, sends the question to the whole text.
    """
    groups: dict[int, tuple[Range, list[Edit]]] = {}
    for edit in edits:
        if _between_top_level_statements(source, edit):
            if not _compiles(edit.new_text):
                return _parses(fixed)
            continue
        statement = _enclosing_statement(source, edit.range)
        if statement is None or not _strictly_inside(edit, Range.of(statement)):
            return _parses(fixed)
        groups.setdefault(id(statement), (Range.of(statement), []))[1].append(edit)
    spans = sorted(span for span, _ in groups.values())
    if any(first.end > second.start for first, second in zip(spans, spans[1:], strict=False)):
        return _parses(fixed)  # nested statements: one edit would be checked twice
    for span, members in groups.values():
        if not _compiles_alone(source, span, members):
            return _parses(fixed)  # maybe only the dedent failed: the whole text decides
    return True


def _between_top_level_statements(source: SourceFile, edit: Edit) -> bool:
    """An insertion of whole lines at column 0, right before a top-level statement."""
    at = edit.range.start
    if edit.range.end != at or at.column != 0 or not edit.new_text.endswith("\n"):
        return False
    if at.line >= len(source.lines):
        return False  # past the last line: offsets are clamped there, so ask the whole text
    leaf = source.tree.get_leaf_for_position((at.line + 1, 0), include_prefixes=True)
    if leaf is not None and leaf.end_pos <= (at.line + 1, 0):
        leaf = leaf.get_next_leaf()  # the newline that ends the line before
    if leaf is None or leaf.type == "endmarker":
        return leaf is not None
    top = leaf
    while top.parent is not None and top.parent.type != "file_input":
        top = top.parent
    return top.parent is not None and top.start_pos == leaf.start_pos and leaf.start_pos[1] == 0


def _compiles(text: str) -> bool:
    try:
        compile(text, "<fix>", "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        return False
    return True


def _compiles_alone(source: SourceFile, span: Range, edits: list[Edit]) -> bool:
    indent = source.line_text(span.start.line)[: span.start.column]
    pieces, cursor = [indent], source.offset(span.start)
    for edit in sorted(edits, key=lambda edit: (edit.range.start, edit.range.end)):
        pieces += [source.text[cursor : source.offset(edit.range.start)], edit.new_text]
        cursor = source.offset(edit.range.end)
    pieces.append(source.text[cursor : source.offset(span.end)])
    return _compiles(textwrap.dedent("".join(pieces)))


def _strictly_inside(edit: Edit, span: Range) -> bool:
    """Indentation before a statement and the newline after it belong to its context."""
    if edit.range.end >= span.end:
        return False
    return edit.range.start > span.start or not edit.new_text[:1].isspace()


def _enclosing_statement(source: SourceFile, span: Range):
    """The smallest statement that contains `span` and starts its line, or None."""
    leaf = source.tree.get_leaf_for_position((span.start.line + 1, span.start.column),
                                             include_prefixes=True)
    node = leaf
    while node is not None and node.type != "file_input":
        if node.type in _STATEMENTS and Range.of(node).contains(span):
            start = Range.of(node).start
            before = source.line_text(start.line)[: start.column]
            return node if not before.strip() else None
        node = node.parent
    return None


def _parses(text: str) -> bool:
    """Whether text is valid Python: `ast` first, several times faster than parso.

    parso has the last word when `ast` refuses, since the running Python may be
    older than the syntax the file uses.
    """
    try:
        compile(text, "<fix>", "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        return SourceFile(text).syntax_problem is None
    return True


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
    line = _insertion_line(source, module)
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


def _insertion_line(source: SourceFile, module: str) -> int:
    """Where a new `from module import ...` line goes.

    After the last top-level import of the same package when there is one
    (`sqlalchemy.orm` next to `sqlalchemy`), else after the last absolute import
    (third-party imports come before a project's relative ones), else after the
    last import, else after the docstring.
    """
    package = module.split(".")[0]
    last_import = last_absolute = last_same = 0
    for child in source.tree.children:
        first = child.children[0] if child.type == "simple_stmt" else None
        if first is not None and first.type in ("import_name", "import_from"):
            after = child.end_pos[0] - 1
            last_import = after
            if not (first.type == "import_from" and first.level):
                last_absolute = after
            if _top_package(first) == package:
                last_same = after
            continue
        if first is not None and first.type == "string" and child is source.tree.children[0]:
            last_import = child.end_pos[0] - 1
            continue
        if last_import:
            break
    return last_same or last_absolute or last_import


def _top_package(node) -> str | None:
    """`sqlalchemy` for `from sqlalchemy.orm import x` and `import sqlalchemy.orm`."""
    try:
        if node.type == "import_from":
            names = node.get_from_names()
        else:
            names = node.get_paths()[0]
    except (AttributeError, IndexError):
        return None  # half-typed import
    return names[0].value if names else None


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
