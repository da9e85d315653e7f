"""One Python file as the analysis sees it: text, parso tree and position maps.

parso is used instead of `ast` because it recovers from syntax errors (the
editor shows half-typed code all the time) and keeps exact positions and
whitespace, which fixes need to edit the text without disturbing it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import parso
from parso.python.tree import Module, UsedNamesMapping
from parso.tree import BaseNode, NodeOrLeaf

from fmperf_ls.analysis.outline import Outline, compile_module

logger = logging.getLogger(__name__)

_GRAMMAR = parso.load_grammar()


@dataclass(frozen=True, order=True)
class Position:
    """A place in a file: line 0-based, column in code points, 0-based."""

    line: int
    column: int


@dataclass(frozen=True, order=True)
class Range:
    """A half-open span of text between two positions."""

    start: Position
    end: Position

    @classmethod
    def of(cls, node: NodeOrLeaf) -> Range:
        """The span of a parso node, without its leading whitespace and comments.

        parso lines start at 1; ours start at 0 like the LSP's.
        """
        (line, column), (end_line, end_column) = node.start_pos, node.end_pos
        return cls(Position(line - 1, column), Position(end_line - 1, end_column))

    @classmethod
    def between(cls, first: NodeOrLeaf, last: NodeOrLeaf) -> Range:
        return cls(cls.of(first).start, cls.of(last).end)

    def contains(self, other: Range) -> bool:
        return self.start <= other.start and other.end <= self.end

    def __str__(self) -> str:
        """1-based lines and 0-based columns, the form the CLI prints."""
        return (
            f"{self.start.line + 1}:{self.start.column}-"
            f"{self.end.line + 1}:{self.end.column}"
        )


@dataclass(frozen=True)
class SyntaxProblem:
    """The first place where the file stops being valid Python."""

    range: Range
    message: str


class SourceFile:
    """Text and its parse tree, built once per document version.

    The tree is walked once to bucket nodes by type, so that every rule can ask
    for "all subscript trailers" without walking the whole file again. Parsing
    waits until something asks for the tree, since most files of a large
    project contain nothing any rule looks for.
    """

    def __init__(self, text: str, path: str = "<memory>", version: int | None = None,
                 tree: Module | None = None):
        if tree is not None:
            self.__dict__["tree"] = tree  # parsed already, e.g. by jedi: not parsed again
        self.text = text
        self.path = path
        self.version = version
        self.lines: list[str] = text.splitlines(keepends=True) or [""]
        self._by_type: dict[str, list[NodeOrLeaf]] | None = None
        self._has_errors = False

    @cached_property
    def tree(self) -> Module:
        """The parse tree, built on first use: files no rule wants are never parsed."""
        return _GRAMMAR.parse(self.text, error_recovery=True)

    @cached_property
    def outline(self) -> Outline | None:
        """The file as `ast` sees it, None when it does not compile.

        Ten times cheaper than the parso tree, without what fixes need: rule
        gates use it to learn that a file holds nothing a rule looks for.
        """
        module = compile_module(self.text, self.path)
        return Outline(module) if module is not None else None

    @property
    def built_outline(self) -> Outline | None:
        """The outline when something already built it; None otherwise (or if it failed).

        For readers that can use either view of the file: where the tree is
        cheap (an open document's diff parse), nothing builds the outline.
        """
        return self.__dict__.get("outline")

    @cached_property
    def compiles(self) -> bool:
        """Whether `ast` accepts the text, computed without the outline when it is absent."""
        if "outline" in self.__dict__:
            return self.outline is not None
        return compile_module(self.text, self.path) is not None

    @property
    def parsed(self) -> bool:
        return "tree" in self.__dict__

    def _index(self) -> dict[str, list[NodeOrLeaf]]:
        if self._by_type is not None:
            return self._by_type
        by_type: dict[str, list[NodeOrLeaf]] = defaultdict(list)
        stack: list[NodeOrLeaf] = [self.tree]
        while stack:
            node = stack.pop()
            by_type[node.type].append(node)
            children = getattr(node, "children", None)
            if children:
                stack.extend(reversed(children))
        self._has_errors = bool(by_type.get("error_node") or by_type.get("error_leaf"))
        self._by_type = by_type
        self._share_used_names(by_type.get("name", []))
        return by_type

    def _share_used_names(self, names: list[NodeOrLeaf]) -> None:
        """Hand parso the names this walk found, so it need not walk the tree again.

        Rules resolve names through `Module.get_used_names()`, which parso
        builds with a recursive walk of its own; in the editor that walk was
        a third of the time of a check.
        """
        if self.tree._used_names is not None:  # type: ignore[attr-defined]
            return
        by_value: dict[str, list[NodeOrLeaf]] = {}
        for name in names:
            by_value.setdefault(name.value, []).append(name)  # type: ignore[attr-defined]
        self.tree._used_names = UsedNamesMapping(by_value)  # type: ignore[attr-defined]

    def nodes(self, *types: str) -> Iterator[NodeOrLeaf]:
        """All nodes of the given parso types, in source order per type."""
        by_type = self._index()
        for node_type in types:
            yield from by_type.get(node_type, ())

    @cached_property
    def syntax_problem(self) -> SyntaxProblem | None:
        """The first syntax error, or None when the file parses cleanly.

        A file no rule has parsed yet is first compiled with `ast`, ten times
        faster than parso: only a file that fails is parsed to find the error.
        The compiler also has the last word over parso's errors: parso 0.8 does
        not know some newer syntax, such as the `match` statement.
        """
        if not self.parsed and self.compiles:
            return None
        self._index()
        if not self._has_errors or self.compiles:
            return None
        for error in _GRAMMAR.iter_errors(self.tree):
            if "SyntaxError" in error.message or "IndentationError" in error.message:
                start = Position(error.start_pos[0] - 1, error.start_pos[1])
                end = Position(error.end_pos[0] - 1, error.end_pos[1])
                return SyntaxProblem(Range(start, end), error.message)
        return None

    @cached_property
    def line_offsets(self) -> list[int]:
        """Offset of the first character of each line, for offset conversions."""
        offsets, total = [], 0
        for line in self.lines:
            offsets.append(total)
            total += len(line)
        offsets.append(total)
        return offsets

    def offset(self, position: Position) -> int:
        """Character offset of a position, clamped to the text."""
        line = min(max(position.line, 0), len(self.lines) - 1)
        column = min(position.column, len(self.lines[line]))
        return min(self.line_offsets[line] + column, len(self.text))

    def slice(self, span: Range) -> str:
        return self.text[self.offset(span.start) : self.offset(span.end)]

    def line_text(self, line: int) -> str:
        if 0 <= line < len(self.lines):
            return self.lines[line].rstrip("\r\n")
        return ""

    def utf16_column(self, position: Position) -> int:
        """The LSP column (UTF-16 code units) of a code-point position."""
        prefix = self.line_text(position.line)[: position.column]
        return position.column + sum(1 for char in prefix if ord(char) > 0xFFFF)

    def from_utf16(self, line: int, utf16_column: int) -> Position:
        """The code-point position of an LSP (UTF-16) position on a line."""
        text, units, column = self.line_text(line), 0, 0
        while column < len(text) and units < utf16_column:
            units += 2 if ord(text[column]) > 0xFFFF else 1
            column += 1
        return Position(line, column + max(0, utf16_column - units))

    def code_of(self, node: NodeOrLeaf) -> str:
        """The node's source without its prefix (leading space and comments)."""
        return node.get_code(include_prefix=False)


def inner_nodes(node: NodeOrLeaf) -> Iterator[NodeOrLeaf]:
    """Every node below `node`, depth first, in source order."""
    if not isinstance(node, BaseNode):
        return
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        yield child
        if isinstance(child, BaseNode):
            stack.extend(reversed(child.children))
