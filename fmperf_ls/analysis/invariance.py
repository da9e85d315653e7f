"""What a loop writes, and whether an expression in it is the same on every iteration.

Hoisting work out of a loop is only right when nothing the work reads changes
inside the loop. The questions here are syntactic and deliberately pessimistic:
a name counts as changed when it is assigned, deleted, declared `global` or
`nonlocal`, stored through (`x[i] = v`, `x.a = v`), receives a method call
that may mutate it, or is handed to a call that is not known to be pure. What
remains unproven is treated as changing, so the rules built on this stay silent.
"""

# mypy: disable-error-code="attr-defined, union-attr"

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from parso.python.tree import Name
from parso.tree import BaseNode, NodeOrLeaf

from fmperf_ls.analysis.scopes import Loop
from fmperf_ls.analysis.source import Position, SourceFile, inner_nodes

logger = logging.getLogger(__name__)

PURE_BUILTINS = frozenset({
    "len", "abs", "round", "min", "max", "sum", "any", "all", "sorted", "reversed",
    "set", "frozenset", "list", "tuple", "dict", "int", "float", "str", "bool",
    "isinstance", "issubclass", "hash", "ord", "chr", "repr", "range", "enumerate", "zip",
    "divmod", "pow", "bytes", "type", "id", "callable", "format",
})  # fmt: skip
"""Builtins that neither mutate their arguments nor read hidden state."""

NON_MUTATING_METHODS = frozenset({
    "get", "keys", "values", "items", "copy", "count", "index", "startswith", "endswith",
    "lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit", "join", "format",
    "replace", "isdigit", "isalpha", "isspace", "find", "rfind", "issubset", "issuperset",
    "union", "intersection", "difference", "symmetric_difference", "isdisjoint",
    "__contains__", "casefold", "encode", "decode", "title", "partition",
})  # fmt: skip
"""Methods of builtin types that return a value and leave the receiver alone."""

PureTest = Callable[[NodeOrLeaf], bool]

_STATEMENTS = ("simple_stmt", "for_stmt", "while_stmt", "if_stmt", "try_stmt", "with_stmt",
               "funcdef", "classdef", "decorated", "async_stmt")


@dataclass(frozen=True)
class Insertion:
    """Text to insert at a position (a rule turns it into an Edit)."""

    at: Position
    text: str


@dataclass(frozen=True)
class LoopEffects:
    """Names a loop may change, and whether it calls anything not known to be pure."""

    written: frozenset[str]
    mutated: frozenset[str]
    calls_unknown: bool

    def changes(self, name: str) -> bool:
        return name in self.written or name in self.mutated


def loop_region(loop: Loop) -> NodeOrLeaf:
    """The node whose text runs per iteration: the statement, or the whole comprehension."""
    if loop.kind != "comprehension":
        return loop.node
    node = loop.node
    while node.parent is not None and node.parent.type in ("sync_comp_for", "comp_for",
                                                           "comp_if"):
        node = node.parent
    return node.parent if node.parent is not None else node


def effects_of(region: NodeOrLeaf, is_pure: PureTest | None = None) -> LoopEffects:
    """Everything `region` may write or mutate, by root name.

    `is_pure` tells dotted callees (`np.sum`) that mutate nothing from the rest.
    """
    written: set[str] = set()
    mutated: set[str] = set()
    unknown = False
    for node in [region, *inner_nodes(region)]:
        if node.type == "name":
            if _is_binding(node):  # type: ignore[arg-type]
                written.add(node.value)  # type: ignore[attr-defined]
        elif node.type in ("global_stmt", "nonlocal_stmt"):
            written.update(child.value for child in node.children[1::2])  # type: ignore
        elif node.type in ("atom_expr", "power"):
            unknown |= _chain_effects(node, mutated, is_pure)
        elif node.type == "expr_stmt":
            _store_targets(node, mutated)
        elif node.type == "del_stmt":
            _deleted(node, written, mutated)
    return LoopEffects(frozenset(written), frozenset(mutated), unknown)


def _is_binding(name: Name) -> bool:
    parent = name.parent
    if parent is not None and parent.type == "trailer":
        return False  # `obj.attr = v` stores into obj, it does not bind `attr`
    if parent is not None and parent.type == "param":
        return False  # a lambda's own parameter inside the region
    return name.is_definition()


def _chain_effects(chain: NodeOrLeaf, mutated: set[str], is_pure: PureTest | None) -> bool:
    """Record receivers of method calls and arguments of unknown calls; True if unknown."""
    from fmperf_ls.analysis.infer import chain_prefix

    children = chain.children  # type: ignore[attr-defined]
    root = children[0]
    unknown = False
    for index in range(1, len(children)):
        trailer = children[index]
        if trailer.type != "trailer" or trailer.children[0].value != "(":
            continue
        if is_pure is not None and is_pure(chain_prefix(chain, index)):
            continue
        callee = children[index - 1]
        pure = index == 1 and root.type == "name" and root.value in PURE_BUILTINS
        method = callee.children[1].value if callee.type == "trailer" else None
        if index > 1 and method not in NON_MUTATING_METHODS and root.type == "name":
            mutated.add(root.value)
        if not pure and method not in NON_MUTATING_METHODS:
            unknown = True
            mutated.update(_argument_roots(trailer))
    return unknown


def _argument_roots(trailer: NodeOrLeaf) -> Iterator[str]:
    """Root names of the objects handed over: a callee may mutate what it is given.

    `f(x)`, `f(x.items)`, `f(key=x)` and `f(*x)` hand over `x` (or part of it);
    `f(len(x))` or `f(x + 1)` hand over a new value, not `x`.
    """
    if len(trailer.children) < 3:  # type: ignore[attr-defined]
        return
    inner = trailer.children[1]  # type: ignore[attr-defined]
    items = inner.children[::2] if inner.type == "arglist" else [inner]
    for item in items:
        value = item
        if item.type == "argument":
            value = item.children[-1]
        root = root_name(value)
        if root is not None and not has_calls(value):
            yield root
        elif value.type in ("atom", "testlist_comp", "exprlist"):
            yield from (name for name in _direct_names(value))


def _direct_names(node: NodeOrLeaf) -> Iterator[str]:
    """Names inside a tuple or list display handed to a call: `f((a, b))`."""
    for child in getattr(node, "children", ()):
        root = root_name(child)
        if root is not None:
            yield root
        elif child.type in ("testlist_comp", "exprlist", "atom"):
            yield from _direct_names(child)


def _is_attribute_name(name: NodeOrLeaf) -> bool:
    parent = name.parent
    return parent is not None and parent.type == "trailer" and parent.children[0].value == "."


def _store_targets(statement: NodeOrLeaf, mutated: set[str]) -> None:
    children = statement.children  # type: ignore[attr-defined]
    for index in range(0, len(children) - 1, 2):
        target = children[index]
        operator = children[index + 1]
        if operator.type == "annassign" or getattr(operator, "value", "").endswith("="):
            root = root_name(target)
            if root is not None and target.type in ("atom_expr", "power"):
                mutated.add(root)


def _deleted(statement: NodeOrLeaf, written: set[str], mutated: set[str]) -> None:
    for node in inner_nodes(statement):
        root = root_name(node)
        if root is not None and node.type in ("atom_expr", "power"):
            mutated.add(root)


def root_name(node: NodeOrLeaf) -> str | None:
    """`x` for `x`, `x.a.b`, `x[i].c`; None for anything else."""
    if node.type == "name":
        return node.value  # type: ignore[attr-defined]
    if node.type in ("atom_expr", "power") and node.children[0].type == "name":  # type: ignore
        return node.children[0].value  # type: ignore[attr-defined]
    return None


def names_read(expression: NodeOrLeaf) -> set[str]:
    """Free names an expression reads (its own comprehension and lambda names excluded)."""
    nodes = [node for node in [expression, *inner_nodes(expression)] if node.type == "name"]
    nodes = [node for node in nodes if not _is_attribute_name(node) and not _is_keyword(node)]
    bound = {node.value for node in nodes if node.is_definition()}  # type: ignore[attr-defined]
    return {node.value for node in nodes} - bound  # type: ignore[attr-defined]


def _is_keyword(name: NodeOrLeaf) -> bool:
    """`k` in `f(k=v)` names a parameter; it reads nothing."""
    parent = name.parent
    return parent is not None and parent.type == "argument" and parent.children[0] is name \
        and len(parent.children) == 3 and parent.children[1].value == "="


def has_calls(expression: NodeOrLeaf) -> bool:
    return any(
        node.type == "trailer" and node.children[0].value == "("  # type: ignore[attr-defined]
        for node in inner_nodes(expression)
    )


def statement_of(node: NodeOrLeaf) -> NodeOrLeaf | None:
    """The statement that holds `node` directly inside a block or the module."""
    current: NodeOrLeaf | None = node
    while current is not None:
        parent = current.parent
        if parent is None:
            return None
        if parent.type in ("suite", "file_input") and current.type in _STATEMENTS:
            return current
        if parent.type in ("if_stmt", "for_stmt", "while_stmt", "try_stmt", "with_stmt") and (
            current.type == "simple_stmt"
        ):
            return current  # `if x: y = 1` on one line
        current = parent
    return None


def insert_before(source: SourceFile, statement: NodeOrLeaf, line: str) -> Insertion | None:
    """Where and what to insert to put `line` just above `statement`, same indentation.

    None when the statement does not start its line (`if x: y = 1`), where a
    new line cannot go above it without changing the block structure.
    """
    first = statement.get_first_leaf()
    row, column = first.start_pos
    prefix = source.line_text(row - 1)[:column]
    if prefix.strip():
        return None  # shares its line with a block header
    return Insertion(Position(row - 1, 0), f"{prefix}{line}\n")


def fresh_name(source: SourceFile, wanted: str, taken: set[str] | None = None) -> str:
    """`wanted`, or `wanted_2`, ... when the module already uses that name."""
    used = set(source.tree.get_used_names()) | (taken or set())
    if wanted not in used:
        return wanted
    number = 2
    while f"{wanted}_{number}" in used:
        number += 1
    return f"{wanted}_{number}"


def enclosing_statements(node: NodeOrLeaf) -> Iterator[BaseNode]:
    """The compound statements around `node`, innermost first, up to its function."""
    parent = node.parent
    while parent is not None and parent.type not in ("funcdef", "lambdef", "classdef",
                                                      "file_input"):
        if parent.type in ("if_stmt", "try_stmt", "while_stmt", "for_stmt", "with_stmt"):
            yield parent
        parent = parent.parent


_BRANCHING = ("if_stmt", "try_stmt", "with_stmt", "while_stmt", "test", "and_test", "or_test",
              "lambdef", "funcdef", "classdef")


def runs_every_iteration(node: NodeOrLeaf, loop: Loop) -> bool:
    """Whether `node` is evaluated on every iteration of `loop` (no branch in between).

    The test of an `if` and the first operand of `and`/`or` always run; the
    rest of them, ternaries, `try` bodies and inner `while` loops may not.
    """
    region = loop_region(loop)
    child, parent = node, node.parent
    while parent is not None and parent is not region:
        if parent.type in _BRANCHING and not _always_evaluated(parent, child):
            return False
        child, parent = parent, parent.parent
    return parent is region


def _always_evaluated(parent: NodeOrLeaf, child: NodeOrLeaf) -> bool:
    children = parent.children  # type: ignore[attr-defined]
    if parent.type in ("if_stmt", "while_stmt"):
        return child is children[1]
    if parent.type in ("and_test", "or_test", "test"):
        return child is children[0] if parent.type != "test" else False
    if parent.type == "with_stmt":
        return True
    return False


def hoisting_loop(node: NodeOrLeaf, loops: list[Loop], reads: set[str],
                  is_pure: PureTest | None = None) -> Loop | None:
    """The outermost loop above which `node` can be computed once; None if not even one.

    Each loop, from the innermost outwards, must run `node` on every iteration
    and leave every name it reads unchanged.
    """
    chosen = None
    for loop in loops:
        if not runs_every_iteration(node, loop):
            break
        effects = effects_of(loop_region(loop), is_pure)
        if any(effects.changes(name) for name in reads):
            break
        chosen = loop
        node = loop_region(loop)
    return chosen
