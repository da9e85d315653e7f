"""Type questions rules ask ("is this a DataFrame?"), answered cheaply first.

Local evidence answers most of them without leaving the file: annotations,
constructor calls such as `pd.DataFrame(...)` and `pd.read_csv(...)`, frame
methods that return frames, and assignments in the same scope. jedi is asked
only for what remains (a helper imported from another module), under a
per-file time budget; anything it cannot answer in time is "unknown", and an
unknown receiver never produces a finding.
"""

from __future__ import annotations

import ast
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path

from parso.python.tree import Name
from parso.tree import NodeOrLeaf

from fmperf_ls.analysis.imports import ImportMap
from fmperf_ls.analysis.module_files import ModuleFiles
from fmperf_ls.analysis.scopes import definitions_before, is_inside
from fmperf_ls.analysis.source import SourceFile

logger = logging.getLogger(__name__)


class Kind(str, Enum):
    FRAME = "DataFrame"
    SERIES = "Series"
    INDEX = "Index"
    GROUPBY = "GroupBy"
    INDEXER = "indexer"  # df.loc, df.iloc, df.at, df.iat
    FRAMES = "container of DataFrames"  # list[pd.DataFrame], dict[str, pd.DataFrame]
    ARRAY = "ndarray"
    OTHER = "not pandas"  # a literal, a dict, a number: known not to be a frame
    UNKNOWN = "unknown"


_READERS_OF_ONE_FRAME = {
    "read_csv", "read_table", "read_excel", "read_json", "read_parquet", "read_feather",
    "read_sql", "read_sql_query", "read_sql_table", "read_orc", "read_stata", "read_sas",
    "read_fwf", "read_xml", "read_clipboard", "read_hdf", "read_spss",
}  # fmt: skip
_FRAME_FUNCTIONS = {
    "DataFrame", "merge", "merge_asof", "merge_ordered", "pivot_table", "crosstab",
    "get_dummies", "json_normalize", "pivot", "melt", "wide_to_long",
} | _READERS_OF_ONE_FRAME  # fmt: skip
_SERIES_FUNCTIONS = {"Series"}
_INDEX_FUNCTIONS = {"Index", "date_range", "DatetimeIndex", "period_range", "MultiIndex"}

_SAME_KIND_METHODS = {
    "copy", "head", "tail", "sort_values", "sort_index", "reset_index", "set_index",
    "dropna", "fillna", "ffill", "bfill", "drop", "drop_duplicates", "rename", "astype",
    "assign", "query", "filter", "where", "mask", "clip", "round", "abs", "shift", "diff",
    "pct_change", "cumsum", "cumprod", "cummax", "cummin", "replace", "interpolate",
    "reindex", "tz_convert", "tz_localize", "asfreq", "sample", "nlargest", "nsmallest",
    "infer_objects", "convert_dtypes", "truncate", "between_time", "at_time",
    "isna", "notna", "isnull", "notnull", "combine_first", "add", "sub", "mul", "div",
    "truediv", "floordiv", "pow", "mod", "rank",
}  # fmt: skip
_FRAME_METHODS = {"merge", "join", "pivot", "pivot_table", "melt", "to_frame", "describe",
                  "explode", "transpose", "select_dtypes", "rename_axis"}
_SERIES_METHODS = {"value_counts", "map", "isin", "between", "duplicated", "apply"}
_FRAME_REDUCTIONS = {
    "sum", "mean", "median", "min", "max", "std", "var", "sem", "prod", "count", "nunique",
    "idxmax", "idxmin", "any", "all", "skew", "kurt", "value_counts", "memory_usage",
}  # fmt: skip
_SERIES_SCALARS = {
    "sum", "mean", "median", "min", "max", "std", "var", "sem", "prod", "count", "nunique",
    "idxmax", "idxmin", "any", "all", "item", "skew", "kurt", "equals",
}  # fmt: skip
_GROUPBY_AGGREGATIONS = {
    "sum", "mean", "median", "min", "max", "std", "var", "sem", "prod", "count", "first",
    "last", "nunique", "cumsum", "cumcount", "transform", "ffill", "bfill", "shift", "diff",
    "rank", "quantile",
}  # fmt: skip
_NOT_COLUMNS = frozenset("""
    T abs add add_prefix add_suffix agg aggregate align all any apply asfreq asof assign
    astype at at_time attrs axes between_time bfill boxplot clip columns combine
    combine_first compare convert_dtypes copy corr corrwith count cov cummax cummin cumprod
    cumsum describe diff div divide dot drop drop_duplicates droplevel dropna dtypes
    duplicated empty eq equals eval ewm expanding explode ffill fillna filter
    first_valid_index flags floordiv from_arrow from_dict from_records ge get groupby gt
    head hist iat idxmax idxmin iloc index infer_objects info insert interpolate isetitem
    isin isna isnull items iterrows itertuples join keys kurt kurtosis last_valid_index le
    loc lt map mask max mean median melt memory_usage merge min mod mode mul multiply ndim
    ne nlargest notna notnull nsmallest nunique pct_change pipe pivot pivot_table plot pop
    pow prod product quantile query radd rank rdiv reindex reindex_like rename rename_axis
    reorder_levels replace resample reset_index rfloordiv rmod rmul rolling round rpow rsub
    rtruediv sample select select_dtypes sem set_axis set_flags set_index shape shift size
    skew sort_index sort_values sparse squeeze stack std style sub subtract sum swaplevel
    tail take to_clipboard to_csv to_dict to_excel to_feather to_hdf to_html to_iceberg
    to_json to_latex to_markdown to_numpy to_orc to_parquet to_period to_pickle to_records
    to_sql to_stata to_string to_timestamp to_xarray to_xml transform transpose truediv
    truncate tz_convert tz_localize unstack update value_counts values var where xs
    append iteritems lookup swapaxes bool backfill pad first last applymap mad ix
    get_value set_value as_matrix tshift slice_shift name
""".split())
"""Public DataFrame attributes (pandas 1 to 3): any other `df.word` reads a column."""
_SERIES_ACCESSORS = {"str", "dt", "cat"}
_ACCESSOR_NOT_SERIES = {"extract", "extractall", "split", "rsplit", "partition", "rpartition",
                        "get_dummies", "to_pydatetime", "components", "freq", "tz",
                        "categories", "ordered", "unit", "to_pytimedelta"}
_ARRAY_METHODS = {"unique", "to_numpy"}
_FRAME_ATTRIBUTES = {"T": Kind.FRAME, "values": Kind.ARRAY, "index": Kind.INDEX,
                     "dtypes": Kind.SERIES, "shape": Kind.OTHER, "empty": Kind.OTHER,
                     "size": Kind.OTHER, "ndim": Kind.OTHER,
                     "columns": Kind.INDEX, "loc": Kind.INDEXER, "iloc": Kind.INDEXER,
                     "at": Kind.INDEXER, "iat": Kind.INDEXER}
_SERIES_ATTRIBUTES = {"values": Kind.ARRAY, "index": Kind.INDEX, "shape": Kind.OTHER,
                      "empty": Kind.OTHER, "size": Kind.OTHER, "ndim": Kind.OTHER,
                      "loc": Kind.INDEXER,
                      "iloc": Kind.INDEXER, "at": Kind.INDEXER, "iat": Kind.INDEXER}

_CONTAINERS = {
    "list", "List", "Sequence", "Iterable", "Iterator", "Collection", "tuple", "Tuple",
    "set", "Set", "frozenset", "MutableSequence", "Generator",
}  # fmt: skip
_MAPPINGS = {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "defaultdict"}
_OPTIONAL = {"Optional", "Annotated", "Final", "ClassVar"}


@dataclass(frozen=True)
class Inferred:
    kind: Kind
    via_jedi: bool = False
    owner: Kind | None = None
    """For indexers, groupbys and accessors: the kind of what they were taken from."""


UNKNOWN = Inferred(Kind.UNKNOWN)
_MAX_DEPTH = 12


class TypeFacade:
    """Answers kind questions for one SourceFile, caching by node."""

    def __init__(
        self,
        source: SourceFile,
        budget_seconds: float = 1.0,
        jedi_lookup: Callable[[SourceFile, Name], NodeOrLeaf | None] | None = None,
        modules: ModuleFiles | None = None,
    ):
        self.source = source
        self._modules = modules
        self._cache: dict[object, Inferred] = {}
        self._budget = budget_seconds
        self._spent = 0.0
        self._jedi_lookup = jedi_lookup

    @cached_property
    def imports(self) -> ImportMap:
        """Read on first use: from the `ast` outline if a gate built one, else the tree."""
        return ImportMap.of(self.source)

    def kind(self, node: NodeOrLeaf) -> Kind:
        return self.infer(node).kind

    def is_frame(self, node: NodeOrLeaf) -> bool:
        return self.kind(node) is Kind.FRAME

    def is_series(self, node: NodeOrLeaf) -> bool:
        return self.kind(node) is Kind.SERIES

    def infer(self, node: NodeOrLeaf, depth: int = 0) -> Inferred:
        key = _cache_key(node)
        if key not in self._cache:
            self._cache[key] = UNKNOWN  # a cycle through assignments ends as unknown
            self._cache[key] = self._infer(node, depth) if depth < _MAX_DEPTH else UNKNOWN
        return self._cache[key]

    def qualified(self, node: NodeOrLeaf) -> str | None:
        """`pandas.read_csv` for `pd.read_csv` when `pd` is pandas; else None."""
        return self.imports.qualified(node)

    def function_definition(self, name: Name) -> NodeOrLeaf | None:
        """The funcdef an imported name leads to (via the jedi lookup), within the budget."""
        if self._jedi_lookup is None or self._spent >= self._budget:
            return None
        started = time.perf_counter()
        try:
            return self._jedi_lookup(self.source, name)
        finally:
            self._spent += time.perf_counter() - started

    # -- expressions ---------------------------------------------------------

    def _infer(self, node: NodeOrLeaf, depth: int) -> Inferred:
        node_type = node.type
        if node_type == "name":
            return self._infer_name(node, depth)  # type: ignore[arg-type]
        if node_type == "power" and any(
            child.type == "operator" for child in node.children  # type: ignore[attr-defined]
        ):
            return self._infer_arithmetic(node, depth)  # `a ** 2`
        if node_type in ("atom_expr", "power"):
            return self._infer_chain(node, depth)
        if node_type == "atom":
            return self._infer_atom(node, depth)
        if node_type in ("number", "string", "strings", "fstring", "keyword"):
            return Inferred(Kind.OTHER)
        if node_type == "comparison" or node_type in ("and_test", "or_test", "not_test"):
            return self._infer_boolean(node, depth)
        if node_type in ("arith_expr", "term", "and_expr", "expr", "or_expr", "xor_expr"):
            return self._infer_arithmetic(node, depth)
        if node_type == "factor":  # `-s`, `~mask`: the operand's kind
            return Inferred(self.infer(node.children[1], depth + 1).kind)  # type: ignore
        return UNKNOWN

    def _infer_atom(self, node: NodeOrLeaf, depth: int) -> Inferred:
        first = node.children[0]  # type: ignore[attr-defined]
        children = node.children  # type: ignore[attr-defined]
        if first.type == "operator" and first.value == "(" and len(children) == 3:
            return self.infer(children[1], depth + 1)
        if first.type == "operator" and first.value in ("[", "{"):
            return Inferred(Kind.OTHER)
        return Inferred(Kind.OTHER) if first.type in ("string", "number") else UNKNOWN

    def _infer_boolean(self, node: NodeOrLeaf, depth: int) -> Inferred:
        """`df.a > 0` is a Series, `df > 0` a frame; `a == b` of plain values is not."""
        if node.type != "comparison":
            return UNKNOWN  # `and`/`or`/`not` of pandas objects raise; of plain values: bool
        operands = node.children[::2]  # type: ignore[attr-defined]
        kinds = {self.infer(operand, depth + 1).kind for operand in operands}
        if Kind.FRAME in kinds:
            return Inferred(Kind.FRAME)
        if Kind.SERIES in kinds:
            return Inferred(Kind.SERIES)
        return UNKNOWN

    def _infer_arithmetic(self, node: NodeOrLeaf, depth: int) -> Inferred:
        children = node.children  # type: ignore[attr-defined]
        kinds = {self.infer(child, depth + 1).kind for child in children[::2]}
        for kind in (Kind.FRAME, Kind.SERIES):
            if kind in kinds:
                return Inferred(kind)
        return UNKNOWN

    def _infer_chain(self, node: NodeOrLeaf, depth: int) -> Inferred:
        """Walk `base.attr(args)[key]...` left to right, tracking the kind."""
        children = node.children  # type: ignore[attr-defined]
        if children[0].type == "keyword" and children[0].value == "await":
            return UNKNOWN
        if any(child.type != "trailer" for child in children[1:]):
            return UNKNOWN  # half-typed code parsed with stray operators
        current = self.infer(children[0], depth + 1)
        for index in range(1, len(children)):
            current = self._after_trailer(node, index, current, depth)
        return current

    def _after_trailer(self, chain: NodeOrLeaf, index: int, current: Inferred,
                       depth: int) -> Inferred:
        children = chain.children  # type: ignore[attr-defined]
        trailer = children[index]
        opener = trailer.children[0].value
        if opener == ".":
            return self._after_attribute(chain, index, current, depth)
        if opener == "(":
            return self._after_call(chain, index, current, depth)
        return self._after_subscript(current, trailer.children[1], depth)

    def _after_attribute(self, chain, index, current, depth) -> Inferred:
        children = chain.children
        attribute = children[index].children[1].value
        is_call = index + 1 < len(children) and children[index + 1].children[0].value == "("
        kind = current.kind
        if current.owner is Kind.SERIES and kind is Kind.OTHER:
            return _after_accessor(attribute)
        if kind in (Kind.FRAME, Kind.SERIES) and is_call:
            result = _method_result(kind, attribute)
            owner = kind if result is Kind.GROUPBY else None
            return Inferred(result, current.via_jedi, owner)
        if kind is Kind.FRAME and not is_call:
            return _frame_attribute(attribute)
        if kind is Kind.SERIES and not is_call:
            return _series_attribute(attribute)
        if kind is Kind.GROUPBY and is_call:
            return _groupby_result(current, attribute)
        # A dotted name such as `pd.read_csv`: resolved when the call trailer comes.
        return Inferred(Kind.UNKNOWN) if kind is not Kind.UNKNOWN else current

    def _after_call(self, chain, index, current, depth) -> Inferred:
        """The result of calling what stands before `children[index]`."""
        children = chain.children
        is_method = index >= 2 and children[index - 1].type == "trailer" and (
            children[index - 1].children[0].value == "."
        )
        if is_method and current.kind in _DECIDED_BY_METHOD:
            return current  # the method decided the kind
        callee = chain_prefix(chain, index)
        name = self.qualified(callee)
        if name is not None and name.split(".")[0] in ("pandas", "numpy"):
            return self._pandas_function_result(name, children[index], depth)
        if name is not None:
            return self._via_jedi(_last_name(callee), depth, name)  # a helper of the project
        if current.kind is not Kind.UNKNOWN and not (callee.type == "name"):
            return UNKNOWN  # a call of something known not to be a function we can read
        return self._call_of_project_function(callee, depth)

    def _call_of_project_function(self, callee: NodeOrLeaf, depth: int) -> Inferred:
        """A call of a function defined here (annotation) or elsewhere (jedi)."""
        if callee.type != "name":
            return UNKNOWN
        function = _local_function(callee)
        if function is not None:
            return self._annotation_kind(function.annotation, depth)
        definitions = definitions_before(callee)  # type: ignore[arg-type]
        if definitions:
            definition = definitions[0].get_definition()
            if definition is not None and definition.type in ("import_from", "import_name"):
                imported = self.imports.resolve(callee.value)  # type: ignore[attr-defined]
                return self._via_jedi(callee, depth, imported)
        return UNKNOWN

    def _pandas_function_result(self, name: str, call: NodeOrLeaf, depth: int) -> Inferred:
        """What a pandas function returns, reading the arguments that change it."""
        module, _, function = name.rpartition(".")
        arguments = _keyword_arguments(call)
        if module == "pandas" and function in _READERS_OF_ONE_FRAME:
            if "chunksize" in arguments or "iterator" in arguments:
                return UNKNOWN  # a reader object that yields frames
            if function == "read_excel" and _many_sheets(arguments.get("sheet_name")):
                return Inferred(Kind.FRAMES)
        if name == "pandas.concat":
            return self._concat_result(call, arguments, depth)
        if module == "pandas.DataFrame" and function.startswith("from_"):
            return Inferred(Kind.FRAME)
        return _pandas_function_kind(name)

    def _concat_result(self, call: NodeOrLeaf, arguments: dict, depth: int) -> Inferred:
        """`pd.concat([frame, ...])` is a frame; of Series along rows a Series."""
        first = _first_listed(call)
        kind = self.infer(first, depth + 1).kind if first is not None else Kind.UNKNOWN
        if kind is Kind.FRAME:
            return Inferred(Kind.FRAME)
        if kind is Kind.SERIES:
            axis = arguments.get("axis")
            along_rows = axis is None or axis.get_code().strip() in ("0", "'index'", '"index"')
            return Inferred(Kind.SERIES if along_rows else Kind.FRAME)
        return UNKNOWN

    def _through_indexer(self, owner: Kind | None, key: NodeOrLeaf) -> Inferred:
        """`df.loc[mask]` keeps the kind; `df.loc[rows, "col"]` is a column's Series."""
        if owner not in (Kind.FRAME, Kind.SERIES):
            return UNKNOWN
        if key.type != "subscriptlist":
            keeps = key_keeps_rows(key) or self.kind(key) is Kind.SERIES
            return Inferred(owner) if keeps else UNKNOWN
        parts = key.children[::2]  # type: ignore[attr-defined]
        if owner is not Kind.FRAME or len(parts) != 2:
            return UNKNOWN
        rows, columns = parts
        if not (key_keeps_rows(rows) or self.kind(rows) is Kind.SERIES):
            return UNKNOWN  # one row label: a scalar or a row
        if columns.type in ("string", "strings"):
            return Inferred(Kind.SERIES)
        return Inferred(Kind.FRAME) if key_keeps_rows(columns) else UNKNOWN

    def _after_subscript(self, current: Inferred, key: NodeOrLeaf, depth: int) -> Inferred:
        """What `receiver[key]` gives: a column of a frame is a Series, a mask keeps rows."""
        kind = current.kind
        if kind is Kind.FRAMES:
            return Inferred(Kind.FRAME)
        if kind is Kind.GROUPBY and current.owner is Kind.FRAME:
            return _groupby_selection(key)
        if kind is Kind.INDEXER:
            return self._through_indexer(current.owner, key)
        if kind not in (Kind.FRAME, Kind.SERIES):
            return UNKNOWN
        if kind is Kind.FRAME and key.type in ("string", "strings"):
            return Inferred(Kind.SERIES)
        if key_keeps_rows(key) or self.kind(key) is Kind.SERIES:
            return Inferred(kind)
        return UNKNOWN

    # -- names ---------------------------------------------------------------

    def _infer_name(self, name: Name, depth: int) -> Inferred:
        if name.value in ("self", "cls"):
            return UNKNOWN
        definitions = [
            definer for definer in definitions_before(name) if not _rebinds_from(definer, name)
        ]
        if not definitions:
            return UNKNOWN
        definer = definitions[0]
        statement = definer.get_definition()
        if statement is None:
            return UNKNOWN
        if statement.type == "expr_stmt":
            return self._from_assignment(definer, statement, name, depth)
        if statement.type == "param":
            return self._annotation_kind(statement.annotation, depth)
        if statement.type in ("for_stmt", "sync_comp_for", "comp_for"):
            return self._loop_element(definer, statement, depth)
        if statement.type in ("funcdef", "classdef"):
            return Inferred(Kind.OTHER)
        return UNKNOWN

    def _from_assignment(self, definer: Name, statement, use: Name, depth: int) -> Inferred:
        children = statement.children
        if is_inside(use, statement) and use.start_pos > definer.start_pos:
            return UNKNOWN  # `df = df[...]`: handled by definitions_before's ordering
        if len(children) >= 2 and children[1].type == "annassign":
            return self._annotation_kind(children[1].children[1], depth)
        if len(children) == 3 and children[0] is definer and children[1].value == "=":
            return self.infer(children[2], depth + 1)
        if len(children) > 3 and children[1].value == "=" and definer in children[:-1]:
            return self.infer(children[-1], depth + 1)  # a = b = value
        return UNKNOWN

    def _loop_element(self, definer: Name, statement, depth: int) -> Inferred:
        target, iterable = statement.children[1], statement.children[3]
        if target is definer:
            iterated = self.infer(iterable, depth + 1)
            return Inferred(Kind.FRAME) if iterated.kind is Kind.FRAMES else UNKNOWN
        return self._unpacked_element(definer, target, iterable, depth)

    def _unpacked_element(self, definer, target, iterable, depth) -> Inferred:
        """`for key, frame in frames.items()` gives frames of a frame dictionary."""
        names = [child for child in target.children if child.type == "name"]
        if len(names) != 2 or names[1] is not definer or iterable.type != "atom_expr":
            return UNKNOWN
        trailers = iterable.children
        if len(trailers) < 3 or trailers[-2].children[1].value != "items":
            return UNKNOWN
        owner = chain_prefix(iterable, len(trailers) - 2)
        if self.infer(owner, depth + 1).kind is Kind.FRAMES:
            return Inferred(Kind.FRAME)
        return UNKNOWN

    # -- annotations ---------------------------------------------------------

    def _annotation_kind(self, annotation: NodeOrLeaf | None, depth: int) -> Inferred:
        if annotation is None:
            return UNKNOWN
        if annotation.type == "keyword":
            return Inferred(Kind.OTHER)  # `None` in `pd.DataFrame | None`
        if annotation.type == "string":
            return self._string_annotation(annotation, depth)
        name = self.qualified(annotation)
        if name is not None:
            return Inferred(_pandas_class_kind(name))
        if annotation.type in ("expr", "or_expr"):
            return self._union_kind(annotation.children[::2], depth)  # type: ignore
        if annotation.type in ("atom_expr", "power"):
            return self._generic_kind(annotation, depth)
        return UNKNOWN

    def _string_annotation(self, annotation: NodeOrLeaf, depth: int) -> Inferred:
        text = annotation.value.strip("\"'")  # type: ignore[attr-defined]
        if text in ("pd.DataFrame", "pandas.DataFrame", "DataFrame"):
            alias = text.rsplit(".", 1)[0] if "." in text else text
            if self.imports.refers_to(alias, "pandas") or text == "pandas.DataFrame" or (
                self.imports.resolve(alias) == "pandas.DataFrame"
            ):
                return Inferred(Kind.FRAME)
        return UNKNOWN

    def _union_kind(self, members, depth: int) -> Inferred:
        kinds = {self._annotation_kind(member, depth).kind for member in members}
        kinds.discard(Kind.OTHER)
        return Inferred(kinds.pop()) if len(kinds) == 1 else UNKNOWN

    def _generic_kind(self, annotation: NodeOrLeaf, depth: int) -> Inferred:
        """`list[pd.DataFrame]`, `dict[str, pd.DataFrame]`, `Optional[pd.Series]`."""
        children = annotation.children  # type: ignore[attr-defined]
        last = children[-1]
        if last.type != "trailer" or last.children[0].value != "[":
            return UNKNOWN
        origin = chain_prefix(annotation, len(children) - 1).get_code(include_prefix=False)
        origin = origin.rsplit(".", 1)[-1]
        arguments = last.children[1]
        members = arguments.children[::2] if arguments.type == "subscriptlist" else [arguments]
        if origin in _OPTIONAL or origin == "Union":
            return self._union_kind(members, depth)
        element = members[-1] if origin in _MAPPINGS else members[0]
        if origin in _CONTAINERS or origin in _MAPPINGS:
            kind = self._annotation_kind(element, depth).kind
            return Inferred(Kind.FRAMES) if kind is Kind.FRAME else Inferred(Kind.OTHER)
        return UNKNOWN

    # -- jedi ------------------------------------------------------------------

    def _via_jedi(self, callee: NodeOrLeaf, depth: int, qualified: str | None) -> Inferred:
        """Follow an imported function to its definition and read its annotation.

        A function its project module defines once, at the top, is read off
        that module's `ast` outline, without the parse jedi would make.
        """
        if self._jedi_lookup is None or self._spent >= self._budget:
            return UNKNOWN
        outlined = self._from_module_outline(qualified, depth) if qualified else None
        if outlined is not None:
            return Inferred(outlined.kind, via_jedi=True)
        started = time.perf_counter()
        try:
            definition = self._jedi_lookup(self.source, callee)  # type: ignore[arg-type]
        finally:
            self._spent += time.perf_counter() - started
        if definition is None or definition.type != "funcdef":
            return UNKNOWN
        module_source = _source_of(definition)
        if module_source is None:
            return UNKNOWN
        foreign = TypeFacade(module_source, budget_seconds=0.0)
        result = foreign._annotation_kind(definition.annotation, depth + 1)  # type: ignore
        return Inferred(result.kind, via_jedi=True)

    def _from_module_outline(self, qualified: str, depth: int) -> Inferred | None:
        """The annotation's kind of `pkg.mod.function`, from the module's outline; None
        when the outline cannot tell what the name is (jedi decides then). A class
        called is no function whose annotation could be read: unknown, as from jedi."""
        found = self._modules.definition(self.source.path, qualified) if self._modules else None
        if found is None:
            return None
        outline, definition = found
        if isinstance(definition, ast.ClassDef) or definition.returns is None:
            return UNKNOWN  # jedi would land on a class, or on a def without annotation
        stub = SourceFile(f"def _() -> {ast.unparse(definition.returns)}: ...\n", qualified)
        foreign = TypeFacade(stub, budget_seconds=0.0)
        foreign.imports = ImportMap.of_outline(outline)  # the names as the module imports them
        annotation = next(stub.tree.iter_funcdefs()).annotation
        return foreign._annotation_kind(annotation, depth + 1)


def _rebinds_from(definer: Name, use: Name) -> bool:
    """`df = df.dropna()`: the `df` read on the right is the binding before this one."""
    statement = definer.get_definition()
    if statement is None or statement.type != "expr_stmt" or definer is use:
        return False
    value = statement.children[-1]
    return use is value or is_inside(use, value)


def _last_name(callee: NodeOrLeaf) -> NodeOrLeaf:
    """`load_prices` in `helpers.load_prices`: the name jedi should follow."""
    if callee.type == "name":
        return callee
    return callee.children[-1].children[1]  # type: ignore[attr-defined]


def _source_of(node: NodeOrLeaf) -> SourceFile | None:
    from fmperf_ls.analysis.jedi_bridge import source_of_tree

    return source_of_tree(node.get_root_node())


def _cache_key(node: NodeOrLeaf) -> object:
    """Tree nodes live as long as the tree; a chain prefix is a temporary view.

    Keying a temporary by `id` would let a later prefix reuse the freed id and
    read another expression's answer, so prefixes are keyed by their chain
    and length.
    """
    if isinstance(node, ChainPrefix):
        return id(node.chain), len(node.children), node.type
    return id(node)


def chain_prefix(chain: NodeOrLeaf, end: int) -> NodeOrLeaf:
    """The expression made of `chain.children[:end]`, as a node when possible."""
    children = chain.children  # type: ignore[attr-defined]
    if end == 1:
        return children[0]
    return ChainPrefix(chain, end)  # type: ignore[return-value]


class ChainPrefix:
    """A view of the first `end` children of an atom_expr, e.g. `pd.read_csv`."""

    type = "atom_expr"

    def __init__(self, chain: NodeOrLeaf, end: int):
        self.chain = chain
        self.children = chain.children[:end]  # type: ignore[attr-defined]
        self.parent = chain.parent

    def get_code(self, include_prefix: bool = True) -> str:
        code = "".join(child.get_code() for child in self.children)
        return code if include_prefix else code.lstrip()

    @property
    def start_pos(self):
        return self.children[0].start_pos

    @property
    def end_pos(self):
        return self.children[-1].end_pos

    def get_root_node(self):
        return self.chain.get_root_node()


def key_keeps_rows(key: NodeOrLeaf) -> bool:
    """A list of labels, a slice or a boolean condition: `frame[key]` is a frame."""
    if key.type == "atom" and key.children[0].value == "[":  # type: ignore[attr-defined]
        return True
    if key.type == "factor" and key.children[0].value == "~":  # type: ignore[attr-defined]
        return True
    if key.type == "operator" and key.value == ":":  # type: ignore[attr-defined]
        return True  # a bare `:` inside `df.loc[:, cols]`
    return key.type in ("subscript", "comparison", "and_expr", "expr", "xor_expr", "not_test")


def _method_result(kind: Kind, method: str) -> Kind:
    if method in _SAME_KIND_METHODS:
        return kind
    if kind is Kind.FRAME and method in _FRAME_REDUCTIONS:
        return Kind.SERIES
    if kind is Kind.SERIES and method in _SERIES_SCALARS:
        return Kind.OTHER
    if method in _ARRAY_METHODS:
        return Kind.ARRAY
    if method == "groupby":
        return Kind.GROUPBY
    if kind is Kind.FRAME and method in _FRAME_METHODS:
        return Kind.FRAME
    if kind is Kind.SERIES and method in _SERIES_METHODS:
        return Kind.SERIES
    if kind is Kind.SERIES and method in ("to_frame"):
        return Kind.FRAME
    return Kind.UNKNOWN


_DECIDED_BY_METHOD = (Kind.FRAME, Kind.SERIES, Kind.INDEX, Kind.ARRAY, Kind.OTHER, Kind.GROUPBY)


def _frame_attribute(attribute: str) -> Inferred:
    """`df.loc` is an indexer, `df.shape` a tuple, any other unknown word a column."""
    kind = _FRAME_ATTRIBUTES.get(attribute)
    if kind is Kind.INDEXER:
        return Inferred(kind, owner=Kind.FRAME)
    if kind is not None:
        return Inferred(kind)
    if attribute in _NOT_COLUMNS or attribute.startswith("_"):
        return UNKNOWN  # a method named without a call, or an accessor such as .plot
    return Inferred(Kind.SERIES)


def _series_attribute(attribute: str) -> Inferred:
    """`s.loc` is an indexer; `s.str`/`s.dt`/`s.cat` an accessor of Series methods."""
    kind = _SERIES_ATTRIBUTES.get(attribute)
    if kind is Kind.INDEXER:
        return Inferred(kind, owner=Kind.SERIES)
    if kind is not None:
        return Inferred(kind)
    if attribute in _SERIES_ACCESSORS:
        return Inferred(Kind.OTHER, owner=Kind.SERIES)  # an accessor: its members decide
    return UNKNOWN


def _after_accessor(attribute: str) -> Inferred:
    """`s.str.contains`, `s.dt.hour`: elementwise, a Series of the same index."""
    if attribute in _ACCESSOR_NOT_SERIES:
        return UNKNOWN  # frames, arrays or plain values
    return Inferred(Kind.SERIES)


def _groupby_result(groupby: Inferred, method: str) -> Inferred:
    """An aggregation of `frame.groupby(...)` is a frame, of a selected column a Series."""
    if method in ("size", "cumcount", "ngroup"):
        return Inferred(Kind.SERIES)
    if method in _GROUPBY_AGGREGATIONS and groupby.owner in (Kind.FRAME, Kind.SERIES):
        return Inferred(groupby.owner)
    return UNKNOWN  # agg, apply: the function decides


def _groupby_selection(key: NodeOrLeaf) -> Inferred:
    """`frame.groupby(...)["col"]` groups a Series; with a list of labels a frame."""
    if key.type in ("string", "strings"):
        return Inferred(Kind.GROUPBY, owner=Kind.SERIES)
    if key.type == "atom" and key.children[0].value == "[":  # type: ignore[attr-defined]
        return Inferred(Kind.GROUPBY, owner=Kind.FRAME)
    return UNKNOWN


def _local_function(callee: NodeOrLeaf):
    """The `def` a plain name calls, when this file defines it where the call sees it."""
    if callee.type != "name":
        return None
    module = callee.get_root_node()
    for candidate in module.get_used_names().get(callee.value, []):  # type: ignore
        parent = candidate.parent
        if parent.type != "funcdef" or parent.name is not candidate:
            continue
        if parent.start_pos < callee.start_pos and _function_visible(parent, callee):
            return parent
    return None


def _function_visible(function: NodeOrLeaf, use: NodeOrLeaf) -> bool:
    """A module-level def, or one nested in a scope that also holds the use."""
    from fmperf_ls.analysis.scopes import scope_of

    home = scope_of(function)
    return home.type == "file_input" or is_inside(use, home)


def _keyword_arguments(call: NodeOrLeaf) -> dict[str, NodeOrLeaf]:
    """`name -> value` of the keyword arguments of a `(...)` trailer."""
    if call.type != "trailer" or len(call.children) < 3:  # type: ignore[attr-defined]
        return {}
    inner = call.children[1]  # type: ignore[attr-defined]
    arguments = inner.children[::2] if inner.type == "arglist" else [inner]
    return {
        argument.children[0].value: argument.children[2]
        for argument in arguments
        if argument.type == "argument" and len(argument.children) == 3
        and argument.children[0].type == "name" and argument.children[1].value == "="
    }


def _many_sheets(value: NodeOrLeaf | None) -> bool:
    """`sheet_name=None` or a list of sheets makes `read_excel` return a dict."""
    if value is None:
        return False
    return value.type != "string" and value.type != "number"


def _first_listed(call: NodeOrLeaf) -> NodeOrLeaf | None:
    """The first element of the list or tuple passed first: `concat([first, ...])`."""
    if call.type != "trailer" or len(call.children) < 3:  # type: ignore[attr-defined]
        return None
    inner = call.children[1]  # type: ignore[attr-defined]
    objects = inner.children[0] if inner.type == "arglist" else inner
    if objects.type != "atom" or objects.children[0].value not in ("[", "("):  # type: ignore
        return None
    content = objects.children[1]  # type: ignore[attr-defined]
    if content.type == "testlist_comp":
        first = content.children[0]
        return None if first.type in ("star_expr", "sync_comp_for", "comp_for") else first
    return None if content.type == "operator" else content


def _pandas_function_kind(name: str) -> Inferred:
    module, _, function = name.rpartition(".")
    if module != "pandas":
        return UNKNOWN
    if function in _FRAME_FUNCTIONS:
        return Inferred(Kind.FRAME)
    if function in _SERIES_FUNCTIONS:
        return Inferred(Kind.SERIES)
    if function in _INDEX_FUNCTIONS:
        return Inferred(Kind.INDEX)
    return UNKNOWN


def _pandas_class_kind(name: str) -> Kind:
    return {
        "pandas.DataFrame": Kind.FRAME,
        "pandas.core.frame.DataFrame": Kind.FRAME,
        "pandas.Series": Kind.SERIES,
        "pandas.core.series.Series": Kind.SERIES,
        "pandas.Index": Kind.INDEX,
    }.get(name, Kind.UNKNOWN)


def jedi_definition(project_root: Path | None,
                    files_fixed: bool = False) -> Callable[[SourceFile, Name], NodeOrLeaf | None]:
    """A lookup that asks jedi where a name is defined, and parses that module.

    Only `goto` is used, never `infer`: following an import to a function in
    the project is cheap, while inferring into pandas costs seconds cold.
    `files_fixed`: see JediBridge.
    """
    from fmperf_ls.analysis.jedi_bridge import JediBridge

    bridge = JediBridge(project_root, files_fixed=files_fixed)
    return bridge.definition_of
