"""Proofs that the pandas fixes keep results: run each example before and after its fix.

The code of every proof is the rule's own example; its fixed form is produced
by the real fix machinery (`fix_text` with unsafe fixes), never written by
hand. Both are executed on generated inputs, NaN, empty, duplicated and
non-default indexes included, and their results compared with pandas' own
assertions. The one place where a fix must change behaviour, chained
assignment under copy-on-write, is asserted as a difference.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.engine import Engine
from fmperf_ls.fixes import fix_text
from fmperf_ls.rules.base import Example, Rule
from fmperf_ls.rules.pandas import (
    ChainedIndexing,
    GrowingFrame,
    LengthOfFilter,
    RepeatedComputation,
)

SHAPES = ("plain", "nan", "empty", "duplicated", "labels", "dates")


def fixed(rule: type[Rule], example: Example) -> str:
    """The example's source after every fix of the rule, unsafe ones included."""
    engine = Engine(rules=[rule])
    text, applied = fix_text(
        example.source, "example.py", lambda source: engine.check(source).findings, unsafe=True
    )
    assert applied, "the fix under proof was not applied"
    return text


def index_for(shape: str, size: int) -> pd.Index:
    if shape == "duplicated":
        return pd.Index([position // 2 for position in range(size)])
    if shape == "labels":
        return pd.Index([f"row{size - position}" for position in range(size)])
    if shape == "dates":
        return pd.date_range("2024-03-30 22:00", periods=size, freq="h", tz="Europe/Amsterdam")
    return pd.RangeIndex(size)


def frame(shape: str, columns: dict[str, Callable[[np.random.Generator, int], object]],
          seed: int = 0) -> pd.DataFrame:
    """A frame of the given shape: NaN sprinkled in, or no rows, or an odd index."""
    rng = np.random.default_rng(seed)
    size = 0 if shape == "empty" else 12
    data = {name: make(rng, size) for name, make in columns.items()}
    result = pd.DataFrame(data, index=index_for(shape, size))
    if shape == "nan" and size:
        for name in result.columns:
            result.loc[result.index[rng.integers(0, size, 4)], name] = np.nan
    return result


def numbers(low: float, high: float) -> Callable[[np.random.Generator, int], np.ndarray]:
    return lambda rng, size: rng.uniform(low, high, size).round(1)


def words(*choices: str) -> Callable[[np.random.Generator, int], list]:
    return lambda rng, size: list(rng.choice(choices, size))


def run(source: str, monkeypatch: pytest.MonkeyPatch, files: dict[str, pd.DataFrame]) -> dict:
    """Execute example code with `pd.read_csv(path)` served from `files` (as copies)."""
    monkeypatch.setattr(pd, "read_csv", lambda path, *args, **kwargs: files[path].copy())
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(source, "<example>", "exec"), namespace)
    return namespace


def outcome(function: Callable[[], object]) -> tuple[str, object]:
    """("value", result) or ("error", exception type): both sides must agree on either."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "value", function()
    except Exception as error:  # the proof compares failures too
        return "error", type(error)


def assert_same(before: object, after: object) -> None:
    if isinstance(before, pd.DataFrame):
        pdt.assert_frame_equal(before, after)
    elif isinstance(before, pd.Series):
        pdt.assert_series_equal(before, after)
    elif isinstance(before, tuple) and before and before[0] in ("value", "error"):
        assert before[0] == after[0]  # type: ignore[index]
        assert_same(before[1], after[1])  # type: ignore[index]
    else:
        assert before == after
        assert type(before) is type(after)


# -- FMP201 -------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_fmp201_read_fix_selects_the_same_values(shape, monkeypatch):
    example = ChainedIndexing.examples[0]
    prices = frame(shape, {"hour": numbers(0, 24), "price": numbers(-20, 80)})
    before = run(example.source, monkeypatch, {"prices.csv": prices})
    after = run(fixed(ChainedIndexing, example), monkeypatch, {"prices.csv": prices})

    assert_same(before["evening"], after["evening"])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("number", "function"), [(2, "night_load"), (6, "evening_prices")])
def test_fmp201_read_fix_in_a_function(shape, number, function, monkeypatch):
    example = ChainedIndexing.examples[number]
    load = frame(shape, {"power": numbers(0, 5), "hour": numbers(0, 24),
                         "price": numbers(-20, 80)}, seed=3)
    before = run(example.source, monkeypatch, {})[function]
    after = run(fixed(ChainedIndexing, example), monkeypatch, {})[function]

    assert_same(outcome(lambda: before(load.copy())), outcome(lambda: after(load.copy())))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("number", [1, 7])
def test_fmp201_write_fix_writes_where_the_chain_never_did(shape, number, monkeypatch):
    example = ChainedIndexing.examples[number]
    original = frame(shape, {"price": numbers(-30, 30), "other": numbers(0, 1)}, seed=5)
    intended = original.assign(price=original["price"].where(~(original["price"] < 0), 0.0))
    chained = run(example.source, monkeypatch, {})["clip_negative"]
    repaired = run(fixed(ChainedIndexing, example), monkeypatch, {})["clip_negative"]

    untouched, written = original.copy(), original.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chained(untouched)
    repaired(written)

    pdt.assert_frame_equal(untouched, original)  # copy-on-write: the chain wrote nothing
    pdt.assert_frame_equal(written, intended)  # the fix performs the intended write
    has_negatives = bool((original["price"] < 0).any())
    assert any("ChainedAssignment" in type(w.message).__name__ for w in caught) or not (
        has_negatives
    )


def test_fmp201_column_indexer_write_fix_writes(monkeypatch):
    example = ChainedIndexing.examples[3]
    before = run(example.source, monkeypatch, {})["frame"]
    after = run(fixed(ChainedIndexing, example), monkeypatch, {})["frame"]

    pdt.assert_frame_equal(before, pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]}))
    pdt.assert_frame_equal(after, pd.DataFrame({"a": [9, 2, 3], "b": [4, 5, 7]}))


# -- FMP202 -------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_fmp202_count_of_mask_equals_length_of_filter(shape, monkeypatch):
    example = LengthOfFilter.examples[0]
    orders = frame(shape, {"delay": numbers(0, 20), "site": words("a", "b")}, seed=7)
    before = run(example.source, monkeypatch, {"orders.csv": orders})
    after = run(fixed(LengthOfFilter, example), monkeypatch, {"orders.csv": orders})

    assert_same(before["late"], after["late"])


@pytest.mark.parametrize("shape", SHAPES)
def test_fmp202_shape_form_in_a_function(shape, monkeypatch):
    example = LengthOfFilter.examples[1]
    prices = frame(shape, {"price": numbers(0, 9)}, seed=11)
    before = run(example.source, monkeypatch, {})["share_missing"]
    after = run(fixed(LengthOfFilter, example), monkeypatch, {})["share_missing"]

    assert_same(outcome(lambda: before(prices)), outcome(lambda: after(prices)))


def test_fmp202_series_masks(monkeypatch):
    example = LengthOfFilter.examples[2]
    before = run(example.source, monkeypatch, {})
    after = run(fixed(LengthOfFilter, example), monkeypatch, {})

    assert_same(before["peaks"], after["peaks"])


@pytest.mark.parametrize("shape", SHAPES)
def test_fmp202_unsafe_fix_holds_when_the_indexes_match(shape, monkeypatch):
    example = LengthOfFilter.examples[3]
    sites = frame(shape, {"name": words("n", "s")}, seed=13)
    meters = frame(shape, {"active": words("1", "0")}, seed=17).astype({"active": float})
    files = {"sites.csv": sites, "meters.csv": meters}
    before = run(example.source, monkeypatch, files)
    after = run(fixed(LengthOfFilter, example), monkeypatch, files)

    assert_same(before["active"], after["active"])


def test_fmp202_unsafe_fix_differs_when_the_mask_has_more_rows(monkeypatch):
    """The documented assumption: pandas aligns a foreign mask, dropping its extra rows."""
    example = LengthOfFilter.examples[3]
    meters = pd.DataFrame({"active": [1, 1, 1, 0]})
    files = {"sites.csv": pd.DataFrame({"name": ["a", "b"]}), "meters.csv": meters}
    before = run(example.source, monkeypatch, files)
    after = run(fixed(LengthOfFilter, example), monkeypatch, files)

    assert (before["active"], after["active"]) == (2, 3)


# -- FMP203 -------------------------------------------------------------------

KIND_COLUMNS = {
    "words": words("solar", "wind", "gas"),
    "objects": lambda rng, size: [None, np.nan, "x", "y"] * (size // 4),
    "category": lambda rng, size: pd.Categorical(rng.choice(["a", "b"], size)),
    "floats": numbers(0, 3),
}


@pytest.mark.parametrize("kind", KIND_COLUMNS)
@pytest.mark.parametrize("shape", SHAPES)
def test_fmp203_nunique_counts_like_len_of_unique(shape, kind, monkeypatch):
    example = RepeatedComputation.examples[0]
    sales = frame(shape, {"kind": KIND_COLUMNS[kind]}, seed=19)
    before = run(example.source, monkeypatch, {"sales.csv": sales})
    after = run(fixed(RepeatedComputation, example), monkeypatch, {"sales.csv": sales})

    assert before["kinds"] == after["kinds"]


@pytest.mark.parametrize("shape", SHAPES)
def test_fmp203_hoisted_filter_gives_the_same_result(shape, monkeypatch, capsys):
    example = RepeatedComputation.examples[1]
    sales = frame(shape, {"units": numbers(-2, 5), "site": words("n", "e", "s")}, seed=23)
    before = run(example.source, monkeypatch, {})["busy_sites"]
    after = run(fixed(RepeatedComputation, example), monkeypatch, {})["busy_sites"]

    first = outcome(lambda: before(sales.copy()))
    printed = capsys.readouterr().out
    second = outcome(lambda: after(sales.copy()))

    assert_same(first, second)
    assert capsys.readouterr().out == printed


def test_fmp203_hoisted_sort_gives_the_same_result(monkeypatch, capsys):
    example = RepeatedComputation.examples[3]
    before = run(example.source, monkeypatch, {})
    printed = capsys.readouterr().out
    after = run(fixed(RepeatedComputation, example), monkeypatch, {})

    assert_same(before["ordered"], after["ordered"])
    assert capsys.readouterr().out == printed


# -- FMP206 -------------------------------------------------------------------


def pieces(shape: str, count: int) -> dict[str, pd.DataFrame]:
    """Pieces with changing columns and dtypes, as files of a directory would have."""
    result = {}
    for number in range(count):
        columns = {"kw": numbers(0, 9), "site": words("a", "b")}
        if number % 2:
            columns["extra"] = lambda rng, size: rng.integers(0, 5, size)
        result[f"part{number}.csv"] = frame(shape, columns, seed=number)
    return result


@pytest.mark.parametrize("count", [0, 1, 4])
@pytest.mark.parametrize("shape", SHAPES)
def test_fmp206_collected_pieces_concatenate_to_the_same_frame(shape, count, monkeypatch):
    example = GrowingFrame.examples[0]
    files = pieces(shape, count)
    before = run(example.source, monkeypatch, files)["load_all"]
    after = run(fixed(GrowingFrame, example), monkeypatch, files)["load_all"]

    assert_same(outcome(lambda: before(list(files))), outcome(lambda: after(list(files))))


def test_fmp206_fix_is_not_offered_for_a_reused_row_frame():
    """A row frame refilled in every iteration would be collected n times: no fix."""
    source = (
        "import pandas as pd\n\n\n"
        "def users(records):\n"
        "    row = pd.DataFrame()\n"
        "    result = pd.DataFrame()\n"
        "    for record in records:\n"
        "        row['id'] = [record]\n"
        "        result = pd.concat([result, row])\n"
        "    return result\n"
    )
    findings = Engine(rules=[GrowingFrame]).check(SourceFile(source)).findings

    assert [finding.fix for finding in findings] == [None]
