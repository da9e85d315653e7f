"""pandas rules (FMP2xx): chained indexing, repeated work, row-by-row loops.

FMP201 chained indexing, FMP202 length of a boolean filter, FMP203 repeated
computation, FMP204 row-by-row writes, FMP205 row iteration, FMP206 growing a
frame in a loop. Every rule here fires only when the receiver is known to be
a DataFrame or a Series (see `analysis.infer`): `config["a"]["b"]`, JSON
records, numpy `a[i][j]` and `frames[i][mask]` are never findings. The fixes
are proven by tests/test_pandas_fix_proofs.py, which runs each example before
and after its fix on generated frames.
"""

from __future__ import annotations

import ast
import logging
import weakref
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fmperf_ls.analysis.infer import Kind, chain_prefix, key_keeps_rows
from fmperf_ls.analysis.invariance import runs_every_iteration
from fmperf_ls.analysis.outline import dotted, dotted_root
from fmperf_ls.analysis.scopes import definitions_before, is_inside, loops_around, scope_of
from fmperf_ls.analysis.source import Position, Range, inner_nodes
from fmperf_ls.rules.base import (
    Edit,
    Finding,
    Fix,
    Related,
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

Node = Any
"""A parso node or leaf: which of `children`/`value` it has depends on its `type`,
which every helper checks before reading them, so static types add nothing."""

_PANDAS_WORDS = ("pandas", "DataFrame", "Series")

_MASK_METHODS = {"isin", "isna", "notna", "isnull", "notnull", "between", "duplicated",
                 "eq", "ne", "lt", "le", "gt", "ge", "any", "all"}


@dataclass(frozen=True)
class ChainedAccess:
    """`base[first][second]` or `base.loc[first][second]` on a DataFrame."""

    chain: Node
    base_end: int  # index in chain.children after the base expression
    indexer: str | None  # "loc" or "iloc" when the first key goes through one
    first: Node
    second: Node
    span: Range


def is_boolean_mask(node: Node, depth: int = 0) -> bool:
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


def is_label(node: Node) -> bool:
    """A column label written as a literal: a string or a list of strings."""
    if node.type in ("string", "strings"):
        return True
    if node.type == "atom" and node.children[0].value == "[":  # type: ignore[attr-defined]
        inner = node.children[1]  # type: ignore[attr-defined]
        items = inner.children[::2] if inner.type == "testlist_comp" else [inner]
        return all(item.type in ("string", "strings") for item in items)
    return False


def chained_accesses(ctx: Context, chain: Node) -> Iterator[ChainedAccess]:
    """Each place in an `a.b[x][y]` chain where a DataFrame is indexed twice in a row."""
    children = chain.children  # type: ignore[attr-defined]
    for index in range(1, len(children) - 1):
        access = _access_at(ctx, chain, index)
        if access is not None:
            yield access


def _access_at(ctx: Context, chain: Node, index: int) -> ChainedAccess | None:
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
    if not _is_assignment_target(chain) and not _costly_read(indexer, *keys):
        return None  # a cheap read such as `df["col"][i]` or `df["power"]["kw"]`
    base = chain_prefix(chain, index)
    if ctx.infer.kind(base) is not Kind.FRAME:
        return None
    span = Range.between(children[0], second)
    return ChainedAccess(chain, index, indexer, keys[0], keys[1], span)


def _costly_read(indexer: str | None, first: Node, second: Node) -> bool:
    """Whether reading `base[first][second]` builds an intermediate worth avoiding.

    Rows first (a mask, a list, or one `.loc`/`.iloc` row) copy or box every
    column before one is kept; a slice of rows is a view and costs nothing. A
    column first is cheap (pandas caches it), so `df["col"][i]` and the
    MultiIndex read `df["power"]["kw"]` are fine; only a column filtered by a
    mask afterwards is reported, as pandas documents one `.loc[mask, "col"]`.
    """
    if first.type == "subscript":
        return False  # a slice of rows is a view: nothing is copied
    if indexer == "loc" and _whole_column(first) is not None:
        return is_boolean_mask(second)  # `.loc[:, "col"]` selects as `df["col"]`: judged alike
    if indexer is not None or is_boolean_mask(first):
        return True
    if first.type == "atom" and first.children[0].value == "[":  # type: ignore[attr-defined]
        return True
    return is_label(first) and is_boolean_mask(second)


def _whole_column(key: Node) -> Node | None:
    """`col` of the key `:, col`: every row of one column, as `df[col]` selects it."""
    children = key.children if key.type == "subscriptlist" else []  # type: ignore[attr-defined]
    if len(children) == 3 and children[0].type == "operator" and children[0].value == ":":
        return children[2]
    return None


def _is_subscript(trailer: Node) -> bool:
    return trailer.type == "trailer" and trailer.children[0].value == "["  # type: ignore


def _is_attribute(trailer: Node, names: tuple[str, ...]) -> bool:
    return (
        trailer.type == "trailer"
        and trailer.children[0].value == "."  # type: ignore[attr-defined]
        and trailer.children[1].value in names  # type: ignore[attr-defined]
    )


def _is_assignment_target(chain: Node) -> bool:
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
            "and assignments through such a chain, including `df[\"col\"].iloc[i] = v`."
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
            "records, numpy arrays and lists of frames are left alone. Cheap reads are not "
            "reported: a column first (`df[\"a\"][i]`, and `df[\"a\"][\"b\"]`, how a "
            "column of MultiIndex columns is read) and a slice of rows first (a view). "
            "Every chained write is reported; one with a slice first gets no fix, since "
            "`df[1:3]` is positional while `.loc[1:3]` is by label. Write fixes are unsafe "
            "by nature: the fixed code writes, which the original never did."
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
            frame[1:3]["a"] = 0
            row_value = frame.iloc[0]["b"]
            frame["a"].iloc[0] = 9
            frame["b"].loc[2] += 1
            """,
            "4:0-4:15",
            "5:12-5:30",
            "6:0-6:18",
            "7:0-7:17",
            fixed="""
            import pandas as pd

            frame = pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]})
            frame[1:3]["a"] = 0
            row_value = frame.iloc[0]["b"]
            frame.iat[0, frame.columns.get_loc("a")] = 9
            frame.at[2, "b"] += 1
            """,
            note="a slice first and a positional row get no fix; a column's indexer does",
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
            frame = pd.DataFrame({"a": [1, 2, 3]})
            first_rows = frame[1:3]["a"]
            third = frame["a"][2]
            wide = pd.read_csv("wide.csv", header=[0, 1])
            column = wide["power"]["kw"]
            value = wide.at[0, ("power", "kw")]
            """,
            note="numpy arrays, row slices (views), one cell of a column, MultiIndex, .at",
        ),
        flagged(
            """
            import pandas as pd


            def evening_prices(prices: pd.DataFrame) -> pd.Series:
                return prices.loc[:, "price"][prices["hour"] >= 17]
            """,
            "5:11-5:55",
            fixed="""
            import pandas as pd


            def evening_prices(prices: pd.DataFrame) -> pd.Series:
                return prices.loc[prices["hour"] >= 17, "price"]
            """,
        ),
        flagged(
            """
            import pandas as pd


            def clip_negative(frame: pd.DataFrame) -> None:
                frame.loc[:, "price"][frame["price"] < 0] = 0
            """,
            "5:4-5:45",
            fixed="""
            import pandas as pd


            def clip_negative(frame: pd.DataFrame) -> None:
                frame.loc[frame["price"] < 0, "price"] = 0
            """,
        ),
        flagged(
            """
            import pandas as pd


            def peaks(frame: pd.DataFrame) -> pd.Series:
                first = frame.loc[:, "price"][0]
                frame.loc[:, "price"]["peak"] = first
                return frame.loc[frame["hour"] > 17, ["price", "hour"]]["price"]
            """,
            "6:4-6:33",
            "7:11-7:68",
            fixed="""
            import pandas as pd


            def peaks(frame: pd.DataFrame) -> pd.Series:
                first = frame.loc[:, "price"][0]
                frame.loc[:, "price"]["peak"] = first
                return frame.loc[frame["hour"] > 17, ["price", "hour"]]["price"]
            """,
            note="one cell of a whole column is cheap; a row key or a second selection of "
            "columns does not merge into one .loc",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A subscript of a subscript (or `x[c].loc[k] = v`) where frames can be known."""
        return _indexes_twice(outline) and frames_possible(outline, ctx)

    def check(self, ctx: Context) -> Iterator[Finding]:
        for chain in ctx.source.nodes("atom_expr", "power"):
            found = False
            for access in chained_accesses(ctx, chain):
                yield self._finding(ctx, access)
                found = True
                break
            if not found and _is_assignment_target(chain):
                write = _column_indexer_write(ctx, chain)
                if write is not None:
                    yield write_finding(self, ctx, chain, *write)

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


def _column_indexer_write(ctx: Context, chain: Node):
    """`df["col"].iloc[k] = v` (or .loc/.at/.iat): a write into a column's temporary Series."""
    children = chain.children  # type: ignore[attr-defined]
    if len(children) < 4 or not _is_subscript(children[-1]):
        return None  # not a subscripted write
    if not (_is_attribute(children[-2], ("loc", "iloc", "at", "iat"))
            and _is_subscript(children[-3])):
        return None  # not `[col].<indexer>[key]`
    key, column = children[-1].children[1], children[-3].children[1]
    if key.type == "subscriptlist" or column.type == "subscript":
        return None  # a frame's two-key write, or a slice of rows first
    base = chain_prefix(chain, len(children) - 3)
    if ctx.infer.kind(base) is not Kind.FRAME:
        return None  # dicts, lists and unknown receivers
    return base, children[-2].children[1].value, key, column


def write_finding(rule: Rule, ctx: Context, chain: Node, base: Node, indexer: str,
                  key: Node, column: Node) -> Finding:
    """The error for `df[col].<indexer>[key] = v`, fixed to one indexer on the frame."""
    source = ctx.source
    base_text, key_text = source.code_of(base), source.code_of(key)
    column_text = source.code_of(column)
    if key.type in ("number", "string", "strings") or key.type == "factor" and (
        key.children[1].type == "number"  # type: ignore[attr-defined]
    ):
        indexer = {"loc": "at", "iloc": "iat"}.get(indexer, indexer)  # one cell: any value fits
    if indexer in ("loc", "at"):
        text = f"{base_text}.{indexer}[{key_text}, {column_text}]"
    else:
        text = f"{base_text}.{indexer}[{key_text}, {base_text}.columns.get_loc({column_text})]"
    fix = None
    if column.type in ("string", "strings"):
        fix = Fix(f"Use {text}", (Edit(Range.of(chain), text),), Safety.UNSAFE)
    message = (
        "chained assignment never writes to the DataFrame under copy-on-write: "
        f"the column is a temporary Series; assign through the frame: {text}"
    )
    return rule.finding(Range.of(chain), message, severity=Severity.ERROR, fix=fix)


def _ends_chain(access: ChainedAccess) -> bool:
    return access.chain.children[-1].children[1] is access.second  # type: ignore[attr-defined]


def _loc_fix(ctx: Context, access: ChainedAccess, writes: bool) -> Fix | None:
    """`base.loc[rows, column]` when the keys say which is which, else None."""
    source = ctx.source
    base = source.slice(Range.between(access.chain.children[0],  # type: ignore[attr-defined]
                                      access.chain.children[access.base_end - 1]))
    first, second = access.first, access.second
    column = _whole_column(first) if access.indexer == "loc" else None
    if access.indexer == "iloc" or first.type == "subscript" and access.indexer is None:
        return None  # positional rows have no label form to merge into
    if column is not None:
        if not (is_label(column) and is_boolean_mask(second)):
            return None  # `.loc[:, col][key]`: a key of any other kind may be positional
        rows, safety = second, Safety.SAFE
    elif first.type == "subscriptlist":
        return None  # `.loc[rows, columns][key]`: the key may pick rows or columns
    elif is_label(second) and (access.indexer == "loc" or is_boolean_mask(first)):
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


def _keeps_rows(key: Node) -> bool:
    """`.loc[rows]` gives a frame (not a row Series) for masks, slices and lists."""
    return key_keeps_rows(key) or is_boolean_mask(key)


# -- shared helpers for FMP202-FMP206 ------------------------------------------

_FRAMES = (Kind.FRAME, Kind.SERIES)
_MASK_SHAPES = ("name", "comparison", "and_expr", "expr", "xor_expr", "not_test", "factor",
                "atom", "atom_expr", "power")
"""Syntax a boolean mask can have; strings, numbers, lists and slices cannot be one."""
_ROW_LOOPS = ("iterrows", "itertuples")


def _code(node: Node) -> str:
    return node.get_code(include_prefix=False)


def _leaves_of(node: Node) -> Iterator[Node]:
    """Every leaf of `node`, in source order (a leaf is its own only leaf)."""
    stack = [node]
    while stack:
        current = stack.pop()
        children = getattr(current, "children", None)
        if children is None:
            yield current
        else:
            stack.extend(reversed(children))


def _tokens(nodes: list[Node]) -> str:
    """The nodes' text with layout removed: two spellings of one expression compare equal."""
    return " ".join(leaf.value for node in nodes for leaf in _leaves_of(node))  # type: ignore


def _is_call(trailer: Node) -> bool:
    return trailer.type == "trailer" and trailer.children[0].value == "("  # type: ignore


def _arguments(call: Node) -> list[Node]:
    """The arguments of a `(...)` trailer, positional and keyword, in order."""
    if len(call.children) < 3:  # type: ignore[attr-defined]
        return []
    inner = call.children[1]  # type: ignore[attr-defined]
    return [node for node in inner.children[::2]] if inner.type == "arglist" else [inner]


def _keyword(call: Node, name: str) -> Node | None:
    """The value of keyword argument `name` in a call trailer."""
    for argument in _arguments(call):
        parts = argument.children if argument.type == "argument" else []
        if len(parts) == 3 and _is_name(parts[0], name) and _is_operator(parts[1], "="):
            return parts[2]
    return None


def _positional(call: Node) -> list[Node]:
    return [argument for argument in _arguments(call) if argument.type != "argument"]


def _is_builtin(name: Node, ctx: Context) -> bool:
    """`len` (or another builtin) that no import or definition in the file rebinds."""
    if name.type != "name" or ctx.imports.resolve(name.value) is not None:  # type: ignore
        return False
    used = name.get_root_node().get_used_names().get(name.value, [])  # type: ignore
    return not any(candidate.is_definition() for candidate in used)


def _statement_of(node: Node) -> Node:
    """The simple or compound statement that holds `node` directly in a block."""
    current = node
    while current.parent is not None and current.parent.type not in ("suite", "file_input"):
        current = current.parent
    return current


def _indent_of(source, node: Node) -> str:
    line = source.line_text(node.start_pos[0] - 1)
    return line[: len(line) - len(line.lstrip())]


def _fresh_name(node: Node, wanted: str) -> str:
    """`wanted`, or `wanted_2`, ... : a name the module does not use anywhere yet."""
    used = node.get_root_node().get_used_names()  # type: ignore[attr-defined]
    candidate, number = wanted, 1
    while candidate in used:
        number += 1
        candidate = f"{wanted}_{number}"
    return candidate


def _row_filter(ctx: Context, chain: Node, end: int) -> tuple[int, Node] | None:
    """`(receiver_end, mask)` when `chain.children[end - 1]` is `[mask]` or `.loc[mask]`.

    Only a one-dimensional boolean mask counts: a boolean frame as key keeps
    every row (it masks cells), so counting it would be wrong.
    """
    children = chain.children  # type: ignore[attr-defined]
    trailer = children[end - 1]
    if end < 2 or not _is_subscript(trailer):
        return None  # the last step is not a subscript
    mask = trailer.children[1]
    receiver_end = end - 1
    if receiver_end >= 2 and _is_attribute(children[receiver_end - 1], ("loc",)):
        receiver_end -= 1
    if receiver_end < 1 or mask.type not in _MASK_SHAPES:
        return None  # `df["col"]`, `df[0]`, `df.loc[rows, cols]`, slices: not a row filter
    if not is_boolean_mask(mask):
        return None  # not a condition (checked before the costlier type questions)
    if ctx.infer.kind(chain_prefix(chain, receiver_end)) not in _FRAMES:
        return None  # dicts, arrays and unknown receivers are left alone
    if ctx.infer.kind(mask) is not Kind.SERIES:
        return None  # not provably a one-dimensional boolean mask
    return receiver_end, mask


def _mask_count(source, mask: Node) -> str:
    """`int(mask.sum())`, parenthesizing an operator expression."""
    text = source.code_of(mask)
    if mask.type not in ("name", "atom_expr", "power", "atom") or mask.type == "power" and (
        any(child.type == "operator" and child.value == "**" for child in mask.children)
    ):
        text = f"({text})"
    return f"int({text}.sum())"


def _aligned_with(ctx: Context, mask: Node, root: str, depth: int = 0) -> bool:
    """Whether `mask` is built from `root` alone, so that it shares its index exactly.

    A mask built from another object is aligned on labels by pandas: rows of
    the mask missing from the frame are dropped before counting, which
    `mask.sum()` would count. Comparisons raise on unequal labels instead of
    aligning, so their other operand may be anything.
    """
    if mask.type == "name" and depth < 2:
        same = mask.value == root  # type: ignore[attr-defined]
        return same or _mask_definition_aligned(ctx, mask, root, depth)
    if mask.type == "comparison":
        return any(_aligned_with(ctx, operand, root, depth) for operand in mask.children[::2])
    if mask.type in ("atom_expr", "power") and mask.children[0].type == "name":  # type: ignore
        return mask.children[0].value == root  # type: ignore[attr-defined]
    if mask.type == "atom" and mask.children[0].value == "(":  # type: ignore[attr-defined]
        return _aligned_with(ctx, mask.children[1], root, depth)  # type: ignore[attr-defined]
    if mask.type == "factor":
        return _aligned_with(ctx, mask.children[1], root, depth)  # type: ignore[attr-defined]
    if mask.type in ("and_expr", "expr", "xor_expr"):
        return all(_aligned_with(ctx, part, root, depth) for part in mask.children[::2])
    return False


def _mask_definition_aligned(ctx: Context, mask: Node, root: str, depth: int) -> bool:
    """A mask held in a name: its value is built from `root`, not rebound in between."""
    definitions = definitions_before(mask)  # type: ignore[arg-type]
    statement = definitions[0].get_definition() if definitions else None
    if statement is None or statement.type != "expr_stmt" or len(statement.children) != 3:
        return False  # a mask from a parameter or a loop: origin unknown
    rebinds = [
        name for name in definitions_before(_root_leaf_after(mask, root) or mask)  # type: ignore
        if name.value == root and statement.end_pos <= name.start_pos < mask.start_pos
    ]
    return not rebinds and _aligned_with(ctx, statement.children[2], root, depth + 1)


def _root_leaf_after(mask: Node, root: str) -> Node | None:
    """The `root` name read right after the mask (its receiver), to ask what was bound."""
    chain = mask.parent.parent if mask.parent is not None else None
    if chain is None or chain.type not in ("atom_expr", "power"):
        return None
    head = chain.children[0]  # type: ignore[attr-defined]
    return head if head.type == "name" and head.value == root else None


@register
class LengthOfFilter(Rule):
    code = "FMP202"
    name = "length-of-filter"
    summary = "len() of a boolean filter copies the rows only to count them; sum the mask"
    severity = Severity.WARNING
    prefilter = _PANDAS_WORDS
    docs = RuleDocs(
        what=(
            "Finds the number of rows of a boolean filter computed by building the filter: "
            "`len(df[mask])`, `len(df.loc[mask])` or `df[mask].shape[0]`, where `mask` is a "
            "one-dimensional boolean Series."
        ),
        why=(
            "`df[mask]` copies every selected row of every column, O(rows x columns) time "
            "and memory, and then all of it is thrown away because only its length is "
            "used. Summing the mask reads one boolean per row, O(rows), and copies nothing."
        ),
        example="late = len(orders[orders[\"delay\"] > 10])",
        instead="late = int((orders[\"delay\"] > 10).sum())",
        false_alarms=(
            "Only masks that are certainly one-dimensional boolean Series are reported: a "
            "boolean DataFrame used as key keeps every row, and a list or array key is "
            "not a filter. The fix is safe when the mask is built from the filtered object "
            "itself; a mask taken from another object is aligned on labels by pandas "
            "(labels the frame lacks are dropped), so that fix is marked unsafe."
        ),
        references=(
            "https://pandas.pydata.org/docs/user_guide/indexing.html#boolean-indexing",
            "https://pandas.pydata.org/docs/reference/api/pandas.Series.sum.html",
        ),
    )
    examples = (
        flagged(
            """
            import pandas as pd

            orders = pd.read_csv("orders.csv")
            late = len(orders[orders["delay"] > 10])
            """,
            "4:7-4:40",
            fixed="""
            import pandas as pd

            orders = pd.read_csv("orders.csv")
            late = int((orders["delay"] > 10).sum())
            """,
        ),
        flagged(
            """
            import pandas as pd


            def share_missing(frame: pd.DataFrame) -> float:
                missing = frame["price"].isna()
                return frame[missing].shape[0] / len(frame)
            """,
            "6:11-6:34",
            fixed="""
            import pandas as pd


            def share_missing(frame: pd.DataFrame) -> float:
                missing = frame["price"].isna()
                return int(missing.sum()) / len(frame)
            """,
        ),
        flagged(
            """
            import pandas as pd

            load = pd.Series([1.0, 2.0, None])
            peaks = len(load.loc[~(load < 1.5)]) + len(load[(load > 0) & load.notna()])
            """,
            "4:8-4:36",
            "4:39-4:75",
            fixed="""
            import pandas as pd

            load = pd.Series([1.0, 2.0, None])
            peaks = int((~(load < 1.5)).sum()) + int(((load > 0) & load.notna()).sum())
            """,
        ),
        flagged(
            """
            import pandas as pd

            sites = pd.read_csv("sites.csv")
            meters = pd.read_csv("meters.csv")
            active = len(sites[meters["active"] == 1])
            """,
            "5:9-5:42",
            fixed="""
            import pandas as pd

            sites = pd.read_csv("sites.csv")
            meters = pd.read_csv("meters.csv")
            active = int((meters["active"] == 1).sum())
            """,
            note="a mask of another frame is aligned on labels: reported, fix unsafe",
        ),
        clean(
            """
            import pandas as pd

            frame = pd.read_csv("grid.csv")
            cells = len(frame[frame > 0])
            rows = len(frame[["a", "b"]])
            head = len(frame[:10])
            records = [{"ok": True}]
            ok = len(records[0])
            matrix = {"a": [1, 2]}
            size = len(matrix["a"])
            """,
            note="a boolean frame keeps every row; columns, slices and dicts are not filters",
        ),
        clean(
            """
            import numpy as np
            import pandas as pd

            values = np.arange(10)
            small = len(values[values < 3])


            def count(frame, mask):
                return len(frame[mask])


            def count_filtered(frame: pd.DataFrame, len=len):
                return len(frame[frame["a"] > 0])
            """,
            note="numpy arrays, untyped receivers and a rebound len are left alone",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """`len()` or `.shape[0]` of a subscript by a mask-shaped key where frames can be known."""
        return _counts_filter(outline) and frames_possible(outline, ctx)

    def check(self, ctx: Context) -> Iterator[Finding]:
        for chain in ctx.source.nodes("atom_expr", "power"):
            found = self._length_call(ctx, chain) or self._shape_rows(ctx, chain)
            if found is not None:
                yield found

    def _length_call(self, ctx: Context, chain: Node) -> Finding | None:
        children = chain.children  # type: ignore[attr-defined]
        if len(children) < 2 or children[0].type != "name" or children[0].value != "len":
            return None  # not a call of len
        call = children[1]
        if not _is_call(call) or len(_arguments(call)) != 1:
            return None  # len() of nothing, or of several things
        argument = _arguments(call)[0]
        if argument.type not in ("atom_expr", "power") or not _is_builtin(children[0], ctx):
            return None  # not the builtin len of a subscripted expression
        found = _row_filter(ctx, argument, len(argument.children))  # type: ignore
        if found is None:
            return None  # not a one-dimensional boolean filter
        return self._report(ctx, argument, found, Range.between(children[0], call))

    def _shape_rows(self, ctx: Context, chain: Node) -> Finding | None:
        children = chain.children  # type: ignore[attr-defined]
        for index in range(2, len(children) - 1):
            if not (_is_attribute(children[index], ("shape",)) and _is_subscript(
                children[index + 1]
            ) and _code(children[index + 1].children[1]) == "0"):
                continue
            found = _row_filter(ctx, chain, index)
            if found is not None:
                span = Range.between(children[0], children[index + 1])
                return self._report(ctx, chain, found, span)
        return None

    def _report(self, ctx: Context, chain: Node, found, span: Range) -> Finding:
        receiver_end, mask = found
        receiver = chain_prefix(chain, receiver_end)
        text = _mask_count(ctx.source, mask)
        name = str(getattr(receiver, "value", ""))
        aligned = receiver.type == "name" and _aligned_with(ctx, mask, name)
        safety = Safety.SAFE if aligned else Safety.UNSAFE
        message = (
            "len() of a boolean filter copies every selected row only to count them; "
            f"count the mask instead: {text}"
        )
        fix = Fix(f"Use {text}", (Edit(span, text),), safety)
        return self.finding(span, message, fix=fix, cost="O(rows x columns) copy to count")


# -- FMP206 -------------------------------------------------------------------


@dataclass(frozen=True)
class Growth:
    """`acc = pd.concat([acc, piece, ...], **options)` inside a loop."""

    statement: Node  # the expr_stmt
    value: Node  # the concat call expression
    accumulator: str
    loop: Node  # the innermost for/while statement
    pieces: tuple[Node, ...]  # list elements after the accumulator
    first: bool  # whether the accumulator is the first element


_RESETS = ("DataFrame", "Series")


def _concat_growth(ctx: Context, statement: Node) -> Growth | None:
    """The accumulating concat, or None for any other assignment."""
    children = statement.children  # type: ignore[attr-defined]
    if len(children) != 3 or children[0].type != "name" or not _is_operator(children[1], "="):
        return None  # not `name = value`
    target, value = children[0], _concat_in(ctx, children[2])
    if value is None:
        return None  # no pd.concat here
    listed = _listed(_positional(value.children[-1])[:1])
    if listed is None:
        return None  # concat of a variable or a generator: no accumulator to see
    names = [index for index, item in enumerate(listed) if _is_name(item, target.value)]
    if len(names) != 1 or len(listed) < 2 or names[0] not in (0, len(listed) - 1):
        return None  # `[start, acc, end]` pads one frame rather than growing it
    loops = [loop for loop in loops_around(statement) if loop.kind != "comprehension"]
    if not loops or loops[0].kind == "comprehension":
        return None  # a single concat is the right way to join frames
    pieces = tuple(item for index, item in enumerate(listed) if index != names[0])
    return Growth(statement, value, target.value, loops[0].node, pieces, names[0] == 0)


def _rejoined_list(ctx: Context, statement: Node) -> tuple[Node, str] | None:
    """`whole = pd.concat(parts)` run on every iteration of a loop that appends to `parts`.

    Not under an `if` (which may run once, at the end), and only while the
    loop never rebinds, empties or trims the list: a batch flushed now and
    then, or a sliding window, stays small.
    """
    children = statement.children  # type: ignore[attr-defined]
    if len(children) != 3 or not _is_operator(children[1], "="):
        return None  # not `target = value`
    call = _concat_in(ctx, children[2])
    listed = _positional(call.children[-1])[:1] if call is not None else []  # type: ignore
    if call is None or not listed or listed[0].type != "name":
        return None  # not `pd.concat(name, ...)`
    name = listed[0].value  # type: ignore[attr-defined]
    loops = [loop for loop in loops_around(statement) if loop.kind != "comprehension"]
    if not loops or not runs_every_iteration(statement, loops[0]):
        return None  # no loop, or a branch that may run only once
    loop = loops[0].node
    if not _bound_before_loop(loop, name) or not _only_grown_in(loop, name):
        return None  # not a list carried into the loop, or one the loop keeps small
    return call, name


_GROWING = frozenset({"append", "extend"})
_SHRINKING = frozenset({"clear", "pop", "popleft", "remove"})
_LIST_METHODS = tuple(sorted(_GROWING | _SHRINKING))


def _only_grown_in(loop: Node, name: str) -> bool:
    """The loop appends to `name`, and never rebinds it, shrinks it or `del`s from it."""
    uses = loop.get_root_node().get_used_names().get(name, [])  # type: ignore[attr-defined]
    grown = False
    for leaf in uses:
        if not is_inside(leaf, loop) or leaf.parent.type == "trailer":
            continue  # elsewhere, or an attribute that happens to share the name
        if leaf.is_definition() or leaf.search_ancestor("del_stmt") is not None:
            return False  # rebound (a batch) or trimmed (a sliding window)
        following = leaf.get_next_sibling()
        method = following.children[1].value if following is not None and _is_attribute(
            following, _LIST_METHODS) else None
        if method in _SHRINKING:
            return False
        grown = grown or method in _GROWING
    return grown


def _bound_before_loop(loop: Node, name: str) -> list[Node]:
    """Where the loop's scope binds `name` before the loop, in source order."""
    used = loop.get_root_node().get_used_names().get(name, [])  # type: ignore[attr-defined]
    return [leaf for leaf in used if leaf.start_pos < loop.start_pos and leaf.is_definition()
            and scope_of(leaf) is scope_of(loop)]


def _concat_in(ctx: Context, value: Node) -> Node | None:
    """The `pd.concat(...)` call that is the value, or a branch of a conditional value."""
    if value.type == "test":
        branches = value.children[0], value.children[-1]  # type: ignore[attr-defined]
        return next(filter(None, (_concat_in(ctx, branch) for branch in branches)), None)
    if value.type not in ("atom_expr", "power") or not _is_call(value.children[-1]):  # type: ignore
        return None  # not a call
    callee = chain_prefix(value, len(value.children) - 1)  # type: ignore[attr-defined]
    return value if ctx.imports.qualified(callee) == "pandas.concat" else None


def _listed(arguments: list[Node]) -> list[Node] | None:
    """The elements of a list or tuple display passed as the one argument."""
    if len(arguments) != 1 or arguments[0].type != "atom":
        return None  # objects passed as a variable or generator
    atom = arguments[0]
    if atom.children[0].value not in ("[", "(") or len(atom.children) != 3:  # type: ignore
        return None  # not a list or tuple display
    content = atom.children[1]  # type: ignore[attr-defined]
    if content.type == "testlist_comp":
        if any(child.type in ("sync_comp_for", "comp_for") for child in content.children):
            return None  # a comprehension: one concat of many pieces
        return list(content.children[::2])
    return [content]


def _is_name(node: Node, name: str) -> bool:
    return node.type == "name" and node.value == name  # type: ignore[attr-defined]


def _assignments_in(node: Node, name: str) -> list[Node]:
    """Statements in `node` that bind `name`, besides `for` targets."""
    found = []
    for leaf in _leaves_of(node):
        if _is_name(leaf, name) and leaf.is_definition():  # type: ignore[attr-defined]
            found.append(leaf.get_definition())  # type: ignore[attr-defined]
    return found


def _resets_in_loop(growth: Growth) -> bool:
    """The accumulator is set anew in the loop: flushed in batches, or not carried over.

    `df = load(); df = pd.concat([start_row, df])` in a loop body pads one frame
    per iteration; nothing grows from one iteration to the next.
    """
    for statement in _assignments_in(growth.loop, growth.accumulator):
        if statement is None or statement is growth.statement:
            continue
        if statement.type != "expr_stmt":
            return True  # rebound by an inner for or with: not a plain growth
        if statement.start_pos < growth.statement.start_pos and _always_before(
            statement, growth.statement
        ):
            return True
        value = statement.children[-1]
        text = _code(value)
        if value.type == "keyword" or text in ("[]", "{}") or text.split("(")[0].endswith(
            _RESETS
        ):
            return True
    return _size_guarded(growth)


def _size_guarded(growth: Growth) -> bool:
    """An enclosing `if acc.empty:` or `if len(acc) < n:` bounds how often it runs."""
    acc = growth.accumulator
    parent = growth.statement.parent
    while parent is not None and parent is not growth.loop:
        if parent.type in ("if_stmt", "while_stmt"):
            test = f" {_tokens([parent.children[1]])} "  # type: ignore[attr-defined]
            if f" {acc} . empty " in test or f" len ( {acc} ) " in test:
                return True
        parent = parent.parent
    return False


def _grow_fix(ctx: Context, growth: Growth) -> Fix | None:
    """Collect the pieces in a list and concatenate once after the loop."""
    if not _canonical_growth(ctx, growth):
        return None  # the pattern is not the plain one the fix handles
    source, loop, acc = ctx.source, growth.loop, growth.accumulator
    parts = _fresh_name(loop, f"{acc}_parts")
    indent = _indent_of(source, loop)
    pieces = [source.code_of(piece) for piece in growth.pieces]
    if len(pieces) == 1 and growth.pieces[0].type != "star_expr":
        collect = f"{parts}.append({pieces[0]})"
    else:
        collect = f"{parts}.extend([{', '.join(pieces)}])"
    call = growth.value.children[-1]  # type: ignore[attr-defined]
    options = "".join(f", {source.code_of(argument)}" for argument in _arguments(call)[1:])
    callee = source.code_of(chain_prefix(growth.value, len(growth.value.children) - 1))
    start = Position(loop.start_pos[0] - 1, 0)
    end_line, end_column = loop.end_pos
    after = Position(end_line - 1, end_column)
    joined = f"{indent}{acc} = {callee}([{acc}, *{parts}]{options})\n"
    edits = (
        Edit(Range(start, start), f"{indent}{parts} = []\n"),
        Edit(Range.of(growth.statement), collect),
        Edit(Range(after, after), joined if end_column == 0 else "\n" + joined),
    )
    return Fix(f"Collect the pieces in {parts} and concatenate once", edits, Safety.UNSAFE)


def _canonical_growth(ctx: Context, growth: Growth) -> bool:
    """acc set before the loop in the same block, touched in the loop only by the concat."""
    loop, acc = growth.loop, growth.accumulator
    if growth.value is not growth.statement.children[2]:  # type: ignore[attr-defined]
        return False  # `acc = piece if acc is None else pd.concat(...)`: not the plain form
    if not growth.first or loop.parent is None or loop.parent.type not in ("suite", "file_input"):
        return False  # prepending, or `async for`: the order would need reversing
    keys = _keyword(growth.value.children[-1], "keys")  # type: ignore[attr-defined]
    if keys is not None or _keyword(growth.value.children[-1], "names") is not None:  # type: ignore
        return False  # keys must match the objects one for one
    statement_line = growth.statement.parent
    if statement_line is None or len(statement_line.children) != 2:  # type: ignore
        return False  # `a = ...; b = ...` on one line
    uses = [leaf for leaf in _leaves_of(loop) if _is_name(leaf, acc)]
    if any(not _inside_node(leaf, growth.statement) for leaf in uses):
        return False  # the accumulator is read or set elsewhere in the loop
    if not all(_fresh_piece(ctx, growth, piece) for piece in growth.pieces):
        return False  # a piece refilled in place would be collected n times
    return _set_before(loop, acc) and not _guarded(loop) and not _declared_global(loop, acc)


def _fresh_piece(ctx: Context, growth: Growth, piece: Node) -> bool:
    """A piece is a new object each iteration and is not changed after the concat.

    concat copies the piece at once; a collected piece is copied only after the
    loop, so a frame reused and refilled in every iteration (`row["a"] = ...`)
    would end up collected n times with its last contents.
    """
    if piece.type != "name":
        return piece.type in ("atom_expr", "power") and _is_call(piece.children[-1])  # type: ignore
    assigned = _assignments_in(growth.loop, piece.value)  # type: ignore[attr-defined]
    bindings = list(assigned)
    fresh = [statement for statement in bindings if statement is not None
             and statement.type == "expr_stmt" and statement.start_pos < growth.statement.start_pos
             and _is_fresh_value(statement.children[-1])]
    if not fresh or len(fresh) != len(bindings):
        return False  # the same object in every iteration, or bound in other ways too
    name = piece.value  # type: ignore[attr-defined]
    loop_uses = [leaf for leaf in _leaves_of(growth.loop) if _is_name(leaf, name)
                 and leaf.start_pos > growth.statement.end_pos]
    return not any(_changes(ctx, leaf) for leaf in loop_uses)


def _is_fresh_value(value: Node) -> bool:
    """A call's result or a display: a new object (`pd.DataFrame(...)`, `load(path)`)."""
    if value.type in ("atom_expr", "power"):
        return _is_call(value.children[-1])  # type: ignore[attr-defined]
    return False


def _inside_node(node: Node, container: Node) -> bool:
    current = node
    while current is not None:
        if current is container:
            return True
        current = current.parent
    return False


def _set_before(loop: Node, name: str) -> bool:
    """The statement before the loop in its block binds `name`, or one earlier does."""
    siblings = loop.parent.children  # type: ignore[union-attr]
    before = siblings[: siblings.index(loop)]
    for statement in reversed(before):
        bound = [leaf for leaf in _leaves_of(statement) if _is_name(leaf, name)
                 and leaf.is_definition()]  # type: ignore[attr-defined]
        if bound:
            return statement.type == "simple_stmt"
    return False


def _guarded(node: Node) -> bool:
    """Inside a `try`: an exception midway would leave a different accumulator."""
    parent = node.parent
    while parent is not None and parent.type not in ("funcdef", "classdef", "file_input"):
        if parent.type == "try_stmt":
            return True
        parent = parent.parent
    return False


def _declared_global(node: Node, name: str) -> bool:
    scope = scope_of(node)
    for statement in inner_nodes(scope):
        if statement.type in ("global_stmt", "nonlocal_stmt") and any(
            _is_name(child, name) for child in statement.children  # type: ignore[attr-defined]
        ):
            return True
    return False


def _enlargement(ctx: Context, statement: Node) -> Node | None:
    """`frame.loc[len(frame)] = row` in a loop: the target, else None."""
    target, operator = statement.children[:2]  # type: ignore[attr-defined]
    if target.type not in ("atom_expr", "power") or not _is_operator(operator, "="):
        return None  # not a plain assignment to a subscripted target
    children = target.children  # type: ignore[attr-defined]
    if len(children) != 3 or children[0].type != "name":
        return None  # not `frame.loc[key]`
    if not (_is_attribute(children[1], ("loc",)) and _is_subscript(children[2])):
        return None  # not `frame.loc[key]`
    key, frame = children[2].children[1], children[0].value
    if _code(key).replace(" ", "") not in (f"len({frame})", f"{frame}.shape[0]",
                                            f"len({frame}.index)"):
        return None  # a key other than the next row
    if ctx.infer.kind(children[0]) is not Kind.FRAME:
        return None  # dicts and unknown receivers
    loops = [loop for loop in loops_around(statement) if loop.kind != "comprehension"]
    return target if loops else None


@register
class GrowingFrame(Rule):
    code = "FMP206"
    name = "growing-frame-in-loop"
    summary = "A frame grown by concat or enlargement in a loop is copied every time"
    severity = Severity.WARNING
    prefilter = ("concat", "append", ".loc[len(", "shape[0]]")
    docs = RuleDocs(
        what=(
            "Finds a DataFrame or Series grown inside a loop: `acc = pd.concat([acc, piece])`, "
            "`acc = acc.append(piece)` / `acc._append(piece)`, rows added one at a time "
            "with `frame.loc[len(frame)] = row`, or a list of pieces joined again on every "
            "iteration (`parts.append(piece)` then `whole = pd.concat(parts)` in the loop)."
        ),
        why=(
            "Every concat copies the whole accumulator into a new frame, so n pieces cost "
            "1 + 2 + ... + n copies: O(n^2) rows copied, and as much memory churn. "
            "Enlarging with `.loc` also reallocates every column for each new row."
        ),
        example=(
            "result = pd.DataFrame()\n"
            "for path in paths:\n"
            "    result = pd.concat([result, pd.read_csv(path)])"
        ),
        instead=(
            "result = pd.DataFrame()\n"
            "result_parts = []\n"
            "for path in paths:\n"
            "    result_parts.append(pd.read_csv(path))\n"
            "result = pd.concat([result, *result_parts])"
        ),
        false_alarms=(
            "A loop that resets the accumulator (flushing in batches) is not reported. "
            "The fix is offered only for the plain pattern, the accumulator set in the "
            "block before the loop and used in the loop by the concat alone, and is "
            "unsafe: code that catches an exception from the loop would see the "
            "accumulator without the pieces collected so far."
        ),
        references=(
            "https://pandas.pydata.org/docs/reference/api/pandas.concat.html",
            "https://pandas.pydata.org/docs/whatsnew/v2.0.0.html"
            "#removal-of-prior-version-deprecations-changes",
        ),
    )
    examples = (
        flagged(
            """
            import pandas as pd


            def load_all(paths):
                result = pd.DataFrame()
                for path in paths:
                    piece = pd.read_csv(path)
                    result = pd.concat([result, piece], ignore_index=True)
                return result
            """,
            "8:17-8:62",
            fixed="""
            import pandas as pd


            def load_all(paths):
                result = pd.DataFrame()
                result_parts = []
                for path in paths:
                    piece = pd.read_csv(path)
                    result_parts.append(piece)
                result = pd.concat([result, *result_parts], ignore_index=True)
                return result
            """,
        ),
        flagged(
            """
            from pandas import DataFrame, concat

            readings = DataFrame({"kw": [1.0]})
            while len(readings) < 5:
                if len(readings) > 2:
                    break
                readings = concat([readings, readings.tail(1)])
            """,
            "7:15-7:51",
            note="the accumulator is read elsewhere in the loop: reported without a fix",
        ),
        flagged(
            """
            import pandas as pd

            log = pd.DataFrame(columns=["name", "value"])
            for name, value in [("a", 1), ("b", 2)]:
                log.loc[len(log)] = [name, value]
            """,
            "5:4-5:21",
            note="growing by enlargement: advice only",
        ),
        flagged(
            """
            import pandas as pd

            total = None
            for chunk in pd.read_csv("big.csv", chunksize=1000):
                total = chunk if total is None else pd.concat([total, chunk])
            """,
            "5:40-5:65",
        ),
        clean(
            """
            import pandas as pd

            parts = []
            for path in ["a.csv", "b.csv"]:
                parts.append(pd.read_csv(path))
            merged = pd.concat(parts, ignore_index=True)
            rows = []
            for value in range(3):
                rows.append({"value": value})
            table = pd.DataFrame(rows)
            """,
            note="collecting in a list and concatenating once is the advice itself",
        ),
        clean(
            """
            import pandas as pd

            batch = pd.DataFrame()
            for path in ["a.csv", "b.csv", "c.csv"]:
                batch = pd.concat([batch, pd.read_csv(path)])
                if len(batch) > 10_000:
                    batch.to_parquet(path + ".parquet")
                    batch = pd.DataFrame()
            pairs = [pd.concat([left, right]) for left, right in [(batch, batch)]]
            frame = pd.DataFrame({"a": [1]})
            frame.loc[len(frame)] = [2]
            """,
            note="a batch flushed in the loop, one concat per element, one enlargement",
        ),
        clean(
            """
            import pandas as pd


            def first_readable(paths: list[str]) -> pd.DataFrame:
                found = pd.DataFrame()
                for path in paths:
                    found = pd.concat([found, pd.read_csv(path)])
                    break
                while True:
                    found = pd.concat([found, found.tail(1)])
                    return found
            """,
            note="a loop whose body always ends in break or return runs once",
        ),
        flagged(
            """
            import pandas as pd


            def running_totals(paths: list[str]) -> list[float]:
                parts = []
                totals = []
                for path in paths:
                    parts.append(pd.read_csv(path))
                    combined = pd.concat(parts, ignore_index=True)
                    totals.append(combined["kwh"].sum())
                return totals
            """,
            "9:19-9:54",
        ),
        clean(
            """
            import collections

            import pandas as pd


            def in_batches(paths: list[str]) -> pd.DataFrame:
                batch = []
                for path in paths:
                    batch.extend([pd.read_csv(path), pd.read_json(path)])
                    pair = pd.concat(batch)
                    pair.to_parquet(path + ".parquet")
                    batch.clear()
                parts = []
                for path in paths:
                    parts.append(pd.read_csv(path))
                    merged = pd.concat(parts)
                    parts = [merged]
                for number, path in enumerate(paths):
                    parts.append(pd.read_csv(path))
                    if number == len(paths) - 1:
                        merged = pd.concat(parts)
                for path in paths:
                    parts.append(pd.read_csv(path))
                else:
                    merged = pd.concat(parts)
                window = collections.deque()
                for path in paths:
                    window.append(pd.read_csv(path))
                    if len(window) > 3:
                        window.popleft()
                    recent = pd.concat(window)
                for path in paths:
                    parts.append(pd.read_csv(path))
                    del parts[:-3]
                    recent = pd.concat(parts)
                return merged
            """,
            note="a list cleared or rebound in the loop, a concat under an if or in the "
            "loop's else, a sliding window",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A growing assignment inside a loop: pandas's concat, `_append`, `append`, `.loc[len]`.

        Only `acc._append(x)` and `pd.concat` say pandas by themselves; `append`
        and the enlargement count where frames can be known.
        """
        statements = list(_assignments_in_loops(outline))
        if not statements:
            return False  # nothing is assigned inside a loop: nothing grows
        frames = frames_possible(outline, ctx)
        return any(_grows(statement, ctx, frames) for statement in statements)

    def check(self, ctx: Context) -> Iterator[Finding]:
        for statement in ctx.source.nodes("expr_stmt"):
            growth = _concat_growth(ctx, statement) or _append_growth(ctx, statement)
            if growth is not None and not _resets_in_loop(growth):
                yield self._growth_finding(ctx, growth)
                continue
            rejoined = _rejoined_list(ctx, statement)
            if rejoined is not None:
                call, name = rejoined
                yield self.finding(Range.of(call), (
                    f"pd.concat({name}) joins every piece collected so far on each iteration, "
                    f"O(n^2) rows copied for n pieces; concatenate {name} once after the loop"
                ), cost="O(n^2) rows copied for n pieces")
                continue
            target = _enlargement(ctx, statement)
            if target is not None:
                yield self.finding(Range.of(target), (
                    "adding rows one at a time with .loc[len(frame)] reallocates the frame "
                    "for every row, O(n^2); collect the rows in a list and build the "
                    "frame once with pd.DataFrame(rows)"
                ), cost="O(n^2) copies for n rows")

    def _growth_finding(self, ctx: Context, growth: Growth) -> Finding:
        acc = growth.accumulator
        message = (
            f"'{acc}' is copied whole on every iteration to add one piece, O(n^2) for n "
            "pieces; collect the pieces in a list and concatenate once after the loop"
        )
        fix = _grow_fix(ctx, growth) if _is_concat(ctx, growth) else None
        return self.finding(Range.of(growth.value), message, fix=fix,
                            cost="O(n^2) rows copied for n pieces")


def _is_concat(ctx: Context, growth: Growth) -> bool:
    callee = chain_prefix(growth.value, len(growth.value.children) - 1)  # type: ignore
    return ctx.imports.qualified(callee) == "pandas.concat"


def _append_growth(ctx: Context, statement: Node) -> Growth | None:
    """`acc = acc.append(piece)` (pandas < 2) or `acc._append(piece)` in a loop."""
    children = statement.children  # type: ignore[attr-defined]
    if len(children) != 3 or children[0].type != "name" or not _is_operator(children[1], "="):
        return None  # not `name = value`
    value, name = children[2], children[0].value
    if value.type not in ("atom_expr", "power") or len(value.children) != 3:
        return None  # not `name.method(arg)`
    head, method, call = value.children
    if not (_is_name(head, name) and _is_attribute(method, ("append", "_append"))):
        return None  # not the accumulator's own append
    if not _is_call(call) or len(_positional(call)) != 1:
        return None  # not one appended object
    loops = [loop for loop in loops_around(statement) if loop.kind != "comprehension"]
    if not loops or not _pandas_before_loop(ctx, loops[0].node, name, method):
        return None  # a list's append, or no loop
    return Growth(statement, value, name, loops[0].node, tuple(_positional(call)), True)


def _pandas_before_loop(ctx: Context, loop: Node, name: str, method) -> bool:
    """The accumulator was a frame or Series when the loop began (`_append` is pandas's)."""
    if method.children[1].value == "_append":
        return True
    before = _bound_before_loop(loop, name)
    if not before:
        return False  # nothing says what the accumulator was
    statement = before[-1].get_definition()
    if statement is None or statement.type != "expr_stmt" or len(statement.children) != 3:
        return False  # set by something other than a plain assignment
    return ctx.infer.kind(statement.children[2]) in _FRAMES


# -- row loops: FMP204 and FMP205 ---------------------------------------------


@dataclass(frozen=True)
class RowLoop:
    """A loop over the rows of `frame`: the names that stand for a row and its label."""

    node: Node  # for_stmt or sync_comp_for
    frame: Node  # the expression whose rows are iterated
    iterable: Node
    labels: tuple[str, ...]  # names or texts that are the row label or position
    rows: tuple[str, ...]  # names bound to the row itself
    how: str  # "iterrows", "itertuples", "range" or "index"


def _row_loop(ctx: Context, loop: Node) -> RowLoop | None:
    """What a `for` iterates, when it is the rows of a known frame or Series."""
    target, iterable = loop.children[1], loop.children[3]  # type: ignore[attr-defined]
    names = [child.value for child in _target_names(target)]
    if names is None or not names:
        return None  # targets that are not plain names
    how, frame = _rows_iterated(ctx, iterable)
    if frame is None:
        return None  # not the rows of a known frame or Series
    if how == "iterrows" and len(names) == 2 and target.type != "name":
        return RowLoop(loop, frame, iterable, (names[0],), (names[1],), how)
    if how == "itertuples" and target.type == "name":
        return RowLoop(loop, frame, iterable, (f"{names[0]}.Index",), (names[0],), how)
    if how in ("range", "index") and target.type == "name":
        return RowLoop(loop, frame, iterable, (names[0],), (), how)
    return None


def _target_names(target: Node) -> list[Node]:
    if target.type == "name":
        return [target]
    if target.type not in ("exprlist", "testlist_star_expr"):
        return []
    children = target.children[::2]  # type: ignore[attr-defined]
    return children if all(child.type == "name" for child in children) else []


def _rows_iterated(ctx: Context, iterable: Node) -> tuple[str, Node | None]:
    """("iterrows", df) for `df.iterrows()`, ("range", df) for `range(len(df))`, ..."""
    if iterable.type not in ("atom_expr", "power"):
        return "", None
    children = iterable.children  # type: ignore[attr-defined]
    if len(children) >= 3 and _is_attribute(children[-2], _ROW_LOOPS) and _is_call(children[-1]):
        frame = chain_prefix(iterable, len(children) - 2)
        if ctx.infer.kind(frame) is Kind.FRAME:
            return children[-2].children[1].value, frame
        return "", None
    if len(children) >= 2 and _is_attribute(children[-1], ("index",)):
        frame = chain_prefix(iterable, len(children) - 1)
        return ("index", frame) if ctx.infer.kind(frame) in _FRAMES else ("", None)
    return _range_of_length(ctx, iterable)


def _range_of_length(ctx: Context, iterable: Node) -> tuple[str, Node | None]:
    """`range(len(df))`, `range(0, len(df))`, `range(df.shape[0])`."""
    children = iterable.children  # type: ignore[attr-defined]
    if len(children) != 2 or not _is_name(children[0], "range") or not _is_call(children[1]):
        return "", None
    arguments = _positional(children[1])
    if len(arguments) == 2 and _code(arguments[0]) == "0":
        arguments = arguments[1:]
    if len(arguments) != 1 or arguments[0].type not in ("atom_expr", "power"):
        return "", None
    measured = arguments[0]
    parts = measured.children  # type: ignore[attr-defined]
    if _is_name(parts[0], "len") and len(parts) == 2 and len(_arguments(parts[1])) == 1:
        frame = _arguments(parts[1])[0]
    elif len(parts) >= 3 and _is_attribute(parts[-2], ("shape",)) and _code(parts[-1]) == "[0]":
        frame = chain_prefix(measured, len(parts) - 2)
    else:
        return "", None
    return ("range", frame) if ctx.infer.kind(frame) in _FRAMES else ("", None)


def _body_statements(node: Node) -> Iterator[Node]:
    """Every expr_stmt in a loop body, not descending into nested functions or classes."""
    stack = [node.children[5] if node.type == "for_stmt" else node]  # type: ignore
    while stack:
        current = stack.pop()
        if current.type in ("funcdef", "classdef", "lambdef"):
            continue
        if current.type == "expr_stmt":
            yield current
        stack.extend(reversed(getattr(current, "children", [])))


@dataclass(frozen=True)
class CellWrite:
    target: Node
    frame: Node  # the written frame or Series
    column: Node | None
    value: Node


def _cell_write(ctx: Context, statement: Node, loop: RowLoop) -> CellWrite | None:
    """`frame.at[i, col] = v`, `.iat/.loc/.iloc`, `frame[col][i] = v`, `s.at[i] = v`."""
    children = statement.children  # type: ignore[attr-defined]
    if len(children) != 3 or children[1].type != "operator" or children[0].type not in (
        "atom_expr", "power"
    ):
        return None
    target = children[0]
    parts = target.children  # type: ignore[attr-defined]
    if len(parts) < 3 or not _is_subscript(parts[-1]):
        return None  # not a subscripted write
    key = parts[-1].children[1]
    if _is_attribute(parts[-2], ("at", "iat", "loc", "iloc")):
        return _indexer_write(ctx, target, key, children[2], loop)
    return _chained_write(ctx, target, key, children[2], loop)


def _indexer_write(ctx, target, key, value, loop: RowLoop) -> CellWrite | None:
    parts = target.children
    frame = chain_prefix(target, len(parts) - 2)
    kind = ctx.infer.kind(frame)
    if key.type == "subscriptlist" and kind is Kind.FRAME and len(key.children) == 3:
        row, column = key.children[0], key.children[2]
    elif key.type != "subscriptlist" and kind is Kind.SERIES:
        row, column = key, None
    else:
        return None
    if _code(row).replace(" ", "") not in loop.labels:
        return None  # not one row of the loop: `df.loc[mask, col] = v` is vectorized
    return CellWrite(target, frame, column, value)


def _chained_write(ctx, target, key, value, loop: RowLoop) -> CellWrite | None:
    parts = target.children
    if len(parts) < 3 or not _is_subscript(parts[-2]):
        return None  # not `frame[col][key]`
    frame = chain_prefix(target, len(parts) - 2)
    column = parts[-2].children[1]
    if ctx.infer.kind(frame) is not Kind.FRAME or not is_label(column):
        return None  # dicts, arrays, or a non-label column
    if _code(key).replace(" ", "") not in loop.labels:
        return None  # not keyed by the loop's row
    return CellWrite(target, frame, column, value)


def _is_recurrence(write: CellWrite) -> bool:
    """The value reads the written column (`s[i] = s[i - 1] * k`): not one expression."""
    value = f" {_tokens([write.value])} "
    if f" {_tokens([write.frame])} " not in value:
        return False
    return write.column is None or f" {_tokens([write.column])} " in value


_NUMERIC_BUILTINS = {"abs", "round", "min", "max", "float", "int", "bool"}
_OPERATOR_NODES = {"arith_expr", "term", "factor", "comparison", "and_expr", "expr",
                   "xor_expr", "shift_expr"}
_LOGIC_NODES = {"and_test", "or_test", "not_test", "test"}


@dataclass
class RowBody:
    """What a row loop's body may touch to count as whole-column arithmetic."""

    ctx: Context
    rows: tuple[str, ...]
    labels: tuple[str, ...]
    frame: str = ""  # the iterated frame: `frame.at[i, "col"]` reads a field too
    fields: int = 0  # row fields read

    def expression(self, node: Node) -> bool:
        """Arithmetic, comparisons and lookups on row fields, names and literals only."""
        kind = node.type
        if kind in ("number", "string", "strings") or kind == "keyword" and node.value in (
            "True", "False", "None"
        ):
            return True
        if kind == "name":
            return node.value not in self.rows  # type: ignore[attr-defined]
        if kind == "atom":
            return self._atom(node)
        if kind in _OPERATOR_NODES or kind in _LOGIC_NODES:
            return all(self.expression(child) for child in node.children  # type: ignore
                       if child.type not in ("operator", "keyword"))
        if kind == "power" and any(_is_operator(child, "**") for child in node.children):
            return all(self.expression(child) for child in node.children[::2])  # type: ignore
        if kind in ("atom_expr", "power"):
            return self._chain(node)
        return False

    def _atom(self, node: Node) -> bool:
        children = node.children  # type: ignore[attr-defined]
        if children[0].value == "(" and len(children) == 3 and children[1].type != "testlist_comp":
            return self.expression(children[1])
        return False  # lists, tuples, dicts, sets: building objects

    def _chain(self, node: Node) -> bool:
        children = node.children  # type: ignore[attr-defined]
        head = children[0]
        if head.type == "name" and head.value in self.rows:
            return self._field(node)
        if _frame_cell(node, self.frame, self.labels) is not None:
            self.fields += 1
            return True
        if len(children) == 2 and _is_call(children[1]):
            return self._numeric_call(node)
        if head.type == "name" and len(children) == 2 and _is_subscript(children[1]):
            return self.expression(children[1].children[1])  # a lookup: `rates[row["c"]]`
        return False

    def _field(self, node: Node) -> bool:
        """`row["a"]`, `row.a`: one field of the row, nothing called on it."""
        children = node.children  # type: ignore[attr-defined]
        if len(children) != 2:
            return False
        trailer = children[1]
        key = trailer.children[1]
        if _is_subscript(trailer) and key.type == "string":
            self.fields += 1
            return True
        if trailer.children[0].value == "." and not key.value.startswith("_"):
            self.fields += 1
            return True
        return False

    def _numeric_call(self, node: Node) -> bool:
        """`abs(x)`, `round(x, 2)`, `math.sqrt(x)`, `np.log(x)` of allowed arguments."""
        callee, call = node.children  # type: ignore[attr-defined]
        if not (callee.type == "name" and callee.value in _NUMERIC_BUILTINS
                and _is_builtin(callee, self.ctx)):
            return False
        return all(argument.type != "argument" and self.expression(argument)
                   for argument in _arguments(call))

    def statements(self, suite: Node) -> bool:
        """Every statement of the body accumulates or branches on allowed expressions."""
        body = suite.children[1:] if suite.type == "suite" else [suite]  # type: ignore
        return all(self._statement(statement) for statement in body)

    def _statement(self, statement: Node) -> bool:
        if statement.type == "simple_stmt":
            parts = statement.children[:-1:2]  # type: ignore[attr-defined]
            return all(self._small(part) for part in parts)
        if statement.type == "if_stmt":
            return self._branches(statement)
        return False  # loops, with, try, def: more than arithmetic

    def _branches(self, statement: Node) -> bool:
        children = statement.children  # type: ignore[attr-defined]
        for index, child in enumerate(children):
            if child.type == "keyword" and child.value in ("if", "elif"):
                if not self.expression(children[index + 1]):
                    return False
            elif child.type in ("suite", "simple_stmt") and not self.statements(child):
                return False
        return True

    def _small(self, part: Node) -> bool:
        if part.type in ("pass_stmt",) or part.type == "keyword" and part.value in (
            "pass", "continue"
        ):
            return True
        if part.type == "expr_stmt":
            return self._assignment(part)
        if part.type in ("atom_expr", "power"):
            return self._append(part)
        return False

    def _assignment(self, statement: Node) -> bool:
        """`name = expr` or `name += expr`: a temporary or an accumulator."""
        children = statement.children  # type: ignore[attr-defined]
        if len(children) != 3 or children[0].type != "name" or children[0].value in self.rows:
            return False
        operator = children[1].value if children[1].type == "operator" else ""
        if operator not in ("=", "+=", "-=", "*=", "|=", "&="):
            return False
        return self.expression(children[2])

    def _append(self, call: Node) -> bool:
        """`values.append(expr)` on a list that is not the row."""
        children = call.children  # type: ignore[attr-defined]
        if len(children) != 3 or children[0].type != "name" or children[0].value in self.rows:
            return False
        if not (_is_attribute(children[1], ("append",)) and _is_call(children[2])):
            return False
        arguments = _arguments(children[2])
        return len(arguments) == 1 and arguments[0].type != "argument" and self.expression(
            arguments[0]
        )


def _is_operator(node: Node, value: str) -> bool:
    return node.type == "operator" and node.value == value  # type: ignore[attr-defined]


def _carried(body: Node) -> bool:
    """A name set with `=` in the body and read before it: state carried between rows."""
    assigned: dict[str, tuple[int, int]] = {}
    for leaf in _leaves_of(body):
        if leaf.type != "name" or not leaf.is_definition():  # type: ignore[attr-defined]
            continue
        statement = leaf.get_definition()  # type: ignore[attr-defined]
        if statement is not None and statement.type == "expr_stmt" and _is_operator(
            statement.children[1], "="
        ):
            assigned.setdefault(leaf.value, leaf.start_pos)  # type: ignore[attr-defined]
    for leaf in _leaves_of(body):
        first = assigned.get(getattr(leaf, "value", ""))
        if leaf.type == "name" and first is not None and leaf.start_pos < first:
            return True
    return False


def _vectorized(node: Node, loop: RowLoop, frame: str) -> str | None:
    """The expression with row fields read as whole columns, when that is all it does."""
    pieces: list[str] = []
    if not _translate(node, loop, frame, pieces):
        return None
    return "".join(pieces).strip()


def _translate(node: Node, loop: RowLoop, frame: str, pieces: list[str]) -> bool:
    kind = node.type
    if kind in _LOGIC_NODES:
        return False  # `and`, `or`, `not`, `x if c else y` need &, |, ~ or np.where
    prefix = node.get_first_leaf().prefix  # type: ignore[attr-defined]
    if kind in ("atom_expr", "power") and not any(
        _is_operator(child, "**") for child in node.children  # type: ignore[attr-defined]
    ):
        column = _field_column(node, loop)
        if column is None:
            return False  # calls and lookups have no plain whole-column spelling
        pieces.append(f"{prefix}{frame}.index" if column == "" else f"{prefix}{frame}[{column}]")
        return True
    if kind == "name" and node.value in loop.labels:  # type: ignore[attr-defined]
        pieces.append(f"{prefix}{frame}.index")
        return True
    children = getattr(node, "children", None)
    if children is None:
        pieces.append(node.get_code())
        return True
    return all(_translate(child, loop, frame, pieces) for child in children)


def _frame_cell(node: Node, frame: str, labels: tuple[str, ...]) -> str | None:
    """'"a"' for `frame.at[i, "a"]` or `frame.loc[i, "a"]` with `i` the loop's row."""
    children = node.children  # type: ignore[attr-defined]
    if not frame or len(children) < 3 or not _is_subscript(children[-1]):
        return None
    if not _is_attribute(children[-2], ("at", "loc")):
        return None
    key = children[-1].children[1]
    if key.type != "subscriptlist" or len(key.children) != 3:
        return None
    row, column = key.children[0], key.children[2]
    if column.type != "string" or _code(row).replace(" ", "") not in labels:
        return None  # not a cell of the loop's row
    prefix = chain_prefix(node, len(children) - 2)
    return _code(column) if _code(prefix) == frame else None


def _field_column(node: Node, loop: RowLoop) -> str | None:
    """'"a"' for `row["a"]` or `row.a`, '' for the row's label, None for anything else."""
    children = node.children  # type: ignore[attr-defined]
    cell = _frame_cell(node, _code(loop.frame), loop.labels)
    if cell is not None:
        return cell
    head = children[0]
    if len(children) != 2 or head.type != "name" or head.value not in loop.rows:
        return None
    trailer = children[1]
    key = trailer.children[1]
    if _is_subscript(trailer) and key.type == "string":
        return key.get_code(include_prefix=False)
    if trailer.children[0].value != "." or _is_call(trailer):
        return None
    label = "Index" if loop.how == "itertuples" else "name"
    return "" if key.value == label else f'"{key.value}"'


def _suggested_column(ctx: Context, loop: RowLoop, write: CellWrite) -> str | None:
    """`frame["col"] = <whole-column expression>` when the value is plain row arithmetic."""
    frame = _code(write.frame)
    if write.column is None or frame != _code(loop.frame) or not loop.rows and not loop.labels:
        return None  # another frame, or no row to read from
    if _statement_of(write.target).parent is not loop.node.children[5]:  # type: ignore
        return None  # a conditional write: np.where, not one plain column expression
    if _defined_in_loop(write.value, loop.node, loop.rows + loop.labels):
        return None  # a temporary of the loop: its whole-column form is not this text
    body = RowBody(ctx, loop.rows, loop.labels, _code(loop.frame))
    if not body.expression(write.value):
        return None  # more than arithmetic on the row
    value = _vectorized(write.value, loop, frame)
    return None if value is None else f"{frame}[{_code(write.column)}] = {value}"


def _defined_in_loop(node: Node, loop: Node, own: tuple[str, ...]) -> bool:
    """Whether a name read in `node` is (re)bound inside the loop, besides the loop's own."""
    bound = {
        leaf.value for leaf in _leaves_of(loop.children[-1])  # type: ignore[attr-defined]
        if leaf.type == "name" and leaf.is_definition()  # type: ignore[attr-defined]
    }
    return any(
        leaf.type == "name" and leaf.value in bound and leaf.value not in own  # type: ignore
        for leaf in _leaves_of(node)
    )


@register
class RowByRowWrites(Rule):
    code = "FMP204"
    name = "row-by-row-writes"
    summary = "Cells written one row at a time in a loop over the rows; assign the column"
    severity = Severity.WARNING
    prefilter = _PANDAS_WORDS
    docs = RuleDocs(
        what=(
            "Finds a loop over the rows of a DataFrame or Series (`for i in range(len(df))`, "
            "`for i in df.index`, `for i, row in df.iterrows()`, `for row in "
            "df.itertuples()`) that writes one cell per row: `df.at[i, col] = ...`, "
            "`.iat`, `.loc[i, col]`, `.iloc[i, col]` or `df[col][i] = ...`."
        ),
        why=(
            "Each cell write is a full indexing call: label lookup, dtype checks and, for "
            "`.loc`, possible reallocation; n rows make n such calls, O(n) interpreter "
            "work that is typically 100 to 1000 times slower than one vectorized "
            "assignment of the whole column, which runs in compiled code. `df[col][i] = v` "
            "does not even write under copy-on-write."
        ),
        example=(
            "for i, row in df.iterrows():\n"
            "    df.at[i, \"cost\"] = row[\"kwh\"] * row[\"price\"]"
        ),
        instead="df[\"cost\"] = df[\"kwh\"] * df[\"price\"]",
        false_alarms=(
            "A write whose value reads the column being written (a recurrence such as "
            "`s[i] = s[i - 1] * k`) is not reported: it has no one-line vectorized form "
            "(though `cumsum`, `cumprod` or `ewm` often express it). Writes keyed by "
            "anything but the loop's row are not reported. No fix is offered: the "
            "vectorized form can change the column's dtype, and conditions inside the "
            "loop need `np.where` or `.loc[mask, col]`."
        ),
        references=(
            "https://pandas.pydata.org/docs/user_guide/basics.html#iteration",
            "https://pandas.pydata.org/docs/user_guide/enhancingperf.html",
        ),
    )
    examples = (
        flagged(
            """
            import pandas as pd

            bills = pd.read_csv("bills.csv")
            for i, row in bills.iterrows():
                bills.at[i, "cost"] = row["kwh"] * row["price"]
            """,
            "5:4-5:23",
            note='message suggests bills["cost"] = bills["kwh"] * bills["price"]',
        ),
        flagged(
            """
            import pandas as pd


            def flag_peaks(load: pd.DataFrame, limit: float) -> None:
                for i in range(len(load)):
                    if load.iloc[i, 0] > limit:
                        load.iloc[i, 1] = True
                for label in load.index:
                    load.loc[label, "checked"] = True
                for row in load.itertuples():
                    load["seen"][row.Index] = 1
            """,
            "7:12-7:27",
            "9:8-9:34",
            "11:8-11:31",
        ),
        clean(
            """
            import pandas as pd

            prices = pd.read_csv("prices.csv")
            for i in range(1, len(prices)):
                prices.at[i, "smooth"] = prices.at[i - 1, "smooth"] * 0.9
            for i in range(len(prices)):
                prices.at[i, "smooth"] = prices.at[i, "smooth"] * 0.5 + prices.at[i, "raw"]
            cells = {"a": {}}
            for key in ["x", "y"]:
                cells["a"][key] = 1
            """,
            note="recurrences read the written column; dicts are not frames",
        ),
        clean(
            """
            import numpy as np
            import pandas as pd

            grid = np.zeros((3, 3))
            for i in range(len(grid)):
                grid[i][0] = 1
            frame = pd.DataFrame({"a": [1, 2]})
            frame.loc[frame["a"] > 1, "b"] = 0
            for name in ["a"]:
                frame.at[0, name] = 2
            value = frame.at[0, "a"]
            """,
            note="numpy arrays, vectorized writes, writes not keyed by the loop's row",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A loop over rows that assigns a cell keyed by its row, where frames can be known."""
        return _writes_cells_per_row(outline) and frames_possible(outline, ctx)

    def check(self, ctx: Context) -> Iterator[Finding]:
        for node in ctx.source.nodes("for_stmt"):
            loop = _row_loop(ctx, node)
            if loop is None:
                continue
            for statement in _body_statements(node):
                write = _cell_write(ctx, statement, loop)
                if write is not None and not _is_recurrence(write):
                    yield self._finding(ctx, loop, write)

    def _finding(self, ctx: Context, loop: RowLoop, write: CellWrite) -> Finding:
        suggestion = _suggested_column(ctx, loop, write)
        arithmetic = RowBody(ctx, loop.rows, loop.labels, _code(loop.frame)).expression(
            write.value
        )
        branches = _statement_of(write.target).parent is not loop.node.children[5] or any(
            node.type == "test" for node in inner_nodes(write.value)
        ) or write.value.type == "test"
        if suggestion:
            advice = f"assign the whole column at once: {suggestion}"
        elif arithmetic and branches:
            advice = (
                "assign the whole column at once, with np.where(condition, a, b) or "
                ".loc[mask, column] for the branches"
            )
        elif arithmetic:
            advice = "assign the whole column at once with a vectorized expression"
        else:
            advice = "compute the values into a list and assign the column once"
        message = (
            f"cells written one row at a time in a loop over the rows of "
            f"{_code(loop.frame)}: one indexing call per row; {advice}"
        )
        return self.finding(Range.of(write.target), message, cost="O(rows) indexing calls")


def _apply_function(ctx: Context, chain: Node, index: int):
    """`(frame, row_name, body_expression)` for `frame.apply(f, axis=1)`, else None."""
    children = chain.children  # type: ignore[attr-defined]
    call = children[index + 1]
    axis = _keyword(call, "axis")
    if axis is None or _code(axis) not in ("1", "'columns'", '"columns"'):
        return None  # apply over columns, the default axis
    if any(_keyword(call, name) is not None for name in ("raw", "args", "result_type")):
        return None  # arrays or extra arguments: a different contract
    positional = _positional(call)
    frame = chain_prefix(chain, index)
    if len(positional) != 1 or ctx.infer.kind(frame) is not Kind.FRAME:
        return None  # extra arguments, or not a known frame
    function = positional[0]
    if function.type == "lambdef":
        return _lambda_body(frame, function)
    if function.type == "name":
        return _def_body(frame, function)
    return None


def _lambda_body(frame: Node, function: Node):
    children = function.children  # type: ignore[attr-defined]
    parameters = [child for child in children[1:-2] if child.type == "param"]
    names = [leaf for param in parameters for leaf in _leaves_of(param) if leaf.type == "name"]
    if len(parameters) != 1 or len(names) != 1:
        return None  # not a one-argument lambda
    return frame, names[0].value, function.children[-1]  # type: ignore[attr-defined]


def _def_body(frame: Node, name: Node):
    """A function of this file made of one `return expression` (a docstring allowed)."""
    used = name.get_root_node().get_used_names().get(name.value, [])  # type: ignore[attr-defined]
    functions = [leaf.parent for leaf in used if leaf.parent.type == "funcdef"
                 and leaf.parent.name is leaf and leaf.start_pos < name.start_pos]
    if len(functions) != 1:
        return None  # redefined or not found: do not guess which one runs
    function = functions[0]
    parameters = function.get_params()
    if len(parameters) != 1 or parameters[0].default is not None or parameters[0].star_count:
        return None  # not a one-argument function
    suite = function.children[-1]
    body = suite.children[1:] if suite.type == "suite" else [suite]
    if body and body[0].type == "simple_stmt" and body[0].children[0].type == "string":
        body = body[1:]
    if len(body) != 1 or body[0].children[0].type != "return_stmt":
        return None  # a body of more than one return
    returned = body[0].children[0]
    if len(returned.children) != 2:
        return None  # a bare return
    return frame, parameters[0].name.value, returned.children[1]


def _comprehension_rewrite(loop: RowLoop, element: Node, parent: Node) -> str | None:
    """`(df["a"] * 2).tolist()` for a list comprehension, `.sum()` inside `sum(...)`."""
    column = _vectorized(element, loop, _code(loop.frame))
    if column is None:
        return None  # calls or logic: no plain column form
    simple = element.type in ("atom_expr", "power") and not any(
        _is_operator(child, "**") for child in element.children  # type: ignore[attr-defined]
    )
    wrapped = column if simple else f"({column})"
    holder = parent.parent
    if holder is None:
        return None
    if parent.type == "testlist_comp" and _is_operator(holder.children[0], "["):  # type: ignore
        return f"{wrapped}.tolist()"
    call = holder.parent if parent.type == "argument" else None  # `sum(x for ...)`
    if call is not None and call.type in ("atom_expr", "power") and _is_name(
        call.children[0], "sum"  # type: ignore[attr-defined]
    ):
        return f"{wrapped}.sum()"
    return None  # a set or a generator handed elsewhere: no one-line equivalent


@register
class RowIteration(Rule):
    code = "FMP205"
    name = "row-iteration"
    summary = "iterrows/itertuples/apply(axis=1) doing only arithmetic on row fields"
    severity = Severity.WARNING
    prefilter = ("iterrows", "itertuples", "apply")
    docs = RuleDocs(
        what=(
            "Finds `for ... in df.iterrows()`, `df.itertuples()` loops and comprehensions, "
            "and `df.apply(f, axis=1)`, whose body does nothing but arithmetic, comparisons "
            "and lookups on fields of the row: work that whole-column expressions do "
            "directly."
        ),
        why=(
            "`iterrows` builds a Series for every row (O(rows x columns) boxing, dtypes "
            "upcast to a common one); `apply(axis=1)` does the same and calls a Python "
            "function per row; `itertuples` is faster but still runs the body in the "
            "interpreter once per row. Column arithmetic runs the same work in compiled "
            "loops over contiguous arrays, usually 10 to 100 times faster."
        ),
        example=(
            "total = 0\n"
            "for _, row in bills.iterrows():\n"
            "    total += row[\"kwh\"] * row[\"price\"]\n"
            "bills[\"cost\"] = bills.apply(lambda r: r[\"kwh\"] * r[\"price\"], axis=1)"
        ),
        instead=(
            "total = (bills[\"kwh\"] * bills[\"price\"]).sum()\n"
            "bills[\"cost\"] = bills[\"kwh\"] * bills[\"price\"]"
        ),
        false_alarms=(
            "Only bodies made of arithmetic, comparisons, `if` branches, accumulations "
            "(`+=`, `.append`) and lookups are reported. A body that calls other "
            "functions, does I/O, builds objects (lists, dicts, f-strings), writes cells "
            "(FMP204's business) or carries state from one row to the next (`prev = x`) "
            "is left alone, as are loops over anything but a known DataFrame. No fix is "
            "offered: `and`/`or` must become `&`/`|` and the result dtype can change."
        ),
        references=(
            "https://pandas.pydata.org/docs/user_guide/basics.html#iteration",
            "https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.apply.html",
        ),
    )
    examples = (
        flagged(
            """
            import pandas as pd

            bills = pd.read_csv("bills.csv")
            total = 0
            for _, row in bills.iterrows():
                if row["kwh"] > 0:
                    total += row["kwh"] * row["price"]
            bills["cost"] = bills.apply(lambda r: r["kwh"] * r["price"], axis=1)
            """,
            "5:14-5:30",
            "8:16-8:68",
        ),
        flagged(
            """
            import pandas as pd


            def net(row):
                \"\"\"Net power of one row.\"\"\"
                return row.production - row.consumption


            def summary(flows: pd.DataFrame) -> list:
                flows["net"] = flows.apply(net, axis="columns")
                return [row.kw * 2 for row in flows.itertuples() if row.kw > 0]
            """,
            "10:19-10:51",
            "11:34-11:52",
        ),
        clean(
            """
            import pandas as pd

            bills = pd.read_csv("bills.csv")
            for _, row in bills.iterrows():
                print(row["kwh"])
            labels = [f"{row.name}: {row.kwh}" for row in bills.itertuples()]
            for _, row in bills.iterrows():
                send_invoice(row["customer"], row["kwh"] * row["price"])
            objects = bills.apply(lambda r: {"kwh": r["kwh"]}, axis=1)
            """,
            note="I/O, f-strings, calls of other functions and built objects",
        ),
        clean(
            """
            import pandas as pd

            readings = pd.read_csv("readings.csv")
            previous = 0.0
            steps = []
            for _, row in readings.iterrows():
                steps.append(row["value"] - previous)
                previous = row["value"]
            records = [{"a": 1}, {"a": 2}]
            doubled = [record["a"] * 2 for record in records]
            means = readings.apply(lambda column: column.mean())
            """,
            note="state carried between rows, plain lists, apply over columns",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A plain loop or comprehension over iterrows/itertuples, or apply(axis=1), and frames."""
        return (_iterates_rows(outline) or _applies_per_row(outline)) and frames_possible(
            outline, ctx
        )

    def check(self, ctx: Context) -> Iterator[Finding]:
        for node in ctx.source.nodes("for_stmt"):
            found = self._loop(ctx, node)
            if found is not None:
                yield found
        for node in ctx.source.nodes("sync_comp_for"):
            found = self._comprehension(ctx, node)
            if found is not None:
                yield found
        for chain in ctx.source.nodes("atom_expr", "power"):
            found = self._apply(ctx, chain)
            if found is not None:
                yield found

    def _loop(self, ctx: Context, node: Node) -> Finding | None:
        loop = _row_loop(ctx, node)
        if loop is None or loop.how not in _ROW_LOOPS or len(node.children) > 6:  # type: ignore
            return None  # not a row iteration, or a for-else
        body = RowBody(ctx, loop.rows, loop.labels, _code(loop.frame))
        suite = node.children[5]  # type: ignore[attr-defined]
        if not body.statements(suite) or body.fields == 0 or _carried(suite):
            return None  # more than arithmetic on the row's fields
        return self._report(loop, Range.of(loop.iterable), "loop")

    def _comprehension(self, ctx: Context, node: Node) -> Finding | None:
        parent = node.parent
        if parent is None or parent.type not in ("testlist_comp", "argument") or (
            parent.children[0].type == "star_expr"
        ):
            return None  # a dict or set comprehension, or an async one
        loop = _row_loop(ctx, node)
        if loop is None or loop.how not in _ROW_LOOPS:
            return None  # not iterrows or itertuples of a known frame
        body = RowBody(ctx, loop.rows, loop.labels, _code(loop.frame))
        tail = node.children[4:]  # type: ignore[attr-defined]
        conditions = [part.children[1] for part in tail if part.type == "comp_if"]
        if len(conditions) != len(tail):
            return None  # nested `for` clauses
        element = parent.children[0]
        if not all(body.expression(part) for part in (element, *conditions)):
            return None  # more than arithmetic on the row
        if body.fields == 0:
            return None  # the rows are counted, not read
        suggestion = None if conditions else _comprehension_rewrite(loop, element, parent)
        return self._report(loop, Range.of(loop.iterable), "comprehension", suggestion)

    def _apply(self, ctx: Context, chain: Node) -> Finding | None:
        children = chain.children  # type: ignore[attr-defined]
        for index in range(1, len(children) - 1):
            if not (_is_attribute(children[index], ("apply",)) and _is_call(children[index + 1])):
                continue
            found = _apply_function(ctx, chain, index)
            if found is None:
                return None  # not a row-wise apply of a readable function
            frame, row, expression = found
            loop = RowLoop(chain, frame, chain, (), (row,), "apply")
            body = RowBody(ctx, loop.rows, loop.labels, _code(loop.frame))
            if not body.expression(expression) or body.fields == 0:
                return None  # more than arithmetic on the row
            span = Range.between(children[0], children[index + 1])
            suggestion = _vectorized(expression, loop, _code(frame))
            return self._report(loop, span, "apply", suggestion)
        return None

    def _report(self, loop: RowLoop, span: Range, shape: str,
                suggestion: str | None = None) -> Finding:
        frame = _code(loop.frame)
        what = {
            "apply": "apply(axis=1) calls a Python function for every row",
            "loop": f"{loop.how}() runs this loop body in Python for every row",
            "comprehension": f"{loop.how}() runs this comprehension in Python for every row",
        }[shape]
        advice = f": {suggestion}" if suggestion else f" of {frame}"
        message = (
            f"{what}, yet it only does arithmetic on row fields; "
            f"compute it on whole columns{advice}"
        )
        return self.finding(span, message, cost="O(rows) interpreter steps and row objects")


# -- FMP203 -------------------------------------------------------------------

_REPEATED_METHODS = {
    "unique": "unique", "nunique": "nunique", "value_counts": "counts",
    "drop_duplicates": "deduplicated", "duplicated": "duplicated", "sort_values": "sorted",
    "merge": "merged", "pivot_table": "pivot", "describe": "summary",
}  # fmt: skip
"""Methods whose result costs O(n) or O(n log n) to build: worth computing once."""
_GROUP_REDUCTIONS = {
    "sum", "mean", "median", "min", "max", "std", "var", "sem", "prod", "count", "first",
    "last", "nunique", "size", "agg", "aggregate", "apply", "transform", "describe",
    "quantile", "cumsum", "rank",
}  # fmt: skip
_MUTATING_METHODS = {
    "insert", "pop", "update", "clear", "append", "extend", "remove", "sort", "setdefault",
    "add", "discard", "popitem", "reverse", "fill", "resize", "put", "itemset",
    "__setitem__", "__delitem__", "set_axis", "rename_axis",
}  # fmt: skip
_HARMLESS_CALLS = {
    "len", "print", "str", "repr", "isinstance", "sorted", "list", "set", "tuple", "sum",
    "min", "max", "any", "all", "enumerate", "zip", "range", "type", "id", "hash", "bool",
    "int", "float", "round", "abs", "dict", "iter", "format", "getattr", "hasattr",
}  # fmt: skip
_LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}


@dataclass(frozen=True)
class Computation:
    """One evaluation of an expensive expression: `chain.children[:end]`."""

    chain: Node
    end: int
    key: str  # the expression's tokens
    hint: str  # a name for the result
    names: tuple[Node, ...]  # the names it reads

    @property
    def span(self) -> Range:
        return Range.between(self.chain.children[0],  # type: ignore[attr-defined]
                             self.chain.children[self.end - 1])  # type: ignore[attr-defined]

    @property
    def start(self) -> tuple[int, int]:
        return self.chain.children[0].start_pos  # type: ignore[attr-defined]

    @property
    def stop(self) -> tuple[int, int]:
        return self.chain.children[self.end - 1].end_pos  # type: ignore[attr-defined]


def _computations(ctx: Context, chain: Node) -> Iterator[Computation]:
    """The expensive prefixes of one `a.b(...)[...]` chain."""
    children = chain.children  # type: ignore[attr-defined]
    head = children[0]
    if head.type != "name" or head.value in ("self", "cls") or _in_target(chain):
        return  # attributes of objects, and writes, are not repeated reads
    for index in range(1, len(children)):
        hint = _expensive_at(ctx, chain, index)
        if hint is None:
            continue  # a cheap step
        if _mutating_chain(chain):
            return  # `df.drop_duplicates(inplace=True)` changes the data instead
        end = index + 2 if hint != "selected" else index + 1
        names = _read_names(children[:end])
        if names is not None:
            base = _hint_base(chain)
            yield Computation(chain, end, _tokens(children[:end]), f"{base}_{hint}", names)


def _expensive_at(ctx: Context, chain: Node, index: int) -> str | None:
    """A name hint when `children[index]` starts an expensive step, else None."""
    children = chain.children  # type: ignore[attr-defined]
    trailer = children[index]
    if _is_subscript(trailer):
        return "selected" if _row_filter(ctx, chain, index + 1) is not None else None
    if index + 1 >= len(children) or not _is_attribute(trailer, (*_REPEATED_METHODS,
                                                                 *_GROUP_REDUCTIONS)):
        return None
    if not _is_call(children[index + 1]):
        return None  # a method named without calling it
    method = trailer.children[1].value
    receiver = ctx.infer.kind(chain_prefix(chain, index))
    if method in _REPEATED_METHODS and receiver in _FRAMES:
        if method == "unique" and _inside_len(chain, index):
            return None  # FMP203's nunique form reports it
        return _REPEATED_METHODS[method]
    if method in _GROUP_REDUCTIONS and receiver is Kind.GROUPBY:
        return method
    return None


def _inside_len(chain: Node, index: int) -> bool:
    """`len(x.unique())`: the unique call ends the chain that is len's only argument."""
    children = chain.children  # type: ignore[attr-defined]
    if index + 2 != len(children):
        return False
    call = chain.parent
    outer = call.parent if call is not None else None
    return (call is not None and call.type == "trailer" and outer is not None
            and outer.type in ("atom_expr", "power") and _is_name(outer.children[0], "len"))


def _hint_base(chain: Node) -> str:
    """The column's name for `df["price"]...`, else the frame's."""
    children = chain.children  # type: ignore[attr-defined]
    if len(children) > 1 and _is_subscript(children[1]) and children[1].children[1].type == (
        "string"
    ):
        label = children[1].children[1].value.strip("\"'")
        if label.isidentifier() and label.isascii():
            return label.lower()
    return children[0].value


def _read_names(parts: list[Node]) -> tuple[Node, ...] | None:
    """The variables an expression reads; None when it binds names itself (lambdas)."""
    names = []
    for part in parts:
        for leaf in _leaves_of(part):
            if leaf.type != "name":
                continue
            if leaf.is_definition():  # type: ignore[attr-defined]
                return None
            previous = leaf.get_previous_leaf()  # type: ignore[attr-defined]
            if previous is not None and previous.type == "operator" and previous.value == ".":
                continue
            parent = leaf.parent
            if parent.type == "argument" and parent.children[0] is leaf and len(
                parent.children
            ) == 3:
                continue  # a keyword argument's name
            names.append(leaf)
    return tuple(names)


def _in_target(node: Node) -> bool:
    """Whether `node` is (inside) the left side of an assignment or a `del`."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in ("simple_stmt", "suite", "file_input"):
        if parent.type == "del_stmt":
            return True
        if parent.type == "expr_stmt":
            return child is not parent.children[-1]  # `x: T = value` keeps it in annassign
        child, parent = parent, parent.parent
    return False


def _common_ancestor(first: Node, second: Node) -> Node | None:
    ancestors = set()
    node = first
    while node is not None:
        ancestors.add(id(node))
        node = node.parent
    node = second
    while node is not None and id(node) not in ancestors:
        node = node.parent
    return node


def _always_before(first: Node, later: Node) -> bool:
    """Whenever `later` runs, `first` has run on the way (no branch or loop skips it)."""
    top = _common_ancestor(first, later)
    child, parent = first, first.parent
    while parent is not None:
        if not _runs_with_parent(parent, child):
            return False
        if parent is top:
            return True
        child, parent = parent, parent.parent
    return True


def _runs_with_parent(parent: Node, child: Node) -> bool:
    """Whether `child` runs every time its `parent` does (e.g. an `if`'s first test)."""
    kind, children = parent.type, parent.children  # type: ignore[attr-defined]
    if kind in ("if_stmt", "while_stmt"):
        return child is children[1]
    if kind == "for_stmt":
        return child is children[3]
    if kind == "test":
        return child is children[2]
    if kind in ("and_test", "or_test"):
        return child is children[0]
    if kind in ("try_stmt", "match_stmt", "funcdef", "lambdef", "classdef", "sync_comp_for",
                "comp_for", "comp_if", "async_stmt", "async_funcdef"):
        return False
    return not any(part.type in ("sync_comp_for", "comp_for") for part in children)


def _window_end(first: Node, later: Node) -> tuple[int, int]:
    """Where the data must stay unchanged until: past every loop around `later` alone."""
    end = later.start_pos
    for loop in loops_around(later):
        if loop.kind != "comprehension" and not _inside_node(first, loop.node):
            end = max(end, loop.node.end_pos)
    return end


def _mutated(ctx: Context, names: tuple[Node, ...], start, end) -> bool:
    """Whether something between `start` and `end` may change what one of `names` holds."""
    module = names[0].get_root_node() if names else None
    if module is None:
        return False  # no names read: nothing can change
    used = module.get_used_names()  # type: ignore[attr-defined]
    for value in {name.value for name in names}:  # type: ignore[attr-defined]
        for leaf in used.get(value, []):
            if start <= leaf.start_pos < end and _changes(ctx, leaf):
                return True
    return False


def _changes(ctx: Context, leaf: Node) -> bool:
    """This use of a name rebinds it, writes through it, or hands it to unknown code."""
    if leaf.is_definition() or _in_target(leaf) and _target_head(leaf):  # type: ignore
        return True
    parent = leaf.parent
    if parent.type in ("atom_expr", "power") and parent.children[0] is leaf:
        if _mutating_chain(parent):
            return True
        if _in_target(parent) and _target_head(parent):
            return True
    if parent.type == "del_stmt" or _passed_to_unknown(ctx, leaf):
        return True
    return False


def _target_head(node: Node) -> bool:
    """`node` is the assigned thing itself or the head of the assigned chain."""
    parent = node.parent
    if parent is None:
        return False
    if parent.type == "expr_stmt":
        return True
    if parent.type in ("exprlist", "testlist_star_expr") and parent.parent.type == "expr_stmt":
        return True
    if parent.type in ("atom_expr", "power") and parent.children[0] is node:
        return _target_head(parent)
    return False


def _mutating_chain(chain: Node) -> bool:
    """`df.drop(..., inplace=True)`, `df.insert(...)`, `df["a"].fillna(0, inplace=True)`."""
    children = chain.children  # type: ignore[attr-defined]
    for index, trailer in enumerate(children[1:], start=1):
        if _is_call(trailer):
            inplace = _keyword(trailer, "inplace")
            if inplace is not None and _code(inplace) != "False":
                return True
            if index >= 2 and _is_attribute(children[index - 1], tuple(_MUTATING_METHODS)):
                return True
    return False


def _passed_to_unknown(ctx: Context, leaf: Node) -> bool:
    """The object is an argument of a call that may change it (not len, print, pandas)."""
    node = leaf
    if node.parent.type == "argument":
        node = node.parent
    holder = node.parent
    if holder.type == "arglist":
        holder = holder.parent
    if holder.type != "trailer" or not _is_call(holder):
        return False  # not an argument of a call
    chain = holder.parent
    callee = chain_prefix(chain, chain.children.index(holder))  # type: ignore[attr-defined]
    name = getattr(callee, "value", None)
    if callee.type == "name" and name in _HARMLESS_CALLS and _is_builtin(callee, ctx):
        return False
    qualified = ctx.imports.qualified(callee) or ""
    if qualified.split(".")[0] in ("pandas", "numpy", "logging"):
        return False  # pandas, numpy and logging do not change their arguments
    last = callee.children[-1] if hasattr(callee, "children") else None
    return not (last is not None and _is_attribute(last, tuple(_LOG_METHODS)))


def _runs(ctx: Context, group: list[Computation]) -> list[list[Computation]]:
    """Split same-text computations into runs over provably unchanged data."""
    runs: list[list[Computation]] = []
    for computation in sorted(group, key=lambda item: item.start):
        current = runs[-1] if runs else None
        if current is not None and _repeats(ctx, current[0], current[-1], computation):
            current.append(computation)
        else:
            runs.append([computation])
    return [run for run in runs if len(run) > 1]


def _repeats(ctx: Context, first: Computation, previous: Computation,
             later: Computation) -> bool:
    if later.start < previous.stop:
        return False  # nested in the previous one
    first_node, later_node = first.chain.children[0], later.chain.children[0]  # type: ignore
    if not _always_before(first_node, later_node):
        return False  # a branch or loop may skip the first evaluation
    end = _window_end(first_node, later_node)
    return not _mutated(ctx, first.names, first.stop, end)


def _hoist_fix(ctx: Context, run: list[Computation]) -> Fix | None:
    """Compute once into a new local before the first use's statement; reuse it after."""
    first = run[0]
    statement = _statement_of(first.chain)
    if statement.type != "simple_stmt":
        return None  # inside a compound statement's header or one-line body
    if any(_statement_of(item.chain).parent is not statement.parent for item in run):
        return None  # not one block: the local might not exist where it is used
    if _bound_in(first, statement) or any(_result_mutated(ctx, item) for item in run):
        return None  # hoisting would move a binding or share a result changed in place
    source = ctx.source
    indent = _indent_of(source, statement)
    if source.line_text(statement.start_pos[0] - 1)[: statement.start_pos[1]].strip():
        return None  # the statement does not start its line
    name = _fresh_name(first.chain, first.hint)
    at = Position(statement.start_pos[0] - 1, 0)
    edits = [Edit(Range(at, at), f"{indent}{name} = {source.slice(first.span)}\n")]
    edits += [Edit(item.span, name) for item in run]
    return Fix(f"Compute it once into {name}", tuple(edits), Safety.UNSAFE)


def _bound_in(computation: Computation, statement: Node) -> bool:
    """A name it reads is bound in its own statement (walrus, comprehension): no hoisting."""
    for name in computation.names:
        for definition in definitions_before(name):  # type: ignore[arg-type]
            if _inside_node(definition, statement):
                return True
    return False


def _result_mutated(ctx: Context, computation: Computation) -> bool:
    """The result is changed in place, directly or through the name it is stored in.

    Each evaluation used to give a fresh object; a shared local would carry the
    change over to the other uses.
    """
    chain = computation.chain
    if computation.end < len(chain.children) and _mutating_chain(chain):  # type: ignore
        return True
    statement = chain.parent
    if statement is None or statement.type != "expr_stmt" or computation.end != len(
        chain.children  # type: ignore[attr-defined]
    ):
        return False
    targets = [child for child in statement.children[:-1:2] if child.type == "name"]
    scope = scope_of(chain)
    for target in targets:
        used = target.get_root_node().get_used_names().get(target.value, [])
        later = [leaf for leaf in used if leaf.start_pos > target.start_pos
                 and scope_of(leaf) is scope and not leaf.is_definition()]
        if any(_changes(ctx, leaf) for leaf in later):
            return True
    return False


def _unique_count(ctx: Context, chain: Node) -> tuple[Range, str] | None:
    """`len(s.unique())` -> `s.nunique(dropna=False)` (NaN counts as one value in both)."""
    children = chain.children  # type: ignore[attr-defined]
    if len(children) != 2 or not _is_name(children[0], "len") or not _is_call(children[1]):
        return None  # not a call of len
    arguments = _arguments(children[1])
    if len(arguments) != 1 or arguments[0].type not in ("atom_expr", "power"):
        return None  # len() of nothing, or of several things
    inner = arguments[0]
    parts = inner.children  # type: ignore[attr-defined]
    if len(parts) < 3 or not _is_attribute(parts[-2], ("unique",)) or _code(parts[-1]) != "()":
        return None  # not `len(x.unique())`
    receiver = chain_prefix(inner, len(parts) - 2)
    if ctx.infer.kind(receiver) not in (Kind.SERIES, Kind.INDEX):
        return None  # a groupby's unique gives one array per group; numpy has no nunique
    if not _is_builtin(children[0], ctx):
        return None  # a len bound to something else
    text = f"{ctx.source.code_of(receiver)}.nunique(dropna=False)"
    return Range.of(chain), text


@register
class RepeatedComputation(Rule):
    code = "FMP203"
    name = "repeated-computation"
    summary = "The same expensive pandas computation evaluated again on unchanged data"
    severity = Severity.WARNING
    prefilter = _PANDAS_WORDS
    docs = RuleDocs(
        what=(
            "Finds an expensive pandas computation evaluated more than once in one scope "
            "on data that did not change in between: `.unique()`, `.nunique()`, "
            "`.value_counts()`, `.drop_duplicates()`, `.duplicated()`, `.sort_values()`, "
            "`.merge()`, `.pivot_table()`, `.describe()`, a reduction of `.groupby(...)` "
            "(`sum`, `mean`, `agg`, `size`, ...) and a boolean filter `df[mask]` with the "
            "same mask. Also `len(s.unique())`, which builds the array of unique values only "
            "to count it."
        ),
        why=(
            "Each of these walks all n rows and allocates a new result: hashing for unique "
            "and groupby (O(n)), sorting (O(n log n)), copying the selected rows of every "
            "column for a filter (O(n x columns)). Evaluating one twice doubles that work "
            "for an identical result. `s.nunique(dropna=False)` counts without keeping "
            "the unique values around."
        ),
        example=(
            "if len(sales[sales[\"units\"] > 0]) > 10:\n"
            "    report(sales[sales[\"units\"] > 0])\n"
            "kinds = len(sales[\"kind\"].unique())"
        ),
        instead=(
            "sales_selected = sales[sales[\"units\"] > 0]\n"
            "if len(sales_selected) > 10:\n"
            "    report(sales_selected)\n"
            "kinds = sales[\"kind\"].nunique(dropna=False)"
        ),
        false_alarms=(
            "Repeated column reads such as `df[\"a\"]` are cheap (pandas caches them) and "
            "are never reported. Nothing is reported when, between the two evaluations, "
            "a name the expression reads is reassigned, written through (`df[\"a\"] = ...`, "
            "`df.loc[...] = ...`), changed by an in-place method (`inplace=True`, "
            "`insert`, `update`, ...) or passed to a function that might change it; nor "
            "when the first evaluation sits in a branch or loop that may not run. The "
            "hoisting fix is unsafe, because code it cannot see (another thread, a "
            "callback) could still change the data, and is offered only when both uses "
            "are in one block."
        ),
        references=(
            "https://pandas.pydata.org/docs/reference/api/pandas.Series.nunique.html",
            "https://pandas.pydata.org/docs/user_guide/enhancingperf.html",
        ),
    )
    examples = (
        flagged(
            """
            import pandas as pd

            sales = pd.read_csv("sales.csv")
            kinds = len(sales["kind"].unique())
            """,
            "4:8-4:35",
            fixed="""
            import pandas as pd

            sales = pd.read_csv("sales.csv")
            kinds = sales["kind"].nunique(dropna=False)
            """,
        ),
        flagged(
            """
            import pandas as pd


            def busy_sites(sales: pd.DataFrame) -> list:
                print(len(sales[sales["units"] > 0]), "rows")
                busy = sales[sales["units"] > 0]["site"].tolist()
                return busy
            """,
            "6:11-6:36",
            fixed="""
            import pandas as pd


            def busy_sites(sales: pd.DataFrame) -> list:
                sales_selected = sales[sales["units"] > 0]
                print(len(sales_selected), "rows")
                busy = sales_selected["site"].tolist()
                return busy
            """,
        ),
        flagged(
            """
            import pandas as pd

            sales = pd.read_csv("sales.csv")
            totals = sales.groupby("site")["units"].sum()
            if totals.max() > 100:
                best = sales.groupby("site")["units"].sum().idxmax()
            """,
            "6:11-6:47",
            note="the second use is in another block: reported without a fix",
        ),
        flagged(
            """
            import pandas as pd

            prices = pd.Series([3.0, 1.0, None])
            ordered = prices.sort_values()
            print(prices.sort_values().head(1), ordered.tail(1))
            """,
            "5:6-5:26",
            fixed="""
            import pandas as pd

            prices = pd.Series([3.0, 1.0, None])
            prices_sorted = prices.sort_values()
            ordered = prices_sorted
            print(prices_sorted.head(1), ordered.tail(1))
            """,
        ),
        clean(
            """
            import pandas as pd

            sales = pd.read_csv("sales.csv")
            units = sales["units"]
            price = sales["price"]
            total = (sales["units"] * sales["price"]).sum()
            first = sales["site"].unique()
            sales["site"] = sales["site"].str.upper()
            second = sales["site"].unique()
            filtered = sales[sales["units"] > 0]
            sales.loc[sales["units"] < 0, "units"] = 0
            again = sales[sales["units"] > 0]
            """,
            note="column reads are cheap; writes in between change the data",
        ),
        clean(
            """
            import pandas as pd


            def summarize(sales: pd.DataFrame, detailed: bool):
                if detailed:
                    counts = sales["site"].value_counts()
                else:
                    counts = sales["site"].value_counts().head(3)
                sites = sales.drop_duplicates()
                clean_up(sales)
                sites = sales.drop_duplicates()
                sales.drop(columns=["tmp"], inplace=True)
                sites = sales.drop_duplicates()
                for _ in range(3):
                    values = sales["units"].unique()
                    sales = sales.iloc[1:]
                return counts, sites, values
            """,
            note="other branches, a call that may change the frame, in-place methods, loops",
        ),
        clean(
            """
            import numpy as np
            import pandas as pd

            values = np.array([1, 2, 2])
            a = len(np.unique(values))
            groups = pd.read_csv("g.csv").groupby("site")
            sizes = len(groups["kind"].unique())
            records = {"a": [1, 2]}
            count = len(set(records["a"]))
            """,
            note="numpy arrays, a groupby's unique (one array per group), plain containers",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """`len(x.unique())` or an expensive expression written twice, and frames known."""
        repeated = _counts_unique(outline) or _computed_twice(outline, ctx)
        return repeated and frames_possible(outline, ctx)

    def check(self, ctx: Context) -> Iterator[Finding]:
        groups: dict[tuple[int, str], list[Computation]] = {}
        for chain in ctx.source.nodes("atom_expr", "power"):
            counted = _unique_count(ctx, chain)
            if counted is not None:
                yield self._nunique(*counted)
            for computation in _computations(ctx, chain):
                scope = id(scope_of(chain))
                groups.setdefault((scope, computation.key), []).append(computation)
        yield from self._repeats(ctx, groups)

    def _nunique(self, span: Range, text: str) -> Finding:
        message = (
            f"len(...unique()) builds the array of distinct values only to count it; use {text}"
        )
        return self.finding(span, message, fix=Fix(f"Use {text}", (Edit(span, text),)))

    def _repeats(self, ctx: Context, groups) -> Iterator[Finding]:
        taken: list[Range] = []
        ordered = sorted(groups.values(), key=lambda group: -len(group[0].key))
        for group in ordered:
            if len(group) < 2:
                continue  # computed once
            for run in _runs(ctx, group):
                run = [item for item in run if not any(span.contains(item.span)
                                                       for span in taken)]
                if len(run) < 2:
                    continue  # the other evaluations sit inside a reported one
                taken.extend(item.span for item in run)
                yield self._finding(ctx, run)

    def _finding(self, ctx: Context, run: list[Computation]) -> Finding:
        text = ctx.source.slice(run[0].span)
        if len(text) > 60:
            text = text[:57] + "..."
        message = (
            f"{text} is computed {len(run)} times on unchanged data in this scope; "
            "compute it once and reuse the result"
        )
        related = (Related(ctx.source.path, run[0].span, "first computed here"),)
        return self.finding(run[1].span, message, fix=_hoist_fix(ctx, run), related=related,
                            cost=f"{len(run)} evaluations of the same O(n) work")


# -- gates: what a file must hold before any rule here is worth a parse ----------
#
# Each rule reports only a receiver the type facade knows as a frame or Series.
# The facade learns that from pandas names (an import, or the string annotation
# "pandas.DataFrame") or from the annotation of a helper jedi follows, and it
# asks jedi only about calls of imported names. The shapes below mirror each
# rule's parso checks with `ast` nodes; every one is looser than its rule.

_FRAMES_POSSIBLE: weakref.WeakKeyDictionary[Outline, bool] = weakref.WeakKeyDictionary()
_MASK_NAMES: weakref.WeakKeyDictionary[Outline, frozenset[str]] = weakref.WeakKeyDictionary()
_CELL_INDEXERS = ("at", "iat", "loc", "iloc")
_MASK_OPERATORS = (ast.BitAnd, ast.BitOr, ast.BitXor)
_ACCUMULATING = (ast.Add, ast.Sub, ast.Mult, ast.BitOr, ast.BitAnd)


def frames_possible(outline: Outline, ctx: Context) -> bool:
    """Whether anything in the file can be known as a DataFrame or Series.

    Asked by every rule of the family on the same file, so the answer is kept
    with the outline.
    """
    known = _FRAMES_POSSIBLE.get(outline)
    if known is None:
        known = (
            ctx.imports.imports_any("pandas")
            or "pandas.DataFrame" in ctx.source.text
            or _calls_imported_helper(outline, ctx)
        )
        _FRAMES_POSSIBLE[outline] = known
    return known


def _calls_imported_helper(outline: Outline, ctx: Context) -> bool:
    """A call of an imported name outside pandas and numpy: jedi may read its annotation."""
    imported = ctx.imports.names
    for call in outline.nodes(ast.Call):
        root = dotted_root(call.func)
        target = imported.get(root) if root is not None else None
        if target is not None and target.split(".")[0] not in ("pandas", "numpy"):
            return True
    return False


def _chain_root(node: ast.expr) -> ast.expr:
    """The head of `a.b(...)[k].c`: attributes, calls and subscripts stripped."""
    while True:
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return node


def _may_be_mask(node: ast.expr, outline: Outline) -> bool:
    """Syntax `is_boolean_mask` can accept: a comparison, `&`/`|`/`^`, `~`, a mask method,
    or a name bound to one of these."""
    if isinstance(node, ast.Name):
        return node.id in _mask_names(outline)
    return _mask_syntax(node)


def _mask_syntax(node: ast.expr) -> bool:
    """The shapes of a boolean condition written out, as `is_boolean_mask` reads them."""
    if isinstance(node, ast.Compare):
        return True
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, _MASK_OPERATORS)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.Invert, ast.Not))
    return _calls_method(node, _MASK_METHODS)


def _mask_names(outline: Outline) -> frozenset[str]:
    """Names set by `name = <mask syntax or a name>`: those `is_boolean_mask` may follow.

    The file's names are read in any scope and order, a looser test than the
    rule's own (the nearest binding before the use, followed three deep).
    """
    names = _MASK_NAMES.get(outline)
    if names is None:
        names = frozenset(
            statement.targets[0].id
            for statement in outline.nodes(ast.Assign)
            if len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)
            and (isinstance(statement.value, ast.Name) or _mask_syntax(statement.value))
        )
        _MASK_NAMES[outline] = names
    return names


def _calls_method(node: ast.AST | None, names: Collection[str]) -> bool:
    """`x.name(...)` for one of the names."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
        node.func.attr in names
    )


def _is_len_of(node: ast.AST) -> ast.expr | None:
    """The one argument of `len(x)`, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None  # not a call of a plain name
    if node.func.id != "len" or len(node.args) + len(node.keywords) != 1 or not node.args:
        return None  # another function, or len() of nothing or of several things
    return node.args[0]


def _is_zero(node: ast.expr) -> bool:
    """The literal `0` (not `False`, which equals it)."""
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value == 0


def _indexes_twice(outline: Outline) -> bool:
    """`x[a][b]` that FMP201 may call costly, or a write `x[c].loc[k] = v` (its two shapes)."""
    targets = _target_chains(outline)
    for node in outline.nodes(ast.Subscript):
        inner = node.value
        if isinstance(inner, ast.Subscript) and (
            id(node) in targets or _costly_pair(inner, node.slice, outline)
        ):
            return True
        if isinstance(node.ctx, ast.Store) and isinstance(inner, ast.Attribute) and (
            inner.attr in _CELL_INDEXERS and isinstance(inner.value, ast.Subscript)
        ):
            return True
    return False


def _target_chains(outline: Outline) -> set[int]:
    """Ids of the nodes along each assigned chain: every pair in one is reported."""
    targets: list[ast.expr] = [target for statement in outline.nodes(ast.Assign)
                               for target in statement.targets]
    targets += [statement.target for statement in outline.nodes(ast.AugAssign)]
    found: set[int] = set()
    for node in targets:
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            found.add(id(node))
            node = node.func if isinstance(node, ast.Call) else node.value
    return found


def _costly_pair(inner: ast.Subscript, second: ast.expr, outline: Outline) -> bool:
    """The read `_costly_read` reports: rows first (no slice), or a label then a mask."""
    first = inner.slice
    if isinstance(first, ast.Slice):
        return False  # a slice of rows first is a view
    if isinstance(inner.value, ast.Attribute) and inner.value.attr in ("loc", "iloc"):
        return True  # one row through an indexer boxes every column
    if isinstance(first, (ast.List, ast.ListComp)) or _may_be_mask(first, outline):
        return True  # a mask or a list of rows or labels
    return isinstance(first, ast.Constant) and isinstance(first.value, str) and (
        _may_be_mask(second, outline)
    )


def _counts_filter(outline: Outline) -> bool:
    """`len(x[mask])`, `len(x.loc[mask])` or `x[mask].shape[0]` (FMP202's shapes)."""
    for call in outline.nodes(ast.Call):
        argument = _is_len_of(call)
        if isinstance(argument, ast.Subscript) and _may_be_mask(argument.slice, outline):
            return True
    for node in outline.nodes(ast.Subscript):
        shape = node.value
        if _is_zero(node.slice) and isinstance(shape, ast.Attribute) and shape.attr == "shape":
            rows = shape.value
            if isinstance(rows, ast.Subscript) and _may_be_mask(rows.slice, outline):
                return True
    return False


def _counts_unique(outline: Outline) -> bool:
    """`len(x.unique())`, which FMP203 rewrites to `nunique`."""
    for call in outline.nodes(ast.Call):
        argument = _is_len_of(call)
        if _calls_method(argument, ("unique",)) and not (
            argument.args or argument.keywords  # type: ignore[union-attr]
        ):
            return True
    return False


def _computed_twice(outline: Outline, ctx: Context) -> bool:
    """Two equal expensive expressions (FMP203): a method of the list, or a row filter.

    Equal token texts are equal trees, so comparing dumps of the `ast` nodes
    within one scope finds every pair the rule compares, and a few it does not
    (other spellings). A chain whose head the file never binds (`list[int | None]`,
    a builtin) is unknown to the type facade, so it is left out.
    """
    bound = _bound_names(outline, ctx)
    methods = set(_REPEATED_METHODS)
    if "groupby" in outline.attributes:  # a reduction counts only on a groupby
        methods |= _GROUP_REDUCTIONS
    seen: set[tuple[str, int]] = set()
    candidates = [*outline.nodes(ast.Call), *outline.nodes(ast.Subscript)]
    for node in candidates:
        expensive = _calls_method(node, methods) or isinstance(node, ast.Subscript) and (
            _may_be_mask(node.slice, outline)
        )
        root = _chain_root(node)  # type: ignore[arg-type]
        if not expensive or not isinstance(root, ast.Name) or root.id in ("self", "cls"):
            continue  # cheap, or on an attribute of an object: not the rule's computation
        if root.id not in bound:
            continue  # a builtin or a name of unknown origin: never a known frame
        computation = ast.dump(node).replace("ctx=Store()", "ctx=Load()")
        key = (computation, id(outline.scope_of(node)))
        if key in seen:
            return True  # written twice in one scope: the check compares them
        seen.add(key)
    return False


def _bound_names(outline: Outline, ctx: Context) -> set[str]:
    """Names the file binds: assigned, parameters, definitions, imports."""
    names = {node.id for node in outline.nodes(ast.Name) if not isinstance(node.ctx, ast.Load)}
    names.update(argument.arg for argument in outline.nodes(ast.arg))
    names.update(function.name for function in outline.nodes(ast.FunctionDef))
    names.update(function.name for function in outline.nodes(ast.AsyncFunctionDef))
    names.update(klass.name for klass in outline.nodes(ast.ClassDef))
    names.update(ctx.imports.names)
    return names


def _loop_names(target: ast.expr) -> set[str]:
    """The names a `for` binds: its row labels are among them."""
    return {node.id for node in ast.walk(target) if isinstance(node, ast.Name)}


def _rows_of(iterable: ast.expr) -> bool:
    """`x.iterrows()`, `x.itertuples()`, `x.index`, `range(len(x))`, `range(x.shape[0])`."""
    if _calls_method(iterable, _ROW_LOOPS) or isinstance(iterable, ast.Attribute) and (
        iterable.attr == "index"
    ):
        return True  # the rows or labels of a frame, when `x` is one
    if not (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name)):
        return False  # not a call of a plain name: lists, dicts, generators
    if iterable.func.id != "range" or not iterable.args:
        return False  # enumerate(), zip() and the like
    measured = iterable.args[-1]
    if _is_len_of(measured) is not None:
        return True  # `range(len(x))`
    return isinstance(measured, ast.Subscript) and isinstance(measured.value, ast.Attribute) and (
        measured.value.attr == "shape"
    )


def _writes_row_cell(loop: ast.For | ast.AsyncFor) -> bool:
    """An assignment in the loop to `x.at[row, c]`, `x.loc[row]`, `x[c][row]` (FMP204)."""
    labels = _loop_names(loop.target)
    for statement in (node for part in loop.body for node in ast.walk(part)):
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AugAssign):
            targets = [statement.target]
        else:
            continue
        if any(_cell_target(target, labels) for target in targets):
            return True
    return False


def _cell_target(target: ast.expr, labels: set[str]) -> bool:
    """`x.<indexer>[key]` or `x[c][key]` whose row key is a loop name or `row.Index`."""
    if not isinstance(target, ast.Subscript):
        return False  # a name or an attribute is set, not a cell
    holder = target.value
    if not (isinstance(holder, ast.Subscript) or isinstance(holder, ast.Attribute) and (
        holder.attr in _CELL_INDEXERS
    )):
        return False  # `x[key] = v` on a list, dict or array
    key = target.slice
    row = key.elts[0] if isinstance(key, ast.Tuple) and key.elts else key
    if isinstance(row, ast.Attribute) and row.attr == "Index":
        row = row.value
    return isinstance(row, ast.Name) and row.id in labels


def _writes_cells_per_row(outline: Outline) -> bool:
    """A `for` over rows or labels that assigns a cell keyed by its row (FMP204)."""
    return any(
        _rows_of(loop.iter) and _writes_row_cell(loop)
        for loop in _for_loops(outline)
    )


def _for_loops(outline: Outline) -> Iterator[ast.For | ast.AsyncFor]:
    """Every `for` and `async for`: parso names both `for_stmt`."""
    yield from outline.nodes(ast.For)
    yield from outline.nodes(ast.AsyncFor)


def _arithmetic_statements(body: list[ast.stmt]) -> bool:
    """Statements FMP205's row body accepts: assignments to names, appends, ifs, pass."""
    return all(_arithmetic_statement(statement) for statement in body)


def _arithmetic_statement(statement: ast.stmt) -> bool:
    """One statement of the kinds `RowBody._statement` accepts (a break or a call is not)."""
    if isinstance(statement, (ast.Pass, ast.Continue)):
        return True
    if isinstance(statement, ast.Assign):
        return len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)
    if isinstance(statement, ast.AugAssign):
        return isinstance(statement.target, ast.Name) and isinstance(statement.op, _ACCUMULATING)
    if isinstance(statement, ast.Expr):
        return _calls_method(statement.value, ("append",))
    if isinstance(statement, ast.If):
        return _arithmetic_statements(statement.body) and _arithmetic_statements(statement.orelse)
    return False


def _iterates_rows(outline: Outline) -> bool:
    """A loop or one-clause comprehension over `iterrows()`/`itertuples()` (FMP205)."""
    for loop in _for_loops(outline):
        if _calls_method(loop.iter, _ROW_LOOPS) and not loop.orelse and (
            _arithmetic_statements(loop.body)
        ):
            return True
    comprehensions: list[ast.ListComp | ast.SetComp | ast.GeneratorExp] = [
        *outline.nodes(ast.ListComp), *outline.nodes(ast.SetComp),
        *outline.nodes(ast.GeneratorExp),
    ]
    for comprehension in comprehensions:
        clauses = comprehension.generators
        if len(clauses) == 1 and _calls_method(clauses[0].iter, _ROW_LOOPS):
            return True
    return False


def _applies_per_row(outline: Outline) -> bool:
    """`x.apply(f, axis=1)` or `axis="columns"` with a lambda or a name (FMP205)."""
    for call in outline.nodes(ast.Call):
        if not _calls_method(call, ("apply",)):
            continue
        axes = [keyword.value for keyword in call.keywords if keyword.arg == "axis"]
        if not axes or not isinstance(axes[0], ast.Constant):
            continue  # the default axis applies per column
        axis = axes[0].value
        if (type(axis) is int and axis == 1 or axis == "columns") and any(
            isinstance(argument, (ast.Lambda, ast.Name)) for argument in call.args
        ):
            return True
    return False


def _assignments_in_loops(outline: Outline) -> Iterator[ast.Assign]:
    """Plain assignments within some loop's lines (generous: see `Outline.in_loop`)."""
    return outline.in_loop_nodes(ast.Assign)


def _is_pandas_concat(func: ast.expr, ctx: Context) -> bool:
    """`pd.concat` or a `concat` imported from pandas, as `ImportMap.qualified` reads it."""
    parts = dotted(func)
    if parts is None:
        return False  # a call of a call's result or the like: not a dotted name
    head = ctx.imports.resolve(parts[0])
    return head is not None and ".".join([head, *parts[1:]]) == "pandas.concat"


def _grows(statement: ast.Assign, ctx: Context, frames: bool) -> bool:
    """`acc = pd.concat([acc, ...])`, `acc = acc.append(x)`, `x.loc[len(x)] = row`, or
    `whole = pd.concat(parts)` (FMP206)."""
    if _concat_of_name(statement.value, ctx):
        return True
    target = statement.targets[0]
    if isinstance(target, ast.Name) and len(statement.targets) == 1:
        value = statement.value
        if _concat_onto(value, target.id, ctx):
            return True
        if _calls_method(value, ("_append",) if not frames else ("_append", "append")):
            owner = value.func.value  # type: ignore[attr-defined]
            appended = _plain_arguments(value)  # type: ignore[arg-type]
            return isinstance(owner, ast.Name) and owner.id == target.id and len(appended) == 1
        return False
    return frames and _enlarges(target)


def _concat_onto(value: ast.expr, name: str, ctx: Context) -> bool:
    """`pd.concat([name, ...])` or `[..., name]`, maybe as a branch of `a if c else b`."""
    if isinstance(value, ast.IfExp):
        return _concat_onto(value.body, name, ctx) or _concat_onto(value.orelse, name, ctx)
    if not (isinstance(value, ast.Call) and _is_pandas_concat(value.func, ctx)):
        return False  # not pandas's concat
    objects = _plain_arguments(value)
    listed = objects[0] if objects else None
    if not isinstance(listed, (ast.List, ast.Tuple)) or len(listed.elts) < 2:
        return False  # a variable, a comprehension or one object: joined once
    places = [index for index, item in enumerate(listed.elts)
              if isinstance(item, ast.Name) and item.id == name]
    return len(places) == 1 and places[0] in (0, len(listed.elts) - 1)


def _concat_of_name(value: ast.expr, ctx: Context) -> bool:
    """`pd.concat(parts, ...)`, maybe as a branch of `a if c else b`."""
    if isinstance(value, ast.IfExp):
        return _concat_of_name(value.body, ctx) or _concat_of_name(value.orelse, ctx)
    if not (isinstance(value, ast.Call) and _is_pandas_concat(value.func, ctx)):
        return False
    objects = _plain_arguments(value)
    return bool(objects) and isinstance(objects[0], ast.Name)


def _plain_arguments(call: ast.Call) -> list[ast.expr]:
    """Positional arguments but `*args`, which parso may or may not count as positional."""
    return [argument for argument in call.args if not isinstance(argument, ast.Starred)]


def _enlarges(target: ast.expr) -> bool:
    """`x.loc[len(x)]`, `x.loc[x.shape[0]]`, `x.loc[len(x.index)]` as the target."""
    if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute)):
        return False  # not `x.<attribute>[key]`
    if target.value.attr != "loc" or not isinstance(target.value.value, ast.Name):
        return False  # not `name.loc[key]`
    key = target.slice
    measured = _is_len_of(key)
    if isinstance(measured, ast.Attribute) and measured.attr == "index":
        measured = measured.value  # `len(x.index)`
    shape = key.value if isinstance(key, ast.Subscript) and _is_zero(key.slice) else None
    if isinstance(shape, ast.Attribute) and shape.attr == "shape":
        measured = shape.value  # `x.shape[0]`
    return isinstance(measured, ast.Name) and measured.id == target.value.value.id
