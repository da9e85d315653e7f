"""FMP30x beyond their examples: how rules are found, what the hover says, the traps."""

from __future__ import annotations

import textwrap

from fmperf_ls.engine import check_text
from fmperf_ls.rules import all_rules


def findings(code: str, text: str):
    report = check_text(textwrap.dedent(text).lstrip("\n"), rules=[all_rules()[code]])
    assert report.failures == []
    return report.findings


def test_star_import_and_decorated_rules_are_pyomo_rules():
    found = findings("FMP301", """
        from pyomo.environ import *

        model = ConcreteModel()
        model.T = RangeSet(0, 23)
        model.flow = Var(model.T)
        model.c = Constraint(model.T, rule=lambda m, t: sum(m.flow[s] for s in range(t + 1)) <= 5)
        """)

    assert [str(finding.range) for finding in found] == ["6:48-6:84"]
    assert "the terms are variables" in found[0].message
    assert found[0].fix is None


def test_cost_names_the_other_indexes_and_the_index_set():
    found = findings("FMP301", """
        from pyomo.environ import ConcreteModel, Constraint, RangeSet, Var

        model = ConcreteModel()
        model.d = RangeSet(0, 2)
        model.j = RangeSet(0, 95)
        model.power = Var(model.d, model.j)


        def stock(m, d, j):
            return (0, sum(m.power[d, k] for k in range(j + 1)), 10)


        model.stock = Constraint(model.d, model.j, rule=stock)
        """)

    assert found[0].cost == "J(J+1)/2 terms per d instead of J (J = len(model.j); 4,656 at J = 96)"


def test_abstract_models_get_no_param_fix():
    found = findings("FMP301", """
        from pyomo.environ import AbstractModel, Constraint, Param, RangeSet, Var

        model = AbstractModel()
        model.J = RangeSet(0, 3)
        model.use = Param(model.J)
        model.supply = Var(model.J)
        model.cover = Constraint(
            model.J, rule=lambda m, j: m.supply[j] >= sum(m.use[k] for k in range(j + 1))
        )
        """)

    assert len(found) == 1 and found[0].fix is None


def test_index_that_is_not_the_rules_index_is_left_alone():
    assert findings("FMP301", """
        from pyomo.environ import ConcreteModel, Constraint, RangeSet, Var

        horizon = 24
        model = ConcreteModel()
        model.J = RangeSet(0, horizon - 1)
        model.x = Var(model.J)


        def cap(m, j):
            window = horizon
            return sum(m.x[k] for k in range(window + 1)) <= 3 + j


        model.cap = Constraint(model.J, rule=cap)
        """) == []


def test_rule_local_data_is_flagged_without_a_fix():
    found = findings("FMP301", """
        from pyomo.environ import ConcreteModel, Constraint, RangeSet, Var

        model = ConcreteModel()
        model.J = RangeSet(0, 9)
        model.x = Var(model.J)


        def cap(m, j):
            weights = [0.5] * 10
            return m.x[j] <= sum(weights[:j + 1])


        model.cap = Constraint(model.J, rule=cap)
        """)

    assert len(found) == 1 and found[0].fix is None


def test_set_generator_join_is_reported_with_the_rewrite():
    found = findings("FMP302", """
        def commitment_groups(m):
            return ((c, j, g) for (c, j) in m.cj for (_, g) in m.cg if _ == c)
        """)

    assert len(found) == 1
    assert "for (_, g) in cg_by_key.get(c, ())" in found[0].message


def test_invariant_call_under_a_while_condition_is_hoisted_only_when_unchanged():
    found = findings("FMP303", """
        def drain(queue, limits):
            while len(queue) > max(limits):
                queue.pop()


        def grow(queue, limits):
            while len(queue) < max(limits):
                limits.append(len(queue))
        """)

    assert [str(finding.range) for finding in found] == ["2:23-2:34"]


def test_membership_in_a_list_from_a_call_is_reported():
    found = findings("FMP304", """
        def active(sensors, fetch_ids):
            ids = sorted(fetch_ids())
            return [sensor for sensor in sensors if sensor.id in ids]
        """)

    assert len(found) == 1 and found[0].fix is not None
