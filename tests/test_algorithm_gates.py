"""FMP301-FMP304 gates: files they rule out, and shapes beyond the examples they let through."""

from __future__ import annotations

from gate_helpers import findings, gate

PARTIAL_SUMS = """
def cumulative(values):
    totals = []
    for j, _ in enumerate(values):
        totals.append(sum(values[0:j]))
    return totals
"""


def test_prefix_gate_rules_out_prefixes_of_plain_arguments():
    assert not gate("FMP301", """
        def head_total(values, n):
            total = 0
            for i in range(n):
                total += values[i]
            return total + sum(values[:n])
        """)


def test_prefix_gate_lets_through_an_exclusive_slice_under_enumerate():
    assert gate("FMP301", PARTIAL_SUMS)
    assert len(findings("FMP301", PARTIAL_SUMS)) == 1


def test_prefix_gate_lets_through_a_parameter_in_a_pyomo_file():
    assert gate("FMP301", """
        import pyomo.environ as pe

        def stock(m, j):
            return sum(m.charge[k] for k in range(j + 1))
        """)


DICT_JOIN = """
def owners(assets, accounts):
    return {asset.id: account for asset in assets for account in accounts
            if account.id == asset.account_id}
"""


def test_join_gate_rules_out_inequalities_and_inner_collections_of_the_outer_element():
    assert not gate("FMP302", """
        def overlapping(left, right):
            for a in left:
                for b in right:
                    if a.start <= b.end:
                        yield a, b


        def children(nodes):
            for parent in nodes:
                for child in parent.children:
                    if child.parent_id == parent.id:
                        yield child
        """)


def test_join_gate_lets_through_a_dict_comprehension():
    assert gate("FMP302", DICT_JOIN)
    assert len(findings("FMP302", DICT_JOIN)) == 1


MEDIAN_IN_WHILE = """
import statistics as st


def settle(queue, values):
    done = []
    while queue:
        item = queue.pop()
        threshold = st.median(values)
        done.append(item > threshold)
    return done
"""


def test_invariant_gate_rules_out_cheap_calls_and_fresh_lists_kept():
    assert not gate("FMP303", """
        def summary(rows, limits):
            out = []
            for row in rows:
                ordered = sorted(limits)
                ordered.append(row)
                out.append(len(limits))
            return out
        """)


def test_invariant_gate_lets_through_an_aliased_library_call_in_a_while_loop():
    assert gate("FMP303", MEDIAN_IN_WHILE)
    assert len(findings("FMP303", MEDIAN_IN_WHILE)) == 1


SORTED_IN_WHILE = """
def drain(queue, codes):
    allowed = sorted(codes)
    kept = []
    while queue:
        code = queue.pop()
        if code in allowed:
            kept.append(code)
    return kept
"""


def test_membership_gate_rules_out_sets_unknown_names_and_while_tests():
    assert not gate("FMP304", """
        def pick(rows, limits, taken):
            allowed = set(limits)
            for row in rows:
                if row in allowed or row in limits:
                    print(row)
            name = "a"
            while name in taken:
                name += "a"
        """)


def test_membership_gate_lets_through_sorted_in_a_while_loop():
    assert gate("FMP304", SORTED_IN_WHILE)
    assert len(findings("FMP304", SORTED_IN_WHILE)) == 1


def test_invariant_gate_rules_out_calls_on_the_loop_target():
    assert not gate("FMP303", """
        def peaks(series_list):
            return [max(series) for series in series_list]
        """)
