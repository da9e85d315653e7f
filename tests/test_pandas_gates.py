"""The pandas rules' gates: files they must rule out unparsed, and files they must let through.

A gate that rejects a flagged example already fails tests/test_rule_examples.py;
here are the shapes the examples do not show (aliases, while loops, helpers
jedi follows into another module), and realistic files with nothing to find.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fmperf_ls.analysis.infer import TypeFacade, jedi_definition
from fmperf_ls.analysis.project import ProjectIndex
from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.config import Settings
from fmperf_ls.engine import Context, Engine
from fmperf_ls.rules.base import Rule
from fmperf_ls.rules.pandas import (
    ChainedIndexing,
    GrowingFrame,
    LengthOfFilter,
    RepeatedComputation,
    RowByRowWrites,
    RowIteration,
)


def gate(rule: type[Rule], code: str) -> bool:
    """The rule's verdict on a fresh, unparsed file, checking that asking did not parse it."""
    source = SourceFile(textwrap.dedent(code).lstrip("\n"))
    ctx = Context(source, Settings(), TypeFacade(source), ProjectIndex())
    assert source.outline is not None

    verdict = rule().gate(source.outline, ctx)

    assert not source.parsed, "a gate must decide without parsing"
    return verdict


def found(rule: type[Rule], code: str, gates: bool = True) -> list[str]:
    """Ranges the rule reports, with gates on (as `fmperf check` runs) or off."""
    engine = Engine(rules=[rule], gates=gates)
    report = engine.check(SourceFile(textwrap.dedent(code).lstrip("\n")))
    return [str(finding.range) for finding in report.findings]


RULED_OUT = [
    pytest.param(ChainedIndexing, """
        def first_name(payload: dict) -> str:
            return payload["people"][0]["name"]
        """, id="FMP201-json-without-imports"),
    pytest.param(ChainedIndexing, """
        import pandas as pd

        def positive_total(path):
            frame = pd.read_csv(path)
            return frame.loc[frame["kwh"] > 0, "kwh"].sum()
        """, id="FMP201-one-loc"),
    pytest.param(LengthOfFilter, """
        import pandas as pd

        frame = pd.read_csv("a.csv")
        print(len(frame), len(frame.columns), frame.shape[0], len(frame["a"]))
        """, id="FMP202-lengths-without-filters"),
    pytest.param(LengthOfFilter, """
        import numpy as np

        values = np.arange(10)
        count = len(values[values > 3])
        """, id="FMP202-numpy-only"),
    pytest.param(RepeatedComputation, """
        from app.models import Asset

        def same_asset_twice(name):
            asset = Asset.query.filter_by(name=name).first()
            again = Asset.query.filter_by(name=name).first()
            return asset, again
        """, id="FMP203-queries-without-groupby"),
    pytest.param(RepeatedComputation, """
        import pandas as pd

        frame = pd.read_csv("a.csv")
        sites = frame["site"].unique()
        kinds = frame["kind"].unique()
        """, id="FMP203-different-columns"),
    pytest.param(RepeatedComputation, """
        import pandas as pd

        def shift(values: list[int | None], frame: pd.DataFrame) -> list[int | None]:
            return [value for value in values if value is not None]
        """, id="FMP203-same-annotation-twice"),
    pytest.param(RepeatedComputation, """
        import pandas as pd

        def sites(frame: pd.DataFrame):
            return frame["site"].unique()

        def check_sites(frame: pd.DataFrame, expected=None):
            assert list(frame["site"].unique()) == expected
        """, id="FMP203-once-per-function"),
    pytest.param(RowByRowWrites, """
        import numpy as np

        grid = np.zeros((3, 3))
        for i in range(len(grid)):
            grid[0][i] = grid[1][i] * 2
        """, id="FMP204-numpy-only"),
    pytest.param(RowByRowWrites, """
        import pandas as pd

        frame = pd.read_csv("a.csv")
        total = 0
        for label in frame.index:
            total += frame.at[label, "kwh"]
        """, id="FMP204-reads-only"),
    pytest.param(RowIteration, """
        import pandas as pd
        from app import db
        from app.models import Sensor

        def store(frame: pd.DataFrame) -> None:
            for _, row in frame.iterrows():
                db.session.add(Sensor(name=row["name"]))
        """, id="FMP205-body-calls"),
    pytest.param(RowIteration, """
        import pandas as pd

        frame = pd.read_csv("a.csv")
        scaled = frame.apply(lambda column: column / column.max())
        """, id="FMP205-apply-per-column"),
    pytest.param(GrowingFrame, """
        import pandas as pd

        def load_all(paths):
            parts = []
            for path in paths:
                parts.append(pd.read_csv(path))
            return pd.concat(parts)
        """, id="FMP206-concat-once"),
    pytest.param(GrowingFrame, """
        def collect(pages):
            rows = []
            for page in pages:
                rows = rows.append(page)
            return rows
        """, id="FMP206-append-without-frames"),
]


@pytest.mark.parametrize(("rule", "code"), RULED_OUT)
def test_gate_rules_out(rule: type[Rule], code: str):
    assert gate(rule, code) is False
    assert found(rule, code, gates=False) == [], "the gate hid a finding"


LET_THROUGH = [
    pytest.param(ChainedIndexing, """
        from .helpers import load_prices

        def peak_prices():
            prices = load_prices("p.csv")
            return prices[prices.hour > 17]["price"]
        """, [], id="FMP201-helper-jedi-may-follow"),
    pytest.param(ChainedIndexing, """
        price: "pandas.DataFrame"

        def peak(frame: "pandas.DataFrame"):
            frame[frame.hour > 17]["price"] = 0
        """, ["4:4-4:35"], id="FMP201-string-annotation-without-import"),
    pytest.param(LengthOfFilter, """
        from pandas import read_csv as load

        frame = load("a.csv")
        busy = frame["kwh"] > 10
        count = len(frame[busy])
        """, ["5:8-5:24"], id="FMP202-alias-and-named-mask"),
    pytest.param(RepeatedComputation, """
        import pandas as pd

        frame = pd.read_csv("a.csv")
        by_site = frame.groupby("site")
        first = by_site.sum()
        second = by_site.sum()
        """, ["6:9-6:22"], id="FMP203-groupby-through-a-name"),
    pytest.param(RepeatedComputation, """
        import pandas as pd

        def report(frame: pd.DataFrame):
            def sites():
                return frame["site"].unique()
            first = frame["site"].unique()
            return sites(), first, frame["site"].unique()
        """, ["7:27-7:49"], id="FMP203-twice-in-one-function-around-a-nested-one"),
    pytest.param(RowByRowWrites, """
        import pandas as pd

        async def fill(frame: pd.DataFrame):
            for i in range(0, frame.shape[0]):
                frame.iat[i, 1] = frame.iat[i, 0] * 2
        """, ["5:8-5:23"], id="FMP204-range-of-shape"),
    pytest.param(RowIteration, """
        import pandas as pd

        frame = pd.read_csv("a.csv")
        total = sum(row.kwh * 2 for row in frame.itertuples())
        cost = frame.apply(lambda row: row["kwh"] * row["price"], axis="columns")
        """, ["4:35-4:53", "5:7-5:73"], id="FMP205-generator-and-columns-axis"),
    pytest.param(GrowingFrame, """
        from pandas import concat as glue, read_csv

        frame = read_csv("a.csv")
        while len(frame) < 1000:
            frame = glue([frame, read_csv("b.csv")])
        """, ["5:12-5:44"], id="FMP206-alias-in-while"),
    pytest.param(GrowingFrame, """
        def collect(pages, frame):
            for page in pages:
                frame = frame._append(page)
            return frame
        """, ["3:16-3:35"], id="FMP206-private-append-without-imports"),
]


@pytest.mark.parametrize(("rule", "code", "ranges"), LET_THROUGH)
def test_gate_lets_through(rule: type[Rule], code: str, ranges: list[str]):
    assert gate(rule, code) is True
    assert found(rule, code) == ranges


def test_frames_from_a_helper_in_another_module_pass_every_gate(tmp_path: Path):
    """The file imports no pandas: its frames come from a helper that jedi follows."""
    (tmp_path / "helpers.py").write_text(
        "import pandas as pd\n\n\ndef load_prices(path: str) -> pd.DataFrame:\n"
        "    return pd.read_csv(path)\n"
    )
    text = textwrap.dedent("""
        from helpers import load_prices  # pandas frames

        prices = load_prices("p.csv")
        cost = prices.apply(lambda row: row["kwh"] * row["price"], axis=1)
        for i in range(len(prices)):
            prices.at[i, "checked"] = True
        peak = len(prices[prices.hour > 17])
        rows = prices.loc[prices.hour > 17]["price"]
        """).lstrip("\n")
    engine = Engine(jedi_lookup=jedi_definition(tmp_path), budget_seconds=30.0,
                    rules=[RowIteration, RowByRowWrites, LengthOfFilter, ChainedIndexing])

    report = engine.check(SourceFile(text, str(tmp_path / "use.py")))

    assert sorted(finding.code for finding in report.findings) == [
        "FMP201", "FMP202", "FMP204", "FMP205"]


SAME_WITH_AND_WITHOUT_GATES = [
    """
    import pandas as pd
    frame = pd.read_csv("a.csv")
    frame.loc[1:3]["a"] = 5
    frame[1:3]["a"].attrs = {}
    busy = frame.kwh > 3
    peak = frame[busy]["price"]
    price = frame["price"][frame.kwh > 3]
    pair = frame[["a", "b"]][0:1]
    frame["a"].iloc[0] = 1
    frame["a"].at[3] += 1
    """,
    """
    import pandas as pd
    frame = pd.read_csv("a.csv")
    busy = frame.kwh > 3
    also = busy
    rows = frame.loc[also].shape[0]
    count = len(frame.loc[~busy])
    kinds = len(frame["kind"].unique())
    first = frame[busy].sort_values("a")
    again = frame[busy].sort_values("a")
    """,
    """
    import pandas as pd
    series = pd.Series([1.0, 2.0])
    frame = pd.DataFrame({"a": [1, 2]})
    for label in series.index:
        series.at[label] = series.at[label] * 2
    for i in range(0, len(frame)):
        frame["a"][i] = 0
    for row in frame.itertuples():
        frame.loc[row.Index, "b"] = row.a + 1
    """,
    """
    import pandas as pd
    frame = pd.DataFrame()
    grown = pd.DataFrame()
    for row in [{"a": 1}]:
        frame.loc[frame.shape[0]] = row
        frame.loc[len(frame.index)] = row
        grown = grown.append(pd.Series(row))
    while len(grown) < 3:
        grown = grown if grown.empty else pd.concat([grown, frame])
    """,
    """
    import pandas as pd
    frame = pd.read_csv("a.csv")
    for _, row in frame.iterrows():
        if row.kwh > 0:
            total = row.kwh * 2
        elif row.kwh < 0:
            continue
        else:
            pass
    values = [row.kwh for row in frame.itertuples()]
    scaled = frame.apply(scale, axis=1)
    """,
]


@pytest.mark.parametrize("code", SAME_WITH_AND_WITHOUT_GATES)
def test_gates_change_no_finding(code: str):
    """Shapes near each gate's edges: the findings are the same with and without gates."""
    text = textwrap.dedent(code).lstrip("\n")
    rules = [ChainedIndexing, LengthOfFilter, RepeatedComputation, RowByRowWrites,
             RowIteration, GrowingFrame]

    def run(gates: bool) -> list[tuple[str, str]]:
        report = Engine(rules=rules, gates=gates).check(SourceFile(text))
        return [(finding.code, str(finding.range)) for finding in report.findings]

    assert run(gates=True) == run(gates=False)
    assert run(gates=True), "each case holds at least one finding"
