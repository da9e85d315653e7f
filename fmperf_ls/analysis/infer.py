"""Type questions rules ask ("is this a DataFrame?"), answered cheaply first.

Local evidence answers most of them without leaving the file: annotations,
constructor calls such as `pd.DataFrame(...)` and `pd.read_csv(...)`, frame
methods that return frames, and assignments in the same scope. jedi is asked
only for what remains (a helper imported from another module), under a
per-file time budget; anything it cannot answer in time is "unknown", and an
unknown receiver never produces a finding.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Callable

from parso.python.tree import Name
from parso.tree import NodeOrLeaf

from fmperf_ls.analysis.imports import ImportMap
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
    "isna", "notna", "isnull", "notnull", "combine_first", "add", "sub", "mul", "div", "truediv", "floordiv", "pow", "mod", "rank",
}  # fmt: skip
_FRAME_METHODS = {"merge", "join", "pivot", "pivot_table", "melt", "to_frame", "describe",
                  "explode", "transpose", "select_dtypes", "rename_axis"}
_SERIES_METHODS = {"value_counts", "map", "isin", "between", "duplicated"}
_ARRAY_METHODS = {"unique", "to_numpy"}
_FRAME_ATTRIBUTES = {"T": Kind.FRAME, "values": Kind.ARRAY, "index": Kind.INDEX,
                     "columns": Kind.INDEX, "loc": Kind.INDEXER, "iloc": Kind.INDEXER,
                     "at": Kind.INDEXER, "iat": Kind.INDEXER}
_SERIES_ATTRIBUTES = {"values": Kind.ARRAY, "index": Kind.INDEX, "loc": Kind.INDEXER,
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


UNKNOWN = Inferred(Kind.UNKNOWN)
_MAX_DEPTH = 12


class TypeFacade:
    """Answers kind questions for one SourceFile, caching by node."""

    def __init__(
        self,
        source: SourceFile,
        budget_seconds: float = 1.0,
        jedi_lookup: Callable[[SourceFile, Name], NodeOrLeaf | None] | None = None,
    ):
        self.source = source
        self.imports = ImportMap.of(source)
        self._cache: dict[int, Inferred] = {}
        self._budget = budget_seconds
        self._spent = 0.0
        self._jedi_lookup = jedi_lookup

    def kind(self, node: NodeOrLeaf) -> Kind:
        return self.infer(node).kind

    def is_frame(self, node: NodeOrLeaf) -> bool:
        return self.kind(node) is Kind.FRAME

    def is_series(self, node: NodeOrLeaf) -> bool:
        return self.kind(node) is Kind.SERIES

    def infer(self, node: NodeOrLeaf, depth: int = 0) -> Inferred:
        key = id(node)
        if key not in self._cache:
            self._cache[key] = UNKNOWN  # a cycle through assignments ends as unknown
            self._cache[key] = self._infer(node, depth) if depth < _MAX_DEPTH else UNKNOWN
        return self._cache[key]

    def qualified(self, node: NodeOrLeaf) -> str | None:
        """`pandas.read_csv` for `pd.read_csv` when `pd` is pandas; else None."""
        return self.imports.qualified(node)

    # -- expressions ---------------------------------------------------------

    def _infer(self, node: NodeOrLeaf, depth: int) -> Inferred:
        node_type = node.type
        if node_type == "name":
            return self._infer_name(node, depth)  # type: ignore[arg-type]
        if node_type in ("atom_expr", "power"):
            return self._infer_chain(node, depth)
        if node_type == "atom":
            return self._infer_atom(node, depth)
        if node_type in ("number", "string", "strings", "fstring", "keyword"):
            return Inferred(Kind.OTHER)
        if node_type == "comparison" or node_type in ("and_test", "or_test", "not_test"):
            return self._infer_boolean(node, depth)
        if node_type in ("arith_expr", "term", "and_expr", "or_expr", "xor_expr", "factor"):
            return self._infer_arithmetic(node, depth)
        return UNKNOWN

    def _infer_atom(self, node: NodeOrLeaf, depth: int) -> Inferred:
        first = node.children[0]  # type: ignore[attr-defined]
        if first.type == "operator" and first.value == "(" and len(node.children) == 3:
            return self.infer(node.children[1], depth + 1)  # type: ignore[attr-defined]
        if first.type == "operator" and first.value in ("[", "{"):
            return Inferred(Kind.OTHER)
        return Inferred(Kind.OTHER) if first.type in ("string", "number") else UNKNOWN

    def _infer_boolean(self, node: NodeOrLeaf, depth: int) -> Inferred:
        """`df.a > 0` is a Series, `df > 0` a frame; `a == b` of plain values is not."""
        operands = [child for child in node.children if child.type != "operator"]  # type: ignore
        kinds = {self.infer(operand, depth + 1).kind for operand in operands[:1]}
        if Kind.SERIES in kinds:
            return Inferred(Kind.SERIES)
        if Kind.FRAME in kinds:
            return Inferred(Kind.FRAME)
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
        return self._after_subscript(current.kind, trailer.children[1], depth)

    def _after_attribute(self, chain, index, current, depth) -> Inferred:
        children = chain.children
        attribute = children[index].children[1].value
        is_call = index + 1 < len(children) and children[index + 1].children[0].value == "("
        kind = current.kind
        if kind in (Kind.FRAME, Kind.SERIES) and is_call:
            return Inferred(_method_result(kind, attribute), current.via_jedi)
        if kind is Kind.FRAME and not is_call:
            return Inferred(_FRAME_ATTRIBUTES.get(attribute, Kind.UNKNOWN))
        if kind is Kind.SERIES and not is_call:
            return Inferred(_SERIES_ATTRIBUTES.get(attribute, Kind.UNKNOWN))
        if kind is Kind.GROUPBY and is_call:
            return UNKNOWN  # frame or series depending on the selection
        # A dotted name such as `pd.read_csv`: resolved when the call trailer comes.
        return Inferred(Kind.UNKNOWN) if kind is not Kind.UNKNOWN else current

    def _after_call(self, chain, index, current, depth) -> Inferred:
        """The result of calling what stands before `children[index]`."""
        if current.kind in (Kind.FRAME, Kind.SERIES, Kind.INDEX, Kind.ARRAY, Kind.OTHER):
            return current  # a method call already decided the result kind
        callee = _prefix(chain, index)
        name = self.qualified(callee)
        if name is not None:
            return _pandas_function_result(name)
        return self._call_of_project_function(callee, depth)

    def _call_of_project_function(self, callee: NodeOrLeaf, depth: int) -> Inferred:
        """A call of a function defined here (annotation) or elsewhere (jedi)."""
        if callee.type != "name":
            return UNKNOWN
        definitions = definitions_before(callee)  # type: ignore[arg-type]
        if definitions:
            definition = definitions[0].get_definition()
            if definition is not None and definition.type == "funcdef":
                return self._annotation_kind(definition.annotation, depth)
            if definition is not None and definition.type in ("import_from", "import_name"):
                return self._via_jedi(callee, depth)
        return UNKNOWN

    def _after_subscript(self, kind: Kind, key: NodeOrLeaf, depth: int) -> Inferred:
        """What `receiver[key]` gives: a column of a frame is a Series, a mask keeps rows."""
        if kind is Kind.FRAMES:
            return Inferred(Kind.FRAME)
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
        definitions = definitions_before(name)
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
        owner = _prefix(iterable, len(trailers) - 2)
        if self.infer(owner, depth + 1).kind is Kind.FRAMES:
            return Inferred(Kind.FRAME)
        return UNKNOWN

    # -- annotations ---------------------------------------------------------

    def _annotation_kind(self, annotation: NodeOrLeaf | None, depth: int) -> Inferred:
        if annotation is None:
            return UNKNOWN
        if annotation.type == "string":
            return self._string_annotation(annotation, depth)
        name = self.qualified(annotation)
        if name is not None:
            return Inferred(_pandas_class_kind(name))
        if annotation.type in ("expr", "or_expr"):
            return self._union_kind(annotation.children[::2], depth)
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
        origin = _prefix(annotation, len(children) - 1).get_code(include_prefix=False)
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

    def _via_jedi(self, callee: NodeOrLeaf, depth: int) -> Inferred:
        """Follow an imported function to its definition and read its annotation."""
        if self._jedi_lookup is None or self._spent >= self._budget:
            return UNKNOWN
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


def _source_of(node: NodeOrLeaf) -> SourceFile | None:
    root = node.get_root_node()
    return getattr(root, "fmperf_source", None)


def _prefix(chain: NodeOrLeaf, end: int) -> NodeOrLeaf:
    """The expression made of `chain.children[:end]`, as a node when possible."""
    children = chain.children  # type: ignore[attr-defined]
    if end == 1:
        return children[0]
    return _ChainPrefix(chain, end)  # type: ignore[return-value]


class _ChainPrefix:
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
    return key.type in ("subscript", "comparison", "and_expr", "expr", "xor_expr", "not_test")


def _method_result(kind: Kind, method: str) -> Kind:
    if method in _SAME_KIND_METHODS:
        return kind
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


def _pandas_function_result(name: str) -> Inferred:
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


def jedi_definition(project_root: Path | None) -> Callable[[SourceFile, Name], NodeOrLeaf | None]:
    """A lookup that asks jedi where a name is defined, and parses that module.

    Only `goto` is used, never `infer`: following an import to a function in
    the project is cheap, while inferring into pandas costs seconds cold.
    """
    from fmperf_ls.analysis.jedi_bridge import JediBridge

    bridge = JediBridge(project_root)
    return bridge.definition_of
