"""The FMP30x fixes keep the result: run the code before and after each fix and compare.

Pyomo fixes are compared constraint by constraint through Pyomo's standard
representation (same coefficients, same constant, same bounds) and, on a tiny
instance, by the optimum HiGHS finds. Hoisting and set fixes run on generated
inputs, empty ones included.
"""

from __future__ import annotations

import random
import textwrap
from types import SimpleNamespace

import pyomo.environ as pyo
import pytest
from pyomo.repn import generate_standard_repn

from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.engine import Engine
from fmperf_ls.fixes import fix_text
from fmperf_ls.rules import all_rules


def fixed(code: str, text: str) -> str:
    """The text after every fix of one rule (unsafe ones included), checked to change."""
    engine = Engine(rules=[all_rules()[code]])
    source = textwrap.dedent(text).lstrip("\n")
    result, applied = fix_text(source, "proof.py", lambda s: engine.check(s).findings, True)
    assert applied > 0, f"{code} offered no fix"
    assert engine.check(SourceFile(result, "proof.py")).findings == []
    return result


def run(text: str) -> dict:
    namespace: dict = {"__name__": "proof"}
    exec(compile(text, "proof.py", "exec"), namespace)
    return namespace


def repn_of(constraint) -> tuple:
    """Coefficients by variable name, constant, and bounds of one constraint."""
    repn = generate_standard_repn(constraint.body, compute_values=True)
    coefficients = {
        variable.name: round(coefficient, 9)
        for variable, coefficient in zip(repn.linear_vars, repn.linear_coefs, strict=True)
    }
    lower = pyo.value(constraint.lower) if constraint.lower is not None else None
    upper = pyo.value(constraint.upper) if constraint.upper is not None else None
    return coefficients, round(pyo.value(repn.constant), 9), lower, upper


def same_constraints(before, after) -> None:
    assert len(before) == len(after)
    for index in before:
        assert repn_of(before[index]) == repn_of(after[index]), index


PRICES_MODEL = """
import random

from pyomo.environ import ConcreteModel, Constraint, RangeSet, Var

random.seed(SEED)
prices = [random.uniform(-5, 50) for _ in range(SIZE)]
model = ConcreteModel()
model.J = RangeSet(0, SIZE - 1)
model.power = Var(model.J, bounds=(0, 1))


def budget(m, j):
    return m.power[j] * sum(prices[:j + 1]) <= 100


model.budget = Constraint(model.J, rule=budget)
"""


@pytest.mark.parametrize("size", [1, 2, 7, 96])
def test_running_sum_of_plain_data_builds_the_same_constraints(size):
    text = PRICES_MODEL.replace("SIZE", str(size)).replace("SEED", str(size))
    after = fixed("FMP301", text)

    assert "prices_running = list(accumulate(prices))" in after
    same_constraints(run(text)["model"].budget, run(after)["model"].budget)


PARAM_MODEL = """
import itertools

from pyomo.environ import ConcreteModel, Constraint, Objective, Param, RangeSet, Var, minimize

use = USE
model = ConcreteModel()
model.J = RangeSet(0, len(use) - 1)
model.use = Param(model.J, initialize=use, mutable=MUTABLE)
model.supply = Var(model.J, bounds=(0, None))
model.cover = Constraint(
    model.J, rule=lambda m, j: m.supply[j] >= sum(m.use[k] for k in range(j + 1))
)
model.cost = Objective(expr=sum((j + 1) * model.supply[j] for j in model.J), sense=minimize)
"""


@pytest.mark.parametrize("mutable", [False, True])
def test_running_sum_of_a_param_builds_the_same_constraints(mutable):
    random.seed(3)
    use = {j: random.randint(0, 9) for j in range(24)}
    text = PARAM_MODEL.replace("USE", repr(use)).replace("MUTABLE", str(mutable))
    after = fixed("FMP301", text)
    before_model, after_model = run(text)["model"], run(after)["model"]

    same_constraints(before_model.cover, after_model.cover)
    if mutable:  # a mutable Param stays symbolic: a later change reaches both models
        before_model.use[5] = 100
        after_model.use[5] = 100
        same_constraints(before_model.cover, after_model.cover)


def test_running_sum_of_a_param_reaches_the_same_optimum():
    use = {j: (j * 7) % 5 for j in range(48)}
    text = PARAM_MODEL.replace("USE", repr(use)).replace("MUTABLE", "False")
    solver = pyo.SolverFactory("appsi_highs")
    optimum = []

    for version in (text, fixed("FMP301", text)):
        model = run(version)["model"]
        result = solver.solve(model)
        assert result.solver.termination_condition == pyo.TerminationCondition.optimal
        optimum.append(pyo.value(model.cost))

    assert optimum[0] == pytest.approx(optimum[1])


def charge_model(prices: list[float], running_total: bool) -> pyo.ConcreteModel:
    """The FMP301 advice for variables: a running-total variable instead of a prefix sum."""
    model = pyo.ConcreteModel()
    model.J = pyo.RangeSet(0, len(prices) - 1)
    model.charge = pyo.Var(model.J, bounds=(-1, 1))
    if running_total:
        model.stock = pyo.Var(model.J, bounds=(0, 10))

        @model.Constraint(model.J)
        def balance(m, j):
            previous = m.stock[j - 1] if j > 0 else 0
            return m.stock[j] == previous + m.charge[j]
    else:

        @model.Constraint(model.J)
        def state_of_charge(m, j):
            return (0, sum(m.charge[k] for k in range(0, j + 1)), 10)

    model.cost = pyo.Objective(expr=sum(prices[j] * model.charge[j] for j in model.J))
    return model


def test_running_total_advice_reaches_the_same_optimum_with_linear_nonzeros():
    random.seed(11)
    prices = [random.uniform(-20, 80) for _ in range(96)]
    solver = pyo.SolverFactory("appsi_highs")
    optimum, nonzeros = [], []

    for running_total in (False, True):
        model = charge_model(prices, running_total)
        solver.solve(model)
        optimum.append(pyo.value(model.cost))
        nonzeros.append(sum(
            len(generate_standard_repn(c.body).linear_vars)
            for c in model.component_data_objects(pyo.Constraint)
        ))

    assert optimum[0] == pytest.approx(optimum[1])
    assert nonzeros == [96 * 97 // 2, 3 * 96 - 1]


def test_running_sum_in_a_plain_loop_gives_the_same_totals():
    text = """
    import logging


    def cumulative_totals(values):
        totals = []
        for j in range(len(values)):
            totals.append(sum(values[:j + 1]))
        return totals
    """
    before, after = run(textwrap.dedent(text)), run(fixed("FMP301", text))
    random.seed(5)
    for size in (0, 1, 2, 50):
        values = [random.randint(-1000, 1000) for _ in range(size)]
        assert before["cumulative_totals"](values) == after["cumulative_totals"](values)
        floats = [random.uniform(-1, 1) for _ in range(size)]
        assert after["cumulative_totals"](floats) == pytest.approx(
            before["cumulative_totals"](floats))


def readings(count: int, ids: int) -> list[SimpleNamespace]:
    return [SimpleNamespace(sensor_id=random.randrange(ids), sensor=random.randrange(ids),
                            row_id=random.randrange(ids), time=random.random())
            for _ in range(count)]


HOISTING = """
import numpy as np


def keep_active(readings, active_ids):
    kept = []
    for reading in readings:
        if reading.sensor_id in set(active_ids):
            kept.append(reading)
    return kept


def normalised(rows, weights):
    return [row / np.sum(weights) for row in rows]


def late(events, deadlines):
    out = []
    for event in events:
        for deadline in sorted(deadlines):
            if event.time > deadline:
                out.append((event, deadline))
    return out
"""


@pytest.mark.parametrize("size", [0, 1, 5, 200])
def test_hoisted_calls_give_the_same_results(size):
    before, after = run(HOISTING), run(fixed("FMP303", HOISTING))
    random.seed(size)
    events = readings(size, 20)
    ids = [random.randrange(20) for _ in range(size // 2)]
    deadlines = [random.random() for _ in range(size // 3)]
    rows = [random.uniform(0, 10) for _ in range(size)]
    weights = [random.uniform(1, 2) for _ in range(size)] or [1.0]

    assert before["keep_active"](events, ids) == after["keep_active"](events, ids)
    assert before["late"](events, deadlines) == after["late"](events, deadlines)
    assert before["normalised"](rows, weights) == after["normalised"](rows, weights)


MEMBERSHIP = """
def selected(events, rows):
    allowed = [row.sensor_id for row in rows]
    return [event for event in events if event.row_id in allowed]


def unknown_sensors(readings, sensors: list[int]):
    missing = []
    for reading in readings:
        if reading.sensor not in sensors:
            missing.append(reading)
    return missing
"""


@pytest.mark.parametrize("size", [0, 1, 5, 300])
def test_set_membership_gives_the_same_results(size):
    after_text = fixed("FMP304", MEMBERSHIP)
    before, after = run(MEMBERSHIP), run(after_text)
    random.seed(size)
    events, rows = readings(size, 30), readings(size // 2, 30)
    sensors = [random.randrange(30) for _ in range(size)]

    assert "allowed_set = set(allowed)" in after_text
    assert before["selected"](events, rows) == after["selected"](events, rows)
    assert before["unknown_sensors"](events, sensors) == after["unknown_sensors"](events,
                                                                                sensors)
