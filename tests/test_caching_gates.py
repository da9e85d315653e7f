"""FMP401-FMP402 gates: files they rule out, and shapes beyond the examples they let through."""

from __future__ import annotations

from gate_helpers import findings, gate

ALIASED_FRAME = """
from pandas import DataFrame as Frame


class Report:
    def __init__(self, rows):
        self.rows = rows

    @property
    def table(self):
        return Frame(self.rows)

    def totals(self, columns):
        return [self.table[column].sum() for column in columns]
"""


def test_property_gate_rules_out_cheap_properties_and_single_reads():
    assert not gate("FMP401", """
        class Sensor:
            def __init__(self, session, name):
                self.session = session
                self.name = name

            @property
            def label(self):
                return self.name.upper()

            @property
            def owner(self):
                return self.session.query(Owner).first()

            def describe(self):
                return f"{self.label} of {self.owner}"
        """)


def test_property_gate_lets_through_an_aliased_pandas_call_read_in_a_loop():
    assert gate("FMP401", ALIASED_FRAME)
    assert len(findings("FMP401", ALIASED_FRAME)) == 1


HELPER_IN_WHILE = """
def _square_sum(values):
    total = 0
    for value in values:
        total += value * value
    return total


def norm(values):
    return _square_sum(values) ** 0.5


def scale(queue, weights):
    out = []
    while queue:
        item = queue.pop()
        out.append(item / norm(weights))
    return out
"""


def test_pure_call_gate_rules_out_functions_that_read_globals_or_mutate_arguments():
    assert not gate("FMP402", """
        cache = {}


        def lookup(key):
            return sorted(cache.get(key, []))


        def grow(items):
            items.append(0)
            return sorted(items)


        def run(keys, items):
            for key in keys:
                print(lookup(key), grow(items))
        """)


def test_pure_call_gate_lets_through_a_costly_helper_called_in_a_while_loop():
    assert gate("FMP402", HELPER_IN_WHILE)
    assert len(findings("FMP402", HELPER_IN_WHILE)) == 1


def test_pure_call_gate_rules_out_calls_on_the_loop_target():
    assert not gate("FMP402", """
        def normalize(name):
            return "".join(character for character in name.lower() if character.isalnum())


        def keys(names):
            return [normalize(name) for name in names]
        """)
