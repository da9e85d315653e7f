"""Where mapped objects come from: queries, relationships, annotated parameters.

The N+1 rules ask three questions of an expression: is it a query that runs
when evaluated, what mapped class are the elements of an iterable, and which
loader options does the statement that produced them carry. The answers come
from syntax and the model index only (local evidence); an expression this
module cannot explain is "unknown", and unknown never produces a finding.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING

from parso.python.tree import Class, Name
from parso.tree import BaseNode, NodeOrLeaf

from fmperf_ls.analysis.imports import dotted_parts
from fmperf_ls.analysis.models import EAGER, MappedClass, ModelIndex, Relationship
from fmperf_ls.analysis.scopes import (
    definitions_before,
    is_inside,
    latest_definition,
    scope_of,
)

if TYPE_CHECKING:
    from fmperf_ls.engine import Context

logger = logging.getLogger(__name__)

EXECUTING = {"all", "first", "one", "one_or_none", "scalar", "scalar_one",
             "scalar_one_or_none", "count", "get", "get_or_404", "first_or_404",
             "one_or_404", "paginate", "exists"}
"""Methods at the end of a legacy query chain that send SQL."""
LIST_RESULTS = {"all"}
ITERATING = {"all", "yield_per", "limit", "offset", "filter", "filter_by", "order_by",
             "join", "outerjoin", "where", "distinct", "options", "execution_options",
             "group_by", "having", "params", "enable_eagerloads"}
_SINGLE = {"first", "one", "one_or_none", "get", "get_or_404", "first_or_404", "one_or_404",
           "scalar_one", "scalar_one_or_none", "scalar"}
"""Methods that give one object (or None) of the statement's class."""
_ITERABLE_ENDS = {"scalars", "unique", "all", "yield_per", "partitions"}
SESSION_EXECUTE = {"execute", "scalars", "scalar", "get", "get_one"}
"""Methods of a session that send SQL."""
_ELEMENT_WRAPPERS = {"list", "sorted", "reversed", "tuple", "set", "frozenset", "iter"}
_CONTAINERS = {"list", "List", "Sequence", "Iterable", "Iterator", "Collection", "tuple",
               "Tuple", "set", "Set", "frozenset", "MutableSequence", "Generator",
               "AbstractSet", "KeysView", "ValuesView"}
_LOADERS = {"selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager",
            "raiseload", "noload", "lazyload", "defaultload", "load_only", "defer",
            "undefer", "selectin_polymorphic", "with_polymorphic", "Load"}
QUIET_LOADERS = {"selectinload", "joinedload", "subqueryload", "immediateload",
                 "contains_eager", "raiseload", "noload"}
_MAX_DEPTH = 6


@dataclass
class Origin:
    """The statement that produced mapped objects, and where a loader option fits."""

    model: MappedClass
    model_name: str
    """The name the statement uses for the class, e.g. `Asset` in `select(Asset)`."""
    statement: NodeOrLeaf
    """The query expression: a legacy chain up to (not including) its execution,
    or a `select(...)` chain."""
    insert_end: NodeOrLeaf
    """The last node of the statement: `.options(...)` goes right after it."""
    options: list[NodeOrLeaf] = field(default_factory=list)
    """Loader option expressions already on the statement (all its assignments)."""
    options_trailer: NodeOrLeaf | None = None
    opaque_options: bool = False
    """Options the analysis cannot read (`*opts`, a variable): treat as eager."""
    reused: bool = False
    same_function: bool = True
    awaited: bool = False
    style: str = "legacy"
    """"legacy" for `Model.query` / `session.query(M)`, "select" for `select(M)`."""
    blocks_fix: bool = False
    """The statement groups, deduplicates or is textual: no loader edit is offered."""
    joins: list[NodeOrLeaf] = field(default_factory=list)
    """The first argument of each `.join(...)` / `.outerjoin(...)` of the statement."""


@dataclass
class Elements:
    """What iterating an expression yields: instances of `cls`, reached by `path`."""

    cls: MappedClass
    origin: Origin | None
    path: tuple[Relationship, ...] = ()


class OrmFlow:
    """Per-file answers about queries and mapped objects, cached by node."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.index: ModelIndex = ctx.models
        self._elements: dict[int, Elements | None] = {}
        self._instances: dict[int, Elements | None] = {}
        self._functions: dict[tuple[str, str], NodeOrLeaf | None] = {}

    # -- model names -------------------------------------------------------------

    def resolve_class(self, node: NodeOrLeaf) -> MappedClass | None:
        """The mapped class a name (or dotted name) of this file stands for."""
        parts = dotted_parts(node)
        return self.resolve_parts(parts) if parts else None

    def resolve_parts(self, parts: list[str]) -> MappedClass | None:
        """The mapped class of `Asset` or `models.Asset` written in this file."""
        if len(parts) > 1:
            head = self.ctx.imports.resolve(parts[0]) or parts[0]
            return self.index.mapped_class(parts[-1], ".".join([head, *parts[1:-1]]))
        local = parts[0]
        qualified = self.ctx.imports.resolve(local)
        if qualified is not None:
            module, _, name = qualified.rpartition(".")
            return self.index.mapped_class(name, self.absolute_module(module))
        defined = self.index.mapped_class(local, _module_of(self.ctx.source.path))
        return defined

    def absolute_module(self, module: str) -> str:
        """`.models` imported in `app/api/views.py` is `app.api.models`.

        Relative imports are resolved against the importing file's folder, so
        that a same-named class elsewhere in the tree (a test fixture, another
        app) is not mistaken for the one this file means.
        """
        if not module.startswith("."):
            return module
        level = len(module) - len(module.lstrip("."))
        folder = PurePath(self.ctx.source.path).parent
        for _ in range(level - 1):
            folder = folder.parent
        parts = [part for part in folder.parts if part not in ("/", "\\", "")]
        rest = [part for part in module.lstrip(".").split(".") if part]
        return ".".join([*parts, *rest])

    def local_name_of(self, cls: MappedClass) -> str | None:
        """A name bound in this file to `cls`, for writing `Cls.attribute` in a fix."""
        for local, qualified in self.ctx.imports.names.items():
            module, _, name = qualified.rpartition(".")
            if name and self.index.mapped_class(name, self.absolute_module(module)) is cls:
                return local
        for node in self.ctx.source.nodes("classdef"):
            if isinstance(node, Class) and node.name.value == cls.name and scope_of(
                    node).type == "file_input":
                return cls.name
        return None

    # -- queries -----------------------------------------------------------------

    def query_origin(self, node: NodeOrLeaf, depth: int = 0) -> Origin | None:
        """The statement of a legacy query or `select()` in `node`, when it selects one class."""
        if node.type == "name" and depth < _MAX_DEPTH:
            return self._origin_via_name(node, depth)  # type: ignore[arg-type]
        if node.type not in ("atom_expr", "power"):
            return None
        legacy = self._legacy_query(node)
        if legacy is not None:
            return legacy
        return self._select_statement(node, depth)

    def _legacy_query(self, chain: NodeOrLeaf) -> Origin | None:
        """`Model.query...` or `session.query(Model)...`, cut before the execution."""
        children = chain.children  # type: ignore[attr-defined]
        start = _query_start(children)
        if start is None:
            return None
        model_node, first = start
        model = self.resolve_class(model_node)
        if model is None:
            return None
        end = _statement_end(children, first)
        statement_end = children[end - 1]
        origin = Origin(model, model_node.get_code(include_prefix=False), chain, statement_end)
        self._read_options(origin, children[first:end])
        origin.awaited = children[0].type == "keyword"
        return origin

    def _select_statement(self, chain: NodeOrLeaf, depth: int) -> Origin | None:
        """`select(Model).where(...)...` as a statement; also through `session.scalars(...)`."""
        children = chain.children  # type: ignore[attr-defined]
        call_at = self._select_call(children)
        if call_at is None:
            return self._executed_statement(chain, depth)
        arguments = _positional(children[call_at])
        if len(arguments) != 1 or len(_arguments(children[call_at])) != 1:
            return None  # several entities: rows are tuples, not objects
        model = self.resolve_class(arguments[0])
        if model is None:
            return None
        origin = Origin(model, arguments[0].get_code(include_prefix=False), chain,
                        children[-1], style="select")
        self._read_options(origin, children[call_at + 1:])
        return origin

    def _select_call(self, children: list[NodeOrLeaf]) -> int | None:
        """Index of the call trailer of `select(...)`, `sa.select(...)` or `db.select(...)`."""
        head = children[0]
        if head.type != "name" or len(children) < 2:
            return None
        if _is_call(children[1]) and self._is_select(head):
            return 1
        if len(children) >= 3 and _is_attribute(children[1]) and _is_call(children[2]):
            if _attribute_name(children[1]) != "select":
                return None
            qualified = self.ctx.imports.resolve(head.value) or ""  # type: ignore[attr-defined]
            if qualified.startswith("sqlalchemy") or head.value == "db":  # type: ignore
                return 2
        return None

    def _executed_statement(self, chain: NodeOrLeaf, depth: int) -> Origin | None:
        """`session.scalars(stmt)`, `session.execute(stmt).scalars()`, `.all()` after them."""
        children = chain.children  # type: ignore[attr-defined]
        for index in range(1, len(children) - 1):
            trailer, call = children[index], children[index + 1]
            if not (_is_attribute(trailer) and _is_call(call)):
                continue
            method = trailer.children[1].value
            if method not in ("scalars", "execute") or not self._is_session(children[:index]):
                continue
            rest = [_attribute_name(node) for node in children[index + 2:]
                    if _is_attribute(node)]
            if method == "execute" and "scalars" not in rest:
                return None  # rows of `execute(select(A))` are tuples
            arguments = _positional(call)
            if not arguments:
                return None
            origin = self.query_origin(arguments[0], depth + 1)
            if origin is not None:
                origin.awaited = origin.awaited or children[0].type == "keyword"
            return origin
        return None

    def _origin_via_name(self, name: Name, depth: int) -> Origin | None:
        """A statement or query built into a variable of the same function."""
        definitions = [d for d in _assignments_in_scope(name) if d.start_pos < name.start_pos]
        if not definitions or any(d.get_definition().type != "expr_stmt" for d in definitions):
            return None  # a parameter, a loop target or an import: not a visible statement
        origins = []
        for definition in definitions:
            value = definition.get_definition().children[-1]
            origin = self.query_origin(value, depth + 1)
            if origin is None and not _chain_starting_with(value, name.value):
                return None
            if origin is not None:
                origins.append(origin)
        if not origins:
            return None
        first = origins[0]
        for later in origins[1:]:
            first.options.extend(later.options)
            first.opaque_options |= later.opaque_options
        for definition in definitions:
            value = definition.get_definition().children[-1]
            if _chain_starting_with(value, name.value):
                self._read_options(first, value.children[1:])
        first.reused = _uses(name) > 1 or len(definitions) > 1
        if len(definitions) > 1:
            first.blocks_fix = True  # `stmt = stmt.where(...)`: which one to edit is unclear
        return first

    def _read_options(self, origin: Origin, trailers: list[NodeOrLeaf]) -> None:
        for index, trailer in enumerate(trailers):
            if not _is_attribute(trailer):
                continue
            method = _attribute_name(trailer)
            if method in ("group_by", "distinct", "from_statement", "with_entities",
                          "union", "union_all", "add_columns", "add_entity",
                          "select_from", "having"):
                origin.blocks_fix = True
            if method in ("join", "outerjoin") and index + 1 < len(trailers):
                joined = _positional(trailers[index + 1])
                origin.joins.extend(joined[:1])
            if method != "options" or index + 1 >= len(trailers):
                continue
            call = trailers[index + 1]
            origin.options_trailer = call
            for argument in _arguments(call):
                if argument.type == "argument" or _loader_name(argument) is None:
                    origin.opaque_options = True  # `*loaders` or an option from a variable
                origin.options.append(argument)

    def _is_select(self, name: NodeOrLeaf) -> bool:
        qualified = self.ctx.imports.resolve(name.value)  # type: ignore[attr-defined]
        if qualified is not None:
            return qualified.startswith("sqlalchemy") and qualified.endswith(".select")
        return False  # a `select` of the project's own: not SQLAlchemy's

    def _is_session(self, nodes: list[NodeOrLeaf]) -> bool:
        """`session`, `db.session`, `self.session`, `await session` as a receiver."""
        if not nodes:
            return False
        last = nodes[-1]
        if last.type == "trailer":
            if not _is_attribute(last):
                return False
            text = _attribute_name(last)
        elif last.type == "name":
            text = last.value  # type: ignore[attr-defined]
        else:
            return False
        return "session" in text.lower()

    def execution_end(self, chain: NodeOrLeaf) -> int | None:
        """Index of the call trailer that sends SQL (a query run, `session.execute(...)`)."""
        children = chain.children  # type: ignore[attr-defined]
        for index in range(1, len(children) - 1):
            trailer, call = children[index], children[index + 1]
            if not (_is_attribute(trailer) and _is_call(call)):
                continue
            method = _attribute_name(trailer)
            if method in SESSION_EXECUTE and self._is_session(children[:index]):
                return index + 1 if self._reads_rows(method, call) else None
            if method in EXECUTING and _query_start(children[:index]) is not None:
                return index + 1
        return None

    def _reads_rows(self, method: str, call: NodeOrLeaf) -> bool:
        """`session.get(...)`, or a statement that is a SELECT: not DML, not raw text."""
        if method in ("get", "get_one"):
            return True
        arguments = _positional(call)
        if not arguments:
            return False
        statement = arguments[0]
        if isinstance(statement, Name):
            values = [_assigned_value(d) for d in _assignments_in_scope(statement)
                      if d.start_pos < statement.start_pos]
            if not values or any(value is None for value in values):
                return False  # a loop over statements, or a parameter: not one query per row
            return all(value is not None and self._builds_select(value, statement.value)
                       for value in values)
        return self._builds_select(statement, None)

    def _builds_select(self, node: NodeOrLeaf, refined: str | None) -> bool:
        children = getattr(node, "children", None)
        if node.type not in ("atom_expr", "power") or not children:
            return False
        if refined is not None and _chain_starting_with(node, refined):
            return True
        return self._select_call(children) is not None

    # -- elements and instances ----------------------------------------------------

    def elements(self, iterable: NodeOrLeaf, depth: int = 0) -> Elements | None:
        """What a `for` over `iterable` binds its target to, when it is mapped objects."""
        key = id(iterable)
        if key not in self._elements:
            self._elements[key] = None
            if depth < _MAX_DEPTH:
                self._elements[key] = self._find_elements(iterable, depth)
        return self._elements[key]

    def _find_elements(self, node: NodeOrLeaf, depth: int) -> Elements | None:
        if node.type == "name":
            return self._elements_of_name(node, depth)  # type: ignore[arg-type]
        if node.type not in ("atom_expr", "power"):
            return None
        children = node.children  # type: ignore[attr-defined]
        if children[0].type == "name" and len(children) == 2 and _is_call(children[1]):
            wrapped = self._wrapped(children[0].value, children[1], depth)
            if wrapped is not False:
                return wrapped  # type: ignore[return-value]
            return self._returned_elements(children[0])
        relationship = self._relationship_read(node, depth)
        if relationship is not None:
            return relationship
        return self._query_elements(node, depth)

    def _returned_elements(self, callee: NodeOrLeaf) -> Elements | None:
        """`get_assets()` annotated `-> list[Asset]`, here or (via jedi) in another module."""
        function = self.function_of(callee)  # type: ignore[arg-type]
        if function is None or function.annotation is None:  # type: ignore[attr-defined]
            return None
        foreign = function.get_root_node() is not self.ctx.source.tree
        cls = self._annotated_elements(function.annotation, foreign)  # type: ignore
        return Elements(cls, None) if cls is not None else None

    def function_of(self, callee: Name) -> NodeOrLeaf | None:
        """The funcdef a called name refers to: in this file, or (via jedi) in another module."""
        definitions = definitions_before(callee) or [
            name for name in callee.get_root_node().get_used_names().get(callee.value, [])
            if name.is_definition() and _module_level(name)
        ]
        for definition in definitions[:1]:
            statement = definition.get_definition()
            if statement is None:
                continue
            if statement.type == "funcdef" and statement.name is definition:
                return statement
            if statement.type in ("import_from", "import_name"):
                return self._imported_function(callee)
        return None

    def _imported_function(self, callee: Name) -> NodeOrLeaf | None:
        key = ("function", callee.value)
        if key not in self._functions:
            self._functions[key] = self._project_function(callee)
        return self._functions[key]

    def _project_function(self, callee: Name) -> NodeOrLeaf | None:
        """The funcdef jedi finds for an imported name, when the import is project code.

        A library's function is not followed: see analysis/module_files.py.
        """
        qualified = self.ctx.imports.resolve(callee.value)
        if qualified is not None and not self.ctx.project.modules.follows(
                self.ctx.source.path, qualified):
            return None
        try:
            found = self.ctx.infer.function_definition(callee)
        except Exception:  # the lookup is a third-party call: no answer, not a crash
            logger.debug("jedi lookup of %s failed", callee.value, exc_info=True)
            return None
        return found if found is not None and found.type == "funcdef" else None

    def _wrapped(self, function: str, call: NodeOrLeaf, depth: int) -> Elements | None | bool:
        """`sorted(assets, key=...)`, `list(query)`: the same elements."""
        if function not in _ELEMENT_WRAPPERS:
            return False
        arguments = _positional(call)
        return self.elements(arguments[0], depth + 1) if arguments else None

    def _relationship_read(self, node: NodeOrLeaf, depth: int) -> Elements | None:
        """`asset.sensors`: a collection relationship of a known instance."""
        children = node.children  # type: ignore[attr-defined]
        if len(children) != 2 or not _is_attribute(children[1]):
            return None
        owner = self.instance(children[0], depth + 1)
        if owner is None:
            return None
        rel = self.index.relationship(owner.cls, _attribute_name(children[1]))
        if rel is None or rel.target is None or self.index.is_collection(rel) is not True:
            return None
        target = self.index.target_of(rel)
        if target is None:
            return None
        return Elements(target, owner.origin, owner.path + (rel,))

    def _query_elements(self, chain: NodeOrLeaf, depth: int) -> Elements | None:
        """Mapped objects from a query: `.all()`, a Query iterated, `.scalars()`."""
        children = chain.children  # type: ignore[attr-defined]
        tail = [_attribute_name(node) for node in children[1:] if _is_attribute(node)]
        if not tail:
            return None
        last = tail[-1]
        if children[0].type == "atom":
            return self._awaited_elements(chain, depth)
        if last == "items":
            if _is_call(children[-1]) or not self._paginated(chain):
                return None  # only `.paginate(...).items` is a list of objects
        elif not _is_call(children[-1]) or not (last in ITERATING or last in _ITERABLE_ENDS):
            return None
        origin = self._legacy_query(chain) or self._executed_statement(chain, depth)
        if origin is None:
            origin = self._derived_query(chain, depth)
        if origin is None:
            return None
        return Elements(origin.model, origin)

    def _paginated(self, chain: NodeOrLeaf) -> bool:
        """`query.paginate(...).items`, or `page.items` with `page = query.paginate(...)`."""
        code = chain.get_code(include_prefix=False)
        if ".paginate(" in code:
            return True
        head = chain.children[0]  # type: ignore[attr-defined]
        if head.type != "name":
            return False
        definitions = _assignments_in_scope(head)
        return len(definitions) == 1 and ".paginate(" in definitions[0].get_definition(
        ).get_code()

    def _awaited_elements(self, chain: NodeOrLeaf, depth: int) -> Elements | None:
        """`(await session.scalars(select(M))).all()`."""
        atom = chain.children[0]  # type: ignore[attr-defined]
        inner = atom.children[1] if len(atom.children) == 3 else None
        if inner is None or inner.type not in ("atom_expr", "power"):
            return None
        origin = self._executed_statement(inner, depth + 1)
        return Elements(origin.model, origin) if origin is not None else None

    def _executed_result(self, head: Name, chain: NodeOrLeaf, depth: int) -> Origin | None:
        """`result.scalars()` where `result = await session.execute(select(M))`."""
        definitions = _assignments_in_scope(head)
        if len(definitions) != 1 or definitions[0].get_definition().type != "expr_stmt":
            return None
        tail = [_attribute_name(node) for node in chain.children[1:]  # type: ignore
                if _is_attribute(node)]
        if "scalars" not in tail:
            return None  # rows of `execute(select(A))` are tuples
        value = definitions[0].get_definition().children[-1]
        children = getattr(value, "children", [])
        for index in range(1, len(children) - 1):
            trailer, call = children[index], children[index + 1]
            if (_is_attribute(trailer) and _attribute_name(trailer) == "execute"
                    and _is_call(call) and self._is_session(children[:index])):
                arguments = _positional(call)
                origin = self.query_origin(arguments[0], depth + 1) if arguments else None
                if origin is not None:
                    origin.awaited = origin.awaited or children[0].type == "keyword"
                return origin
        return None

    def _derived_query(self, chain: NodeOrLeaf, depth: int) -> Origin | None:
        """`query.filter(...).all()` where `query = Asset.query...` earlier in the function."""
        head = chain.children[0]  # type: ignore[attr-defined]
        if head.type != "name":
            return None
        executed = self._executed_result(head, chain, depth)  # type: ignore[arg-type]
        if executed is not None:
            return executed
        origin = self.query_origin(head, depth + 1)
        if origin is None or origin.style != "legacy":
            return None
        self._read_options(origin, chain.children[1:])  # type: ignore[attr-defined]
        return origin

    def _elements_of_name(self, name: Name, depth: int) -> Elements | None:
        found = latest_definition(name)
        if found is None:
            return None
        definition, statement = found
        if statement.type == "param":
            annotation = statement.annotation  # type: ignore[attr-defined]
            annotated = self._annotated_elements(annotation)
            return Elements(annotated, None) if annotated is not None else None
        if statement.type == "expr_stmt" and _simple_assignment(statement, definition):
            if len(_assignments_in_scope(name)) > 1:
                return None  # rebound in the function: which value flows here is unclear
            return self.elements(statement.children[-1], depth + 1)
        return None

    def _annotated_elements(self, annotation: NodeOrLeaf | None,
                            foreign: bool = False) -> MappedClass | None:
        """`list[Asset]`, `Sequence[Asset]`, `Iterable["Asset"]`, `Optional[list[Asset]]`.

        `foreign`: the annotation is in another module, whose imports this file's
        import map does not know; its class is then found by its name alone.
        """
        if annotation is None or annotation.type not in ("atom_expr", "power"):
            return None
        children = annotation.children  # type: ignore[attr-defined]
        last = children[-1]
        if last.type != "trailer" or last.children[0].value != "[":
            return None
        head = annotation.get_code(include_prefix=False).split("[", 1)[0].rsplit(".", 1)[-1]
        inner = last.children[1]
        if head == "Optional":
            return self._annotated_elements(inner, foreign)
        if head not in _CONTAINERS or inner.type == "subscriptlist":
            return None
        return self._annotated_class(inner, foreign)

    def _annotated_class(self, node: NodeOrLeaf | None,
                         foreign: bool = False) -> MappedClass | None:
        if node is None:
            return None
        if foreign:
            parts = dotted_parts(node)
            text = node.value.strip("'\"") if node.type == "string" else (  # type: ignore
                parts[-1] if parts else "")
            return self.index.mapped_class(text.rsplit(".", 1)[-1]) if text else None
        if node.type == "string":
            text = node.value.strip("'\"")  # type: ignore[attr-defined]
            return self.index.mapped_class(text.rsplit(".", 1)[-1]) if text.isidentifier() or (
                "." in text) else None
        if node.type in ("expr", "or_expr"):
            members = [child for child in node.children[::2]  # type: ignore[attr-defined]
                       if child.get_code(include_prefix=False) != "None"]
            return self._annotated_class(members[0]) if len(members) == 1 else None
        if node.type in ("atom_expr", "power"):
            head = node.get_code(include_prefix=False).split("[", 1)[0]
            if head.rsplit(".", 1)[-1] == "Optional":
                return self._annotated_class(node.children[-1].children[1])  # type: ignore
        return self.resolve_class(node)

    def instance(self, node: NodeOrLeaf, depth: int = 0) -> Elements | None:
        """The mapped class of one object: a loop target, an annotated parameter, `self`."""
        key = id(node)
        if key in self._instances:
            return self._instances[key]
        self._instances[key] = None
        found = self._find_instance(node, depth) if depth < _MAX_DEPTH else None
        self._instances[key] = found
        return found

    def _find_instance(self, node: NodeOrLeaf, depth: int) -> Elements | None:
        if node.type != "name":
            return None
        found = latest_definition(node)  # type: ignore[arg-type]
        if found is None:
            return None
        definition, statement = found
        if statement.type in ("for_stmt", "sync_comp_for", "comp_for"):
            return self._loop_target_instance(definition, statement, depth)
        if statement.type == "param":
            return self._param_instance(statement, definition)
        if statement.type == "expr_stmt" and _simple_assignment(statement, definition):
            if len(_assignments_in_scope(node)) > 1:  # type: ignore[arg-type]
                return None  # rebound in the function: which value flows here is unclear
            return self.single_object(statement.children[-1], depth)
        return None

    def single_object(self, value: NodeOrLeaf, depth: int = 0) -> Elements | None:
        """One mapped object: `session.get(M, id)`, `query.first()`, `helper() -> M`."""
        if value.type not in ("atom_expr", "power"):
            return None
        children = value.children  # type: ignore[attr-defined]
        if children[0].type == "name" and len(children) == 2 and _is_call(children[1]):
            function = self.function_of(children[0])  # type: ignore[arg-type]
            if function is None or function.annotation is None:  # type: ignore[attr-defined]
                return None
            foreign = function.get_root_node() is not self.ctx.source.tree
            cls = self._annotated_class(function.annotation, foreign)  # type: ignore
            return Elements(cls, None) if cls is not None else None
        if len(children) < 3 or not _is_call(children[-1]) or not _is_attribute(children[-2]):
            return None
        method = _attribute_name(children[-2])
        if method in ("get", "get_one") and self._is_session(children[:-2]):
            arguments = _positional(children[-1])
            cls = self.resolve_class(arguments[0]) if arguments else None
            return Elements(cls, None) if cls is not None else None
        if method not in _SINGLE:
            return None
        origin = self._legacy_query(value) or self._single_statement(children, depth)
        return Elements(origin.model, origin) if origin is not None else None

    def _single_statement(self, children: list[NodeOrLeaf], depth: int) -> Origin | None:
        """`session.execute(select(M)).scalar_one()`, `session.scalars(stmt).first()`."""
        for index in range(1, len(children) - 1):
            trailer, call = children[index], children[index + 1]
            if not (_is_attribute(trailer) and _is_call(call)):
                continue
            if _attribute_name(trailer) not in ("execute", "scalars", "scalar"):
                continue
            if not self._is_session(children[:index]):
                return None
            arguments = _positional(call)
            return self.query_origin(arguments[0], depth + 1) if arguments else None
        return None

    def parameter_instance(self, name: Name) -> Elements | None:
        """The mapped class of a parameter, from its annotation (or `self` of a model)."""
        param = name.get_definition()
        if param is None or param.type != "param":
            return None
        return self._param_instance(param, name)

    def _loop_target_instance(self, definition, statement, depth) -> Elements | None:
        target, iterable = statement.children[1], statement.children[3]
        if target is definition:
            return self.elements(iterable, depth + 1)
        return self._enumerated(definition, target, iterable, depth)

    def _enumerated(self, definition, target, iterable, depth) -> Elements | None:
        """`for i, asset in enumerate(assets)`."""
        names = [child for child in getattr(target, "children", []) if child.type == "name"]
        if len(names) != 2 or names[1] is not definition:
            return None
        children = getattr(iterable, "children", [])
        if len(children) != 2 or children[0].type != "name" or children[0].value != "enumerate":
            return None
        arguments = _positional(children[1])
        return self.elements(arguments[0], depth + 1) if arguments else None

    def _param_instance(self, param, definition) -> Elements | None:
        if param.annotation is not None:
            cls = self._annotated_class(param.annotation)
            return Elements(cls, None) if cls is not None else None
        if definition.value != "self":
            return None
        function = param.get_parent_function()
        owner = function.parent.parent if function is not None else None
        if owner is None or owner.type != "classdef":
            return None
        cls = self.index.mapped_class(owner.children[1].value, _module_of(self.ctx.source.path))
        return Elements(cls, None) if cls is not None else None

    # -- loading --------------------------------------------------------------------

    def is_eager(self, origin: Origin | None, path: tuple[Relationship, ...]) -> bool:
        """Whether the last step of `path` is loaded by the model or the statement's options."""
        last = path[-1]
        if last.lazy != "select":
            return True  # eager in the model, or a strategy that never loads per element
        if origin is None:
            return False
        if origin.opaque_options:
            return True
        wanted = [rel.attribute for rel in path]
        for option in origin.options:
            steps = option_steps(option)
            if steps is None:
                return True  # cannot read it: assume it loads what we look at
            if any(attribute == "*" for attribute, _ in steps):
                return True
            names = [attribute for attribute, _ in steps]
            if names[: len(wanted)] == wanted and steps[len(wanted) - 1][1] in QUIET_LOADERS:
                return True
        return False

    def joined_path(self, origin: Origin | None, path: tuple[Relationship, ...]) -> bool:
        """Whether the query joins each step of `path`: `.join(Asset.sensors)`, `.join(Sensor)`.

        Then `contains_eager` could fill the relationship from rows already fetched.
        """
        if origin is None or not origin.joins:
            return False
        return all(any(self._joins_step(join, rel) for join in origin.joins) for rel in path)

    def _joins_step(self, join: NodeOrLeaf, rel: Relationship) -> bool:
        parts = dotted_parts(join)
        if parts is not None and len(parts) >= 2 and parts[-1] == rel.attribute:
            owner = self.resolve_parts(parts[:-1])
            return owner is not None and self.index.relationship(owner, rel.attribute) is rel
        target = self.index.target_of(rel)
        return target is not None and self.resolve_class(join) is target

    def prefix_option(self, origin: Origin, path: tuple[Relationship, ...]) -> NodeOrLeaf | None:
        """An existing option that loads exactly `path[:-1]`, to extend with one more step."""
        wanted = [rel.attribute for rel in path[:-1]]
        if not wanted:
            return None
        for option in origin.options:
            steps = option_steps(option)
            if steps is not None and [attribute for attribute, _ in steps] == wanted:
                return option
        return None


def path_is_eager_in_model(path: tuple[Relationship, ...]) -> bool:
    return all(rel.lazy in EAGER for rel in path)


def option_steps(option: NodeOrLeaf) -> list[tuple[str, str]] | None:
    """[("sensors", "selectinload"), ("type", "joinedload")] for a chained loader option."""
    if option.type not in ("atom_expr", "power"):
        return None
    children = option.children  # type: ignore[attr-defined]
    steps: list[tuple[str, str]] = []
    loader = children[0].value if children[0].type == "name" else None
    for child in children[1:]:
        if _is_attribute(child):
            loader = _attribute_name(child)
            continue
        if not _is_call(child) or loader is None:
            return None
        for argument in _positional(child):
            attribute = _option_attribute(argument)
            if attribute is None:
                return None
            for name in attribute.split("."):
                steps.append((name, loader))
    return steps or None


def _option_attribute(argument: NodeOrLeaf) -> str | None:
    if argument.type == "string":
        return argument.value.strip("'\"")  # type: ignore[attr-defined]
    parts = dotted_parts(argument)
    if parts and len(parts) >= 2:
        return parts[-1]
    if argument.type in ("atom_expr", "power"):
        text = argument.get_code(include_prefix=False)
        if ".of_type(" in text:
            inner = argument.children[:-2]  # type: ignore[attr-defined]
            names = [child.children[1].value for child in inner if _is_attribute(child)]
            return names[-1] if names else None
    return None


def _loader_name(option: NodeOrLeaf) -> str | None:
    if option.type not in ("atom_expr", "power"):
        return None
    first = option.children[0]  # type: ignore[attr-defined]
    if first.type == "name" and first.value in _LOADERS:
        return first.value
    parts = dotted_parts(first)
    if parts is None and first.type == "name":
        return None
    code = option.get_code(include_prefix=False)
    for loader in _LOADERS:
        if code.startswith(f"{loader}(") or f".{loader}(" in code.split("(", 1)[0] + "(":
            return loader
    return None


def _query_start(children: list[NodeOrLeaf]) -> tuple[NodeOrLeaf, int] | None:
    """(model node, index after `.query` / `session.query(M)`) for a legacy query chain."""
    for index in range(1, len(children)):
        trailer = children[index]
        if not (_is_attribute(trailer) and _attribute_name(trailer) == "query"):
            continue
        following = children[index + 1] if index + 1 < len(children) else None
        if following is not None and _is_call(following):
            receiver = children[:index]
            if not _receiver_is_session(receiver):
                return None
            arguments = _positional(following)
            if len(arguments) != 1 or len(_arguments(following)) != 1:
                return None  # several entities, or columns: rows are not objects
            return arguments[0], index + 2
        head = children[0]
        if index == 1 and isinstance(head, Name) and head.value[:1].isupper():
            return head, index + 1
        return None
    return None


def _receiver_is_session(receiver: list[NodeOrLeaf]) -> bool:
    last = receiver[-1]
    if last.type == "name":
        return "session" in last.value.lower()  # type: ignore[attr-defined]
    return _is_attribute(last) and "session" in _attribute_name(last).lower()


def _statement_end(children: list[NodeOrLeaf], first: int) -> int:
    """Index after the last trailer that still builds the query (before `.all()`)."""
    end = len(children)
    for index in range(first, len(children) - 1):
        trailer = children[index]
        if _is_attribute(trailer) and _attribute_name(trailer) in EXECUTING | {"items"}:
            return index
    return end


def _module_level(name: Name) -> bool:
    """A function or import defined at the top of the module (a def's name is inside it)."""
    statement = name.get_definition()
    return statement is not None and scope_of(statement).type == "file_input"


def _chain_starting_with(value: NodeOrLeaf, name: str) -> bool:
    """`stmt.where(...)`: a later assignment that refines the same statement."""
    if not isinstance(value, BaseNode) or not value.children:
        return False
    head = value.children[0]
    return isinstance(head, Name) and head.value == name


def _assigned_value(name: Name) -> NodeOrLeaf | None:
    """The right-hand side of the assignment statement that binds `name`, if it is one."""
    statement = name.get_definition()
    if statement is None or statement.type != "expr_stmt":
        return None
    return statement.children[-1]


def _assignments_in_scope(name: Name) -> list[Name]:
    """Every name in the scope of `name` that assigns to the same variable."""
    scope = scope_of(name)
    found = []
    for candidate in name.get_root_node().get_used_names().get(name.value, []):
        if candidate.is_definition() and scope_of(candidate) is scope:
            statement = candidate.get_definition()
            if statement is not None and statement.type == "expr_stmt":
                found.append(candidate)
            elif statement is not None:
                return [candidate, candidate]  # bound by a loop or import too: unclear
    return found


def _simple_assignment(statement: BaseNode, definition: Name) -> bool:
    children = statement.children
    return (len(children) == 3 and children[0] is definition
            and children[1].type == "operator" and children[1].value == "=")


def _uses(name: Name) -> int:
    """How often the variable is read in its scope."""
    scope = scope_of(name)
    return sum(
        1 for candidate in name.get_root_node().get_used_names().get(name.value, [])
        if not candidate.is_definition() and is_inside(candidate, scope)
    )


def _module_of(path: str) -> str:
    stem = path[:-3] if path.endswith(".py") else path
    return stem.replace("\\", "/").replace("/", ".").lstrip(".")


def _is_attribute(node: NodeOrLeaf) -> bool:
    return node.type == "trailer" and node.children[0].value == "."  # type: ignore


def _is_call(node: NodeOrLeaf) -> bool:
    return node.type == "trailer" and node.children[0].value == "("  # type: ignore


def _attribute_name(trailer: NodeOrLeaf) -> str:
    return trailer.children[1].value  # type: ignore[attr-defined]


def _arguments(call: NodeOrLeaf) -> list[NodeOrLeaf]:
    children = call.children  # type: ignore[attr-defined]
    if len(children) < 3:
        return []
    inner = children[1]
    return [item for item in inner.children[::2]] if inner.type == "arglist" else [inner]


def _positional(call: NodeOrLeaf) -> list[NodeOrLeaf]:
    return [argument for argument in _arguments(call) if argument.type != "argument"]


def arguments_of(call: NodeOrLeaf) -> list[NodeOrLeaf]:
    return _arguments(call)


def walk(node: NodeOrLeaf) -> Iterator[NodeOrLeaf]:
    yield node
    for child in getattr(node, "children", ()):
        yield from walk(child)
