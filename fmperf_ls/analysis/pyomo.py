"""Pyomo rule functions: which functions build components, and what their indexes are.

Pyomo calls a rule once per index of the component it builds:
`Constraint(m.D, m.J, rule=f)` calls `f(m, d, j)` for every pair, so any
work in `f` that grows with `j` is paid J times. Rules are found where they
are handed to a component (`rule=f`, `rule=lambda m, j: ...`) and where a
component decorator builds them (`@m.Constraint(m.J)`). Helpers that a rule
calls with its index (`stock(m, d, j)`) run per index too, so they inherit
the rule's indexes.
"""

# mypy: disable-error-code="attr-defined, union-attr"

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parso.python.tree import Name
from parso.tree import BaseNode, NodeOrLeaf

from fmperf_ls.analysis.imports import dotted_parts
from fmperf_ls.analysis.invariance import root_name, statement_of
from fmperf_ls.analysis.scopes import definitions_before, is_inside, scope_of
from fmperf_ls.analysis.source import inner_nodes

if TYPE_CHECKING:
    from fmperf_ls.engine import Context

logger = logging.getLogger(__name__)

COMPONENTS = frozenset({"Constraint", "Expression", "Objective"})
_STAR_IMPORT = re.compile(r"from\s+pyomo[\w.]*\s+import\s+\*")


@dataclass(frozen=True)
class PyomoRule:
    """A function Pyomo calls once per index of the component it builds."""

    function: BaseNode
    """The `funcdef` or `lambdef`."""
    model: str | None
    """The parameter that receives the model (the first one)."""
    indexes: tuple[str, ...]
    """The parameters that receive the index, in order."""
    construct: NodeOrLeaf
    """The statement that builds the component: where the rule runs."""
    model_object: str | None
    """How the code outside the rule names the model (`model` in `model.c = ...`)."""
    index_sets: tuple[str, ...] = ()
    """The index sets as written in the component call, when one per index."""
    abstract: bool = False

    def index_set(self, index: str) -> str | None:
        if len(self.index_sets) != len(self.indexes) or index not in self.indexes:
            return None
        return self.index_sets[self.indexes.index(index)]


def uses_pyomo(ctx: Context) -> bool:
    return ctx.imports.imports_any("pyomo") or _star_imports_pyomo(ctx)


def _star_imports_pyomo(ctx: Context) -> bool:
    """`from pyomo.environ import *`, searched once per file."""
    cached = getattr(ctx.source, "_pyomo_star", None)
    if cached is None:
        cached = "pyomo" in ctx.source.text and bool(_STAR_IMPORT.search(ctx.source.text))
        ctx.source._pyomo_star = cached  # type: ignore[attr-defined]
    return cached


def pyomo_rules(ctx: Context) -> list[PyomoRule]:
    """Every rule of the file and every helper a rule calls with its index; cached."""
    cached = getattr(ctx.source, "_pyomo_rules", None)
    if cached is not None:
        return cached
    rules: list[PyomoRule] = []
    if uses_pyomo(ctx):
        rules = list(_direct_rules(ctx))
        rules += _helpers(rules)
    ctx.source._pyomo_rules = rules  # type: ignore[attr-defined]
    return rules


def rule_of(ctx: Context, function: NodeOrLeaf) -> PyomoRule | None:
    for rule in pyomo_rules(ctx):
        if rule.function is function:
            return rule
    return None


def is_component_call(ctx: Context, callee: NodeOrLeaf, names=COMPONENTS) -> bool:
    """`Constraint`, `pyo.Constraint`, `pyomo.environ.Constraint` (also via `import *`)."""
    qualified = ctx.imports.qualified(callee)
    if qualified is not None:
        head, _, last = qualified.rpartition(".")
        return last in names and head.startswith("pyomo")
    parts = dotted_parts(callee)
    return parts is not None and len(parts) == 1 and parts[0] in names and (
        _star_imports_pyomo(ctx)
    )


def _direct_rules(ctx: Context) -> Iterator[PyomoRule]:
    abstract = "AbstractModel" in ctx.source.text
    for chain in ctx.source.nodes("atom_expr", "power"):
        for callee, trailer in _calls(chain):
            if not is_component_call(ctx, callee):
                continue
            found = _rule_argument(ctx, chain, trailer, abstract)
            if found is not None:
                yield found
    for decorator in ctx.source.nodes("decorator"):
        found = _decorated_rule(ctx, decorator, abstract)
        if found is not None:
            yield found


def _calls(chain: NodeOrLeaf) -> Iterator[tuple[NodeOrLeaf, NodeOrLeaf]]:
    """(callee, call trailer) for each call in a chain; the callee is a dotted prefix."""
    from fmperf_ls.analysis.infer import chain_prefix

    children = chain.children  # type: ignore[attr-defined]
    for index in range(1, len(children)):
        trailer = children[index]
        if trailer.type == "trailer" and trailer.children[0].value == "(":
            yield chain_prefix(chain, index), trailer


def call_arguments(trailer: NodeOrLeaf) -> tuple[list[NodeOrLeaf], dict[str, NodeOrLeaf]]:
    """Positional and keyword arguments of a call trailer `( ... )`."""
    if len(trailer.children) < 3:  # type: ignore[attr-defined]
        return [], {}
    inner = trailer.children[1]  # type: ignore[attr-defined]
    items = inner.children[::2] if inner.type == "arglist" else [inner]
    positional, keywords = [], {}
    for item in items:
        if item.type == "argument" and item.children[1].type == "operator" and (
            item.children[1].value == "="
        ):
            keywords[item.children[0].value] = item.children[2]
        elif item.type == "argument" and item.children[0].type == "operator":
            positional.append(item)  # *args or **kwargs
        else:
            positional.append(item)
    return positional, keywords


def _rule_argument(ctx, chain, trailer, abstract: bool) -> PyomoRule | None:
    positional, keywords = call_arguments(trailer)
    value = keywords.get("rule")
    if value is None:
        return None
    function = _function_of(value)
    if function is None:
        return None
    construct = statement_of(chain)
    if construct is None:
        return None
    index_sets = tuple(ctx.source.code_of(argument) for argument in positional)
    return _make_rule(function, construct, _model_object(chain), index_sets, abstract)


def _function_of(value: NodeOrLeaf) -> BaseNode | None:
    """The funcdef a `rule=` names, or the lambda it is."""
    if value.type == "lambdef":
        return value  # type: ignore[return-value]
    if value.type != "name":
        return None
    return function_named(value)  # type: ignore[arg-type]


def function_named(use: Name) -> BaseNode | None:
    """The `def` a name refers to: the latest one visible from the use.

    `definitions_before` places a def's own name inside the function's scope,
    so the defs are looked up here by the scope that holds them.
    """
    module = use.get_root_node()
    found = None
    for candidate in module.get_used_names().get(use.value, []):  # type: ignore[attr-defined]
        function = candidate.parent
        if function is None or function.type != "funcdef" or function.name is not candidate:
            continue
        if is_inside(use, scope_of(function)) and (
            found is None or candidate.start_pos > found.name.start_pos
        ):
            found = function
    if found is not None and _rebound_after(found, use):
        return None  # `f = other` after the def: the name no longer means it
    return found


def _rebound_after(function: BaseNode, use: Name) -> bool:
    for name in definitions_before(use):
        if name.parent is not None and name.parent.type == "trailer":
            continue
        if name is not function.name and name.start_pos > function.start_pos:  # type: ignore
            return True
    return False


def _model_object(chain: NodeOrLeaf) -> str | None:
    """`model` in `model.c = Constraint(...)` or `model.add_component("c", Constraint(...))`."""
    parent = chain.parent
    if parent is not None and parent.type == "expr_stmt" and parent.children[-1] is chain:
        target = parent.children[0]
        if target.type in ("atom_expr", "power"):
            return root_name(target)
    node = parent
    while node is not None and node.type in ("argument", "arglist", "trailer"):
        node = node.parent
    if node is not None and node.type in ("atom_expr", "power"):
        return root_name(node)
    return None


def _decorated_rule(ctx, decorator: NodeOrLeaf, abstract: bool) -> PyomoRule | None:
    """`@model.Constraint(model.J)` above a def builds that component at once."""
    expression = decorator.children[1]  # type: ignore[attr-defined]
    if expression.type not in ("atom_expr", "power") or not uses_pyomo(ctx):
        return None
    parts = dotted_parts(_strip_call(expression))
    if not parts or len(parts) != 2 or parts[1] not in COMPONENTS:
        return None
    decorated = decorator.parent
    if decorated is not None and decorated.type == "decorators":
        decorated = decorated.parent
    function = decorated.children[-1] if decorated is not None else None
    if function is None or function.type != "funcdef":
        return None
    last = expression.children[-1]
    positional, _ = call_arguments(last) if last.children[0].value == "(" else ([], {})
    index_sets = tuple(ctx.source.code_of(argument) for argument in positional)
    return _make_rule(function, decorated, parts[0], index_sets, abstract)


def _strip_call(expression: NodeOrLeaf) -> NodeOrLeaf:
    from fmperf_ls.analysis.infer import chain_prefix

    children = expression.children  # type: ignore[attr-defined]
    if children[-1].type == "trailer" and children[-1].children[0].value == "(":
        return chain_prefix(expression, len(children) - 1)
    return expression


def _make_rule(function, construct, model_object, index_sets, abstract) -> PyomoRule | None:
    names = parameter_names(function)
    if names is None or not names:
        return None  # `*args` rules: which argument is which index is unknown
    return PyomoRule(function, names[0], tuple(names[1:]), construct, model_object,
                     index_sets, abstract)


def parameter_names(function: NodeOrLeaf) -> list[str] | None:
    """Plain parameter names in order; None when a star parameter makes positions unknown."""
    names = []
    for param in function.get_params():  # type: ignore[attr-defined]
        if param.star_count:
            return None
        names.append(param.name.value)
    return names


def _helpers(rules: list[PyomoRule]) -> list[PyomoRule]:
    """Functions a rule calls with its index, with the parameters that receive it."""
    found: list[PyomoRule] = []
    queue = list(rules)
    seen = {id(rule.function) for rule in rules}
    while queue:
        rule = queue.pop()
        for helper in _called_with_index(rule):
            if id(helper.function) not in seen:
                seen.add(id(helper.function))
                found.append(helper)
                queue.append(helper)
    return found


def _called_with_index(rule: PyomoRule) -> Iterator[PyomoRule]:
    for node in inner_nodes(rule.function):
        if node.type not in ("atom_expr", "power") or node.children[0].type != "name":
            continue
        trailer = node.children[1]  # type: ignore[attr-defined]
        if len(node.children) != 2 or trailer.children[0].value != "(":
            continue
        function = _function_of(node.children[0])  # type: ignore[attr-defined]
        if function is None or function is rule.function:
            continue
        helper = _helper_rule(rule, function, trailer)
        if helper is not None:
            yield helper


def _helper_rule(rule: PyomoRule, function, trailer) -> PyomoRule | None:
    """The helper's parameters that receive the rule's model and index names."""
    names = parameter_names(function)
    positional, _ = call_arguments(trailer)
    if names is None or len(positional) > len(names):
        return None
    model, indexes, sets = None, [], []
    for argument, parameter in zip(positional, names, strict=False):
        if argument.type != "name":
            continue
        if argument.value == rule.model:  # type: ignore[attr-defined]
            model = parameter
        elif argument.value in rule.indexes:  # type: ignore[attr-defined]
            indexes.append(parameter)
            sets.append(rule.index_set(argument.value) or "")  # type: ignore[attr-defined]
    if not indexes:
        return None
    index_sets = tuple(sets) if all(sets) else ()
    return PyomoRule(function, model, tuple(indexes), rule.construct, rule.model_object,
                     index_sets, rule.abstract)


_DECLARED = frozenset({"Param", "Var", "Expression", "Set", "RangeSet", "Constraint",
                       "Objective", "Block"})


def component_kinds(ctx: Context) -> dict[str, tuple[str, NodeOrLeaf]]:
    """`{"price": ("Param", statement)}` for `model.price = Param(...)` anywhere in the file."""
    cached = getattr(ctx.source, "_pyomo_components", None)
    if cached is not None:
        return cached
    kinds: dict[str, tuple[str, NodeOrLeaf]] = {}
    for statement in ctx.source.nodes("expr_stmt"):
        children = statement.children  # type: ignore[attr-defined]
        if len(children) != 3 or children[1].type != "operator" or children[1].value != "=":
            continue
        target, value = children[0], children[2]
        parts = dotted_parts(target)
        if not parts or len(parts) != 2 or value.type not in ("atom_expr", "power"):
            continue
        last = value.children[-1]
        if last.type != "trailer" or last.children[0].value != "(":
            continue
        callee = _strip_call(value)
        if is_component_call(ctx, callee, _DECLARED):
            kind = (dotted_parts(callee) or [""])[-1]
            kinds.setdefault(parts[1], (kind, statement))
    ctx.source._pyomo_components = kinds  # type: ignore[attr-defined]
    return kinds
