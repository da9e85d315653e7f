"""A file as one walk of its `ast` sees it, for deciding cheaply what not to parse.

A parso parse costs ten times what `ast` does, and in a large project most
files hold nothing any rule looks for. Before a rule runs on a file nobody
has parsed yet, its gate asks the outline whether the file holds what the
rule starts from: a loop that reads a relationship name, an indexing of an
indexing, a call of `concat`. A gate may let through a file the rule then
finds nothing in, never the other way round: it states a necessary
condition only, so the findings are the same with and without gates, and a
test holds every rule's flagged examples to that.

Loops are known by their line spans: a node whose lines lie within a loop's
is taken as inside it, which may count a little more than the parso-based
analysis does (the `else` of a loop, say), never less.
"""

from __future__ import annotations

import ast
import bisect
import warnings
from collections import defaultdict
from collections.abc import Iterator
from functools import cached_property
from typing import TypeVar

NodeT = TypeVar("NodeT", bound=ast.AST)

LOOP_TYPES: tuple[type[ast.AST], ...] = (
    ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
)


class Outline:
    """Nodes by type, the names used, and where the loops are."""

    def __init__(self, module: ast.Module):
        self.body = module.body
        by_type: dict[type[ast.AST], list[ast.AST]] = defaultdict(list)
        for node in ast.walk(module):
            by_type[type(node)].append(node)
        self._by_type = by_type

    def nodes(self, *types: type[NodeT]) -> Iterator[NodeT]:
        """All nodes of the given `ast` classes (exact classes, not subclasses)."""
        for node_type in types:
            yield from self._by_type.get(node_type, ())  # type: ignore[misc]

    def has(self, *types: type[ast.AST]) -> bool:
        return any(self._by_type.get(node_type) for node_type in types)

    @cached_property
    def attributes(self) -> frozenset[str]:
        """Every name after a dot, read or written."""
        return frozenset(node.attr for node in self.nodes(ast.Attribute))

    @cached_property
    def names(self) -> frozenset[str]:
        """Every bare name, read or written."""
        return frozenset(node.id for node in self.nodes(ast.Name))

    @cached_property
    def called(self) -> frozenset[str]:
        """The last part of every called name: `concat` for `pd.concat(...)`."""
        return frozenset(
            name for call in self.nodes(ast.Call) if (name := called_name(call)) is not None
        )

    def words(self) -> frozenset[str]:
        """Bare names and names after a dot together."""
        return self.names | self.attributes

    @cached_property
    def _loop_spans(self) -> tuple[list[int], list[int]]:
        """Loop line spans merged into disjoint runs, as sorted starts and ends."""
        spans = sorted(
            (node.lineno, node.end_lineno or node.lineno)  # type: ignore[attr-defined]
            for node in self.nodes(*LOOP_TYPES)
        )
        starts: list[int] = []
        ends: list[int] = []
        for start, end in spans:
            if ends and start <= ends[-1]:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        return starts, ends

    def in_loop(self, node: ast.AST) -> bool:
        """Whether the node's lines lie within some loop's (the loop itself included)."""
        starts, ends = self._loop_spans
        at = bisect.bisect_right(starts, node.lineno) - 1  # type: ignore[attr-defined]
        return at >= 0 and (node.end_lineno or node.lineno) <= ends[at]  # type: ignore[attr-defined]

    def in_loop_nodes(self, *types: type[NodeT]) -> Iterator[NodeT]:
        """Nodes of the given classes that lie within a loop."""
        return (node for node in self.nodes(*types) if self.in_loop(node))

    @cached_property
    def nested_loop(self) -> bool:
        """Whether some loop lies within another's lines."""
        loops = sorted(
            (node.lineno, -(node.end_lineno or node.lineno))  # type: ignore[attr-defined]
            for node in self.nodes(*LOOP_TYPES)
        )
        reach = 0
        for start, negative_end in loops:
            if start <= reach:
                return True
            reach = max(reach, -negative_end)
        return False


def called_name(call: ast.Call) -> str | None:
    """`concat` for `pd.concat(...)` and `concat(...)`; None for `f()(...)` and the like."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def outline_of(text: str, path: str = "<memory>") -> Outline | None:
    """The outline of a text, None when `ast` cannot compile it."""
    module = compile_module(text, path)
    return Outline(module) if module is not None else None


def compile_module(text: str, path: str = "<memory>") -> ast.Module | None:
    """The `ast` of a text; None when it is not valid Python for this interpreter."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like are not our news
            return compile(text, path, "exec", ast.PyCF_ONLY_AST | ast.PyCF_TYPE_COMMENTS)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
