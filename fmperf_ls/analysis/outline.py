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
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

NodeT = TypeVar("NodeT", bound=ast.AST)
Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef

LOOP_TYPES: tuple[type[ast.AST], ...] = (
    ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
)


class Outline:
    """Nodes by type, the names used, and where the loops are."""

    def __init__(self, module: ast.Module):
        self.body = module.body
        self._by_type = _nodes_by_type(module)
        self._facts: dict[str, FunctionFacts | None] = {}

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
    def _functions_by_name(self) -> dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]:
        by_name: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = defaultdict(list)
        for function in self.nodes(ast.FunctionDef):
            by_name[function.name].append(function)
        for async_function in self.nodes(ast.AsyncFunctionDef):
            by_name[async_function.name].append(async_function)
        return by_name

    def function_facts(self, name: str) -> FunctionFacts | None:
        """What the functions of this name read and call; None when there is none.

        Worked out on the first question about a name, since a gate asks
        about a few functions of a file, never all of them.
        """
        if name not in self._facts:
            functions = self._functions_by_name.get(name)
            self._facts[name] = _facts_of(functions) if functions else None
        return self._facts[name]

    def sole_definition(self, name: str) -> Definition | None:
        """The module's one binding of `name`, when it is a `def` or `class` at the top.

        None when the module binds the name otherwise or more than once (an
        import, an assignment, a def per branch of an `if`, overloads): then
        which object an importer gets is not for the outline to tell.
        """
        found = self._top_level_bindings.get(name, [])
        definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        if len(found) == 1 and isinstance(found[0], definitions):
            return found[0]
        return None

    def binds_at_top(self, name: str) -> bool:
        """Whether a module-level statement binds `name` (in an `if` or `try` too)."""
        return name in self._top_level_bindings

    def top_level_classes(self) -> Iterator[ast.ClassDef]:
        """Classes defined by module-level statements, in branches too."""
        for statements in self._top_level_bindings.values():
            yield from (node for node in statements if isinstance(node, ast.ClassDef))

    @cached_property
    def _top_level_bindings(self) -> dict[str, list[ast.AST]]:
        """Statements binding each name at module level, inside `if`/`try`/`with`/`for` too."""
        bindings: dict[str, list[ast.AST]] = defaultdict(list)
        pending: list[ast.AST] = list(self.body)
        while pending:
            statement = pending.pop()
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bindings[statement.name].append(statement)
                continue
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                for alias in statement.names:
                    bindings[(alias.asname or alias.name).partition(".")[0]].append(statement)
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                    bindings[node.id].append(statement)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                       ast.Import, ast.ImportFrom)):
                    pending.append(node)  # a def or import in a branch binds at the top
        return bindings

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
        end = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        return at >= 0 and end <= ends[at]

    def in_loop_nodes(self, *types: type[NodeT]) -> Iterator[NodeT]:
        """Nodes of the given classes that lie within a loop."""
        return (node for node in self.nodes(*types) if self.in_loop(node))

    def scope_of(self, node: ast.AST) -> ast.AST | None:
        """The innermost def, lambda or class whose text holds the node; None at module level.

        As parso's `scope_of` sees it: a default value or a base belongs to the
        def or class, a decorator to the scope around it.
        """
        start, end = start_of(node), end_of(node)
        found = None
        for scope in self._scopes:
            if start_of(scope) > start:
                break  # sorted by start: the rest begin after the node
            if end <= end_of(scope):
                found = scope  # a later start within it is a nested scope
        return found

    @cached_property
    def _scopes(self) -> list[ast.AST]:
        scopes: list[ast.AST] = list(self.nodes(ast.FunctionDef, ast.AsyncFunctionDef,
                                                ast.Lambda, ast.ClassDef))
        return sorted(scopes, key=start_of)

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


def _nodes_by_type(module: ast.Module) -> dict[type[ast.AST], list[ast.AST]]:
    """Every node of the tree by its class, in no particular order.

    `ast.walk` costs twice this: it goes through generators for every node,
    and every file a rule may look at pays for this walk.
    """
    by_type: dict[type[ast.AST], list[ast.AST]] = defaultdict(list)
    pending: list[ast.AST] = [module]
    while pending:
        node = pending.pop()
        by_type[node.__class__].append(node)
        for name in node._fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                pending.extend(item for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                pending.append(value)
    return by_type


@dataclass(frozen=True)
class FunctionFacts:
    """What one function (or all same-named ones of a module) reads and calls."""

    attributes: frozenset[str]
    """Names read after a dot on a bare name: `rel` of `x.rel`."""
    calls: frozenset[str]
    """The last part of every called name: `helper` of `helper(x)` and `self.helper(x)`."""


def _facts_of(functions: list[ast.FunctionDef | ast.AsyncFunctionDef]) -> FunctionFacts:
    """Facts of same-named functions (methods of different classes, nested functions
    included) merged: a name stands for all of them, which may say more than one of
    them does, never less."""
    attributes, calls = set(), set()
    for function in functions:
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                attributes.add(node.attr)
            elif isinstance(node, ast.Call) and (name := called_name(node)) is not None:
                calls.add(name)
    return FunctionFacts(frozenset(attributes), frozenset(calls))


def may_read(outline: Outline, function: str, names: AbstractSet[str]) -> bool:
    """Whether `function`, or a function of the same module it calls, reads one of `names`.

    A name that is no function of the module may read anything.
    """
    if outline.function_facts(function) is None:
        return True
    seen, pending = {function}, [function]
    while pending:
        found = outline.function_facts(pending.pop())
        assert found is not None
        if not names.isdisjoint(found.attributes):
            return True
        for callee in found.calls:
            if callee not in seen and outline.function_facts(callee) is not None:
                seen.add(callee)
                pending.append(callee)
    return False


Place = tuple[int, int]
"""Line and UTF-8 column of where an `ast` node starts or ends: comparable within one file."""


def start_of(node: ast.AST) -> Place:
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


def end_of(node: ast.AST) -> Place:
    return node.end_lineno or node.lineno, node.end_col_offset or 0  # type: ignore[attr-defined]


def dotted(node: ast.expr) -> list[str] | None:
    """['ma', 'Schema'] for `ma.Schema`, ['x'] for `x`; None for anything but a dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def dotted_root(node: ast.expr) -> str | None:
    """`helpers` for `helpers.io.load` and `helpers`; None for anything but a dotted name."""
    parts = dotted(node)
    return parts[0] if parts else None


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
