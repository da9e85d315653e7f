"""Whether a function of the file is pure: its result depends on its arguments only.

Pure here is proven from the text, pessimistically: no `global`, `nonlocal`,
`yield` or `await`; no stores into parameters or free objects; calls only to
pure builtins, `math`/`statistics` functions, methods that leave their
receiver alone (or any method of an object the function built itself), and
other pure functions of the file; free names only builtins, functions,
imported modules and UPPER_CASE constants. Anything else is impure.
"""

# mypy: disable-error-code="attr-defined, union-attr"

from __future__ import annotations

import ast
import builtins
import logging
from typing import TYPE_CHECKING

from parso.tree import BaseNode, NodeOrLeaf

from fmperf_ls.analysis.invariance import NON_MUTATING_METHODS, PURE_BUILTINS, root_name
from fmperf_ls.analysis.pyomo import function_named, parameter_names
from fmperf_ls.analysis.source import inner_nodes

if TYPE_CHECKING:
    from fmperf_ls.engine import Context

logger = logging.getLogger(__name__)

PURE_MODULES = ("math", "statistics", "operator", "bisect", "heapq.nlargest")
_FORBIDDEN = ("global_stmt", "nonlocal_stmt", "yield_expr", "del_stmt", "import_name",
              "import_from", "funcdef", "classdef", "with_stmt")
_FRESH_CALLS = frozenset({"list", "dict", "set", "sorted", "tuple", "frozenset"})
COSTLY_BUILTINS = frozenset({"sorted", "sum", "min", "max", "set", "frozenset", "any", "all"})
_MAX_DEPTH = 4


class Purity:
    """Purity and cost answers for the functions of one file, cached by node."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._pure: dict[int, bool] = {}

    def is_pure(self, function: BaseNode, depth: int = 0) -> bool:
        key = id(function)
        if key not in self._pure:
            self._pure[key] = False  # recursion: not proven while being proven
            self._pure[key] = depth < _MAX_DEPTH and self._check(function, depth)
        return self._pure[key]

    def is_costly(self, function: BaseNode, depth: int = 0) -> bool:
        """Loops, comprehensions, whole-collection builtins, or a costly helper's call."""
        for node in inner_nodes(function):
            if node.type in ("for_stmt", "while_stmt", "sync_comp_for"):
                return True
            if node.type != "name" or not _is_called(node):
                continue
            if node.value in COSTLY_BUILTINS:  # type: ignore[attr-defined]
                return True
            helper = function_named(node) if depth < _MAX_DEPTH else None  # type: ignore
            if helper is not None and helper is not function and self.is_costly(helper,
                                                                                depth + 1):
                return True
        return False

    def _check(self, function: BaseNode, depth: int) -> bool:
        if function.type != "funcdef" or _decorated(function) or _is_method(function):
            return False  # decorators change what a call does; methods read `self`
        params = parameter_names(function)
        if params is None:
            return False
        body = function.children[-1]
        local = _local_names(body) | set(params)
        fresh = _fresh_locals(body)
        for node in inner_nodes(body):
            if node.type in _FORBIDDEN or node.type == "keyword" and node.value == "await":
                return False
            if node.type == "expr_stmt" and not _stores_ok(node, fresh):
                return False
            if node.type in ("atom_expr", "power") and not self._chain_ok(node, local, fresh,
                                                                         depth):
                return False
            if node.type == "name" and not self._free_name_ok(node, local):
                return False
        return True

    def _chain_ok(self, chain: NodeOrLeaf, local: set[str], fresh: set[str], depth) -> bool:
        from fmperf_ls.analysis.infer import chain_prefix

        children = chain.children  # type: ignore[attr-defined]
        head = children[0]
        for index in range(1, len(children)):
            trailer = children[index]
            if trailer.type != "trailer" or trailer.children[0].value != "(":
                continue
            if index == 1 and head.type == "name":
                if not self._callable_ok(head, local, depth):
                    return False
                continue
            qualified = self.ctx.imports.qualified(chain_prefix(chain, index)) or ""
            if qualified.startswith(PURE_MODULES):
                continue
            method = children[index - 1].children[1].value if children[index - 1].type == (
                "trailer") and children[index - 1].children[0].value == "." else None
            if method in NON_MUTATING_METHODS or root_name(chain) in fresh:
                continue
            return False
        return True

    def _callable_ok(self, name: NodeOrLeaf, local: set[str], depth: int) -> bool:
        value = name.value  # type: ignore[attr-defined]
        if value in local:
            return False  # a parameter or local called: anything could run
        if value in PURE_BUILTINS and self.ctx.imports.resolve(value) is None:
            return _is_builtin_here(name)
        function = function_named(name)  # type: ignore[arg-type]
        return function is not None and self.is_pure(function, depth + 1)

    def _free_name_ok(self, name: NodeOrLeaf, local: set[str]) -> bool:
        value = name.value  # type: ignore[attr-defined]
        parent = name.parent
        if value in local or parent is not None and parent.type == "trailer":
            return True  # a local, or an attribute name after a dot
        if parent is not None and parent.type == "argument" and parent.children[0] is name:
            return True  # a keyword argument's name
        if value.isupper() or hasattr(builtins, value) and _is_builtin_here(name):
            return True
        qualified = self.ctx.imports.resolve(value)
        if qualified is not None:
            return qualified.startswith(PURE_MODULES)
        return function_named(name) is not None  # type: ignore[arg-type]


def _is_builtin_here(name: NodeOrLeaf) -> bool:
    """The name is not bound anywhere in the module (so it is the builtin)."""
    module = name.get_root_node()
    return not any(
        use.is_definition() and use.parent is not None and use.parent.type != "trailer"
        for use in module.get_used_names().get(name.value, [])  # type: ignore[attr-defined]
    )


def _is_called(name: NodeOrLeaf) -> bool:
    following = name.get_next_sibling()
    return following is not None and following.type == "trailer" and (
        following.children[0].value == "("  # type: ignore[attr-defined]
    )


def _decorated(function: BaseNode) -> bool:
    parent = function.parent
    return parent is not None and parent.type in ("decorated", "async_funcdef", "async_stmt")


def _is_method(function: BaseNode) -> bool:
    parent = function.parent
    while parent is not None and parent.type not in ("classdef", "file_input", "funcdef"):
        parent = parent.parent
    return parent is not None and parent.type == "classdef"


def _local_names(body: NodeOrLeaf) -> set[str]:
    return {node.value for node in inner_nodes(body)  # type: ignore[attr-defined]
            if node.type == "name" and node.is_definition()  # type: ignore[attr-defined]
            and node.parent.type != "trailer"}  # type: ignore[union-attr]


def _fresh_locals(body: NodeOrLeaf) -> set[str]:
    """Locals bound only to objects the function builds (displays, comprehensions, list())."""
    fresh: set[str] = set()
    other: set[str] = set()
    for node in inner_nodes(body):
        if node.type != "expr_stmt" or len(node.children) != 3:  # type: ignore[attr-defined]
            continue
        target, operator, value = node.children  # type: ignore[attr-defined]
        if target.type != "name" or operator.value != "=":
            continue
        (fresh if _builds_new(value) else other).add(target.value)
    return fresh - other


def _builds_new(value: NodeOrLeaf) -> bool:
    if value.type == "atom" and value.children[0].value in ("[", "{"):  # type: ignore
        return True
    if value.type in ("atom_expr", "power") and value.children[0].type == "name":  # type: ignore
        return value.children[0].value in _FRESH_CALLS and len(value.children) == 2  # type: ignore
    return False


def _stores_ok(statement: NodeOrLeaf, fresh: set[str]) -> bool:
    """Stores go to plain locals, or into objects the function built itself."""
    children = statement.children  # type: ignore[attr-defined]
    for index in range(0, len(children) - 1, 2):
        target = children[index]
        if target.type in ("atom_expr", "power") and root_name(target) not in fresh:
            return False
    return True


# -- from `ast`: what certainly makes a function impure, for the rules' gates -------

_IMPURE_NODES = (ast.Global, ast.Nonlocal, ast.YieldFrom, ast.Delete, ast.Import, ast.ImportFrom,
                 ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With, ast.AsyncWith,
                 ast.Await)


def may_be_pure(ctx: Context, function: ast.FunctionDef, defined: set[str]) -> bool:
    """False when `Purity` would certainly reject the def, judged from its `ast` alone.

    `defined` holds the names of every def of the file. Only what `_check`
    rejects outright counts: a forbidden statement, a call of a local or of a
    name that is neither a pure builtin nor a def, a mutating method of an
    object the body did not bind, a store into such an object, a free name
    that is no builtin, constant, pure module or def.
    """
    nodes = [node for statement in function.body for node in ast.walk(statement)]
    bound = _ast_bound(nodes)
    local = bound | _ast_parameters([function.args], nodes)
    for node in nodes:
        if isinstance(node, _IMPURE_NODES) or isinstance(node, ast.Yield) and (
            node.value is not None
        ):
            return False
        if isinstance(node, ast.Call) and _ast_impure_call(ctx, node, local, bound, defined):
            return False
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and any(
            _ast_foreign_store(target, bound) for target in _ast_targets(node)
        ):
            return False
        if isinstance(node, ast.Name) and _ast_foreign_name(ctx, node, local, defined):
            return False
    return True


def _ast_bound(nodes: list[ast.AST]) -> set[str]:
    """Every name the body binds (assignment, loop, with, except, match): the only names
    that can hold an object the function built itself."""
    bound: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    return bound


def _ast_parameters(arguments: list[ast.arguments], nodes: list[ast.AST]) -> set[str]:
    """The function's parameters and those of the lambdas in its body."""
    every = arguments + [node.args for node in nodes if isinstance(node, ast.Lambda)]
    names: set[str] = set()
    for each in every:
        listed = [*each.posonlyargs, *each.args, *each.kwonlyargs, each.vararg, each.kwarg]
        names.update(argument.arg for argument in listed if argument is not None)
    return names


def _ast_root(node: ast.expr) -> str | None:
    """The first name of a chain: `x` for `x.a[0].b()`."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _ast_qualified(ctx: Context, node: ast.expr) -> str:
    """`math.sqrt` for `m.sqrt` after `import math as m`; "" unless an imported dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    head = ctx.imports.resolve(node.id) if isinstance(node, ast.Name) else None
    return ".".join([head, *reversed(parts)]) if head else ""


def _ast_impure_call(ctx: Context, call: ast.Call, local: set[str], bound: set[str],
                     defined: set[str]) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        if func.id in local:
            return True  # a parameter or a local called: anything could run
        known = func.id in PURE_BUILTINS and ctx.imports.resolve(func.id) is None
        return not known and func.id not in defined
    if not isinstance(func, ast.Attribute) or func.attr in NON_MUTATING_METHODS:
        return False  # `f(x)(y)`, `a[0](x)`, or a method that leaves its receiver alone
    if _ast_qualified(ctx, func).startswith(PURE_MODULES):
        return False  # `math.sqrt(...)`
    root = _ast_root(func)
    return root is not None and root not in bound  # a method of an object it did not bind


def _ast_targets(statement: ast.Assign | ast.AugAssign | ast.AnnAssign) -> list[ast.expr]:
    return statement.targets if isinstance(statement, ast.Assign) else [statement.target]


def _ast_foreign_store(target: ast.expr, bound: set[str]) -> bool:
    """`param.x = ...` or `CONFIG[k] = ...`: a store into an object the body did not bind."""
    if not isinstance(target, (ast.Attribute, ast.Subscript)):
        return False  # a plain name or a tuple of targets
    root = _ast_root(target)
    return root is not None and root not in bound


def _ast_foreign_name(ctx: Context, name: ast.Name, local: set[str], defined: set[str]) -> bool:
    """A free name that is no builtin, UPPER_CASE constant, pure module or def of the file."""
    value = name.id
    if value in local or value.isupper() or hasattr(builtins, value):
        return False  # a local, a constant or (perhaps) a builtin
    qualified = ctx.imports.resolve(value)
    if qualified is not None:
        return not qualified.startswith(PURE_MODULES)
    return value not in defined
