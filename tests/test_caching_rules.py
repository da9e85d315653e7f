"""FMP40x: hints only, a cached property that reads the same, and what purity rejects."""

from __future__ import annotations

import textwrap

from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.engine import Engine, check_text
from fmperf_ls.fixes import fix_text
from fmperf_ls.rules import all_rules
from fmperf_ls.rules.base import Severity


def findings(code: str, text: str):
    report = check_text(textwrap.dedent(text).lstrip("\n"), rules=[all_rules()[code]])
    assert report.failures == []
    return report.findings


def test_both_rules_are_hints():
    assert all_rules()["FMP401"].severity is Severity.HINT
    assert all_rules()["FMP402"].severity is Severity.HINT


PORTFOLIO = """
import pandas as pd


class Portfolio:
    reads = 0

    def __init__(self, path):
        self.path = path

    @property
    def prices(self):
        Portfolio.reads += 1
        return pd.read_csv(self.path).groupby("day")["price"].mean()

    def report(self):
        return float(self.prices.max()), float(self.prices.min())
"""


def test_cached_property_reads_the_same_and_computes_once(tmp_path):
    engine = Engine(rules=[all_rules()["FMP401"]])
    text = PORTFOLIO.lstrip("\n")
    after, applied = fix_text(text, "p.py", lambda s: engine.check(s).findings, unsafe=True)
    csv = tmp_path / "prices.csv"
    csv.write_text("day,price\n1,3.5\n1,4.5\n2,-1.0\n")
    results = []

    for version in (text, after):
        namespace: dict = {}
        exec(compile(version, "p.py", "exec"), namespace)
        portfolio = namespace["Portfolio"](csv)
        results.append((portfolio.report(), namespace["Portfolio"].reads))

    assert applied == 1 and "@cached_property" in after
    assert engine.check(SourceFile(after, "p.py")).findings == []
    assert results[0][0] == results[1][0] == (4.0, -1.0)
    assert (results[0][1], results[1][1]) == (2, 1)


def test_impure_and_recursive_functions_are_not_reported():
    assert findings("FMP402", """
        import random

        CACHE = {}


        def sample(values):
            return sorted(random.sample(values, 2))


        def total(values, depth):
            return sum(values) + (total(values, depth - 1) if depth else 0)


        def cached(values):
            CACHE[len(values)] = sorted(values)
            return CACHE[len(values)]


        def run(rows, values):
            for row in rows:
                print(sample(values), total(values, 3), cached(values))
        """) == []


def test_a_pure_helper_calling_a_pure_helper_is_reported():
    found = findings("FMP402", """
        def spread(values):
            return max(values) - min(values)


        def normalised_spread(values):
            return spread(values) / len(values)


        def label(rows, values):
            return [f"{row}: {normalised_spread(values):.2f}" for row in rows]
        """)

    assert [str(finding.range) for finding in found] == ["10:22-10:47"]
    assert found[0].severity is Severity.HINT and found[0].fix is None
