"""Prefixes rebuilt per index: `sum(x[k] for k in range(j + 1))` run once for every `j`.

A prefix is `range(j + 1)`, `range(0, j + 1)`, `range(j)`, `x[:j + 1]` or
`x[:j]` consumed whole: summed, listed, reduced or accumulated in a loop.
It is only a repeated prefix when `j` is the index of something that runs
once per `j` around it: a Pyomo rule's index parameter, or the target of an
enclosing loop. Terms that read `j` themselves (`d[j][k]`) make a genuinely
pairwise computation, which no running total replaces, so they are left alone.
"""

# mypy: disable-error-code="attr-defined, union-attr"

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parso.python.tree import Name
from parso.tree import BaseNode, NodeOrLeaf

from fmperf_ls.analysis.infer import ChainPrefix, chain_prefix
from fmperf_ls.analysis.invariance import names_read, root_name
from fmperf_ls.analysis.pyomo import PyomoRule, call_arguments, rule_of
from fmperf_ls.analysis.scopes import Loop, definitions_before, loops_around
from fmperf_ls.analysis.source import inner_nodes

if TYPE_CHECKING:
    from fmperf_ls.engine import Context

logger = logging.getLogger(__name__)

REDUCERS = frozenset({
    "sum", "min", "max", "list", "tuple", "sorted", "any", "all", "fsum", "quicksum",
    "prod", "mean", "median", "nansum", "sum_product", "set", "frozenset",
})  # fmt: skip
_REDUCING_METHODS = frozenset({"sum", "mean", "max", "min", "prod", "std", "var", "median",
                               "tolist", "cumsum", "any", "all", "to_list"})
_ACCUMULATING_METHODS = frozenset({"append", "extend", "add", "insert"})
_SMALL_LOOP = 10


@dataclass(frozen=True)
class Prefix:
    """One prefix rebuilt per index."""

    node: Any
    """What the finding covers: the consuming call, the comprehension or the loop header
    (a node, or a span view of part of one with `start_pos`/`end_pos`)."""
    index: Name
    """The `j` of the bound."""
    shape: str
    """"comprehension", "loop" or "slice"."""
    inclusive: bool
    """`j + 1` as bound (0..j) rather than `j` (0..j-1)."""
    consumer: str | None
    """The reducing call's name (`sum`), when a call consumes the prefix."""
    element: Any
    """The term of a comprehension, or the sliced expression of a slice (a chain view)."""
    target: str | None
    """The comprehension's own variable (`k`)."""
    rule: PyomoRule | None
    """The Pyomo rule whose index `j` is; None when `j` is a loop target."""
    loop: Loop | None
    """The loop over `j` when `j` is a loop target."""
    plain: bool
    """A single `for` clause without conditions: a candidate for a running sum."""


def prefixes(ctx: Context) -> Iterator[Prefix]:
    for chain in ctx.source.nodes("atom_expr", "power"):
        found = _range_prefix(ctx, chain) or _slice_prefix(ctx, chain)
        if found is not None:
            yield found


# -- range(...) ---------------------------------------------------------------


def _range_prefix(ctx: Context, chain: NodeOrLeaf) -> Prefix | None:
    children = chain.children  # type: ignore[attr-defined]
    if len(children) != 2 or children[0].type != "name" or children[0].value != "range":
        return None
    if ctx.imports.resolve("range") is not None:
        return None  # `range` rebound by an import: not the builtin
    bound = _bound(children[1])
    if bound is None:
        return None
    index, inclusive = bound
    parent = chain.parent
    if parent is not None and parent.type == "sync_comp_for" and parent.children[3] is chain:
        return _comprehension_prefix(ctx, parent, index, inclusive)
    if parent is not None and parent.type == "for_stmt" and parent.children[3] is chain:
        return _loop_prefix(ctx, parent, index, inclusive)
    return None


def _bound(trailer: NodeOrLeaf) -> tuple[Name, bool] | None:
    """`j` and True for `(j + 1)` or `(0, j + 1)`; `j` and False for `(j)` or `(0, j)`."""
    positional, keywords = call_arguments(trailer)
    if keywords or not 1 <= len(positional) <= 2:
        return None
    if len(positional) == 2:
        start = positional[0]
        if start.type != "number" or start.value != "0":  # type: ignore[attr-defined]
            return None
    return upper_bound(positional[-1])


def upper_bound(node: NodeOrLeaf) -> tuple[Name, bool] | None:
    if node.type == "name":
        return node, False  # type: ignore[return-value]
    if node.type != "arith_expr" or len(node.children) != 3:  # type: ignore[attr-defined]
        return None
    left, operator, right = node.children  # type: ignore[attr-defined]
    if operator.value != "+":
        return None
    if left.type == "name" and right.type == "number" and right.value == "1":
        return left, True
    if right.type == "name" and left.type == "number" and left.value == "1":
        return right, True
    return None


def _comprehension_prefix(ctx, sync: BaseNode, index: Name, inclusive: bool) -> Prefix | None:
    container = sync.parent
    if container is None or container.type not in ("testlist_comp", "argument"):
        return None  # dict and set displays, or an inner `for` clause
    element = container.children[0]
    target = sync.children[1]
    if index.value in names_read(container.children[0]) or _reads_in_clauses(sync, index):
        return None  # the terms depend on j too: a pairwise computation, not a prefix
    plain = len(sync.children) == 4 and target.type == "name"
    consumer, flagged = _comprehension_consumer(container)
    owner = _index_owner(ctx, index, flagged)
    if owner is None:
        return None
    rule, loop = owner
    return Prefix(flagged, index, "comprehension", inclusive, consumer, element,
                  target.value if target.type == "name" else None, rule, loop, plain)


def _reads_in_clauses(sync: BaseNode, index: Name) -> bool:
    return any(index.value in names_read(clause) for clause in sync.children[4:])


def _comprehension_consumer(container: BaseNode) -> tuple[str | None, NodeOrLeaf]:
    """`sum` and the whole `sum(...)` call for a generator argument; else the display."""
    if container.type == "argument":
        trailer = container.parent
        call = trailer.parent if trailer is not None else None
        if call is not None and call.type in ("atom_expr", "power"):
            callee = call.children[call.children.index(trailer) - 1]
            name = _callee_name(callee)
            return name, _CallSpan(call, call.children.index(trailer))  # type: ignore
    return None, container.parent if container.parent is not None else container


def _callee_name(callee: NodeOrLeaf) -> str | None:
    if callee.type == "name":
        return callee.value  # type: ignore[attr-defined]
    if callee.type == "trailer" and callee.children[0].value == ".":  # type: ignore
        return callee.children[1].value  # type: ignore[attr-defined]
    return None


class _CallSpan(ChainPrefix):
    """The part of a chain up to and including one call: `np.sum(...)` in `np.sum(...).x`."""

    type = "call_span"

    def __init__(self, chain: NodeOrLeaf, last: int):
        super().__init__(chain, last + 1)


def _loop_prefix(ctx, statement: BaseNode, index: Name, inclusive: bool) -> Prefix | None:
    body = statement.children[5]
    if index.value in names_read(body):
        return None  # the body reads j: each (j, k) pair is its own work
    if not _accumulates(body):
        return None  # a loop that builds nothing (a sort, a search) is not a prefix sum
    header = _Header(statement)
    owner = _index_owner(ctx, index, statement)
    if owner is None:
        return None
    rule, loop = owner
    target = statement.children[1]
    return Prefix(header, index, "loop", inclusive, None, body,  # type: ignore[arg-type]
                  target.value if target.type == "name" else None, rule, loop, False)


class _Header:
    """`for k in range(j + 1)` without the colon and the body."""

    type = "for_header"

    def __init__(self, statement: BaseNode):
        self.statement = statement
        self.parent = statement.parent

    @property
    def start_pos(self):
        return self.statement.children[0].start_pos

    @property
    def end_pos(self):
        return self.statement.children[3].end_pos


def _accumulates(body: NodeOrLeaf) -> bool:
    for node in inner_nodes(body):
        if node.type == "expr_stmt" and len(node.children) == 3 and (  # type: ignore[attr-defined]
            node.children[1].type == "operator" and node.children[1].value in ("+=", "-=", "*=")
        ):
            return True
        if node.type == "trailer" and node.children[0].value == "." and (
            node.children[1].value in _ACCUMULATING_METHODS  # type: ignore[attr-defined]
        ):
            return True
    return False


# -- x[:j + 1] ----------------------------------------------------------------


def _slice_prefix(ctx: Context, chain: NodeOrLeaf) -> Prefix | None:
    children = chain.children  # type: ignore[attr-defined]
    for position in range(1, len(children)):
        bound = _slice_bound(children[position])
        if bound is None:
            continue
        index, inclusive = bound
        consumer, flagged = _slice_consumer(chain, position)
        if flagged is None:
            return None
        owner = _index_owner(ctx, index, flagged)
        if owner is None:
            return None
        rule, loop = owner
        base = chain_prefix(chain, position)
        return Prefix(flagged, index, "slice", inclusive, consumer, base, None, rule, loop, True)
    return None


def _slice_bound(trailer: NodeOrLeaf) -> tuple[Name, bool] | None:
    if trailer.type != "trailer" or trailer.children[0].value != "[":  # type: ignore
        return None
    subscript = trailer.children[1]  # type: ignore[attr-defined]
    if subscript.type != "subscript":
        return None
    parts = subscript.children  # type: ignore[attr-defined]
    if len(parts) == 2 and parts[0].type == "operator" and parts[0].value == ":":
        return upper_bound(parts[1])
    if len(parts) == 3 and parts[0].type == "number" and parts[0].value == "0" and (
        parts[1].value == ":"
    ):
        return upper_bound(parts[2])
    return None


def _slice_consumer(chain: NodeOrLeaf, position: int) -> tuple[str | None, Any]:
    """The reduction that consumes the slice, and what to flag; (None, None) if none."""
    children = chain.children  # type: ignore[attr-defined]
    if position + 2 < len(children):
        method, call = children[position + 1], children[position + 2]
        if method.children[0].value == "." and method.children[1].value in _REDUCING_METHODS and (
            call.children[0].value == "("
        ):
            return method.children[1].value, _CallSpan(chain, position + 2)
        return None, None
    if position != len(children) - 1:
        return None, None  # more trailers after the slice: an element, not the prefix
    parent = chain.parent
    if parent is not None and parent.type == "trailer" and parent.children[0].value == "(":
        call = parent.parent
        index = call.children.index(parent)  # type: ignore[union-attr]
        name = _callee_name(call.children[index - 1])  # type: ignore[union-attr]
        if name in REDUCERS:
            return name, _CallSpan(call, index)  # type: ignore[arg-type, return-value]
    if parent is not None and parent.type in ("for_stmt", "sync_comp_for") and (
        parent.children[3] is chain
    ):
        return None, chain
    return None, None


# -- whose index is j? ----------------------------------------------------------


def _index_owner(ctx: Context, index: Name, node) -> tuple[PyomoRule | None, Loop | None] | None:
    """The rule whose index parameter `index` is, or the loop it is the target of."""
    definitions = definitions_before(index)
    if not definitions:
        return None
    definer = definitions[0]
    definition = definer.get_definition()
    if definition is None:
        return None
    if definition.type == "param":
        function = definition.parent
        if function is not None and function.type == "parameters":
            function = function.parent
        rule = rule_of(ctx, function)
        if rule is None or index.value not in rule.indexes:
            return None
        return rule, None
    anchor = node.chain if hasattr(node, "chain") else getattr(node, "statement", node)
    for loop in loops_around(anchor):
        if loop.node is definition and _is_index_target(ctx, loop, definer):
            return (None, loop) if not _small(loop) else None
        if loop.node is definition:
            return None
    return None


def _is_index_target(ctx: Context, loop: Loop, definer: Name) -> bool:
    """`j` counts positions: `for j in range(...)`, `for j, x in enumerate(...)`, or a
    Pyomo index set `for j in model.J`; an element of arbitrary data is no index."""
    iterable = loop.iterable
    targets = loop.target_names()
    if iterable is None or definer not in targets:
        return False
    head = root_name(iterable)
    is_call = iterable.type in ("atom_expr", "power") and len(iterable.children) == 2 and (
        iterable.children[1].children[0].value == "("  # type: ignore[attr-defined]
    )
    if is_call and head == "range":
        return loop.target is definer
    if is_call and head == "enumerate":
        return targets[0] is definer
    from fmperf_ls.analysis.pyomo import uses_pyomo

    dotted = iterable.type in ("atom_expr", "power") and all(
        trailer.children[0].value == "." for trailer in iterable.children[1:]  # type: ignore
    )
    return dotted and loop.target is definer and uses_pyomo(ctx)


def _small(loop: Loop) -> bool:
    """A loop over a literal display or `range(<= 10)`: its square is small."""
    iterable = loop.iterable
    if iterable is None:
        return False
    if iterable.type == "atom" and iterable.children[0].value in ("[", "(", "{"):  # type: ignore
        return True
    if iterable.type in ("atom_expr", "power") and root_name(iterable) == "range":
        positional, _ = call_arguments(iterable.children[-1])  # type: ignore[attr-defined]
        last = positional[-1] if positional else None
        return last is not None and last.type == "number" and _number(last.value) <= _SMALL_LOOP
    return False


def _number(text: str) -> float:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return float("inf")  # hex or complex literals: not a small loop we can vouch for
