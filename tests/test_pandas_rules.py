"""The pandas rules beyond their own examples: half-typed code and false-alarm traps."""

from __future__ import annotations

import textwrap

import pytest

from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.engine import Engine
from fmperf_ls.rules.base import registered
from fmperf_ls.rules.pandas import ChainedIndexing  # noqa: F401  (registers the family)

PANDAS_RULES = [rule for code, rule in registered().items() if code.startswith("FMP2")]


def check(code: str, rules=None):
    report = Engine(rules=rules or PANDAS_RULES).check(SourceFile(textwrap.dedent(code)))
    assert report.failures == []
    return report.findings


def codes(code: str) -> list[str]:
    return sorted(finding.code for finding in check(code))


@pytest.mark.parametrize("rule", PANDAS_RULES, ids=lambda rule: rule.code)
def test_every_prefix_of_every_example_is_checked_without_errors(rule):
    """Half-typed code: each example cut at many places, as an editor sees it while typing."""
    for example in rule.examples:
        text = example.source
        for end in range(0, len(text), 5):
            report = Engine(rules=PANDAS_RULES).check(SourceFile(text[:end]))
            assert report.failures == [], (rule.code, text[:end])


def test_all_examples_together_in_one_file_fail_no_rule():
    text = "\n".join(example.source for rule in PANDAS_RULES for example in rule.examples)

    assert check(text)


@pytest.mark.parametrize(
    "code",
    [
        # a dict of frames indexed first, then a mask: the frame is not indexed twice
        """
        import pandas as pd
        frames: dict[str, pd.DataFrame] = {}
        part = frames["a"][frames["a"]["x"] > 0]
        """,
        # JSON records and numpy
        """
        import json
        import numpy as np
        records = json.loads("[]")
        total = len(records[0]["items"])
        grid = np.ones((2, 2))
        for i in range(len(grid)):
            grid[i][1] = grid[i][0] * 2
        """,
        # reading one cell with .at/.iat is pandas' own advice
        """
        import pandas as pd
        df = pd.read_csv("a.csv")
        first = df.at[0, "a"]
        last = df.iat[-1, 0]
        """,
        # a chunked reader is not a frame
        """
        import pandas as pd
        reader = pd.read_csv("big.csv", chunksize=100)
        for chunk in reader:
            print(len(chunk[chunk["a"] > 0]))
        """,
        # the same filter before and after a write to the frame
        """
        import pandas as pd
        df = pd.read_csv("a.csv")
        before = df[df["a"] > 0]
        df["a"] = df["a"] - 1
        after = df[df["a"] > 0]
        """,
        # the same unique in two functions
        """
        import pandas as pd
        def one(df: pd.DataFrame):
            return df["a"].unique()
        def two(df: pd.DataFrame):
            return df["a"].unique()
        """,
        # a loop that calls a function per row is not vectorizable arithmetic
        """
        import pandas as pd
        df = pd.read_csv("a.csv")
        for _, row in df.iterrows():
            total = compute(row["a"])
        """,
        # concat once after collecting
        """
        import pandas as pd
        parts = [pd.read_csv(p) for p in ["a", "b"]]
        df = pd.concat(parts)
        """,
        # a frame padded once per iteration, not grown across iterations
        """
        import pandas as pd
        out = []
        for path in ["a", "b"]:
            df = pd.read_csv(path)
            df = pd.concat([df, df.tail(1)])
            out.append(df)
        """,
    ],
)
def test_traps_are_clean(code: str):
    assert codes(code) == []


def test_same_filter_in_if_and_else_is_not_repeated():
    code = """
    import pandas as pd
    df = pd.read_csv("a.csv")
    if len(df) > 3:
        x = df[df["a"] > 0]
    else:
        x = df[df["a"] > 0].head()
    """

    assert codes(code) == []


def test_filter_repeated_in_a_loop_after_the_first_is_reported_only_when_unchanged():
    changed = """
    import pandas as pd
    df = pd.read_csv("a.csv")
    kept = df.drop_duplicates()
    for day in range(3):
        again = df.drop_duplicates()
        df = df.iloc[1:]
    """
    unchanged = changed.replace("        df = df.iloc[1:]\n", "")

    assert codes(changed) == []
    assert codes(unchanged) == ["FMP203"]


def test_row_write_message_suggests_a_column_expression():
    code = """
    import pandas as pd
    df = pd.read_csv("a.csv")
    for i, row in df.iterrows():
        df.at[i, "c"] = row["a"] + 2 * row["b"]
    """
    findings = check(code)

    assert [finding.code for finding in findings] == ["FMP204"]
    assert 'df["c"] = df["a"] + 2 * df["b"]' in findings[0].message


def test_row_write_with_a_call_suggests_collecting_values():
    code = """
    import pandas as pd
    df = pd.read_csv("a.csv")
    for i in range(len(df)):
        df.at[i, "c"] = describe(df.at[i, "a"])
    """
    findings = check(code)

    assert [finding.code for finding in findings] == ["FMP204"]
    assert "list" in findings[0].message


def test_comprehension_over_rows_suggests_tolist():
    code = """
    import pandas as pd
    df = pd.read_csv("a.csv")
    doubled = [row.kw * 2 for row in df.itertuples()]
    total = sum(row["kw"] for _, row in df.iterrows())
    """
    findings = check(code)

    assert [finding.code for finding in findings] == ["FMP205", "FMP205"]
    assert '(df["kw"] * 2).tolist()' in findings[0].message
    assert 'df["kw"].sum()' in findings[1].message


def test_growth_fix_keeps_a_trailing_line_without_newline():
    code = (
        "import pandas as pd\n"
        "acc = pd.DataFrame()\n"
        "for p in ['a', 'b']:\n"
        "    acc = pd.concat([acc, pd.read_csv(p)])"
    )
    findings = check(code)

    assert [finding.code for finding in findings] == ["FMP206"]
    assert findings[0].fix is not None
