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

import ast
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
    from fmperf_ls.analysis.outline import Outline
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


# -- the gate: what an `ast` outline must hold for a prefix to be found ----------


def may_hold_prefix(outline: Outline, pyomo: bool) -> bool:
    """Whether some prefix bound's `j` is the target of an index loop around it, or (in a
    Pyomo file) a function parameter: the two owners `_index_owner` accepts."""
    bounds = list(_ast_prefix_bounds(outline))
    if not bounds:
        return False  # no `range(j + 1)` iterated and no `x[:j]` consumed
    parameters = _ast_parameters(outline) if pyomo else frozenset()
    loops = _ast_index_loops(outline, pyomo)
    for node, index in bounds:
        if index in parameters:
            return True
        line = node.lineno
        if any(index in names and start <= line <= end for names, start, end in loops):
            return True
    return False


def _ast_prefix_bounds(outline: Outline) -> Iterator[tuple[ast.expr, str]]:
    """(node, `j`) for `range(j + 1)` iterated and for `x[:j + 1]` consumed whole."""
    ranges = [(call, index) for call in outline.nodes(ast.Call)
              if isinstance(call.func, ast.Name) and call.func.id == "range"
              and (index := _ast_range_bound(call)) is not None]
    slices = [(subscript, index) for subscript in outline.nodes(ast.Subscript)
              if (index := _ast_slice_bound(subscript.slice)) is not None]
    if not ranges and not slices:
        return  # no bound of the shape at all
    iterated = {id(node.iter) for node in outline.nodes(ast.For, ast.AsyncFor, ast.comprehension)}
    yield from ((call, index) for call, index in ranges if id(call) in iterated)
    if slices:
        consumed = iterated | _ast_reduced(outline)
        yield from ((node, index) for node, index in slices if id(node) in consumed)


def _ast_range_bound(call: ast.Call) -> str | None:
    if call.keywords or not 1 <= len(call.args) <= 2:
        return None  # not `range(j + 1)` nor `range(0, j + 1)`
    if len(call.args) == 2 and not _ast_is_zero(call.args[0]):
        return None  # a start other than 0: not a prefix
    return _ast_upper(call.args[-1])


def _ast_slice_bound(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Slice) or node.upper is None:
        return None  # an index, or a slice without an end
    if node.lower is not None and not _ast_is_zero(node.lower):
        return None  # `x[i:j]`: not from the start
    return _ast_upper(node.upper)


def _ast_is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0


def _ast_upper(node: ast.expr) -> str | None:
    """`j` for `j`, `j + 1` and `1 + j`."""
    if isinstance(node, ast.Name):
        return node.id
    if not isinstance(node, ast.BinOp) or not isinstance(node.op, ast.Add):
        return None  # not `j + 1`
    for name, one in ((node.left, node.right), (node.right, node.left)):
        if isinstance(name, ast.Name) and isinstance(one, ast.Constant) and one.value == 1:
            return name.id
    return None


def _ast_reduced(outline: Outline) -> set[int]:
    """ids of the expressions a reducer takes whole: `sum(x)`, `x.sum()`."""
    reduced: set[int] = set()
    for call in outline.nodes(ast.Call):
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _REDUCING_METHODS:
            reduced.add(id(func.value))
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in REDUCERS:
            reduced.update(id(argument) for argument in call.args)
    return reduced


def _ast_parameters(outline: Outline) -> frozenset[str]:
    """Every parameter name of every function and lambda."""
    names = set()
    for function in outline.nodes(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda):
        arguments = function.args
        for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
            names.add(argument.arg)
    return frozenset(names)


def _ast_index_loops(outline: Outline, pyomo: bool) -> list[tuple[set[str], int, int]]:
    """(target names, first line, last line) of loops over `range`, `enumerate` or (in a
    Pyomo file) a dotted index set; only those can own a prefix's `j`."""
    loops = []
    for loop in outline.nodes(ast.For, ast.AsyncFor):
        if _ast_index_iterable(loop.iter, pyomo):
            loops.append((_ast_target_names(loop.target), loop.lineno, loop.end_lineno or 0))
    comprehensions = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    for display in outline.nodes(*comprehensions):
        names = set()
        for clause in display.generators:
            if _ast_index_iterable(clause.iter, pyomo):
                names |= _ast_target_names(clause.target)
        if names:
            loops.append((names, display.lineno, display.end_lineno or 0))
    return loops


def _ast_index_iterable(node: ast.expr, pyomo: bool) -> bool:
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in ("range", "enumerate")
    return pyomo and isinstance(node, ast.Attribute)


def _ast_target_names(target: ast.expr) -> set[str]:
    return {node.id for node in ast.walk(target) if isinstance(node, ast.Name)}
