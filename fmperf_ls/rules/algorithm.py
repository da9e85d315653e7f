"""Algorithm rules (FMP3xx): prefix work per index, quadratic joins, loop-invariant work.

These rules reason about loops without knowing the data, so each one asks for
a shape that is slow whatever the data is (a prefix rebuilt for every index,
a nested scan matched on equality) and for proof that its fix keeps the
result: nothing the hoisted work reads may change inside the loop.
"""

# mypy: disable-error-code="attr-defined, union-attr"

from __future__ import annotations

import ast
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from parso.tree import NodeOrLeaf

from fmperf_ls.analysis.invariance import (
    effects_of,
    fresh_name,
    insert_before,
    loop_region,
    statement_of,
)
from fmperf_ls.analysis.outline import dotted_root
from fmperf_ls.analysis.prefix import Prefix, may_hold_prefix, prefixes
from fmperf_ls.analysis.pyomo import PyomoRule, component_kinds, uses_pyomo
from fmperf_ls.analysis.scopes import is_inside, scope_of
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


def accumulate_name(ctx: Context) -> tuple[str, Edit | None] | None:
    """How to call itertools.accumulate here, and the import edit it needs, if any."""
    imports = ctx.imports
    if imports.resolve("accumulate") == "itertools.accumulate":
        return "accumulate", None
    if imports.resolve("itertools") == "itertools":
        return "itertools.accumulate", None
    if "accumulate" in ctx.source.tree.get_used_names():
        return None  # the name means something else in this file
    return "accumulate", import_edit(ctx.source, "itertools", "accumulate")


def pure_callee(ctx: Context):
    """A test for callees that mutate nothing: the known pure library functions."""

    def is_pure(callee: NodeOrLeaf) -> bool:
        return (ctx.imports.qualified(callee) or "") in _HOISTABLE_LIBRARY

    return is_pure


# -- FMP301 ---------------------------------------------------------------------


@register
class PrefixPerIndex(Rule):
    code = "FMP301"
    name = "prefix-recomputed-per-index"
    summary = "A sum or list over 0..j is rebuilt for every j; keep running totals instead"
    severity = Severity.WARNING
    prefilter = ("range(", ":")
    docs = RuleDocs(
        what=(
            "Finds a prefix, `range(0, j + 1)`, `range(j + 1)`, `range(j)`, `x[:j + 1]` "
            "or `x[:j]`, that is summed, listed or accumulated again for every `j`: inside "
            "a Pyomo rule (a function passed as `rule=` to `Constraint`, `Expression` or "
            "`Objective`, a `@model.Constraint(...)` function, or a helper a rule calls "
            "with its index) where `j` is the rule's index parameter, or inside any loop "
            "whose target is `j`."
        ),
        why=(
            "Pyomo calls a rule once per index, so the prefix of `j` is rebuilt J times: "
            "J(J+1)/2 terms per other index instead of J, O(J^2) model-building time and, "
            "when the terms are variables, O(J^2) nonzeros for the solver. A day at "
            "15-minute resolution (J = 96) gives 4,656 terms per device instead of 96; a "
            "week gives 226,128 instead of 672."
        ),
        example=(
            "def stock(m, d, j):\n"
            "    return m.initial[d] + sum(m.charge[d, k] for k in range(0, j + 1))\n\n"
            "model.stock_bounds = Constraint(model.d, model.j, rule=lambda m, d, j: (\n"
            "    m.min_stock[d, j], stock(m, d, j), m.max_stock[d, j]))"
        ),
        instead=(
            "# variables: a running-total variable, one short constraint per j\n"
            "model.stock = Var(model.d, model.j)\n\n"
            "@model.Constraint(model.d, model.j)\n"
            "def stock_balance(m, d, j):\n"
            "    previous = m.stock[d, j - 1] if j > 0 else m.initial[d]\n"
            "    return m.stock[d, j] == previous + m.charge[d, j]\n\n"
            "# plain data or parameters: running sums computed once, before the model\n"
            "prices_running = list(accumulate(prices))  # then prices_running[j]"
        ),
        false_alarms=(
            "Terms that read `j` themselves (`distance[j][k]`) are a pairwise computation, "
            "not a prefix, and are not reported; nor are loops that build nothing (a sort), "
            "loops over ten items or fewer, or a `j` that is a plain function argument. "
            "The fix is offered only for `sum` over plain data (`x[:j + 1]`, `x[k]`) or a "
            "one-index Pyomo `Param`, and is unsafe: it assumes the data is indexed 0..J-1 "
            "and not changed after the model is built, and float sums may differ in the "
            "last digit (Python 3.12 `sum` compensates rounding)."
        ),
        references=(
            "https://pyomo.readthedocs.io/en/stable/explanation/modeling/math_programming/"
            "constraints.html",
            "https://docs.python.org/3/library/itertools.html#itertools.accumulate",
        ),
    )
    examples = (
        flagged(
            """
            from pyomo.environ import ConcreteModel, Constraint, RangeSet, Var

            prices = [3.0, 1.0, 4.0, 1.0, 5.0]
            model = ConcreteModel()
            model.J = RangeSet(0, 4)
            model.power = Var(model.J, bounds=(0, 1))


            def budget(m, j):
                return m.power[j] * sum(prices[:j + 1]) <= 10


            model.budget = Constraint(model.J, rule=budget)
            """,
            "10:24-10:43",
            fixed="""
            from pyomo.environ import ConcreteModel, Constraint, RangeSet, Var
            from itertools import accumulate

            prices = [3.0, 1.0, 4.0, 1.0, 5.0]
            model = ConcreteModel()
            model.J = RangeSet(0, 4)
            model.power = Var(model.J, bounds=(0, 1))


            def budget(m, j):
                return m.power[j] * prices_running[j] <= 10


            prices_running = list(accumulate(prices))
            model.budget = Constraint(model.J, rule=budget)
            """,
            note="plain data summed per index: running sums computed before the model",
        ),
        flagged(
            """
            import itertools

            from pyomo.environ import ConcreteModel, Constraint, Param, RangeSet, Var

            model = ConcreteModel()
            model.J = RangeSet(0, 3)
            model.use = Param(model.J, initialize={0: 1, 1: 2, 2: 0, 3: 4})
            model.supply = Var(model.J)
            model.cover = Constraint(
                model.J, rule=lambda m, j: m.supply[j] >= sum(m.use[k] for k in range(j + 1))
            )
            """,
            "10:46-10:81",
            fixed="""
            import itertools

            from pyomo.environ import ConcreteModel, Constraint, Param, RangeSet, Var

            model = ConcreteModel()
            model.J = RangeSet(0, 3)
            model.use = Param(model.J, initialize={0: 1, 1: 2, 2: 0, 3: 4})
            model.supply = Var(model.J)
            use_running = list(itertools.accumulate(model.use[k] for k in range(len(model.use))))
            model.cover = Constraint(
                model.J, rule=lambda m, j: m.supply[j] >= use_running[j]
            )
            """,
            note="a one-index Param in a lambda rule",
        ),
        flagged(
            """
            import pyomo.environ as pyo

            model = pyo.ConcreteModel()
            model.J = pyo.RangeSet(0, 95)
            model.charge = pyo.Var(model.J, bounds=(-1, 1))


            @model.Constraint(model.J)
            def state_of_charge(m, j):
                return (0, sum(m.charge[k] for k in range(0, j + 1)), 10)
            """,
            "10:15-10:56",
            note="variables: advice with a running-total constraint, no automatic edit",
        ),
        flagged(
            """
            from pyomo.core import ConcreteModel, Constraint, RangeSet, Var

            model = ConcreteModel()
            model.d = RangeSet(0, 1)
            model.j = RangeSet(0, 95)
            model.power = Var(model.d, model.j)
            model.efficiency = Var(model.d, model.j)


            def stock_change(m, d, j):
                changes = []
                for k in range(0, j + 1):
                    changes.append(m.power[d, k])
                losses = [m.efficiency[d, k] for k in range(0, j + 1)]
                return sum(changes) - sum(losses)


            def stock_bounds(m, d, j):
                return (0, stock_change(m, d, j), 5)


            model.stock = Constraint(model.d, model.j, rule=stock_bounds)
            """,
            "12:4-12:28",
            "14:13-14:58",
            note="a helper called with the rule's index runs per index too",
        ),
        flagged(
            """
            import logging

            logger = logging.getLogger(__name__)


            def cumulative_totals(values):
                totals = []
                for j in range(len(values)):
                    totals.append(sum(values[:j + 1]))
                return totals
            """,
            "9:22-9:41",
            fixed="""
            import logging
            from itertools import accumulate

            logger = logging.getLogger(__name__)


            def cumulative_totals(values):
                totals = []
                values_running = list(accumulate(values))
                for j in range(len(values)):
                    totals.append(values_running[j])
                return totals
            """,
            note="any loop over j, not only Pyomo rules",
        ),
        clean(
            """
            from pyomo.environ import ConcreteModel, Constraint, RangeSet, Var

            model = ConcreteModel()
            model.J = RangeSet(0, 95)
            model.charge = Var(model.J)
            model.stock = Var(model.J)


            def balance(m, j):
                previous = m.stock[j - 1] if j > 0 else 0
                return m.stock[j] == previous + m.charge[j]


            model.balance = Constraint(model.J, rule=balance)
            """,
            note="already a running total: one term per constraint",
        ),
        clean(
            """
            def pairwise_energy(positions, distance):
                energy = 0.0
                for i in range(len(positions)):
                    for j in range(i):
                        energy += distance[i][j]
                return energy


            def insertion_sort(items):
                for j in range(1, len(items)):
                    for k in range(j):
                        if items[k] > items[j - 1]:
                            items[k], items[j - 1] = items[j - 1], items[k]
                return items
            """,
            note="pairwise terms read the outer index; a loop that accumulates nothing",
        ),
        clean(
            """
            def head_total(values, j):
                return sum(values[:j + 1])


            def first_quarters(values):
                return [sum(values[:j + 1]) for j in range(4)]
            """,
            note="j is a plain argument, not an index; a loop of four items is cheap",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A prefix bound iterated or reduced whose `j` is an index loop's target around it,
        or a function parameter in a Pyomo file (a rule's index)."""
        return may_hold_prefix(outline, uses_pyomo(ctx))

    def check(self, ctx: Context) -> Iterator[Finding]:
        for prefix in prefixes(ctx):
            yield self._finding(ctx, prefix)

    def _finding(self, ctx: Context, prefix: Prefix) -> Finding:
        span = Range.of(prefix.node)  # type: ignore[arg-type]
        index = prefix.index.value
        variables = _reads_variables(ctx, prefix)
        cost = _cost(prefix)
        where = "Pyomo rule" if prefix.rule is not None else "loop"
        message = (
            f"the prefix 0..{index} is rebuilt for every {index} of this {where}: {cost}; "
        )
        if variables:
            message += (
                "the terms are variables: add a running-total variable with one constraint "
                f"per {index}, total[{index}] == total[{index} - 1] + term[{index}], "
                f"and read total[{index}]"
            )
        else:
            what = "the running sums" if prefix.consumer in ("sum", "quicksum", "fsum") else (
                "the prefix values (one list extended as j grows)")
            message += f"compute {what} once, before the " + (
                "model is built" if prefix.rule is not None else "loop"
            )
        fix = None if variables else _running_sum_fix(ctx, prefix, span)
        return self.finding(span, message, fix=fix, cost=cost)


def _cost(prefix: Prefix) -> str:
    rule = prefix.rule
    index = prefix.index.value
    per = ""
    size = "J"
    if rule is not None:
        others = [name for name in rule.indexes if name != index]
        per = f" per {', '.join(others)}" if others else ""
        index_set = rule.index_set(index)
        size = f"J = len({index_set})" if index_set else "J"
    elif prefix.loop is not None and prefix.loop.iterable is not None:
        size = f"J = {_loop_size(prefix.loop.iterable)}"
    return f"J(J+1)/2 terms{per} instead of J ({size}; 4,656 at J = 96)"


def _loop_size(iterable: NodeOrLeaf) -> str:
    """`n` for `range(n)`, `len(items)` for `items`."""
    code = iterable.get_code(include_prefix=False)
    if code.startswith("range(") and code.endswith(")") and "," not in code:
        return code[len("range("):-1]
    return f"len({code})"


def _reads_variables(ctx: Context, prefix: Prefix) -> bool:
    """Whether the terms read a Pyomo `Var` (or `Expression`) of the rule's model."""
    if prefix.rule is None or prefix.element is None or not hasattr(prefix.element, "parent"):
        return False
    kinds = component_kinds(ctx)
    model = prefix.rule.model
    nodes = [prefix.element, *inner_nodes(prefix.element)] if hasattr(
        prefix.element, "children") else [prefix.element]
    for node in nodes:
        if node.type in ("atom_expr", "power") and node.children[0].type == "name" and (
            node.children[0].value == model and len(node.children) > 1
        ):
            trailer = node.children[1]  # type: ignore[attr-defined]
            if trailer.children[0].value == "." and kinds.get(
                trailer.children[1].value, ("",))[0] in ("Var", "Expression"):
                return True
    return False


def _running_sum_fix(ctx: Context, prefix: Prefix, span: Range) -> Fix | None:
    """`name_running = list(accumulate(...))` before the model or loop; `name_running[j]`."""
    if prefix.consumer != "sum" or not prefix.inclusive or not prefix.plain:
        return None  # only a plain `sum(0..j)` equals the j-th running sum
    if ctx.imports.resolve("sum") is not None:
        return None  # `sum` is not the builtin here
    terms = _running_terms(ctx, prefix)
    accumulate = accumulate_name(ctx)
    anchor = _anchor(prefix)
    if terms is None or accumulate is None or anchor is None:
        return None  # not plain data, `accumulate` taken, or nowhere to put the sums
    base, iterable = terms
    call, import_change = accumulate
    name = fresh_name(ctx.source, f"{base}_running")
    insertion = insert_before(ctx.source, anchor, f"{name} = list({call}({iterable}))")
    if insertion is None:
        return None  # the anchor shares its line with a block header
    edits = [Edit(Range(insertion.at, insertion.at), insertion.text),
             Edit(span, f"{name}[{prefix.index.value}]")]
    if import_change is not None:
        edits.insert(0, import_change)
    return Fix(f"Compute {name} once and read {name}[{prefix.index.value}]", tuple(edits),
               Safety.UNSAFE)


def _anchor(prefix: Prefix) -> NodeOrLeaf | None:
    """The statement before which the running sums are computed."""
    if prefix.rule is not None:
        return prefix.rule.construct
    if prefix.loop is not None:
        return statement_of(loop_region(prefix.loop))
    return None


def _running_terms(ctx: Context, prefix: Prefix) -> tuple[str, str] | None:
    """(name to derive from, what to accumulate) for plain data or a one-index Param."""
    element = prefix.element
    source = ctx.source
    if prefix.shape == "slice":
        if element is None or element.type != "name":
            return None  # `self.values[:j + 1]`: where it is defined is not known here
        data = element.value  # type: ignore[attr-defined]
        return (data, data) if _data_is_stable(ctx, prefix, data) else None
    if element is None or element.type not in ("atom_expr", "power"):
        return None  # a term that is not a subscript: no running sum to build
    parts = element.children  # type: ignore[attr-defined]
    key = parts[-1]
    if key.type != "trailer" or key.children[0].value != "[" or key.children[1].type != "name":
        return None  # not `x[k]`
    if key.children[1].value != prefix.target:
        return None  # the term is not x[k] for the comprehension's own k
    k = prefix.target
    if len(parts) == 2 and parts[0].type == "name":
        data = parts[0].value
        if prefix.rule is not None and data == prefix.rule.model:
            return None  # `m[k]` indexes the model itself
        if not _data_is_stable(ctx, prefix, data):
            return None  # the data changes where the prefix is rebuilt
        return data, f"{data}[{k}] for {k} in range(len({data}))"
    return _param_terms(ctx, prefix.rule, parts, k, source)


def _param_terms(ctx, rule: PyomoRule | None, parts, k, source) -> tuple[str, str] | None:
    """`m.demand[k]` with `demand` a Param declared before the component is built."""
    if rule is None or rule.abstract or rule.model_object is None or len(parts) != 3:
        return None  # an AbstractModel has no data until create_instance
    if parts[0].type != "name" or parts[0].value != rule.model:
        return None  # not a component of the rule's model
    attribute = parts[1]
    if attribute.children[0].value != ".":
        return None  # `m[...]` rather than `m.param`
    name = attribute.children[1].value
    kind = component_kinds(ctx).get(name)
    if kind is None or kind[0] != "Param" or kind[1].start_pos >= rule.construct.start_pos:
        return None  # not a Param declared before the component is built
    owner = f"{rule.model_object}.{name}"
    return name, f"{owner}[{k}] for {k} in range(len({owner}))"


def _data_is_stable(ctx: Context, prefix: Prefix, data: str) -> bool:
    """`data` is bound before the anchor and never changed where the prefix is rebuilt."""
    anchor = _anchor(prefix)
    if anchor is None:
        return False
    definitions = ctx.source.tree.get_used_names().get(data, [])
    bindings = [name for name in definitions if name.is_definition()]
    if prefix.rule is not None:
        function = prefix.rule.function
        if any(is_inside(name, function) for name in bindings):
            return False  # a local of the rule: it does not exist before the model
        scope = scope_of(anchor)
        earlier = [name for name in bindings if name.start_pos < anchor.start_pos
                   and _visible(scope_of(name), scope)]
        return bool(earlier)
    loop = prefix.loop
    assert loop is not None
    if effects_of(loop_region(loop)).changes(data):
        return False  # rebound or mutated inside the loop
    scope = scope_of(anchor)
    return any(name.start_pos < anchor.start_pos and _visible(scope_of(name), scope)
               for name in bindings)


def _visible(definition_scope: NodeOrLeaf, use_scope: NodeOrLeaf) -> bool:
    """A binding in the use's scope or an enclosing one (the module included)."""
    scope: NodeOrLeaf | None = use_scope
    while scope is not None:
        if scope is definition_scope:
            return True
        scope = scope_of(scope) if scope.parent is not None else None
    return False


# -- FMP302 ---------------------------------------------------------------------


@register
class QuadraticJoin(Rule):
    code = "FMP302"
    name = "quadratic-join"
    summary = "Nested loops match two collections on equality; index one side in a dict"
    severity = Severity.WARNING
    prefilter = ("for ",)
    docs = RuleDocs(
        what=(
            "Finds a loop over one collection nested in a loop over another whose only "
            "work is an `if` that compares a key of the outer element with a key of the "
            "inner one (`if a.site_id == b.id:`), in statements and comprehensions."
        ),
        why=(
            "Every outer element scans the whole inner collection: O(len(A) x len(B)) "
            "comparisons, a million for two lists of a thousand, where a dictionary "
            "lookup makes it O(len(A) + len(B))."
        ),
        example=(
            "for reading in readings:\n"
            "    for sensor in sensors:\n"
            "        if reading.sensor_id == sensor.id:\n"
            "            reading.unit = sensor.unit"
        ),
        instead=(
            "sensors_by_id = defaultdict(list)\n"
            "for sensor in sensors:\n"
            "    sensors_by_id[sensor.id].append(sensor)\n"
            "for reading in readings:\n"
            "    for sensor in sensors_by_id.get(reading.sensor_id, ()):\n"
            "        reading.unit = sensor.unit"
        ),
        false_alarms=(
            "Not reported: an inner loop that does other work for every pair, an inner "
            "collection that depends on the outer element or changes inside the outer "
            "loop, a match that only skips (`if a == b: continue`), a `for ... else`, "
            "and literal collections. Keys must be hashable for the dict; advice only, "
            "because the rewrite depends on whether keys are unique."
        ),
        references=("https://docs.python.org/3/tutorial/datastructures.html#dictionaries",),
    )
    examples = (
        flagged(
            """
            def attach_units(readings, sensors):
                for reading in readings:
                    for sensor in sensors:
                        if reading.sensor_id == sensor.id:
                            reading.unit = sensor.unit
            """,
            "3:8-3:29",
        ),
        flagged(
            """
            def matched(orders, payments):
                return [
                    (order, payment)
                    for order in orders
                    for payment in payments
                    if payment.order_ref == order.ref and payment.amount > 0
                ]
            """,
            "5:8-5:31",
        ),
        flagged(
            """
            def first_owner(assets, accounts):
                owners = {}
                for asset in assets:
                    for account in accounts:
                        if asset.account_id == account.id:
                            owners[asset.id] = account
                            break
                return owners
            """,
            "4:8-4:31",
        ),
        clean(
            """
            def distances(points):
                result = []
                for a in points:
                    for b in points:
                        if a == b:
                            continue
                        result.append(a.distance(b))
                return result


            def children(nodes):
                for parent in nodes:
                    for child in parent.children:
                        if child.parent_id == parent.id:
                            yield child
            """,
            note="per-pair work, a diagonal skip, an inner collection of the outer element",
        ),
        clean(
            """
            def tally(events, kinds):
                for event in events:
                    for kind in ("start", "stop"):
                        if event.kind == kind:
                            kinds[kind] += 1


            def window(left, right):
                for a in left:
                    for b in right:
                        if a.start <= b.end:
                            yield a, b
            """,
            note="a literal inner collection; an inequality is no dict lookup",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A `for` right inside a `for`, or a second `for` clause, filtered by an `if` with an
        `==` between the two targets, over a collection held by a name."""
        loops: list[ast.For | ast.AsyncFor] = [*outline.nodes(ast.For),
                                               *outline.nodes(ast.AsyncFor)]
        if any(_ast_statement_join(loop) for loop in loops):
            return True
        displays = outline.nodes(ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
        return any(_ast_comprehension_join(display) for display in displays)

    def check(self, ctx: Context) -> Iterator[Finding]:
        for statement in ctx.source.nodes("for_stmt"):
            found = _statement_join(statement)
            if found is not None:
                yield self._finding(ctx, *found)
        for clause in ctx.source.nodes("sync_comp_for"):
            found = _comprehension_join(clause)
            if found is not None:
                yield self._finding(ctx, *found)

    def _finding(self, ctx, outer, inner, outer_key, inner_key) -> Finding:
        code = ctx.source.code_of
        a, outer_items = code(outer.children[1]), code(outer.children[3])
        b, inner_items = code(inner.children[1]), code(inner.children[3])
        index = f"{inner_items.rsplit('.', 1)[-1]}_by_key"
        message = (
            f"nested loops match {code(outer_key)} == {code(inner_key)}: "
            f"O(len({outer_items}) x len({inner_items})) comparisons; index {inner_items} "
            f"once and look each key up:\n"
            f"{index} = defaultdict(list)\n"
            f"for {b} in {inner_items}:\n"
            f"    {index}[{code(inner_key)}].append({b})\n"
            f"for {a} in {outer_items}:\n"
            f"    for {b} in {index}.get({code(outer_key)}, ()):\n"
            f"        ..."
        )
        span = Range(Range.of(inner.children[0]).start, Range.of(inner.children[3]).end)
        cost = f"len({outer_items}) x len({inner_items}) comparisons"
        return self.finding(span, message, cost=cost)


def _statement_join(outer: NodeOrLeaf):
    """(outer, inner, outer key, inner key) when a nested `for` only matches on equality."""
    if _is_literal(outer.children[3]):  # type: ignore[attr-defined]
        return None  # a literal outer collection is small
    for inner in _nested_fors(outer.children[5]):  # type: ignore[attr-defined]
        if len(inner.children) > 6:  # type: ignore[attr-defined]
            continue  # `for ... else`: a search with its own fallback
        test = _only_if(inner.children[5])  # type: ignore[attr-defined]
        found = _join_of(outer, inner, test) if test is not None else None
        if found is not None and not _changed_in(outer, inner.children[3]):
            return found
    return None


def _nested_fors(body: NodeOrLeaf) -> Iterator[NodeOrLeaf]:
    """`for` statements directly inside a body (not in nested functions or loops)."""
    for statement in getattr(body, "children", ()):
        if statement.type == "for_stmt":
            yield statement


def _only_if(body: NodeOrLeaf) -> NodeOrLeaf | None:
    """The test of a body made of exactly one `if` without elif/else, whose body does work."""
    statements = [child for child in getattr(body, "children", ())
                  if child.type not in ("newline", "operator")]
    if len(statements) != 1 or statements[0].type != "if_stmt":
        return None  # other per-pair work: an index would not replace the loop
    branch = statements[0]
    if len(branch.children) != 4:
        return None  # elif or else: not a plain filter
    if _only_skips(branch.children[3]):
        return None  # `if a == b: continue` skips the diagonal of a pairwise loop
    return branch.children[1]


def _only_skips(body: NodeOrLeaf) -> bool:
    code = body.get_code(include_prefix=False).strip()
    return code in ("continue", "pass")


def _comprehension_join(outer: NodeOrLeaf):
    """`for a in A for b in B if a.k == b.k` in a comprehension."""
    if len(outer.children) < 5 or outer.children[4].type != "sync_comp_for":
        return None  # one `for` clause: nothing nested
    inner = outer.children[4]  # type: ignore[attr-defined]
    if _is_literal(outer.children[3]):  # type: ignore[attr-defined]
        return None  # a literal outer collection is small
    if len(inner.children) < 5 or inner.children[4].type != "comp_if":
        return None  # no condition right after the inner `for`
    return _join_of(outer, inner, inner.children[4].children[1])


def _join_of(outer, inner, test):
    outer_names = {name.value for name in _targets(outer)}
    inner_names = {name.value for name in _targets(inner)}
    collection = inner.children[3]
    if _is_literal(collection) or names_of(collection) & outer_names:
        return None  # a literal, or a collection that belongs to the outer element
    if not _plain(collection) or collection.type != "name" and collection.type not in (
        "atom_expr", "power"
    ):
        return None  # a call or an expression: not a collection held by a name
    for comparison in _equalities(test):
        left, right = comparison.children[0], comparison.children[2]
        left_names, right_names = names_of(left), names_of(right)
        if left_names & outer_names and not left_names & inner_names and (
            right_names & inner_names and not right_names & outer_names
        ):
            return outer, inner, left, right
        if right_names & outer_names and not right_names & inner_names and (
            left_names & inner_names and not left_names & outer_names
        ):
            return outer, inner, right, left
    return None


def names_of(node: NodeOrLeaf) -> set[str]:
    from fmperf_ls.analysis.invariance import names_read

    return names_read(node)


def _targets(loop: NodeOrLeaf) -> list:
    target = loop.children[1]  # type: ignore[attr-defined]
    if target.type == "name":
        return [target]
    return [node for node in inner_nodes(target) if node.type == "name"]


def _equalities(test: NodeOrLeaf) -> Iterator[NodeOrLeaf]:
    """`==` comparisons of the test, also inside `and` (never inside `or` or `not`)."""
    if test.type == "comparison" and len(test.children) == 3 and (  # type: ignore[attr-defined]
        test.children[1].type == "operator" and test.children[1].value == "=="
    ):
        yield test
    elif test.type == "and_test":
        for part in test.children[::2]:  # type: ignore[attr-defined]
            yield from _equalities(part)


def _is_literal(node: NodeOrLeaf) -> bool:
    if node.type == "atom" and node.children[0].value in ("[", "(", "{"):
        inner = node.children[1] if len(node.children) == 3 else None  # type: ignore[attr-defined]
        if inner is not None and inner.type == "testlist_comp" and any(
            child.type in ("sync_comp_for", "comp_for") for child in inner.children
        ):
            return False  # a comprehension, not a display
        return True
    return node.type in ("string", "strings")


def _changed_in(outer: NodeOrLeaf, collection: NodeOrLeaf) -> bool:
    """Whether the outer loop may change the inner collection (an index would go stale)."""
    from fmperf_ls.analysis.invariance import root_name

    root = root_name(collection)
    if root is None:
        return True
    return effects_of(outer).changes(root)


# -- FMP303 ---------------------------------------------------------------------

_HOISTABLE_BUILTINS = {
    "sorted": "mutable", "set": "mutable", "list": "mutable", "frozenset": "value",
    "tuple": "value", "sum": "value", "min": "value", "max": "value",
}  # fmt: skip
_HOISTABLE_LIBRARY = {
    "numpy.sum": "value", "numpy.mean": "value", "numpy.max": "value", "numpy.min": "value",
    "numpy.median": "value", "numpy.std": "value", "numpy.sort": "mutable",
    "numpy.unique": "mutable", "statistics.mean": "value", "statistics.median": "value",
    "statistics.stdev": "value", "statistics.pstdev": "value", "math.fsum": "value",
}  # fmt: skip


@register
class LoopInvariantWork(Rule):
    code = "FMP303"
    name = "loop-invariant-work"
    summary = "A pure O(n) call whose inputs do not change runs on every iteration; hoist it"
    severity = Severity.WARNING
    prefilter = ("for ", "while ")
    docs = RuleDocs(
        what=(
            "Finds a call of a pure builtin or library function that walks a whole "
            "collection (`set(xs)`, `sorted(xs)`, `max(xs)`, `sum(xs)`, `np.mean(xs)`, "
            "`statistics.median(xs)`) inside a loop, when nothing it reads is assigned, "
            "stored into, mutated by a method or handed to another call in the loop, and "
            "it runs on every iteration."
        ),
        why=(
            "The call costs O(len(xs)) and gives the same result each time, so a loop of "
            "n iterations pays O(n x len(xs)) for what O(len(xs)) computes once. "
            "`if x in set(allowed)` inside a loop is the classic case: the set is rebuilt "
            "for every test."
        ),
        example=(
            "for reading in readings:\n"
            "    if reading.sensor_id in set(active_ids):\n"
            "        keep.append(reading)"
        ),
        instead=(
            "active_ids_set = set(active_ids)\n"
            "for reading in readings:\n"
            "    if reading.sensor_id in active_ids_set:\n"
            "        keep.append(reading)"
        ),
        false_alarms=(
            "Only pure builtins and a short list of pure library functions are "
            "considered, only over plain names, and only when the call runs on every "
            "iteration (not under an `if`, a ternary or `and`/`or`). A mutable result "
            "(`set`, `list`, `sorted`) is hoisted only where it is consumed at once (`in`, "
            "iteration). The fix is unsafe: another reference to the same object could be "
            "mutated in the loop, and a loop that never runs no longer skips the call "
            "(which may raise, as `max([])` does)."
        ),
        references=("https://docs.python.org/3/library/functions.html",),
    )
    examples = (
        flagged(
            """
            def keep_active(readings, active_ids):
                kept = []
                for reading in readings:
                    if reading.sensor_id in set(active_ids):
                        kept.append(reading)
                return kept
            """,
            "4:32-4:47",
            fixed="""
            def keep_active(readings, active_ids):
                kept = []
                active_ids_set = set(active_ids)
                for reading in readings:
                    if reading.sensor_id in active_ids_set:
                        kept.append(reading)
                return kept
            """,
        ),
        flagged(
            """
            import numpy as np


            def normalised(rows, weights):
                return [row.value / np.sum(weights) for row in rows]
            """,
            "5:24-5:39",
            fixed="""
            import numpy as np


            def normalised(rows, weights):
                sum_weights = np.sum(weights)
                return [row.value / sum_weights for row in rows]
            """,
        ),
        flagged(
            """
            def late(events, deadlines):
                out = []
                for event in events:
                    for deadline in sorted(deadlines):
                        if event.time > deadline:
                            out.append((event, deadline))
                return out
            """,
            "4:24-4:41",
            fixed="""
            def late(events, deadlines):
                out = []
                sorted_deadlines = sorted(deadlines)
                for event in events:
                    for deadline in sorted_deadlines:
                        if event.time > deadline:
                            out.append((event, deadline))
                return out
            """,
        ),
        clean(
            """
            def grow(items, seen):
                for item in items:
                    if item in set(seen):
                        continue
                    seen.append(item)


            def ranks(rows, scores):
                for row in rows:
                    scores = [score for score in scores if score != row]
                    row.rank = max(scores)
            """,
            note="the inputs change in the loop: appended to, or rebound",
        ),
        clean(
            """
            def pick(rows, limits):
                result = []
                for row in rows:
                    if row.flagged:
                        result.append(max(limits))
                    copies = list(limits)
                    copies.append(row)
                    result.append(len(limits) > 3 and min(limits))
                return result
            """,
            note="under a branch; a fresh list that is then changed; after a short-circuit",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A hoistable builtin or pure library call over plain names within a loop that does
        not rebind them as its target, not followed by more trailers; a fresh list or set
        only where `in` or a loop consumes it."""
        candidates = [(call, kind) for call in outline.in_loop_nodes(ast.Call)
                      if (kind := _ast_hoistable_kind(ctx, call)) is not None
                      and not _ast_rebound_by_loop(outline, call)]
        if not candidates:
            return False  # no pure whole-collection call in a loop
        consumed = _ast_consumed_at_once(outline)
        trailed = _ast_trailed(outline)
        return any(id(call) not in trailed and (kind == "value" or id(call) in consumed)
                   for call, kind in candidates)

    def check(self, ctx: Context) -> Iterator[Finding]:
        for chain in ctx.source.nodes("atom_expr", "power"):
            found = _invariant_call(ctx, chain)
            if found is not None:
                yield self._finding(ctx, *found)

    def _finding(self, ctx, chain, loop, name) -> Finding:
        source = ctx.source
        code = source.code_of(chain)
        message = (
            f"{code} gives the same result on every iteration of this loop but is computed "
            "each time: O(n) per iteration; compute it once before the loop"
        )
        fix = None
        anchor = statement_of(loop_region(loop))
        insertion = insert_before(source, anchor, f"{name} = {code}") if anchor else None
        if insertion is not None:
            edits = (Edit(Range(insertion.at, insertion.at), insertion.text),
                     Edit(Range.of(chain), name))
            fix = Fix(f"Compute {name} once before the loop", edits, Safety.UNSAFE)
        return self.finding(Range.of(chain), message, fix=fix,
                            cost="one pass over the input per iteration")


def _invariant_call(ctx: Context, chain: NodeOrLeaf):
    """(call, loop to hoist above, name for the result) for a hoistable pure call."""
    from fmperf_ls.analysis.invariance import hoisting_loop, names_read
    from fmperf_ls.analysis.scopes import loops_around

    children = chain.children  # type: ignore[attr-defined]
    if not all(child.type == "trailer" for child in children[1:]):
        return None  # `a ** b`, `await x`: not a call chain
    if len(children) == 2 and children[1].children[0].value == "(":
        if children[0].type != "name" or children[0].value not in _HOISTABLE_BUILTINS:
            return None  # not one of the builtins worth hoisting
    elif not _is_library_call(chain):
        return None  # not `f(args)` nor `module.f(args)`
    if not _plain_arguments(chain.children[-1]):  # type: ignore[attr-defined]
        return None  # computed arguments: their invariance is not proven here
    loops = loops_around(chain)
    reads = names_read(chain.children[-1])  # type: ignore[attr-defined]
    if not loops or not reads:
        return None  # runs once, or reads nothing that could change
    result = _hoistable_kind(ctx, chain)
    if result is None:
        return None  # a shadowed builtin or a library call not known to be pure
    if result == "mutable" and not _consumed_at_once(chain):
        return None  # a fresh list or set that the loop may keep and change
    loop = hoisting_loop(chain, loops, reads, pure_callee(ctx))
    if loop is None or _is_small_loop(loop) or not _bound_before(chain, reads, loop):
        return None  # changes in the loop, a literal loop, or inputs bound later
    return chain, loop, fresh_name(ctx.source, _result_name(ctx, chain))


def _is_library_call(chain: NodeOrLeaf) -> bool:
    children = chain.children  # type: ignore[attr-defined]
    return len(children) == 3 and children[0].type == "name" and (
        children[1].children[0].value == "." and children[2].children[0].value == "("
    )


def _hoistable_kind(ctx: Context, chain: NodeOrLeaf) -> str | None:
    children = chain.children  # type: ignore[attr-defined]
    if len(children) == 2 and children[0].type == "name":
        name = children[0].value
        if ctx.imports.resolve(name) is not None or _defined_in_module(ctx, name):
            return None  # the builtin's name is taken by something else here
        return _HOISTABLE_BUILTINS.get(name)
    from fmperf_ls.analysis.infer import chain_prefix

    qualified = ctx.imports.qualified(chain_prefix(chain, 2))
    return _HOISTABLE_LIBRARY.get(qualified or "")


def _defined_in_module(ctx: Context, name: str) -> bool:
    """Whether the file binds `name` anywhere (shadowing a builtin); cached per file."""
    bound = getattr(ctx.source, "_fmp_bound_names", None)
    if bound is None:
        bound = {
            value for value, uses in ctx.source.tree.get_used_names().items()
            if any(use.is_definition() and use.parent.type != "trailer" for use in uses)
        }
        ctx.source._fmp_bound_names = bound  # type: ignore[attr-defined]
    return name in bound


def _plain_arguments(trailer: NodeOrLeaf) -> bool:
    """Names, dotted names and literals only: nothing that computes or calls."""
    from fmperf_ls.analysis.pyomo import call_arguments

    positional, keywords = call_arguments(trailer)
    values = [*positional, *keywords.values()]
    return bool(values) and all(_plain(value) for value in values)


def _plain(node: NodeOrLeaf) -> bool:
    if node.type in ("name", "number", "string"):
        return True
    if node.type in ("atom_expr", "power") and node.children[0].type == "name":
        return all(trailer.type == "trailer" and trailer.children[0].value == "."
                   for trailer in node.children[1:])  # type: ignore[attr-defined]
    return False


def _consumed_at_once(chain: NodeOrLeaf) -> bool:
    """Right operand of `in`/`not in`, or the iterable of a loop or comprehension."""
    parent = chain.parent
    if parent is None:
        return False
    if parent.type == "comparison" and parent.children[-1] is chain:
        operator = parent.children[1]
        return operator.get_code(include_prefix=False).split()[-1] == "in"
    return parent.type in ("for_stmt", "sync_comp_for") and parent.children[3] is chain


def _is_small_loop(loop) -> bool:
    return loop.iterable is not None and _is_literal(loop.iterable)


def _bound_before(chain: NodeOrLeaf, reads: set[str], loop) -> bool:
    """Every name read has a binding before the loop (or is a builtin)."""
    import builtins

    anchor = statement_of(loop_region(loop))
    if anchor is None:
        return False
    used = chain.get_root_node().get_used_names()
    for name in reads:
        if hasattr(builtins, name) and name not in used:
            continue
        bindings = [use for use in used.get(name, []) if use.is_definition()
                    and use.parent.type != "trailer" and use.start_pos < anchor.start_pos]
        if not bindings:
            return False
    return True


def _result_name(ctx: Context, chain: NodeOrLeaf) -> str:
    from fmperf_ls.analysis.pyomo import call_arguments

    positional, _ = call_arguments(chain.children[-1])  # type: ignore[attr-defined]
    argument = positional[0].get_code(include_prefix=False) if positional else "value"
    argument = argument.rsplit(".", 1)[-1]
    function = chain.children[-2].children[-1].value if len(chain.children) == 3 else (
        chain.children[0].value)  # type: ignore[attr-defined]
    if function == "set":
        return f"{argument}_set"
    if function in ("sorted", "sort"):
        return f"sorted_{argument}"
    return f"{function}_{argument}"


# -- FMP304 ---------------------------------------------------------------------

_SMALL_LITERAL = 8


@register
class ListMembershipInLoop(Rule):
    code = "FMP304"
    name = "list-membership-in-loop"
    summary = "`x in some_list` inside a loop scans the list each time; build a set once"
    severity = Severity.WARNING
    prefilter = (" in ",)
    docs = RuleDocs(
        what=(
            "Finds `x in items` and `x not in items` inside a loop or comprehension when "
            "`items` is provably a list (a list display of more than eight items, a list "
            "comprehension, `list(...)` or `sorted(...)`, or a parameter annotated as a "
            "list) bound once before the loop and never changed in it."
        ),
        why=(
            "Membership in a list compares against every element: O(len(items)) per test, "
            "O(n x len(items)) over the loop. A set answers in O(1) on average, so the "
            "set costs one pass to build and the loop becomes O(n + len(items))."
        ),
        example=(
            "allowed = [row.id for row in rows]\n"
            "selected = [event for event in events if event.row_id in allowed]"
        ),
        instead=(
            "allowed = [row.id for row in rows]\n"
            "allowed_set = set(allowed)\n"
            "selected = [event for event in events if event.row_id in allowed_set]"
        ),
        false_alarms=(
            "Short literal lists (eight items or fewer) and lists written inline are not "
            "reported: scanning a few items is as fast as hashing. Lists that the loop "
            "appends to, rebinds or hands to other calls are left alone. The fix is unsafe "
            "when elements or the tested value may be unhashable (a set raises TypeError "
            "where the list answered)."
        ),
        references=("https://wiki.python.org/moin/TimeComplexity",),
    )
    examples = (
        flagged(
            """
            def selected(events, rows):
                allowed = [row.id for row in rows]
                return [event for event in events if event.row_id in allowed]
            """,
            "3:41-3:64",
            fixed="""
            def selected(events, rows):
                allowed = [row.id for row in rows]
                allowed_set = set(allowed)
                return [event for event in events if event.row_id in allowed_set]
            """,
        ),
        flagged(
            """
            def unknown_sensors(readings, sensors: list[int]):
                missing = []
                for reading in readings:
                    if reading.sensor not in sensors:
                        missing.append(reading)
                return missing
            """,
            "4:11-4:40",
            fixed="""
            def unknown_sensors(readings, sensors: list[int]):
                missing = []
                sensors_set = set(sensors)
                for reading in readings:
                    if reading.sensor not in sensors_set:
                        missing.append(reading)
                return missing
            """,
        ),
        clean(
            """
            def dedupe(items):
                seen = []
                for item in items:
                    if item not in seen:
                        seen.append(item)
                return seen


            def weekend(days):
                names = ["saturday", "sunday"]
                return [day for day in days if day in names]
            """,
            note="the list grows in the loop; a short literal list",
        ),
        clean(
            """
            def check(values, limits):
                for value in values:
                    if value in limits:
                        print(value)


            def refresh(rows, fetch):
                ids = list(fetch())
                for row in rows:
                    if row.id in ids:
                        ids = list(fetch())
            """,
            note="nothing says limits is a list; a list rebound in the loop",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """`x in name` within a loop (not a `while` test) where `name` is assigned a list
        comprehension, a long list display, `list(...)` or `sorted(...)`, or is a parameter
        annotated as a list."""
        names = _ast_tested_names(outline)
        return bool(names) and _ast_list_bound(outline, names)

    def check(self, ctx: Context) -> Iterator[Finding]:
        for comparison in ctx.source.nodes("comparison"):
            found = _list_membership(ctx, comparison)
            if found is not None:
                yield self._finding(ctx, comparison, *found)

    def _finding(self, ctx, comparison, items, loop) -> Finding:
        name = fresh_name(ctx.source, f"{items.value}_set")
        message = (
            f"`in {items.value}` scans the list on every iteration: O(len({items.value})) per "
            f"test; build a set once before the loop"
        )
        anchor = statement_of(loop_region(loop))
        insertion = insert_before(ctx.source, anchor, f"{name} = set({items.value})") if (
            anchor is not None) else None
        fix = None
        if insertion is not None:
            edits = (Edit(Range(insertion.at, insertion.at), insertion.text),
                     Edit(Range.of(items), name))
            fix = Fix(f"Test membership in {name} = set({items.value})", edits, Safety.UNSAFE)
        return self.finding(Range.of(comparison), message, fix=fix,
                            cost=f"len({items.value}) comparisons per test")


def _list_membership(ctx: Context, comparison: NodeOrLeaf):
    from fmperf_ls.analysis.invariance import hoisting_loop
    from fmperf_ls.analysis.scopes import loops_around

    children = comparison.children  # type: ignore[attr-defined]
    if len(children) != 3:
        return None  # chained comparisons
    operator = children[1].get_code(include_prefix=False).split()
    if operator[-1] != "in" or children[2].type != "name":
        return None  # only `x in name`: inline displays are small and constant-folded
    items = children[2]
    parent = comparison.parent
    if parent is not None and parent.type == "while_stmt" and parent.children[1] is comparison:
        return None  # `while name in taken:` retries until free, usually once
    loops = loops_around(comparison)
    if not loops:
        return None  # one test, not one per iteration
    binding = _single_list_binding(ctx, items)
    if binding is None:
        return None  # not provably one list
    loop = hoisting_loop(comparison, loops, {items.value}, pure_callee(ctx))
    if loop is None or _is_small_loop(loop):
        return None  # the list changes in the loop, or the loop is a literal
    if binding.start_pos >= loop_region(loop).start_pos:
        return None  # bound inside the loop that would build the set
    return items, loop


def _single_list_binding(ctx: Context, items: NodeOrLeaf) -> NodeOrLeaf | None:
    """The one binding of `items` in its function when it certainly makes a list."""
    function = scope_of(items)
    bindings = [use for use in ctx.source.tree.get_used_names().get(items.value, [])
                if use.is_definition() and use.parent.type != "trailer"
                and scope_of(use) is function]
    if len(bindings) != 1:
        return None  # rebound somewhere: which list reaches the test is not clear
    binding = bindings[0]
    parent = binding.parent
    if parent.type == "tfpdef":
        parent = parent.parent  # `name: annotation` inside a param
    if parent.type == "param":
        annotation = parent.annotation
        text = annotation.get_code(include_prefix=False) if annotation is not None else ""
        return binding if text.split("[")[0] in ("list", "List", "typing.List") else None
    if parent.type != "expr_stmt" or parent.children[0] is not binding:
        return None  # bound by a loop, a with or an import: not a list display
    value = parent.children[-1]
    if len(parent.children) != 3 or parent.children[1].value != "=":
        return None  # augmented or chained assignment
    return binding if _makes_list(ctx, value) else None


def _makes_list(ctx: Context, value: NodeOrLeaf) -> bool:
    if value.type == "atom" and value.children[0].value == "[":  # type: ignore[attr-defined]
        inner = value.children[1] if len(value.children) == 3 else None
        if inner is None:
            return False  # `[]`: filled later, somewhere
        if inner.type == "testlist_comp" and any(
            child.type in ("sync_comp_for", "comp_for") for child in inner.children
        ):
            return True
        count = len(inner.children[::2]) if inner.type == "testlist_comp" else 1
        return count > _SMALL_LITERAL
    if value.type in ("atom_expr", "power") and len(value.children) == 2 and (
        value.children[0].type == "name" and value.children[0].value in ("list", "sorted")
        and value.children[1].children[0].value == "("  # type: ignore[attr-defined]
    ):
        return ctx.imports.resolve(value.children[0].value) is None  # type: ignore[attr-defined]
    return False


# -- gates: the same shapes read from an `ast` outline, generously -------------------

_LITERAL_DISPLAYS = (ast.List, ast.Set, ast.Dict)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _ast_statement_join(outer: ast.For | ast.AsyncFor) -> bool:
    """A `for` directly in the body whose whole body is one `if` with an `==` join."""
    if _ast_is_literal(outer.iter):
        return False  # a literal outer collection is small
    outer_names = _ast_names(outer.target)
    for inner in outer.body:
        if not isinstance(inner, ast.For) or inner.orelse:
            continue  # not a plain nested `for` (an `async for`, a `for ... else`)
        if len(inner.body) != 1 or not isinstance(inner.body[0], ast.If):
            continue  # other per-pair work
        branch = inner.body[0]
        if not branch.orelse and _ast_join(outer_names, inner, branch.test):
            return True
    return False


def _ast_comprehension_join(display: ast.expr) -> bool:
    """`for a in A for b in B if a.k == b.k`: two adjacent clauses, the test on the second."""
    clauses = display.generators  # type: ignore[attr-defined]
    for outer, inner in zip(clauses, clauses[1:], strict=False):
        if outer.ifs or inner.is_async or not inner.ifs or _ast_is_literal(outer.iter):
            continue  # a test between the clauses, an async inner clause, no test, a literal
        if _ast_join(_ast_names(outer.target), inner, inner.ifs[0]):
            return True
    return False


def _ast_join(outer_names: set[str], inner, test: ast.expr) -> bool:
    """The inner collection is held by a name free of the outer targets, and the test has an
    `==` with outer targets on one side and inner targets on the other."""
    collection = dotted_root(inner.iter)
    if collection is None or collection in outer_names:
        return False  # a call, an expression, or a collection of the outer element
    inner_names = _ast_names(inner.target)
    for left, right in _ast_equalities(test):
        left_names, right_names = _ast_names(left), _ast_names(right)
        if left_names & outer_names and right_names & inner_names:
            return True
        if right_names & outer_names and left_names & inner_names:
            return True
    return False


def _ast_equalities(test: ast.expr) -> Iterator[tuple[ast.expr, ast.expr]]:
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        yield test.left, test.comparators[0]
    elif isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        for part in test.values:
            yield from _ast_equalities(part)


def _ast_is_literal(node: ast.expr) -> bool:
    """List, set and dict displays and strings (a tuple may be unparenthesised: not here)."""
    return isinstance(node, _LITERAL_DISPLAYS) or isinstance(node, ast.Constant) and isinstance(
        node.value, (str, bytes))


def _ast_names(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def _ast_plain(node: ast.expr) -> bool:
    """Names, dotted names and literals, as `_plain` judges them (a little more generously)."""
    return isinstance(node, ast.Constant) or dotted_root(node) is not None


def _ast_plain_call(call: ast.Call) -> bool:
    """Every argument plain; no `*args` and no `**kwargs`."""
    return all(_ast_plain(value) for value in call.args) and all(
        keyword.arg is not None and _ast_plain(keyword.value) for keyword in call.keywords)


def _ast_hoistable_kind(ctx: Context, call: ast.Call) -> str | None:
    """"value" or "mutable" for `sorted(xs)` or `np.mean(xs)` over plain names, else None."""
    func = call.func
    if isinstance(func, ast.Name):
        if ctx.imports.resolve(func.id) is not None:
            return None  # the builtin's name is imported as something else
        kind = _HOISTABLE_BUILTINS.get(func.id)
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        module = ctx.imports.resolve(func.value.id)
        kind = _HOISTABLE_LIBRARY.get(f"{module}.{func.attr}") if module else None
    else:
        return None  # neither `f(...)` nor `module.f(...)`
    values = [*call.args, *(keyword.value for keyword in call.keywords)]
    if kind is None or not values or not _ast_plain_call(call):
        return None  # not hoistable, or arguments that compute
    if not any(dotted_root(value) is not None for value in values):
        return None  # reads no name: nothing that could change
    return kind


def _ast_consumed_at_once(outline: Outline) -> set[int]:
    """ids of right operands of a lone `in`/`not in` and of the iterables of loops."""
    consumed = {id(loop.iter) for loop in outline.nodes(ast.For, ast.AsyncFor, ast.comprehension)}
    for comparison in outline.nodes(ast.Compare):
        if len(comparison.ops) == 1 and isinstance(comparison.ops[0], (ast.In, ast.NotIn)):
            consumed.add(id(comparison.comparators[0]))
    return consumed


def _ast_trailed(outline: Outline) -> set[int]:
    """ids of expressions followed by an attribute, an index or a call: `f(x)` in `f(x).y`."""
    trailed = {id(node.value) for node in outline.nodes(ast.Attribute, ast.Subscript)}
    trailed.update(id(call.func) for call in outline.nodes(ast.Call))
    return trailed


def _ast_tested_names(outline: Outline) -> set[str]:
    """Names tested with a lone `in`/`not in` within a loop, `while` tests excluded."""
    while_tests = {id(loop.test) for loop in outline.nodes(ast.While)}
    names = set()
    for comparison in outline.in_loop_nodes(ast.Compare):
        items = comparison.comparators[0]
        if len(comparison.ops) != 1 or not isinstance(comparison.ops[0], (ast.In, ast.NotIn)):
            continue  # a chained comparison, or no membership test
        if isinstance(items, ast.Name) and id(comparison) not in while_tests:
            names.add(items.id)
    return names


def _ast_list_bound(outline: Outline, names: set[str]) -> bool:
    """Whether one of the names is assigned something that makes a list, or is a parameter
    annotated as one."""
    for statement in outline.nodes(ast.Assign):
        target = statement.targets[0]
        if len(statement.targets) == 1 and isinstance(target, ast.Name) and (
            target.id in names and _ast_makes_list(statement.value)
        ):
            return True
    functions = outline.nodes(ast.FunctionDef, ast.AsyncFunctionDef)
    return any(_ast_list_parameter(function.args, names) for function in functions)


def _ast_makes_list(value: ast.expr) -> bool:
    if isinstance(value, ast.ListComp):
        return True
    if isinstance(value, ast.List):
        return len(value.elts) > _SMALL_LITERAL
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and (
        value.func.id in ("list", "sorted"))


def _ast_list_parameter(arguments: ast.arguments, names: set[str]) -> bool:
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
             arguments.vararg, arguments.kwarg]
    for argument in every:
        if argument is None or argument.arg not in names or argument.annotation is None:
            continue  # not one of the tested names, or not annotated
        if ast.unparse(argument.annotation).split("[")[0] in ("list", "List", "typing.List"):
            return True
    return False


def _ast_reads(call: ast.Call) -> set[str]:
    """Root names of a call's arguments: what must stay unchanged for it to be hoisted."""
    values = [*call.args, *(keyword.value for keyword in call.keywords)]
    return {root for value in values if (root := dotted_root(value)) is not None}


def _ast_rebound_by_loop(outline: Outline, call: ast.Call) -> bool:
    """Whether the loop right around the call binds one of its argument names as a target:
    `f(x)` in `for x in xs:` changes every iteration, so no loop can hoist it.

    Only a call in a loop's body (a comprehension's element or condition) is judged; one
    in a header or an `else` is left to the parso analysis.
    """
    innermost = None
    for loop in outline.nodes(*LOOP_NODES):
        part = _ast_loop_part(loop, call)
        if part is None:
            continue  # not within this loop
        if part == "header":
            return False  # a header or an `else`: which loop is around it is not clear here
        if innermost is None or _ast_inside(loop, innermost):
            innermost = loop
    return innermost is not None and bool(_ast_loop_targets(innermost) & _ast_reads(call))


LOOP_NODES: tuple[type[ast.AST], ...] = (ast.For, ast.AsyncFor, ast.While, *_COMPREHENSIONS)


def _ast_loop_part(loop: ast.AST, node: ast.AST) -> str | None:
    """"body" when the node runs per iteration, "header" for elsewhere in the loop."""
    if not _ast_inside(node, loop):
        return None
    if isinstance(loop, (ast.For, ast.AsyncFor, ast.While)):
        parts: list[ast.AST] = list(loop.body)
    elif isinstance(loop, ast.DictComp):
        parts = [loop.key, loop.value]
    else:
        parts = [loop.elt]  # type: ignore[attr-defined]
    parts += [test for clause in getattr(loop, "generators", ()) for test in clause.ifs]
    return "body" if any(_ast_inside(node, part) for part in parts) else "header"


def _ast_loop_targets(loop: ast.AST) -> set[str]:
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        return _ast_names(loop.target)
    clauses = getattr(loop, "generators", ())
    return {name for clause in clauses for name in _ast_names(clause.target)}


def _ast_inside(node: ast.AST, holder: ast.AST) -> bool:
    """Whether the node's source range lies within the holder's."""
    start = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
    end = (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    return (holder.lineno, holder.col_offset) <= start and end <= (  # type: ignore[attr-defined]
        holder.end_lineno, holder.end_col_offset)  # type: ignore[attr-defined]
