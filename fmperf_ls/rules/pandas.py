"""pandas rules (FMP2xx): chained indexing, repeated work, row-by-row loops.

Every rule here fires only when the receiver is known to be a DataFrame or a
Series (see `analysis.infer`): `config["a"]["b"]`, JSON records, numpy
`a[i][j]` and `frames[i][mask]` are never chained indexing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from parso.tree import NodeOrLeaf

from fmperf_ls.analysis.infer import Kind, key_keeps_rows
from fmperf_ls.analysis.scopes import definitions_before
from fmperf_ls.analysis.source import Range
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
    from fmperf_ls.engine import Context

_PANDAS_WORDS = ("pandas", "DataFrame", "Series")

_MASK_METHODS = {"isin", "isna", "notna", "isnull", "notnull", "between", "duplicated",
                 "eq", "ne", "lt", "le", "gt", "ge", "any", "all"}


@dataclass(frozen=True)
class ChainedAccess:
    """`base[first][second]` or `base.loc[first][second]` on a DataFrame."""

    chain: NodeOrLeaf
    base_end: int  # index in chain.children after the base expression
    indexer: str | None  # "loc" or "iloc" when the first key goes through one
    first: NodeOrLeaf
    second: NodeOrLeaf
    span: Range


def is_boolean_mask(node: NodeOrLeaf, depth: int = 0) -> bool:
    """Whether `node` is certainly a boolean condition, from its syntax or its definition."""
    if node.type in ("comparison", "and_expr", "expr", "xor_expr", "not_test"):
        return True
    if node.type == "factor" and node.children[0].value == "~":  # type: ignore[attr-defined]
        return True
    if node.type == "atom" and node.children[0].value == "(" and len(node.children) == 3:
        return is_boolean_mask(node.children[1], depth)  # type: ignore[attr-defined]
    if node.type in ("atom_expr", "power"):
        children = node.children  # type: ignore[attr-defined]
        last_two = children[-2:]
        return (
            len(children) >= 3
            and last_two[0].type == "trailer"
            and last_two[0].children[0].value == "."
            and last_two[0].children[1].value in _MASK_METHODS
            and last_two[1].children[0].value == "("
        )
    if node.type == "name" and depth < 3:
        definitions = definitions_before(node)  # type: ignore[arg-type]
        statement = definitions[0].get_definition() if definitions else None
        if statement is not None and statement.type == "expr_stmt":
            value = statement.children[-1]
            return len(statement.children) == 3 and is_boolean_mask(value, depth + 1)
    return False


def is_label(node: NodeOrLeaf) -> bool:
    """A column label written as a literal: a string or a list of strings."""
    if node.type in ("string", "strings"):
        return True
    if node.type == "atom" and node.children[0].value == "[":  # type: ignore[attr-defined]
        inner = node.children[1]  # type: ignore[attr-defined]
        items = inner.children[::2] if inner.type == "testlist_comp" else [inner]
        return all(item.type in ("string", "strings") for item in items)
    return False


def chained_accesses(ctx: Context, chain: NodeOrLeaf) -> Iterator[ChainedAccess]:
    """Each place in an `a.b[x][y]` chain where a DataFrame is indexed twice in a row."""
    children = chain.children  # type: ignore[attr-defined]
    for index in range(1, len(children) - 1):
        access = _access_at(ctx, chain, index)
        if access is not None:
            yield access


def _access_at(ctx: Context, chain: NodeOrLeaf, index: int) -> ChainedAccess | None:
    children = chain.children  # type: ignore[attr-defined]
    indexer = None
    subscripts = index
    if _is_attribute(children[index], ("loc", "iloc")):
        indexer = children[index].children[1].value
        subscripts = index + 1
    if subscripts + 1 >= len(children):
        return None
    first, second = children[subscripts], children[subscripts + 1]
    if not (_is_subscript(first) and _is_subscript(second)):
        return None
    keys = first.children[1], second.children[1]
    if indexer is None and all(key.type in ("string", "strings") for key in keys):
        return None  # `df["power"]["kw"]` reads a column of MultiIndex columns
    base = _chain_prefix(chain, index)
    if ctx.infer.kind(base) is not Kind.FRAME:
        return None
    span = Range.between(children[0], second)
    return ChainedAccess(chain, index, indexer, keys[0], keys[1], span)


def _chain_prefix(chain: NodeOrLeaf, end: int) -> NodeOrLeaf:
    from fmperf_ls.analysis.infer import _prefix

    return _prefix(chain, end)


def _is_subscript(trailer: NodeOrLeaf) -> bool:
    return trailer.type == "trailer" and trailer.children[0].value == "["  # type: ignore


def _is_attribute(trailer: NodeOrLeaf, names: tuple[str, ...]) -> bool:
    return (
        trailer.type == "trailer"
        and trailer.children[0].value == "."  # type: ignore[attr-defined]
        and trailer.children[1].value in names  # type: ignore[attr-defined]
    )


def _is_assignment_target(chain: NodeOrLeaf) -> bool:
    parent = chain.parent
    if parent is None or parent.type != "expr_stmt":
        return False
    children = parent.children  # type: ignore[attr-defined]
    operator = children[1] if len(children) > 1 else None
    if operator is None or operator.type not in ("operator",):
        return False
    return children[0] is chain and (operator.value == "=" or operator.value.endswith("="))


@register
class ChainedIndexing(Rule):
    code = "FMP201"
    name = "chained-indexing"
    summary = "DataFrame indexed twice in a row; use one .loc[rows, columns]"
    severity = Severity.WARNING
    prefilter = _PANDAS_WORDS
    docs = RuleDocs(
        what=(
            "Finds a DataFrame indexed twice in a row, `df[mask][\"col\"]`, "
            "`df[\"col\"][mask]`, `df.loc[rows][\"col\"]` or `df.iloc[i][\"col\"]`, "
            "and assignments through such a chain."
        ),
        why=(
            "The first index builds a whole intermediate object: `df[mask]` copies every "
            "column of the selected rows, O(rows x columns), only for one column to be "
            "kept; `df.iloc[i]` builds a row Series and upcasts mixed dtypes. An assignment "
            "through a chain writes into that temporary object: under pandas 3 "
            "copy-on-write it never reaches `df` at all, so it is reported as an error."
        ),
        example=(
            "evening = prices[prices.hour >= 17][\"price\"]\n"
            "prices[prices.price < 0][\"price\"] = 0  # never writes under copy-on-write"
        ),
        instead=(
            "evening = prices.loc[prices.hour >= 17, \"price\"]\n"
            "prices.loc[prices.price < 0, \"price\"] = 0"
        ),
        false_alarms=(
            "Only receivers known to be DataFrames are checked, so nested dicts, JSON "
            "records, numpy arrays and lists of frames are left alone. `df[\"a\"][\"b\"]` "
            "is not reported, because it is how a column of MultiIndex columns is read. "
            "A slice as first key is reported without a fix: `df[1:3]` is positional "
            "while `.loc[1:3]` is by label."
        ),
        references=(
            "https://pandas.pydata.org/docs/user_guide/copy_on_write.html",
            "https://pandas.pydata.org/docs/user_guide/indexing.html"
            "#returning-a-view-versus-a-copy",
        ),
    )
    examples = (
        flagged(
            """
            import pandas as pd

            prices = pd.read_csv("prices.csv")
            evening = prices[prices.hour >= 17]["price"]
            """,
            "4:10-4:44",
            fixed="""
            import pandas as pd

            prices = pd.read_csv("prices.csv")
            evening = prices.loc[prices.hour >= 17, "price"]
            """,
        ),
        flagged(
            """
            import pandas as pd


            def clip_negative(frame: pd.DataFrame) -> None:
                negative = frame["price"] < 0
                frame[negative]["price"] = 0
            """,
            "6:4-6:28",
            fixed="""
            import pandas as pd


            def clip_negative(frame: pd.DataFrame) -> None:
                negative = frame["price"] < 0
                frame.loc[negative, "price"] = 0
            """,
            note="chained assignment never writes under copy-on-write: an error",
        ),
        flagged(
            """
            from pandas import DataFrame

            def night_load(load: DataFrame):
                return load["power"][(load.hour < 6) | (load.hour >= 22)].sum()
            """,
            "4:11-4:61",
            fixed="""
            from pandas import DataFrame

            def night_load(load: DataFrame):
                return load.loc[(load.hour < 6) | (load.hour >= 22), "power"].sum()
            """,
        ),
        flagged(
            """
            import pandas as pd

            frame = pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]})
            first_rows = frame[1:3]["a"]
            row_value = frame.iloc[0]["b"]
            """,
            "4:13-4:28",
            "5:12-5:30",
            note="slices and positional rows are reported without a fix",
        ),
        clean(
            """
            import pandas as pd

            config = {"db": {"host": "localhost"}}
            host = config["db"]["host"]
            frames = [pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2]})]
            first = frames[0]["a"]
            by_site: dict[str, pd.DataFrame] = {}
            power = by_site["north"]["power"]
            """,
            note="dicts and containers of frames indexed first are not chained indexing",
        ),
        clean(
            """
            import numpy as np
            import pandas as pd

            grid = np.zeros((3, 3))
            cell = grid[1][2]
            wide = pd.read_csv("wide.csv", header=[0, 1])
            column = wide["power"]["kw"]
            value = wide.at[0, ("power", "kw")]
            """,
            note="numpy arrays, MultiIndex column access and .at are fine",
        ),
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        for chain in ctx.source.nodes("atom_expr", "power"):
            for access in chained_accesses(ctx, chain):
                yield self._finding(ctx, access)
                break

    def _finding(self, ctx: Context, access: ChainedAccess) -> Finding:
        writes = _is_assignment_target(access.chain) and _ends_chain(access)
        fix = _loc_fix(ctx, access, writes)
        if writes:
            message = (
                "chained assignment never writes to the DataFrame under copy-on-write; "
                "assign through one .loc[rows, column]"
            )
            return self.finding(access.span, message, severity=Severity.ERROR, fix=fix)
        message = "DataFrame indexed twice in a row builds an intermediate copy; " + (
            "use one .loc[rows, column]" if access.indexer != "iloc" else "select the column first"
        )
        return self.finding(access.span, message, fix=fix)


def _ends_chain(access: ChainedAccess) -> bool:
    return access.chain.children[-1].children[1] is access.second  # type: ignore[attr-defined]


def _loc_fix(ctx: Context, access: ChainedAccess, writes: bool) -> Fix | None:
    """`base.loc[rows, column]` when the keys say which is which, else None."""
    source = ctx.source
    base = source.slice(Range.between(access.chain.children[0],  # type: ignore[attr-defined]
                                      access.chain.children[access.base_end - 1]))
    first, second = access.first, access.second
    if access.indexer == "iloc" or first.type == "subscript" and access.indexer is None:
        return None  # positional rows have no label form to merge into
    if is_label(second) and (access.indexer == "loc" or is_boolean_mask(first)):
        rows, column = first, second
        safety = Safety.SAFE if access.indexer is None or _keeps_rows(first) else Safety.UNSAFE
    elif access.indexer is None and is_label(first) and is_boolean_mask(second):
        rows, column, safety = second, first, Safety.SAFE
    else:
        return None
    if writes:
        safety = Safety.UNSAFE  # the fixed write now happens, which the chain never did
    text = f"{base}.loc[{source.code_of(rows)}, {source.code_of(column)}]"
    return Fix(f"Use {text}", (Edit(access.span, text),), safety)


def _keeps_rows(key: NodeOrLeaf) -> bool:
    """`.loc[rows]` gives a frame (not a row Series) for masks, slices and lists."""
    return key_keeps_rows(key) or is_boolean_mask(key)
