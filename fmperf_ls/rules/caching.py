"""Caching rules (FMP4xx): expensive properties and pure calls repeated with the same input.

Both rules are hints, never warnings: caching trades freshness and memory for
speed, and only the author knows whether a value may change between reads.
They point at the repetition and say what it costs; the decision stays with
the reader.
"""

# mypy: disable-error-code="attr-defined, union-attr"

from __future__ import annotations

import ast
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from parso.python.tree import Name
from parso.tree import BaseNode, NodeOrLeaf

from fmperf_ls.analysis.infer import Kind
from fmperf_ls.analysis.invariance import hoisting_loop, names_read
from fmperf_ls.analysis.purity import COSTLY_BUILTINS, Purity, may_be_pure
from fmperf_ls.analysis.pyomo import call_arguments, function_named
from fmperf_ls.analysis.scopes import is_inside, loops_around
from fmperf_ls.analysis.source import Range, inner_nodes
from fmperf_ls.fixes import import_edit
from fmperf_ls.rules.base import (
    Edit,
    Finding,
    Fix,
    Rule,
    RuleDocs,
    Safety,
    Severity,
    clean,
    flagged,
    register,
)

if TYPE_CHECKING:
    from fmperf_ls.analysis.outline import Outline
    from fmperf_ls.engine import Context

logger = logging.getLogger(__name__)

_QUERY_ENDS = frozenset({"all", "first", "one", "one_or_none", "scalar", "scalars", "count",
                         "execute", "get", "scalar_one", "scalar_one_or_none", "paginate"})
_FRAME_METHODS = frozenset({"groupby", "merge", "join", "resample", "pivot", "pivot_table",
                            "apply", "sort_values", "rolling", "agg", "aggregate", "melt",
                            "reindex", "interpolate", "transform"})


# -- FMP401 ---------------------------------------------------------------------


@register
class ExpensiveProperty(Rule):
    code = "FMP401"
    name = "expensive-property-recomputed"
    summary = "A @property that queries or builds frames is read repeatedly; cache it"
    severity = Severity.HINT
    prefilter = ("@property",)
    docs = RuleDocs(
        what=(
            "Finds a `@property` whose body runs a database query (`Model.query...`, "
            "`session.execute(...)`, `.all()`, `.first()`) or builds pandas frames "
            "(`pd.*` calls, `groupby`, `merge`, `resample`, ...), when the class reads it "
            "through `self` twice or more, or inside a loop."
        ),
        why=(
            "A property looks like an attribute, so callers read it freely, but it runs its "
            "whole body on every read: k reads cost k queries, or k times O(rows) frame "
            "work, for a value that usually does not change during the object's life."
        ),
        example=(
            "class Asset(db.Model):\n"
            "    @property\n"
            "    def latest_state(self):\n"
            "        return Reading.query.filter_by(asset_id=self.id).order_by(...).first()"
        ),
        instead=(
            "from functools import cached_property\n\n"
            "class Asset(db.Model):\n"
            "    @cached_property\n"
            "    def latest_state(self):\n"
            "        return Reading.query.filter_by(asset_id=self.id).order_by(...).first()"
        ),
        false_alarms=(
            "A hint, not a warning: the value may be meant to be fresh on every read (new "
            "readings arrive while a long-lived object is used). Not reported for "
            "properties with a setter or deleter, classes with `__slots__` (no instance "
            "dictionary for cached_property), or properties read once. The fix is unsafe: "
            "the cached value goes stale when what it was computed from changes."
        ),
        references=(
            "https://docs.python.org/3/library/functools.html#functools.cached_property",
        ),
    )
    examples = (
        flagged(
            """
            from functools import lru_cache

            import pandas as pd


            class Portfolio:
                def __init__(self, path):
                    self.path = path

                @property
                def prices(self):
                    return pd.read_csv(self.path).groupby("day").mean()

                def report(self):
                    return self.prices.max(), self.prices.min()
            """,
            "10:5-10:13",
            fixed="""
            from functools import lru_cache, cached_property

            import pandas as pd


            class Portfolio:
                def __init__(self, path):
                    self.path = path

                @cached_property
                def prices(self):
                    return pd.read_csv(self.path).groupby("day").mean()

                def report(self):
                    return self.prices.max(), self.prices.min()
            """,
        ),
        flagged(
            """
            import functools


            class Site:
                @property
                def sensors(self):
                    return Sensor.query.filter_by(site_id=self.id).all()

                def total(self, hours):
                    return sum(len(self.sensors) for hour in hours)
            """,
            "5:5-5:13",
            fixed="""
            import functools


            class Site:
                @functools.cached_property
                def sensors(self):
                    return Sensor.query.filter_by(site_id=self.id).all()

                def total(self, hours):
                    return sum(len(self.sensors) for hour in hours)
            """,
            note="read inside a loop once is enough",
        ),
        clean(
            """
            import pandas as pd


            class Meter:
                __slots__ = ("path",)

                @property
                def frame(self):
                    return pd.read_csv(self.path)

                def summary(self):
                    return self.frame.sum(), self.frame.mean()


            class Account:
                @property
                def name(self):
                    return self._name.title()

                def greet(self):
                    return self.name + ", " + self.name
            """,
            note="__slots__ leaves no room for a cache; a cheap property",
        ),
        clean(
            """
            class Asset:
                @property
                def owner(self):
                    return Account.query.get(self.owner_id)

                @owner.setter
                def owner(self, account):
                    self.owner_id = account.id

                def describe(self):
                    return self.owner.name, self.owner.email


            class Sensor:
                @property
                def unit(self):
                    return Unit.query.get(self.unit_id)

                def label(self):
                    return self.unit.symbol
            """,
            note="a property with a setter; read once",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A class-level def decorated only with `@property` whose body may query or build
        frames, read through `self.<name>` elsewhere in the class twice or in a loop."""
        reads: dict[str, list[ast.Attribute]] | None = None
        for cls in outline.nodes(ast.ClassDef):
            for function in _ast_properties(cls):
                if not _ast_may_be_expensive(ctx, function):
                    continue  # no query and no frame work in the body
                reads = reads if reads is not None else _ast_self_reads(outline)
                if _ast_read_repeatedly(outline, cls, function, reads.get(function.name, [])):
                    return True
        return False

    def check(self, ctx: Context) -> Iterator[Finding]:
        for decorator in ctx.source.nodes("decorator"):
            found = _expensive_property(ctx, decorator)
            if found is not None:
                yield self._finding(ctx, decorator, *found)

    def _finding(self, ctx: Context, decorator, function, work: str, reads: int) -> Finding:
        name = function.name.value
        span = Range.of(decorator.children[1])
        message = (
            f"property {name} {work} on every read and the class reads it "
            + (f"{reads} times" if reads > 1 else "in a loop")
            + "; functools.cached_property computes it once per object"
        )
        return self.finding(span, message, fix=_cached_property_fix(ctx, span),
                            cost=f"{work} per read")


def _expensive_property(ctx: Context, decorator: NodeOrLeaf):
    expression = decorator.children[1]  # type: ignore[attr-defined]
    if expression.type != "name" or expression.value != "property":  # type: ignore
        return None  # not a plain @property
    decorated = decorator.parent
    if decorated is not None and decorated.type == "decorators":
        return None  # stacked decorators (abstractmethod, ...): leave them alone
    function = decorated.children[-1] if decorated is not None else None
    cls = _class_of(decorated)
    if function is None or function.type != "funcdef" or cls is None:
        return None  # a property outside a class body
    if _has_slots(cls) or _has_accessor(cls, function.name.value):
        return None  # no instance dict for the cache, or a setter that expects a property
    work = _expensive_work(ctx, function)
    if work is None:
        return None  # cheap: no query and no frame work
    reads = _reads_through_self(cls, function)
    if len(reads) < 2 and not any(loops_around(read) for read in reads):
        return None  # read once: nothing to save
    return function, work, len(reads)


def _class_of(decorated: NodeOrLeaf | None) -> BaseNode | None:
    parent = decorated.parent if decorated is not None else None
    if parent is not None and parent.type == "suite":
        parent = parent.parent
    return parent if parent is not None and parent.type == "classdef" else None  # type: ignore


def _has_slots(cls: BaseNode) -> bool:
    return any(node.type == "name" and node.value == "__slots__" and node.is_definition()
               for node in inner_nodes(cls))


def _has_accessor(cls: BaseNode, name: str) -> bool:
    """`@name.setter` or `@name.deleter` in the class."""
    for node in inner_nodes(cls):
        if node.type == "decorator":
            code = node.children[1].get_code(include_prefix=False)  # type: ignore[attr-defined]
            if code in (f"{name}.setter", f"{name}.deleter"):
                return True
    return False


def _expensive_work(ctx: Context, function: BaseNode) -> str | None:
    """"runs a query" or "builds DataFrames" from the body's calls, else None."""
    for node in inner_nodes(function):
        if node.type not in ("atom_expr", "power"):
            continue
        code = node.get_code(include_prefix=False)
        if _is_query(node, code):
            return "runs a database query"
        if _is_frame_work(ctx, node):
            return "builds DataFrames"
    return None


def _is_query(chain: NodeOrLeaf, code: str) -> bool:
    children = chain.children  # type: ignore[attr-defined]
    if ".query." not in code and "session." not in code and not code.startswith("session"):
        return False
    methods = [child.children[1].value for child in children[1:]
               if child.type == "trailer" and child.children[0].value == "."]
    return any(method in _QUERY_ENDS for method in methods)


def _is_frame_work(ctx: Context, chain: NodeOrLeaf) -> bool:
    from fmperf_ls.analysis.infer import chain_prefix

    children = chain.children  # type: ignore[attr-defined]
    for index in range(1, len(children)):
        trailer = children[index]
        if trailer.type != "trailer" or trailer.children[0].value != "(":
            continue
        callee = chain_prefix(chain, index)
        if (ctx.imports.qualified(callee) or "").startswith("pandas."):
            return True
        method = children[index - 1]
        if index >= 2 and method.children[0].value == "." and (
            method.children[1].value in _FRAME_METHODS
            and ctx.infer.kind(chain_prefix(chain, index - 1)) in (Kind.FRAME, Kind.SERIES)
        ):
            return True
    return False


def _reads_through_self(cls: BaseNode, function: BaseNode) -> list[NodeOrLeaf]:
    """`self.<name>` reads in the class's other methods."""
    name = function.name.value  # type: ignore[attr-defined]
    reads = []
    for node in inner_nodes(cls):
        if node.type not in ("atom_expr", "power") or is_inside(node, function):
            continue
        children = node.children  # type: ignore[attr-defined]
        if children[0].type == "name" and children[0].value == "self" and (
            children[1].type == "trailer" and children[1].children[0].value == "."
            and children[1].children[1].value == name
        ):
            reads.append(node)
    return reads


def _cached_property_fix(ctx: Context, span: Range) -> Fix | None:
    imports = ctx.imports
    if imports.resolve("cached_property") == "functools.cached_property":
        name, extra = "cached_property", None
    elif imports.resolve("functools") == "functools":
        name, extra = "functools.cached_property", None
    elif "cached_property" in ctx.source.tree.get_used_names():
        return None  # the name is taken by something else
    else:
        name, extra = "cached_property", import_edit(ctx.source, "functools", "cached_property")
    edits = [Edit(span, name)] + ([extra] if extra is not None else [])
    return Fix(f"Use @{name}", tuple(edits), Safety.UNSAFE)


# -- FMP402 ---------------------------------------------------------------------


@register
class PureCallInLoop(Rule):
    code = "FMP402"
    name = "pure-call-repeated-in-loop"
    summary = "A pure function is called with the same arguments on every iteration"
    severity = Severity.HINT
    prefilter = ("for ", "while ")
    docs = RuleDocs(
        what=(
            "Finds a call, inside a loop, of a function of this file that is provably pure "
            "(no global state, no I/O, no mutation of its arguments, calls only to pure "
            "code) and does real work (a loop, a comprehension, `sorted`, `sum`, ...), "
            "when none of its arguments changes in the loop."
        ),
        why=(
            "The call returns the same value every time, so a loop of n iterations pays n "
            "times the function's cost, O(n x f), for one result."
        ),
        example=(
            "def tariff_bands(tariffs):\n"
            "    return sorted({t.band for t in tariffs})\n\n"
            "for reading in readings:\n"
            "    bands = tariff_bands(tariffs)\n"
            "    reading.band = pick(bands, reading.value)"
        ),
        instead=(
            "bands = tariff_bands(tariffs)\n"
            "for reading in readings:\n"
            "    reading.band = pick(bands, reading.value)\n\n"
            "# or, when several loops call it with the same hashable arguments:\n"
            "@functools.lru_cache(maxsize=None)\n"
            "def tariff_bands(tariffs): ..."
        ),
        false_alarms=(
            "Only functions defined in this file without decorators are judged, and any "
            "doubt (a call to an unknown function, a store into a parameter, a free "
            "variable that is not a constant) counts as impure. A hint without an automatic "
            "edit: a hoisted result is shared between iterations, which matters when it is "
            "a list or dict the loop changes."
        ),
        references=("https://docs.python.org/3/library/functools.html#functools.lru_cache",),
    )
    examples = (
        flagged(
            """
            def tariff_bands(tariffs):
                return sorted({tariff.band for tariff in tariffs})


            def assign(readings, tariffs):
                for reading in readings:
                    bands = tariff_bands(tariffs)
                    reading.band = bands[min(reading.level, len(bands) - 1)]
            """,
            "7:16-7:37",
        ),
        flagged(
            """
            import math

            LIMIT = 10


            def norm(vector):
                return math.sqrt(sum(value * value for value in vector))


            def scaled(rows, weights):
                return [row / norm(weights) for row in rows if row < LIMIT]
            """,
            "11:18-11:31",
        ),
        clean(
            """
            import logging

            logger = logging.getLogger(__name__)
            seen = []


            def remember(value):
                seen.append(value)
                return len(seen)


            def log_total(values):
                logger.info("total %s", sum(values))
                return sum(values)


            def run(items, values):
                for item in items:
                    remember(values)
                    log_total(values)
            """,
            note="impure: mutates module state, writes a log",
        ),
        clean(
            """
            def total(values):
                return sum(values)


            def double(x):
                return x * 2


            def run(rows, values):
                for row in rows:
                    values.append(row)
                    print(total(values), double(3))
            """,
            note="the argument changes in the loop; a trivial function",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A call `f(plain arguments)` within a loop that does not rebind them as its target,
        of an undecorated def `f` of this file whose body may be pure and does looping work."""
        calls = [call for call in outline.in_loop_nodes(ast.Call)
                 if isinstance(call.func, ast.Name) and _ast_plain_call(call)]
        called = {call.func.id for call in calls}
        candidates = [function for function in _ast_functions(outline)
                      if function.name in called]
        if not candidates:
            return False  # no plain call in a loop of a function of this file
        defined = {function.name
                   for function in outline.nodes(ast.FunctionDef, ast.AsyncFunctionDef)}
        worth = {function.name for function in candidates
                 if may_be_pure(ctx, function, defined) and _ast_may_be_costly(function, defined)}
        return any(call.func.id in worth and not _ast_rebound_by_loop(outline, call)
                   for call in calls)

    def check(self, ctx: Context) -> Iterator[Finding]:
        purity = Purity(ctx)
        for chain in ctx.source.nodes("atom_expr", "power"):
            found = _repeated_pure_call(ctx, purity, chain)
            if found is not None:
                yield self._finding(ctx, chain, found)

    def _finding(self, ctx: Context, chain: NodeOrLeaf, function: BaseNode) -> Finding:
        span = Range.between(chain.children[0], chain.children[1])  # type: ignore
        name = function.name.value  # type: ignore[attr-defined]
        message = (
            f"{name}() is pure and gets the same arguments on every iteration; compute it "
            "once before the loop, or cache it with functools.lru_cache"
        )
        return self.finding(span, message, cost=f"one full {name}() per iteration")


def _repeated_pure_call(ctx: Context, purity: Purity, chain: NodeOrLeaf) -> BaseNode | None:
    from fmperf_ls.rules.algorithm import _plain

    children = chain.children  # type: ignore[attr-defined]
    if children[0].type != "name" or children[1].type != "trailer" or (
        children[1].children[0].value != "("
    ):
        return None
    loops = loops_around(chain)
    if not loops:
        return None  # called once
    function = function_named(children[0])
    if function is None or not purity.is_pure(function) or not purity.is_costly(function):
        return None  # unknown, impure or cheap
    positional, keywords = call_arguments(children[1])
    if not all(_plain(value) for value in [*positional, *keywords.values()]):
        return None  # computed arguments: they may differ per iteration
    reads = names_read(children[1])

    def pure_callee(callee: NodeOrLeaf) -> bool:
        target = function_named(callee) if isinstance(callee, Name) else None
        return target is not None and purity.is_pure(target)

    return function if hoisting_loop(chain, loops, reads, pure_callee) is not None else None


# -- gates: the same shapes read from an `ast` outline, generously -------------------

_LOOPING_NODES = (ast.For, ast.AsyncFor, ast.While, ast.comprehension)


def _ast_properties(cls: ast.ClassDef) -> Iterator[ast.FunctionDef]:
    """Defs of the class body whose one decorator is the bare name `property`."""
    for statement in cls.body:
        if isinstance(statement, ast.FunctionDef) and len(statement.decorator_list) == 1:
            decorator = statement.decorator_list[0]
            if isinstance(decorator, ast.Name) and decorator.id == "property":
                yield statement


def _ast_may_be_expensive(ctx: Context, function: ast.FunctionDef) -> bool:
    """A query method next to `session`/`.query.` text, or pandas or frame-method calls."""
    query = False
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and node.attr in _QUERY_ENDS:
            query = True
        if isinstance(node, ast.Call) and _ast_frame_call(ctx, node.func):
            return True
    if not query:
        return False  # neither a query method nor frame work
    whole = ctx.source.text
    if "session" not in whole and ".query." not in whole:
        return False  # no query chain anywhere in the file
    text = ast.get_source_segment(whole, function) or ""
    return "session" in text or ".query." in text


def _ast_frame_call(ctx: Context, func: ast.expr) -> bool:
    """A frame method (`.groupby(...)`) or a callee imported from pandas."""
    if isinstance(func, ast.Attribute) and func.attr in _FRAME_METHODS:
        return True
    while isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and ctx.imports.refers_to(func.id, "pandas")


def _ast_self_reads(outline: Outline) -> dict[str, list[ast.Attribute]]:
    """`self.<name>` nodes by name."""
    reads: dict[str, list[ast.Attribute]] = {}
    for node in outline.nodes(ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            reads.setdefault(node.attr, []).append(node)
    return reads


def _ast_read_repeatedly(outline: Outline, cls: ast.ClassDef, function: ast.FunctionDef,
                         reads: list[ast.Attribute]) -> bool:
    """Read in the class outside the property twice, or once within a loop."""
    inside = [read for read in reads
              if _within(read, cls) and not _within(read, function)]
    return len(inside) >= 2 or any(outline.in_loop(read) for read in inside)


def _within(node: ast.AST, holder: ast.AST) -> bool:
    start, end = holder.lineno, holder.end_lineno or holder.lineno  # type: ignore[attr-defined]
    return start <= node.lineno and (node.end_lineno or node.lineno) <= end  # type: ignore


def _ast_plain_call(call: ast.Call) -> bool:
    from fmperf_ls.rules.algorithm import _ast_plain_call as plain

    return plain(call)


def _ast_rebound_by_loop(outline: Outline, call: ast.Call) -> bool:
    from fmperf_ls.rules.algorithm import _ast_rebound_by_loop as rebound

    return rebound(outline, call)


def _ast_functions(outline: Outline) -> list[ast.FunctionDef]:
    """Undecorated defs that are not written directly in a class body."""
    methods = {id(statement) for cls in outline.nodes(ast.ClassDef) for statement in cls.body}
    return [function for function in outline.nodes(ast.FunctionDef)
            if not function.decorator_list and id(function) not in methods]


def _ast_may_be_costly(function: ast.FunctionDef, defined: set[str]) -> bool:
    """A loop or comprehension, or a call of a costly builtin or of another def."""
    for node in ast.walk(function):
        if isinstance(node, _LOOPING_NODES):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
            node.func.id in COSTLY_BUILTINS or node.func.id in defined
        ):
            return True
    return False
