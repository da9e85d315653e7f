"""marshmallow schemas of a file: which classes are schemas and what their fields read.

A schema class is recognised from its bases through the imports
(`marshmallow.Schema`, `ma.SQLAlchemyAutoSchema` of flask-marshmallow,
marshmallow-sqlalchemy's schemas) or through another schema class of the
file. What a field reads on the dumped object is taken from the declaration:
the field's name or `attribute=` (dotted paths included), the body of a
`fields.Method` method or a `fields.Function` callable, the reads of a nested
schema of the same file, and, for marshmallow-sqlalchemy with
`include_relationships = True`, every relationship of `Meta.model`.
"""

# mypy: disable-error-code="attr-defined, union-attr"

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from parso.tree import BaseNode, NodeOrLeaf

from fmperf_ls.analysis import consulted
from fmperf_ls.analysis.imports import ImportMap, dotted_parts
from fmperf_ls.analysis.outline import Outline, dotted
from fmperf_ls.analysis.pyomo import call_arguments, function_named
from fmperf_ls.analysis.source import SourceFile, inner_nodes

if TYPE_CHECKING:
    from fmperf_ls.engine import Context

logger = logging.getLogger(__name__)

MARSHMALLOW_MODULES = ("marshmallow", "flask_marshmallow", "marshmallow_sqlalchemy", "webargs",
                       "apifairy", "flask_smorest")
SCHEMA_BASES = frozenset({"Schema", "SQLAlchemySchema", "SQLAlchemyAutoSchema", "ModelSchema",
                          "TableSchema", "SQLAlchemyAutoSchemaOpts"})
_SQLALCHEMY_BASES = frozenset({"SQLAlchemySchema", "SQLAlchemyAutoSchema", "ModelSchema"})
_NESTING = frozenset({"Nested", "Pluck", "Related", "RelatedList"})
_WRAPPERS = frozenset({"List", "Tuple", "Dict", "Mapping"})
_MAX_NESTING = 3


@dataclass
class SchemaClass:
    """A schema class of this file (node known) or an imported one (node None)."""

    name: str
    node: BaseNode | None
    sqlalchemy: bool = False
    meta_model: str | None = None
    """The class name of `model = Asset` in its `class Meta`."""
    include_relationships: bool = False
    fields: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    """Field name -> attribute paths it reads on the dumped object."""
    excluded: frozenset[str] = frozenset()
    only: frozenset[str] | None = None
    local: bool = True
    """Defined in the checked file (False: read from another module of the project)."""


def uses_marshmallow(ctx: Context) -> bool:
    return ctx.imports.imports_any(*MARSHMALLOW_MODULES)


def schema_classes(ctx: Context) -> dict[str, SchemaClass]:
    """The schema classes defined at module level in this file, by name; cached."""
    cached = getattr(ctx.source, "_schema_classes", None)
    if cached is not None:
        return cached
    found: dict[str, SchemaClass] = {}
    if uses_marshmallow(ctx):
        for node in ctx.source.tree.iter_classdefs():
            schema = _schema_of(ctx, node, found)
            if schema is not None:
                found[schema.name] = schema
    ctx.source._schema_classes = found  # type: ignore[attr-defined]
    return found


def schema_class_names(outline: Outline) -> set[str]:
    """The names `schema_classes` may hold, read off the outline without the imports.

    A module-level class whose base is named like a schema base (`Schema`,
    `ma.SQLAlchemyAutoSchema`) or like another such class of the file. Where
    the base comes from is not checked, so this may name more classes, never fewer.
    """
    bases = {cls.name: [dotted(base) for base in cls.bases]
             for cls in outline.top_level_classes()}
    names: set[str] = set()
    grew = True
    while grew:
        grew = False
        for name, named in bases.items():
            if name not in names and any(parts is not None and (
                parts[-1] in SCHEMA_BASES or (len(parts) == 1 and parts[0] in names)
            ) for parts in named):
                names.add(name)
                grew = True
    return names


def schema_for_call(ctx: Context, callee: NodeOrLeaf, fields: bool = True) -> SchemaClass | None:
    """The schema class a constructor call names: one of this file, or a strong import.

    With `fields=False` the caller only needs to know that it is a schema: an
    import from a schemas module of a marshmallow file is taken on its word and
    no other module is parsed (a parse costs about 0.1 s per thousand lines).
    """
    parts = dotted_parts(callee)
    if not parts:
        return None
    local = schema_classes(ctx).get(parts[-1]) if len(parts) == 1 else None
    if local is not None:
        return local
    qualified = ctx.imports.qualified(callee)
    if qualified is None or not parts[-1].endswith("Schema"):
        return None
    module = qualified.rpartition(".")[0]
    if any(module == name or module.startswith(name + ".") for name in MARSHMALLOW_MODULES):
        return None  # `Schema()` itself, or a library class: not a user schema
    likely = uses_marshmallow(ctx) and "schema" in module.lower()
    if not fields:
        return SchemaClass(parts[-1], None, local=False) if likely else None
    found = project_schema(ctx, qualified)
    if found is not None:
        return found  # read from its module: a schema whatever this file imports
    if not likely:
        return None  # a class named *Schema from elsewhere (pydantic, graphene, ...)
    return SchemaClass(parts[-1], None, local=False)


# -- schemas of other modules ------------------------------------------------------

_MODULE_CACHE: dict[str, tuple[float, _FileView]] = {}
"""Path -> (modification time, parsed module): one entry per module, replaced on change."""
_MAX_HOPS = 3


@dataclass
class _FileView:
    """What schema reading needs of a context, for a module that is not being checked."""

    source: SourceFile
    imports: ImportMap


def project_schema(ctx: Context, qualified: str, hops: int = 0) -> SchemaClass | None:
    """The schema class `qualified` names in another module of the project, read from disk.

    Follows re-exports (`from .sensors import SensorSchema` in a package's
    `__init__`) a few hops; None when the project root is unknown or the
    module is not a file of the project.
    """
    module, _, name = qualified.rpartition(".")
    if not module or hops > _MAX_HOPS:
        return None
    path = ctx.project.modules.file_of(ctx.source.path, module)
    if path is None:
        return None
    view = _read_module(path)
    if view is None:
        return None
    classes = schema_classes(view)  # type: ignore[arg-type]
    if name in classes:
        found = classes[name]
        found.local = False
        return found
    forwarded = view.imports.resolve(name)
    if forwarded is None or forwarded == qualified:
        return None
    if forwarded.startswith("."):
        forwarded = _absolute(module, path, forwarded)
    return project_schema(_Forward(view, ctx.project), forwarded, hops + 1)  # type: ignore


@dataclass
class _Forward:
    view: _FileView
    project: object

    @property
    def source(self) -> SourceFile:
        return self.view.source


def _absolute(module: str, path: Path, relative: str) -> str:
    """`flexmeasures.data.schemas` + `.sensors.SensorSchema` -> the absolute dotted name."""
    level = len(relative) - len(relative.lstrip("."))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, relative.lstrip(".")])


def _read_module(path: Path) -> _FileView | None:
    consulted.note(path)
    try:
        stamp = path.stat().st_mtime
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        logger.debug("schema module %s not read: %s", path, error)
        return None
    cached = _MODULE_CACHE.get(str(path))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    if "Schema" not in text:
        return None  # neither defines nor re-exports a schema
    source = SourceFile(text, str(path))
    view = _FileView(source, ImportMap.of(source))
    _MODULE_CACHE[str(path)] = (stamp, view)
    return view


def _schema_of(ctx: Context, node: BaseNode, known: dict[str, SchemaClass]) -> SchemaClass | None:
    bases = _bases(node)
    sqlalchemy = False
    inherited: SchemaClass | None = None
    is_schema = False
    for base in bases:
        kind = _base_kind(ctx, base, known)
        if kind is None:
            continue
        is_schema = True
        if isinstance(kind, SchemaClass):
            inherited = kind
            sqlalchemy |= kind.sqlalchemy
        else:
            sqlalchemy |= kind in _SQLALCHEMY_BASES
    if not is_schema:
        return None
    schema = SchemaClass(node.name.value, node, sqlalchemy)  # type: ignore[attr-defined]
    if inherited is not None:
        schema.fields.update(inherited.fields)
        schema.meta_model = inherited.meta_model
        schema.include_relationships = inherited.include_relationships
    _read_meta(ctx, node, schema)
    _read_fields(ctx, node, schema, known, depth=0)
    return schema


def _bases(node: BaseNode) -> list[NodeOrLeaf]:
    children = node.children
    if len(children) < 5 or children[2].value != "(":  # type: ignore[attr-defined]
        return []
    argument = children[3]
    if argument.type == "operator":
        return []
    items = argument.children[::2] if argument.type == "arglist" else [argument]
    return [item for item in items if item.type != "argument"]


def _base_kind(ctx: Context, base: NodeOrLeaf, known: dict[str, SchemaClass]):
    """A SchemaClass for a schema of the file, a base name for a library base, else None."""
    parts = dotted_parts(base)
    if not parts:
        return None
    if len(parts) == 1 and parts[0] in known:
        return known[parts[0]]
    last = parts[-1]
    qualified = ctx.imports.qualified(base)
    if qualified is not None and last in SCHEMA_BASES:
        module = qualified.split(".")[0]
        if module in MARSHMALLOW_MODULES:
            return last
    if len(parts) == 2 and last in SCHEMA_BASES and _is_flask_marshmallow(ctx, parts[0]):
        return last  # `ma.SQLAlchemyAutoSchema` with `ma = Marshmallow(app)`
    return None


def _is_flask_marshmallow(ctx: Context, name: str) -> bool:
    """`ma` bound to `Marshmallow(...)` here, or imported under a name ending in `ma`."""
    qualified = ctx.imports.resolve(name)
    if qualified is not None:
        return qualified.rsplit(".", 1)[-1] in ("ma", "marshmallow")
    for statement in ctx.source.nodes("expr_stmt"):
        children = statement.children  # type: ignore[attr-defined]
        if children[0].type == "name" and children[0].value == name and len(children) == 3:
            parts = dotted_parts(_callee(children[2])) if children[2].type in (
                "atom_expr", "power") else None
            if parts and parts[-1] == "Marshmallow":
                return True
    return False


def _callee(call: NodeOrLeaf) -> NodeOrLeaf:
    from fmperf_ls.analysis.infer import chain_prefix

    return chain_prefix(call, len(call.children) - 1)  # type: ignore[attr-defined]


def _class_body(node: BaseNode) -> list[NodeOrLeaf]:
    suite = node.children[-1]
    if suite.type != "suite":
        return [suite]
    return [child for child in suite.children if child.type not in ("newline", "operator")]


def _read_meta(ctx: Context, node: BaseNode, schema: SchemaClass) -> None:
    for statement in _class_body(node):
        if statement.type != "classdef" or statement.name.value != "Meta":  # type: ignore
            continue
        for member in _class_body(statement):  # type: ignore[arg-type]
            assignment = _assignment(member)
            if assignment is None:
                continue
            name, value = assignment
            if name == "model":
                parts = dotted_parts(value)
                schema.meta_model = parts[-1] if parts else None
            elif name == "include_relationships":
                schema.include_relationships = value.get_code(include_prefix=False) == "True"
            elif name == "exclude":
                schema.excluded = frozenset(_strings(value) or ())
            elif name == "fields":
                strings = _strings(value)
                schema.only = frozenset(strings) if strings is not None else None


def _assignment(statement: NodeOrLeaf) -> tuple[str, NodeOrLeaf] | None:
    """`name = value` as a class-body statement."""
    if statement.type == "simple_stmt":
        statement = statement.children[0]  # type: ignore[attr-defined]
    if statement.type != "expr_stmt":
        return None
    children = statement.children  # type: ignore[attr-defined]
    if len(children) != 3 or children[0].type != "name" or children[1].value != "=":
        return None
    return children[0].value, children[2]


def strings_of(node: NodeOrLeaf) -> list[str] | None:
    return _strings(node)


def _strings(node: NodeOrLeaf) -> list[str] | None:
    """`("a", "b")` or `["a"]` as a list of strings; None when not all literal strings."""
    if node.type == "string":
        return [_string_value(node)]
    if node.type != "atom" or node.children[0].value not in ("(", "["):  # type: ignore
        return None
    if len(node.children) == 2:  # type: ignore[attr-defined]
        return []
    inner = node.children[1]  # type: ignore[attr-defined]
    items = inner.children[::2] if inner.type in ("testlist_comp",) else [inner]
    if not all(item.type == "string" for item in items):
        return None
    return [_string_value(item) for item in items]


def _string_value(node: NodeOrLeaf) -> str:
    text = node.get_code(include_prefix=False)
    return text.strip("rbuRBU").strip("\"'")


def _read_fields(ctx, node: BaseNode, schema: SchemaClass, known, depth: int) -> None:
    methods = {statement.name.value: statement for statement in _class_body(node)
               if statement.type == "funcdef"}  # type: ignore[attr-defined]
    for statement in _class_body(node):
        assignment = _assignment(statement)
        if assignment is None or assignment[1].type not in ("atom_expr", "power"):
            continue
        name, value = assignment
        paths = _field_reads(ctx, name, value, methods, known, depth)
        if paths is not None:
            schema.fields[name] = paths


def _field_reads(ctx, name: str, call: NodeOrLeaf, methods, known, depth) -> list | None:
    """The attribute paths a declared field reads; None when it is not a field."""
    children = call.children  # type: ignore[attr-defined]
    last = children[-1]
    if last.type != "trailer" or last.children[0].value != "(":
        return None
    parts = dotted_parts(_callee(call))
    if not parts:
        return None
    kind = parts[-1]
    positional, keywords = call_arguments(last)
    attribute = keywords.get("attribute")
    base = tuple(_string_value(attribute).split(".")) if attribute is not None and (
        attribute.type == "string") else (name,)
    if kind == "Method":
        method = keywords.get("serialize") or (positional[0] if positional else None)
        function = methods.get(_string_value(method)) if method is not None and (
            method.type == "string") else None
        return _reads_of_function(function, skip_self=True) if function is not None else []
    if kind == "Function":
        target = keywords.get("serialize") or (positional[0] if positional else None)
        function = _callable(target)
        return _reads_of_function(function, skip_self=False) if function is not None else []
    if kind in _WRAPPERS and positional and positional[-1].type in ("atom_expr", "power"):
        inner = _field_reads(ctx, name, positional[-1], methods, known, depth)
        return [base + path[len((name,)):] for path in inner] if inner else [base]
    if kind in _NESTING and positional:
        nested = _nested_schema(positional[0], known)
        chosen = _chosen(keywords)
        if kind == "Pluck" and len(positional) > 1 and positional[1].type == "string":
            chosen = (frozenset({_string_value(positional[1])}), frozenset())
        deeper = _nested_reads(nested, depth, *chosen) if nested is not None else []
        return [base] + [base + path for path in deeper]
    return [base]


def _chosen(keywords: dict[str, NodeOrLeaf]) -> tuple[frozenset[str] | None, frozenset[str]]:
    """The nested field's literal `only=` and `exclude=` (unknown `only`: nothing deeper)."""
    only = keywords.get("only")
    exclude = keywords.get("exclude")
    only_names = _strings(only) if only is not None else None
    exclude_names = _strings(exclude) if exclude is not None else []
    if only is not None and only_names is None or exclude_names is None:
        return frozenset(), frozenset()  # computed: read nothing deeper rather than guess
    return (frozenset(only_names) if only_names is not None else None), frozenset(
        exclude_names)


def _callable(target: NodeOrLeaf | None) -> BaseNode | None:
    if target is None:
        return None
    if target.type == "lambdef":
        return target  # type: ignore[return-value]
    if target.type == "name":
        return function_named(target)  # type: ignore[arg-type]
    return None


def _nested_schema(argument: NodeOrLeaf, known: dict[str, SchemaClass]) -> SchemaClass | None:
    """`Nested(OtherSchema)`, `Nested("OtherSchema")`, `Nested(lambda: OtherSchema())`."""
    if argument.type == "string":
        return known.get(_string_value(argument).rsplit(".", 1)[-1])
    if argument.type == "lambdef":
        argument = argument.children[-1]  # type: ignore[attr-defined]
    if argument.type in ("atom_expr", "power") and argument.children[-1].type == "trailer":
        argument = _callee(argument)
    parts = dotted_parts(argument)
    return known.get(parts[-1]) if parts else None


def _nested_reads(nested: SchemaClass, depth: int, only: frozenset[str] | None = None,
                  exclude: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    if depth >= _MAX_NESTING:
        return []
    paths = []
    for name, reads in nested.fields.items():
        if name in nested.excluded or name in exclude or only is not None and name not in only:
            continue
        paths.extend(reads)
    return paths


def _reads_of_function(function: BaseNode, skip_self: bool) -> list[tuple[str, ...]]:
    """`obj.a.b` chains on the parameter that receives the dumped object."""
    params = function.get_params()  # type: ignore[attr-defined]
    if skip_self:
        params = params[1:]
    if not params:
        return []
    receiver = params[0].name.value
    return [path for path in _attribute_paths(function, receiver) if path]


def _attribute_paths(function: BaseNode, receiver: str) -> Iterator[tuple[str, ...]]:
    for node in inner_nodes(function):
        if node.type not in ("atom_expr", "power") or node.children[0].type != "name":
            continue
        if node.children[0].value != receiver:  # type: ignore[attr-defined]
            continue
        path = []
        for trailer in node.children[1:]:  # type: ignore[attr-defined]
            if trailer.type != "trailer" or trailer.children[0].value != ".":
                break
            path.append(trailer.children[1].value)
        yield tuple(path)
