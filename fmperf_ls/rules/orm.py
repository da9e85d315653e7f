"""ORM rules (FMP1xx): N+1 loads, queries in loops, unbounded lists, unindexed filters.

Every rule here stands on two kinds of evidence: the model index (which
attributes are relationships, how they load, which columns are indexed) and
the flow of mapped objects from a visible query or annotation to a loop. An
object whose class the analysis cannot tell is never reported.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parso.python.tree import Function, Name
from parso.tree import BaseNode, Leaf, NodeOrLeaf

from fmperf_ls.analysis.jedi_bridge import source_of_tree
from fmperf_ls.analysis.models import (
    DYNAMIC,
    LAZY,
    MappedClass,
    Relationship,
    could_define_models,
)
from fmperf_ls.analysis.orm_flow import (
    EXECUTING,
    SESSION_EXECUTE,
    Elements,
    Origin,
    OrmFlow,
    arguments_of,
    walk,
)
from fmperf_ls.analysis.outline import Place, called_name, end_of, may_read, start_of
from fmperf_ls.analysis.scopes import Loop, definitions_before, is_inside, loops_around, scope_of
from fmperf_ls.analysis.source import Range
from fmperf_ls.fixes import import_edit
from fmperf_ls.rules.base import (
    Confidence,
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

_LOOP_WORDS = ("for ", "while ")
"""FMP101/102 depend on the model index, not on ORM words in the file: any loop will do."""
_MUTATORS = {"append", "remove", "extend", "add", "discard", "clear", "pop", "insert"}
_LOADER_MODULE = "sqlalchemy.orm"

_FLASK_MODELS = '''
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class AssetType(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True)


class Asset(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80))
    parent_id = db.Column(db.Integer, db.ForeignKey("asset.id"))
    type_id = db.Column(db.Integer, db.ForeignKey("asset_type.id"))
    children = db.relationship(
        "Asset", backref=db.backref("parent", remote_side="Asset.id")
    )
    type = db.relationship("AssetType")


class Sensor(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80))
    unit = db.Column(db.String(10))
    active = db.Column(db.Boolean, default=True)
    asset_id = db.Column(db.Integer, db.ForeignKey("asset.id"), index=True)
    asset = db.relationship("Asset", backref=db.backref("sensors", lazy=True))
    readings = db.relationship("Reading", lazy="dynamic")


class Reading(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    sensor_id = db.Column(db.Integer, db.ForeignKey("sensor.id"), index=True)
    value = db.Column(db.Float)
'''

_TYPED_MODELS = '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    users: Mapped[list["User"]] = relationship(back_populates="account")


class User(Base):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(unique=True)
    nickname: Mapped[str | None]
    is_admin: Mapped[bool] = mapped_column(default=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    account: Mapped[Account] = relationship(back_populates="users")
'''

MODELS = (("models.py", _FLASK_MODELS),)
TYPED = (("typed.py", _TYPED_MODELS),)


# -- gates: what a file must hold for a rule to get to a finding (see analysis/outline.py) --

_LOADING = frozenset({LAZY})
"""The loading FMP102 and FMP103 report (FMP101 adds `dynamic` and `write_only`)."""


def _may_add_models(ctx: Context) -> bool:
    """Whether checking the file may add models of its own to the index.

    `_flow` indexes the checked file first, so relationships or classes it
    defines count although the index may not know them yet: a gate then
    cannot rule anything out on the index's names. A text the index already
    holds (every file of a command-line run) adds nothing.
    """
    path, text = ctx.source.path, ctx.source.text
    if ctx.project.knows(path, text):
        return False
    return could_define_models(text) or ctx.project.is_model_module(path)


def _gate_relationship_names(ctx: Context, lazies: frozenset[str] | None = None
                             ) -> frozenset[str] | None:
    """The relationship names a check may meet; None when any name may be one.

    `lazies`: only names of which some relationship (or backref) loads so.
    """
    if _may_add_models(ctx):
        return None
    return ctx.models.relationship_names(lazies)


def _named(name: str, names: frozenset[str] | None) -> bool:
    return names is None or name in names


def _loop_targets(outline: Outline) -> set[str]:
    """Names bound by the target of a `for` or of a comprehension."""
    return {name for target in _targets(outline) for name in _names_in(target)}


def _targets(outline: Outline) -> Iterator[ast.AST]:
    return (target for target, _ in _loops_with_targets(outline))


def _loops_with_targets(outline: Outline) -> Iterator[tuple[ast.AST, ast.AST]]:
    """(target, iterable) of every `for`, `async for` and comprehension."""
    for loop in outline.nodes(ast.For):
        yield loop.target, loop.iter
    for async_loop in outline.nodes(ast.AsyncFor):
        yield async_loop.target, async_loop.iter
    for generator in outline.nodes(ast.comprehension):
        yield generator.target, generator.iter


def _names_in(node: ast.AST) -> Iterator[str]:
    return (child.id for child in ast.walk(node) if isinstance(child, ast.Name))


def _defined_functions(outline: Outline) -> set[str]:
    return {function.name for function in _function_defs(outline)}


def _function_defs(outline: Outline) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    yield from outline.nodes(ast.FunctionDef)
    yield from outline.nodes(ast.AsyncFunctionDef)


def _relationship_read(node: ast.AST, names: frozenset[str] | None) -> bool:
    """`x.rel`: an attribute named like a relationship, read on a bare name."""
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and _named(node.attr, names))


class _AstLoops:
    """The `for` loops and comprehensions of a file, as `_dependent_loop` sees them.

    Each counts for what it runs per element (a `for` body; a comprehension
    but its first iterable) and for the names it binds (its targets, and in
    a `for` every name its body or `else` binds). Loops over a literal display
    are left out, as the check skips them. Function boundaries are ignored, so
    a loop may count where the check stops: a generous reading, never a stricter one.
    """

    def __init__(self, outline: Outline, lines: list[str]):
        self._lines = lines
        self._loops: list[tuple[Place, Place, Place | None, Place | None, ast.AST]] = []
        loops: list[ast.For | ast.AsyncFor] = [*outline.nodes(ast.For),
                                               *outline.nodes(ast.AsyncFor)]
        for loop in loops:
            if loop.body and not self._literal(loop.iter):
                body = (start_of(loop.body[0]), end_of(loop.body[-1]))
                self._loops.append((*body, None, None, loop))
        displays: list[ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp] = [
            *outline.nodes(ast.ListComp), *outline.nodes(ast.SetComp),
            *outline.nodes(ast.DictComp), *outline.nodes(ast.GeneratorExp)]
        for display in displays:
            first = display.generators[0].iter
            if not all(self._literal(generator.iter) for generator in display.generators):
                self._loops.append((start_of(display), end_of(display),
                                    start_of(first), end_of(first), display))
        self._bound: dict[int, set[str]] = {}

    def depends(self, node: ast.AST, names: set[str]) -> bool:
        """Whether a loop runs `node` per element and binds one of `names`."""
        start, end = start_of(node), end_of(node)
        for first, last, skip_first, skip_last, loop in self._loops:
            if not (first <= start and end <= last):
                continue  # not within what the loop runs per element
            if skip_first is not None and skip_last is not None and (
                skip_first <= start and end <= skip_last
            ):
                continue  # the first iterable of a comprehension runs once
            if not names.isdisjoint(self._names_bound(loop)):
                return True
        return False

    def _names_bound(self, loop: ast.AST) -> set[str]:
        if id(loop) not in self._bound:
            if isinstance(loop, (ast.For, ast.AsyncFor)):
                parts: list[ast.AST] = [loop.target, *loop.body, *loop.orelse]
            else:
                parts = [generator.target for generator in loop.generators  # type: ignore
                         if not self._literal(generator.iter)]
            self._bound[id(loop)] = {name for part in parts for name in _bound_names(part)}
        return self._bound[id(loop)]

    def _literal(self, iterable: ast.expr) -> bool:
        """A display written with its brackets (`(A, B)`, `[...]`, `{...}`): parso's atom."""
        if not isinstance(iterable, (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.ListComp,
                                     ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return False
        line = self._lines[iterable.lineno - 1].encode("utf-8")
        return line[iterable.col_offset:iterable.col_offset + 1] in (b"(", b"[", b"{")


def _bound_names(node: ast.AST) -> Iterator[str]:
    """Every name a statement or target may bind, generously (attributes stored to included)."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and not isinstance(inner.ctx, ast.Load):
            yield inner.id
        elif isinstance(inner, ast.Attribute) and not isinstance(inner.ctx, ast.Load):
            yield inner.attr
        elif isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield inner.name
        elif isinstance(inner, ast.arg):
            yield inner.arg
        elif isinstance(inner, ast.alias):
            yield (inner.asname or inner.name).partition(".")[0]
        elif isinstance(inner, ast.ExceptHandler) and inner.name:
            yield inner.name
        elif isinstance(inner, (ast.Global, ast.Nonlocal)):
            yield from inner.names
        elif isinstance(inner, (ast.MatchAs, ast.MatchStar)) and inner.name:
            yield inner.name
        elif isinstance(inner, ast.MatchMapping) and inner.rest:
            yield inner.rest


def _whole_chains(outline: Outline) -> dict[int, ast.AST]:
    """For each node along a call chain (`a.b(c).d`), the whole chain: parso's atom_expr."""
    nodes: list[ast.AST] = list(outline.nodes(ast.Attribute, ast.Call, ast.Subscript, ast.Await))
    inner = {id(_receiver(node)) for node in nodes}
    whole: dict[int, ast.AST] = {}
    for node in nodes:
        if id(node) not in inner:
            whole.update((id(part), node) for part in _chain_nodes(node))
    return whole


def _identifiers(node: ast.AST) -> set[str]:
    """Every name written in an expression: names, attributes, keywords, lambda parameters."""
    found: set[str] = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            found.add(inner.id)
        elif isinstance(inner, ast.Attribute):
            found.add(inner.attr)
        elif isinstance(inner, ast.keyword) and inner.arg is not None:
            found.add(inner.arg)
        elif isinstance(inner, ast.arg):
            found.add(inner.arg)
    return found


def _chain_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """The receivers of a call chain, outermost first: `a.b(c).d` gives `a.b(c)`, `a.b`, `a`."""
    current: ast.AST | None = node
    while current is not None:
        yield current
        current = _receiver(current)


def _receiver(node: ast.AST) -> ast.AST | None:
    """What one link of a call chain applies to: `a.b` of `a.b(c)`, `a` of `a.b`."""
    if isinstance(node, (ast.Attribute, ast.Subscript, ast.Await)):
        return node.value
    if isinstance(node, ast.Call):
        return node.func
    return None


# -- shared analysis --------------------------------------------------------------


@dataclass(frozen=True)
class LazyRead:
    """`obj.rel` read once per element of `loop`."""

    node: NodeOrLeaf
    """The `.rel` trailer's chain up to and including it, as a range source."""
    span: Range
    loop: Loop
    elements: Elements
    rel: Relationship

    @property
    def path(self) -> tuple[Relationship, ...]:
        return self.elements.path + (self.rel,)


def _flow(ctx: Context) -> OrmFlow:
    """One OrmFlow per checked file, shared by the rules of this module."""
    flow = getattr(ctx, "_orm_flow", None)
    if flow is None or flow.ctx is not ctx:
        _index_current_file(ctx)
        flow = OrmFlow(ctx)
        ctx._orm_flow = flow  # type: ignore[attr-defined]
    return flow


def _index_current_file(ctx: Context) -> None:
    """The file being checked may define models the workspace index has not seen yet."""
    try:
        ctx.project.update(ctx.source.path, ctx.source.text, ctx.source)
    except Exception:  # the index logs its own failures; checking goes on without it
        logger.debug("could not index %s", ctx.source.path, exc_info=True)


def _is_written(chain: NodeOrLeaf, end: int) -> bool:
    """`obj.rel = x`, `del obj.rel`, `obj.rel.append(x)`: a write, not a load to report."""
    children = chain.children  # type: ignore[attr-defined]
    if end + 1 < len(children):
        following = children[end + 1]
        if following.type == "trailer" and following.children[0].value == ".":
            if following.children[1].value in _MUTATORS:
                return True
        return False
    parent = chain.parent
    if parent is not None and parent.type == "expr_stmt":
        operator = parent.children[1]
        if parent.children[0] is chain and operator.type == "operator":
            return True
    return parent is not None and parent.type == "del_stmt"


def _receiver_elements(flow: OrmFlow, chain: NodeOrLeaf, end: int,
                       loops: list[Loop]) -> tuple[Elements, Loop] | None:
    """The mapped objects read at `chain.children[:end]`, per element of a loop around it."""
    children = chain.children  # type: ignore[attr-defined]
    base = children[0]
    if base.type != "name":
        return None
    loop = _loop_binding(base, loops)
    if loop is None:
        return None  # not a loop variable: one read, not one per element
    current = flow.instance(base)
    if current is None:
        return None
    for trailer in children[1:end]:
        if trailer.type != "trailer" or trailer.children[0].value != ".":
            return None
        rel = flow.index.relationship(current.cls, trailer.children[1].value)
        if rel is None or rel.target is None or flow.index.is_collection(rel) is not False:
            return None  # only scalar relationships lead to one object
        target = flow.index.target_of(rel)
        if target is None:
            return None
        if _identity_map_hit(flow, current, rel):
            current = _back_to_parent(flow, current)  # `sensor.asset` is the iterated asset
            loop = _parent_loop(loop, loops)  # type: ignore[assignment]
            if current is None or loop is None:
                return None  # the parent is one object: its relationships load once
            continue
        current = Elements(target, current.origin, current.path + (rel,))
    return current, loop


def _parent_loop(loop: Loop, loops: list[Loop]) -> Loop | None:
    """For `for s in asset.sensors`, the loop that binds `asset`, if one does."""
    parts = getattr(loop.iterable, "children", [])
    if len(parts) != 2 or parts[0].type != "name" or not _is_dot(parts[1]):
        return None
    return _loop_binding(parts[0], loops)


def _back_to_parent(flow: OrmFlow, elements: Elements) -> Elements | None:
    """The owner of the collection being iterated, one step up the path."""
    parent_path = elements.path[:-1]
    owner = flow.index.owner_of(elements.path[-1])
    if owner is None:
        return None
    if parent_path:
        owner = flow.index.target_of(parent_path[-1]) or owner
    elif elements.origin is not None:
        owner = elements.origin.model
    return Elements(owner, elements.origin, parent_path)


def _loop_binding(name: NodeOrLeaf, loops: list[Loop]) -> Loop | None:
    definitions = definitions_before(name)  # type: ignore[arg-type]
    if not definitions:
        return None
    for loop in loops:
        if loop.kind != "while" and definitions[0] in loop.target_names():
            return loop
    return None


def lazy_reads(ctx: Context) -> Iterator[LazyRead]:
    """Relationship reads on loop variables that may load lazily, first per loop and path."""
    flow = _flow(ctx)
    names = flow.index.relationship_names()
    if not names:
        return
    seen: set[tuple[int, tuple[str, ...]]] = set()
    for chain in ctx.source.nodes("atom_expr", "power"):
        children = chain.children  # type: ignore[attr-defined]
        for end in range(1, len(children)):
            trailer = children[end]
            if trailer.type != "trailer" or trailer.children[0].value != ".":
                break
            if trailer.children[1].value not in names:
                continue
            read = _lazy_read(flow, chain, end)
            if read is None:
                continue
            key = (id(read.loop.node), tuple(rel.describe() for rel in read.path))
            if key not in seen:
                seen.add(key)
                yield read


def _lazy_read(flow: OrmFlow, chain: NodeOrLeaf, end: int) -> LazyRead | None:
    children = chain.children  # type: ignore[attr-defined]
    loops = loops_around(chain)
    if not loops:
        return None  # one access outside any loop is one query, not N
    found = _receiver_elements(flow, chain, end, loops)
    if found is None:
        return None
    elements, loop = found
    rel = flow.index.relationship(elements.cls, children[end].children[1].value)
    if rel is None or _is_written(chain, end):
        return None
    if _identity_map_hit(flow, elements, rel):
        return None  # `for s in asset.sensors: s.asset` finds the asset already loaded
    span = Range.between(children[0], children[end])
    return LazyRead(chain, span, loop, elements, rel)


def _identity_map_hit(flow: OrmFlow, elements: Elements, rel: Relationship) -> bool:
    """A many-to-one back to the owner of the collection being iterated."""
    if not elements.path or flow.index.is_collection(rel) is not False:
        return False
    iterated = elements.path[-1]
    return iterated.inverse == rel.attribute or rel.inverse == iterated.attribute


def _cost(cls: MappedClass) -> str:
    return f"one SELECT per {cls.name}: 1 + N queries"


def _loader_for(flow: OrmFlow, rel: Relationship) -> str:
    """joinedload for many-to-one and one-to-one, selectinload for collections."""
    return "joinedload" if flow.index.is_collection(rel) is False else "selectinload"


def loader_fix(ctx: Context, flow: OrmFlow, origin: Origin | None, at: NodeOrLeaf,
               paths: list[tuple[Relationship, ...]]) -> Fix | None:
    """Eager-load `paths` in the statement that produced the objects, when it is visible."""
    if origin is None or origin.blocks_fix or origin.opaque_options or not paths:
        return None  # no statement here, or one whose loader options we cannot edit safely
    if scope_of(origin.statement) is not scope_of(at):
        return None  # built in another function: the edit would change other callers
    edits: list[Edit] = []
    loaders: set[str] = set()
    texts = []
    for path in paths:
        extension = _extend_prefix(ctx, flow, origin, path, loaders)
        if extension is not None:
            edits.append(extension)
            continue
        text = _option_text(ctx, flow, origin, path, loaders, edits)
        if text is None:
            return None
        texts.append(text)
    if texts:
        edits.append(_options_edit(origin, ", ".join(texts)))
    for loader in sorted(loaders):
        edit = import_edit(ctx.source, _LOADER_MODULE, loader)
        if edit is not None:
            edits.append(edit)
    if len({edit.range for edit in edits}) != len(edits):
        edits = _merge_same_place(edits)
    names = ", ".join(f"{rel.owner}.{rel.attribute}" for rel in (p[-1] for p in paths))
    safety = Safety.UNSAFE if origin.reused else Safety.SAFE
    return Fix(f"Eager-load {names} in the query", tuple(edits), safety)


def _merge_same_place(edits: list[Edit]) -> list[Edit]:
    merged: dict[Range, str] = {}
    for edit in edits:
        merged[edit.range] = merged.get(edit.range, "") + edit.new_text
    return [Edit(span, text) for span, text in merged.items()]


def _extend_prefix(ctx, flow, origin, path, loaders) -> Edit | None:
    """`selectinload(A.b)` already there: append `.joinedload(B.c)` to it."""
    option = flow.prefix_option(origin, path)
    if option is None:
        return None
    owner = flow.index.target_of(path[-2])
    name = flow.local_name_of(owner) if owner is not None else None
    if name is None:
        return None
    loader = _loader_for(flow, path[-1])
    loaders.add(loader) if _uses_bare_loaders(option) else None
    text = f".{loader}({name}.{path[-1].attribute})"
    end = Range.of(option).end
    return Edit(Range(end, end), text)


def _uses_bare_loaders(option: NodeOrLeaf) -> bool:
    return False  # a chained step is a method call: it needs no import


def _option_text(ctx, flow, origin, path, loaders, edits) -> str | None:
    """`selectinload(Asset.sensors).joinedload(Sensor.type)` for a path of relationships."""
    parts = []
    owner_name = origin.model_name
    for position, rel in enumerate(path):
        if position > 0:
            owner = flow.index.target_of(path[position - 1])
            owner_name = _class_name_in_file(ctx, flow, owner, edits)
            if owner_name is None:
                return None
        loader = _loader_for(flow, rel)
        if position == 0:
            loaders.add(loader)
            parts.append(f"{loader}({owner_name}.{rel.attribute})")
        else:
            parts.append(f".{loader}({owner_name}.{rel.attribute})")
    return "".join(parts)


def _class_name_in_file(ctx, flow, cls: MappedClass | None, edits: list[Edit]) -> str | None:
    """A name for the class in this file, importing it when the module is known."""
    if cls is None:
        return None
    local = flow.local_name_of(cls)
    if local is not None:
        return local
    module = _module_name(ctx, cls.path)
    if module is None:
        return None
    edit = import_edit(ctx.source, module, cls.name)
    if edit is not None:
        edits.append(edit)
    return cls.name


def _module_name(ctx: Context, path: str) -> str | None:
    from pathlib import Path

    root = ctx.project.root
    candidate = Path(path)
    if root is not None:
        try:
            candidate = candidate.resolve().relative_to(Path(root).resolve())
        except ValueError:
            return None
    elif candidate.is_absolute():
        return None
    parts = list(candidate.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) if parts and all(part.isidentifier() for part in parts) else None


def _options_edit(origin: Origin, text: str) -> Edit:
    if origin.options_trailer is not None:
        closing = origin.options_trailer.children[-1]  # type: ignore[attr-defined]
        before = Range.of(closing).start
        return Edit(Range(before, before), f", {text}")
    end = Range.of(origin.insert_end).end
    return Edit(Range(end, end), f".options({text})")


# -- FMP101 ----------------------------------------------------------------------------


@register
class LazyLoadInLoop(Rule):
    code = "FMP101"
    name = "lazy-relationship-in-loop"
    summary = "Lazy relationship read per element of a loop: 1 + N queries"
    severity = Severity.WARNING
    prefilter = _LOOP_WORDS
    docs = RuleDocs(
        what=(
            "Finds a relationship attribute read on the variable of a loop or comprehension "
            "over mapped objects, when that relationship loads lazily: the default "
            "`lazy=\"select\"`, `lazy=True`, or a `backref(...)` without an eager loader. "
            "`dynamic` and `write_only` relationships are reported too. The quick fix "
            "eager-loads the path in the query that produced the objects, when that query "
            "is in the same function: `selectinload` for collections, `joinedload` for "
            "many-to-one and one-to-one, chained for nested paths "
            "(`selectinload(Asset.sensors).joinedload(Sensor.type)`), appended to an "
            "existing `.options(...)`. It is unsafe when that statement is reused elsewhere. "
            "When the query already joins the relationship (`.join(Asset.sensors)`) or its "
            "target class, the message also suggests `contains_eager(...)`, as advice only: "
            "it is right only for a join along that relationship that filters no children."
        ),
        why=(
            "A lazy relationship sends its own SELECT the first time it is read on each "
            "object. The query that produced N objects is followed by N more: 1 + N "
            "round trips, O(N) queries where two would do. A many-to-one to a small lookup "
            "table is cheaper (repeated targets come from the identity map) and is reported "
            "at a lower severity. Under `AsyncSession` a lazy load raises instead of "
            "querying, so it is an error there."
        ),
        example=(
            "assets = Asset.query.filter_by(account_id=account_id).all()  # 1 query\n"
            "for asset in assets:\n"
            "    print(asset.name, len(asset.sensors))  # +1 query per asset: 1 + N"
        ),
        instead=(
            "from sqlalchemy.orm import selectinload\n\n"
            "assets = (\n"
            "    Asset.query.filter_by(account_id=account_id)\n"
            "    .options(selectinload(Asset.sensors))\n"
            "    .all()\n"
            ")  # 2 queries in all\n"
            "for asset in assets:\n"
            "    print(asset.name, len(asset.sensors))"
        ),
        false_alarms=(
            "Only loop variables whose class is known are checked: objects from a visible "
            "query, a relationship of a known object, or a parameter annotated "
            "`list[Model]`. Paths loaded by `.options(...)` (selectinload, joinedload, "
            "subqueryload, immediateload, contains_eager, raiseload) or by an eager `lazy=` "
            "in the model are silent, as is a many-to-one back to the parent whose "
            "collection is being iterated (the identity map already holds it). If the "
            "objects were loaded earlier in the same session with the relationship, the "
            "reads hit no database: suppress the line."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html",
            "https://docs.sqlalchemy.org/en/20/errors.html#error-xd2s",
        ),
    )
    examples = (
        flagged(
            """
            from models import Asset


            def asset_report(n):
                assets = Asset.query.filter_by(name=n).all()
                return [(asset.name, len(asset.sensors)) for asset in assets]
            """,
            "6:29-6:42",
            files=MODELS,
            fixed="""
            from models import Asset
            from sqlalchemy.orm import selectinload


            def asset_report(n):
                assets = Asset.query.filter_by(name=n).options(selectinload(Asset.sensors)).all()
                return [(asset.name, len(asset.sensors)) for asset in assets]
            """,
        ),
        flagged(
            """
            from sqlalchemy import select
            from sqlalchemy.orm import Session, selectinload

            from typed import User


            def emails_by_account(session: Session):
                users = session.scalars(select(User)).all()
                for user in users:
                    print(user.email, user.account.name)
            """,
            "10:26-10:38",
            files=TYPED,
            fixed="""
            from sqlalchemy import select
            from sqlalchemy.orm import Session, selectinload, joinedload

            from typed import User


            def emails_by_account(session: Session):
                users = session.scalars(select(User).options(joinedload(User.account))).all()
                for user in users:
                    print(user.email, user.account.name)
            """,
            note="a many-to-one gets joinedload; the import is merged",
        ),
        flagged(
            """
            from sqlalchemy.orm import selectinload

            from models import Asset, db


            def sensor_units():
                assets = db.session.query(Asset).options(selectinload(Asset.sensors)).all()
                for asset in assets:
                    for sensor in asset.sensors:
                        print(sensor.unit, sensor.readings.count())
            """,
            "10:31-10:46",
            files=MODELS,
            note="a dynamic relationship queries on every access: advice, no loader fix",
        ),
        flagged(
            """
            from models import Asset


            assets = Asset.query.all()
            for asset in assets:
                for sensor in asset.sensors:
                    print(asset.name, sensor.asset.name, sensor.asset.type.name)
            """,
            "6:18-6:31",
            "7:45-7:62",
            files=MODELS,
            fixed="""
            from models import Asset
            from sqlalchemy.orm import selectinload, joinedload


            assets = Asset.query.options(selectinload(Asset.sensors), joinedload(Asset.type)).all()
            for asset in assets:
                for sensor in asset.sensors:
                    print(asset.name, sensor.asset.name, sensor.asset.type.name)
            """,
            note="nested paths chain; sensor.asset is the asset being iterated (identity "
            "map), so sensor.asset.type is Asset.type of the outer loop",
        ),
        flagged(
            """
            from models import Asset


            def sensor_counts():
                assets = Asset.query.join(Asset.sensors).all()
                return {asset.name: len(asset.sensors) for asset in assets}
            """,
            "6:28-6:41",
            files=MODELS,
            fixed="""
            from models import Asset
            from sqlalchemy.orm import selectinload


            def sensor_counts():
                assets = Asset.query.join(Asset.sensors).options(selectinload(Asset.sensors)).all()
                return {asset.name: len(asset.sensors) for asset in assets}
            """,
            note="the query joins the sensors: the message also advises contains_eager, "
            "which is only right for an unfiltered join along the relationship, so the "
            "edit stays selectinload",
        ),
        clean(
            """
            from sqlalchemy import select
            from sqlalchemy.orm import Session, joinedload

            from typed import User


            def emails(session: Session, user: User):
                print(user.account.name)
                users = session.scalars(select(User).options(joinedload(User.account))).all()
                return [(u.email, u.account.name) for u in users]
            """,
            files=TYPED,
            note="one access outside a loop; a path eager-loaded in the query",
        ),
        clean(
            """
            from models import Asset


            def names(assets):
                for asset in assets:
                    print(asset.sensors)
                for row in Asset.query.with_entities(Asset.id, Asset.name):
                    print(row.name)
            """,
            files=MODELS,
            note="an iterable of unknown type; rows of columns are not objects",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A read `x.rel` (or `x.a.rel`) in a loop, on a name a for binds, of a relationship
        that loads per access (the default `select`, `dynamic`, `write_only`)."""
        names = _gate_relationship_names(ctx)
        if names is not None and not names:
            return False  # no relationship in the workspace: `lazy_reads` yields nothing
        reported = _gate_relationship_names(ctx, _LOADING | DYNAMIC)
        targets = _loop_targets(outline)
        return any(_named(node.attr, reported) and _read_on_loop_target(node, names, targets)
                   for node in outline.in_loop_nodes(ast.Attribute))

    def check(self, ctx: Context) -> Iterator[Finding]:
        flow = _flow(ctx)
        for read in lazy_reads(ctx):
            finding = self._finding(ctx, flow, read)
            if finding is not None:
                yield finding

    def _finding(self, ctx: Context, flow: OrmFlow, read: LazyRead) -> Finding | None:
        rel, elements = read.rel, read.elements
        if rel.lazy in DYNAMIC:
            return self.finding(
                read.span,
                f"{rel.owner}.{rel.attribute} is lazy=\"{rel.lazy}\": every access runs a "
                f"query, once per {elements.cls.name}; query the children once for all "
                f"parents (filter with in_()) or make it a plain relationship and eager-load it",
                cost=_cost(elements.cls),
                confidence=Confidence.HIGH,
            )
        if rel.lazy != LAZY or flow.is_eager(elements.origin, read.path):
            return None  # loaded eagerly by the model or by the query's options
        return self._lazy_finding(ctx, flow, read)

    def _lazy_finding(self, ctx: Context, flow: OrmFlow, read: LazyRead) -> Finding:
        rel, elements = read.rel, read.elements
        severity = self.severity
        message = (
            f"{rel.owner}.{rel.attribute} is loaded lazily, one query per "
            f"{elements.cls.name} in this loop (1 + N); eager-load it with "
            f"{_loader_for(flow, rel)}"
        )
        target = flow.index.target_of(rel)
        scalar = flow.index.is_collection(rel) is False
        if scalar and target is not None and flow.index.is_lookup_table(target):
            severity = Severity.INFORMATION
            message += " (a small lookup table: repeated rows come from the identity map)"
        if elements.origin is not None and elements.origin.awaited:
            severity = Severity.ERROR
            message = (
                f"{rel.owner}.{rel.attribute} is a lazy load under AsyncSession: it raises "
                f"MissingGreenlet; eager-load it with {_loader_for(flow, rel)}"
            )
        if flow.joined_path(elements.origin, read.path):
            message += _contains_eager_advice(flow, elements.origin, read.path)
        fix = loader_fix(ctx, flow, elements.origin, read.node, [read.path])
        return self.finding(read.span, message, severity=severity, fix=fix,
                            cost=_cost(elements.cls))


def _contains_eager_advice(flow: OrmFlow, origin: Origin | None,
                           path: tuple[Relationship, ...]) -> str:
    """`contains_eager(...)` for a path the query already joins: advice, never an edit.

    Filling a collection from a join is only right when the join is along that
    relationship and does not filter the children, which the reader must judge.
    """
    names = []
    for position, rel in enumerate(path):
        owner = origin.model_name if position == 0 and origin is not None else (
            _owner_name(flow, path[position - 1], rel))
        names.append(f"contains_eager({owner}.{rel.attribute})")
    option = ".".join(names)
    return (f"; the query already joins it: {option} would fill it from that join, if the "
            f"join follows this relationship and does not filter it")


def _owner_name(flow: OrmFlow, previous: Relationship, rel: Relationship) -> str:
    target = flow.index.target_of(previous)
    return target.name if target is not None else rel.owner


def _read_on_loop_target(node: ast.Attribute, names: frozenset[str] | None,
                         targets: set[str]) -> bool:
    """`x.rel` or `x.a.rel`, every step named like a relationship, `x` bound by a for."""
    current: ast.AST = node
    while isinstance(current, ast.Attribute):
        if not _named(current.attr, names):
            return False  # a step that is no relationship leads to no mapped object
        current = current.value
    return isinstance(current, ast.Name) and current.id in targets


# -- FMP102 -------------------------------------------------------------------------


@dataclass(frozen=True)
class CalleeRead:
    attribute: str
    node: Range
    path: str | None = None
    """The module of the callee when it is not the checked file."""


def _functions(ctx: Context) -> dict[str, list[NodeOrLeaf]]:
    by_name: dict[str, list[NodeOrLeaf]] = {}
    for function in ctx.source.nodes("funcdef"):
        by_name.setdefault(function.children[1].value, []).append(function)  # type: ignore
    return by_name


def _parameters(function: NodeOrLeaf) -> list[Name]:
    params = function.get_params()  # type: ignore[attr-defined]
    return [param.name for param in params if param.star_count == 0]


def _is_method(function: NodeOrLeaf) -> bool:
    parent = function.parent
    if parent is not None and parent.type == "decorated":
        decorators = parent.children[0].get_code()
        if "staticmethod" in decorators:
            return False
        parent = parent.parent
    owner = parent.parent if parent is not None and parent.type == "suite" else None
    return owner is not None and owner.type == "classdef"


def _decorators(function: NodeOrLeaf) -> str:
    parent = function.parent
    if parent is None or parent.type != "decorated":
        return ""
    return parent.children[0].get_code()  # type: ignore[attr-defined]


def _class_of(function: NodeOrLeaf) -> BaseNode | None:
    """The class whose body defines `function`, if it is a method."""
    parent = function.parent
    if parent is not None and parent.type == "decorated":
        parent = parent.parent
    owner = parent.parent if parent is not None and parent.type == "suite" else None
    return owner if owner is not None and owner.type == "classdef" else None


def _methods(classdef: BaseNode) -> dict[str, BaseNode]:
    """The methods a class body defines, by name."""
    found: dict[str, BaseNode] = {}
    suite = classdef.children[-1]
    for statement in getattr(suite, "children", []):
        node = statement.children[-1] if statement.type == "decorated" else statement
        if node.type == "funcdef":
            found[node.children[1].value] = node
    return found


def _bound_parameters(method: NodeOrLeaf) -> list[Name]:
    """The parameters a call `self.method(a, b)` binds `a` and `b` to."""
    params = _parameters(method)
    return params if "staticmethod" in _decorators(method) else params[1:]


def _self_method(chain: NodeOrLeaf) -> BaseNode | None:
    """The method `self.helper(...)` calls: one of the class of the calling method.

    Only `self` of an instance method counts, and only when no subclass of the
    same module overrides the helper (then the call could run the override).
    """
    children = chain.children  # type: ignore[attr-defined]
    if len(children) != 3 or children[0].type != "name" or not _is_dot(children[1]):
        return None
    if not _is_call(children[2]):
        return None
    caller = _enclosing_function(chain)
    if caller is None or not _is_method(caller) or "classmethod" in _decorators(caller):
        return None  # a plain function, a static or a class method: no `self` instance
    params = _parameters(caller)
    if not params or params[0].value != children[0].value or "staticmethod" in _decorators(
            caller):
        return None
    classdef = _class_of(caller)
    if classdef is None:
        return None
    name = children[1].children[1].value
    method = _methods(classdef).get(name)
    if method is None or _overridden(classdef, name):
        return None  # inherited from elsewhere, or possibly an override runs instead
    return method


def _overridden(classdef: BaseNode, name: str) -> bool:
    """A class of the same module that names `classdef` as a base and defines `name`."""
    own = classdef.children[1].value
    for other in classdef.get_root_node().iter_classdefs():
        if other is classdef or name not in _methods(other):
            continue
        bases = other.get_super_arglist()
        if bases is not None and own in bases.get_code():
            return True
    return False


class Summaries:
    """Which relationship attributes each function of the file reads on each parameter."""

    def __init__(self, ctx: Context, flow: OrmFlow):
        self.ctx = ctx
        self.flow = flow
        self.functions = _functions(ctx)
        self.names = flow.index.relationship_names()
        self._cache: dict[tuple[int, str], list[CalleeRead]] = {}
        self._foreign: dict[int, dict[str, list[NodeOrLeaf]]] = {}

    def reads(self, function: NodeOrLeaf, parameter: str, depth: int = 0) -> list[CalleeRead]:
        key = (id(function), parameter)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = []
        if depth > 3:
            return []
        found = self._direct_reads(function, parameter)
        found.extend(self._reads_through_calls(function, parameter, depth))
        unique: dict[str, CalleeRead] = {}
        for read in found:
            unique.setdefault(read.attribute, read)
        self._cache[key] = list(unique.values())
        return self._cache[key]

    def _uses(self, function: NodeOrLeaf, parameter: str) -> list[Name]:
        uses = []
        for node in walk(function.children[-1]):  # type: ignore[attr-defined]
            if isinstance(node, Name) and node.value == parameter:
                if node.is_definition():
                    return []  # rebound in the body: the reads may not be the argument
                if scope_of(node) is function:
                    uses.append(node)
        return uses

    def _direct_reads(self, function: NodeOrLeaf, parameter: str) -> list[CalleeRead]:
        module = source_of_tree(function.get_root_node())
        path = module.path if module is not None else None
        reads = []
        for use in self._uses(function, parameter):
            chain = use.parent
            if chain is None or chain.type not in ("atom_expr", "power"):
                continue
            if chain.children[0] is not use or len(chain.children) < 2:
                continue
            trailer = chain.children[1]
            if trailer.type != "trailer" or trailer.children[0].value != ".":
                continue
            attribute = trailer.children[1].value
            if attribute in self.names and not _is_written(chain, 1):
                reads.append(CalleeRead(attribute, Range.between(use, trailer), path))
        return reads

    def functions_of(self, function: NodeOrLeaf) -> dict[str, list[NodeOrLeaf]]:
        """The functions of the module `function` is in (this file, or one jedi found)."""
        root = function.get_root_node()
        if root is self.ctx.source.tree:
            return self.functions
        key = id(root)
        if key not in self._foreign:
            by_name: dict[str, list[NodeOrLeaf]] = {}
            for node in walk(root):
                if node.type == "funcdef":
                    by_name.setdefault(node.children[1].value, []).append(node)  # type: ignore
            self._foreign[key] = by_name
        return self._foreign[key]

    def _reads_through_calls(self, function: NodeOrLeaf, parameter: str,
                             depth: int) -> list[CalleeRead]:
        reads: list[CalleeRead] = []
        functions = self.functions_of(function)
        for use in self._uses(function, parameter):
            call = _call_with_argument(use)
            if call is None:
                continue
            chain, position = call
            method = _self_method(chain)
            if method is not None:
                params = _bound_parameters(method)
                if position < len(params):
                    reads.extend(self.reads(method, params[position].value, depth + 1))
                continue
            callee = chain.children[0]  # type: ignore[attr-defined]
            if len(chain.children) != 2 or callee.type != "name":  # type: ignore[attr-defined]
                continue  # a method of another object: which class is unknown
            for target in functions.get(callee.value, []):
                params = _parameters(target)
                if _is_method(target):
                    continue  # a method of the same name elsewhere: not this call
                if position < len(params):
                    reads.extend(self.reads(target, params[position].value, depth + 1))
        return reads


def _call_with_argument(use: NodeOrLeaf) -> tuple[BaseNode, int] | None:
    """(the call chain, 0) when `use` is the first positional argument of `f(use, ...)`."""
    parent = use.parent
    arglist = parent if parent is not None and parent.type == "arglist" else None
    trailer = arglist.parent if arglist is not None else parent
    if trailer is None or trailer.type != "trailer" or trailer.children[0].value != "(":
        return None
    chain = trailer.parent
    if chain is None or chain.type not in ("atom_expr", "power"):
        return None
    if chain.children[-1] is not trailer or chain.children[0].type != "name":
        return None  # a call in the middle of a chain: what it is called on is unclear
    arguments = arguments_of(trailer)
    if use not in arguments:
        return None
    position = arguments.index(use)
    if any(argument.type == "argument" for argument in arguments[:position]):
        return None
    return chain, position


@register
class LazyLoadInCallee(Rule):
    code = "FMP102"
    name = "lazy-relationship-in-callee"
    summary = "A function called per element reads a lazy relationship of its argument"
    severity = Severity.WARNING
    prefilter = _LOOP_WORDS
    docs = RuleDocs(
        what=(
            "Finds a call, inside a loop over mapped objects, of a function of the same "
            "module that reads a lazily loaded relationship of the loop variable passed "
            "to it (directly or through further calls). The diagnostic sits on the call; "
            "the read in the callee is shown as related information."
        ),
        why=(
            "The N+1 pattern hides behind a helper: the loop looks cheap, but each call "
            "loads the relationship with its own SELECT, 1 + N queries in all."
        ),
        example=(
            "def describe(asset):\n"
            "    return f\"{asset.name}: {len(asset.sensors)} sensors\"\n\n"
            "for asset in Asset.query.all():  # 1 query\n"
            "    print(describe(asset))  # +1 query per asset"
        ),
        instead=(
            "for asset in Asset.query.options(selectinload(Asset.sensors)).all():\n"
            "    print(describe(asset))  # 2 queries in all"
        ),
        false_alarms=(
            "The callee must be a function of the same module (or, through the type "
            "lookup, one imported from another) or a method of the same class called as "
            "`self.method(...)` and not overridden in a subclass of the module; it must read "
            "the attribute on the parameter itself. A parameter rebound in the callee is "
            "not followed."
        ),
        references=("https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html",),
    )
    examples = (
        flagged(
            """
            from models import Asset


            def describe(asset):
                return f"{asset.name}: {len(asset.sensors)} sensors"


            def report():
                for asset in Asset.query.all():
                    print(describe(asset))
            """,
            "10:14-10:29",
            files=MODELS,
            fixed="""
            from models import Asset
            from sqlalchemy.orm import selectinload


            def describe(asset):
                return f"{asset.name}: {len(asset.sensors)} sensors"


            def report():
                for asset in Asset.query.options(selectinload(Asset.sensors)).all():
                    print(describe(asset))
            """,
        ),
        flagged(
            """
            from typing import Sequence

            from typed import User


            def label(user):
                return owner_name(user)


            def owner_name(user):
                return user.account.name


            def labels(users: Sequence[User]):
                return [label(user) for user in users]
            """,
            "15:12-15:23",
            files=TYPED,
            note="followed through a second helper; no query in sight, so no fix",
        ),
        flagged(
            """
            from models import Asset


            class Report:
                def rows(self):
                    assets = Asset.query.all()
                    return [self.describe(asset) for asset in assets]

                def describe(self, asset):
                    return f"{asset.name}: {len(asset.sensors)}"
            """,
            "7:16-7:36",
            files=MODELS,
            fixed="""
            from models import Asset
            from sqlalchemy.orm import selectinload


            class Report:
                def rows(self):
                    assets = Asset.query.options(selectinload(Asset.sensors)).all()
                    return [self.describe(asset) for asset in assets]

                def describe(self, asset):
                    return f"{asset.name}: {len(asset.sensors)}"
            """,
            note="a method of the same class, called on self",
        ),
        clean(
            """
            from models import Asset


            def describe(asset):
                return asset.name


            def report():
                for asset in Asset.query.all():
                    print(describe(asset))
            """,
            files=MODELS,
            note="the callee reads a column only",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A call in a loop passing a for's variable to a function or method it can follow.

        The callee may live in another module (an imported function): then the
        reads are there, and this file needs only the call. A function or
        method of this file reads in this file, so the name of a lazy
        relationship must appear in it.
        """
        names = _gate_relationship_names(ctx)
        if names is not None and not names:
            return False  # no relationship in the workspace: `check` returns at once
        targets = _loop_targets(outline)
        calls = [call for call in outline.in_loop_nodes(ast.Call) if _passes_target(call, targets)]
        if not calls:
            return False
        lazy = _gate_relationship_names(ctx, _LOADING)
        return any(_may_follow(ctx, outline, call, lazy) for call in calls)

    def check(self, ctx: Context) -> Iterator[Finding]:
        flow = _flow(ctx)
        if not flow.index.relationship_names():
            return
        summaries = Summaries(ctx, flow)
        for trailer in ctx.source.nodes("trailer"):
            finding = self._check_call(ctx, flow, summaries, trailer)
            if finding is not None:
                yield finding

    def _check_call(self, ctx: Context, flow: OrmFlow, summaries: Summaries,
                    trailer: NodeOrLeaf) -> Finding | None:
        if trailer.children[0].value != "(":  # type: ignore[attr-defined]
            return None
        chain = trailer.parent
        if chain is None or chain.type not in ("atom_expr", "power"):
            return None
        if chain.children[-1] is not trailer:
            return None  # a call in the middle of a chain: its result is used further
        loops = loops_around(chain)
        if not loops or not _passes_loop_variable(trailer, loops):
            return None  # called once, not per element, or not with a loop variable
        called = self._called(flow, chain)
        if called is None:
            return None
        function, params = called
        caller = _enclosing_function(chain)
        if caller is not None and _reaches(function, caller, summaries.functions):
            return None  # recursion: FMP103 reports the traversal
        return self._finding_for(ctx, flow, summaries, chain, function, params, loops)

    def _called(self, flow: OrmFlow, chain: BaseNode) -> tuple[BaseNode, list[Name]] | None:
        """The function a call runs and the parameters its arguments bind, when known."""
        method = _self_method(chain)
        if method is not None:
            return method, _bound_parameters(method)
        if len(chain.children) != 2:
            return None  # a method of another object, or a chained call: not followed
        callee = chain.children[0]
        if callee.type != "name" or callee.value in _NOT_HELPERS:
            return None
        function = flow.function_of(callee)
        if function is None or _is_method(function):
            return None
        return function, _parameters(function)  # type: ignore[return-value]

    def _finding_for(self, ctx: Context, flow: OrmFlow, summaries: Summaries, chain: BaseNode,
                     function: BaseNode, params: list[Name],
                     loops: list[Loop]) -> Finding | None:
        reads, paths, elements = [], [], None
        for position, argument in enumerate(arguments_of(chain.children[-1])):
            if argument.type != "name" or position >= len(params):
                continue
            if _loop_binding(argument, loops) is None:
                continue
            found = flow.instance(argument)
            if found is None:
                continue
            for read in summaries.reads(function, params[position].value):
                rel = flow.index.relationship(found.cls, read.attribute)
                if rel is None or rel.lazy != LAZY:
                    continue
                path = found.path + (rel,)
                if flow.is_eager(found.origin, path):
                    continue
                reads.append((rel, read))
                paths.append(path)
                elements = found
        if elements is None:
            return None
        return self._make(ctx, flow, chain, elements, reads, paths)

    def _make(self, ctx, flow, chain, elements, reads, paths) -> Finding:
        described = ", ".join(f"{rel.owner}.{rel.attribute}" for rel, _ in reads)
        related = tuple(
            Related(read.path or ctx.source.path, read.node,
                    f"{rel.owner}.{rel.attribute} loaded lazily here")
            for rel, read in reads
        )
        callee = "".join(part.get_code(include_prefix=False) for part in chain.children[:-1])
        message = (
            f"{callee}() reads {described} lazily, once per "
            f"{elements.cls.name} in this loop (1 + N queries); eager-load it in the query"
        )
        fix = loader_fix(ctx, flow, elements.origin, chain, paths)
        return self.finding(Range.of(chain), message, related=related, fix=fix,
                            cost=_cost(elements.cls))


_NOT_HELPERS = {"print", "len", "str", "repr", "int", "float", "list", "dict", "set",
                "tuple", "sorted", "isinstance", "getattr", "hasattr", "setattr", "id",
                "enumerate", "zip", "range", "min", "max", "sum", "any", "all", "bool"}


def _passes_loop_variable(call: NodeOrLeaf, loops: list[Loop]) -> bool:
    """A cheap test before any lookup: is one argument a name bound by the loops?"""
    bound = {name.value for loop in loops for name in loop.target_names()}
    return any(argument.type == "name" and argument.value in bound  # type: ignore
               for argument in arguments_of(call))


def _enclosing_function(node: NodeOrLeaf) -> NodeOrLeaf | None:
    parent = node.parent
    while parent is not None and parent.type != "funcdef":
        parent = parent.parent
    return parent


def _passes_target(call: ast.Call, targets: set[str]) -> bool:
    return any(isinstance(argument, ast.Name) and argument.id in targets
               for argument in call.args)


def _imported_may_read(ctx: Context, name: str, lazy: frozenset[str] | None) -> bool:
    """Whether the function imported as `name` may read a lazy relationship, by its module.

    A library's function is not followed (analysis/module_files.py). A project
    function's reads, its own and those of the module's functions it calls,
    lie in its module. Calling a class runs no function the rule follows. A
    name the outline cannot pin down (a re-export) is left to the rule.
    """
    qualified = ctx.imports.resolve(name)
    if qualified is None:
        return True
    modules = ctx.project.modules
    if not modules.follows(ctx.source.path, qualified):
        return False
    found = modules.definition(ctx.source.path, qualified)
    if found is None:
        return True
    outline, definition = found
    if isinstance(definition, ast.ClassDef):
        return False
    return lazy is None or may_read(outline, definition.name, lazy)


def _may_follow(ctx: Context, outline: Outline, call: ast.Call,
                lazy: frozenset[str] | None) -> bool:
    """`helper(x)` of a function defined or imported here, or `self.helper(x)` of this
    file, that may read a lazy relationship (or any function, when `lazy` is None)."""
    func = call.func
    if isinstance(func, ast.Name) and func.id not in _NOT_HELPERS:
        name = func.id
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        name = func.attr
    else:
        return False
    if outline.function_facts(name) is not None and (lazy is None
                                                     or may_read(outline, name, lazy)):
        return True
    return (isinstance(func, ast.Name) and name in ctx.imports.names
            and _imported_may_read(ctx, name, lazy))


# -- FMP103 -------------------------------------------------------------------------


@register
class RecursiveLazyTraversal(Rule):
    code = "FMP103"
    name = "recursive-lazy-traversal"
    summary = "Recursion through a lazy self-referential relationship: one query per level"
    severity = Severity.WARNING
    prefilter = ("def ",)
    docs = RuleDocs(
        what=(
            "Finds a function or method that calls itself (directly or through another "
            "function of the module) on a self-referential relationship of its argument, "
            "`node.children` or `node.parent`, when that relationship loads lazily."
        ),
        why=(
            "Each level of the tree loads with its own SELECT: walking a tree of N nodes "
            "costs N queries, climbing to the root costs one query per level."
        ),
        example=(
            "def count(asset: Asset) -> int:\n"
            "    # 1 query for the root's children, then 1 more per node below: N queries\n"
            "    return 1 + sum(count(child) for child in asset.children)"
        ),
        instead=(
            "# load the tree once (here: every asset of the account) and walk it in memory\n"
            "assets = Asset.query.filter_by(account_id=account_id).all()  # 1 query\n"
            "children = defaultdict(list)\n"
            "for asset in assets:\n"
            "    children[asset.parent_id].append(asset)\n\n"
            "def count(asset: Asset) -> int:\n"
            "    return 1 + sum(count(child) for child in children[asset.id])\n\n"
            "# or let each level load in one query for all its nodes:\n"
            "# children = relationship(\"Asset\", lazy=\"selectin\", join_depth=4)"
        ),
        false_alarms=(
            "Recursion is recognized within one module, through functions and through "
            "`self.method(...)` calls within one class. A tree already loaded in the "
            "session costs no queries; suppress the line then."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/self_referential.html",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/select.html#selecting-from-ctes",
        ),
    )
    examples = (
        flagged(
            """
            from models import Asset


            def count(asset: Asset) -> int:
                return 1 + sum(count(child) for child in asset.children)
            """,
            "5:19-5:31",
            files=MODELS,
        ),
        flagged(
            """
            from models import Asset


            def path(asset: Asset) -> str:
                if asset.parent is None:
                    return asset.name
                return prefix(asset.parent) + asset.name


            def prefix(asset: Asset) -> str:
                return path(asset) + "/"
            """,
            "7:11-7:31",
            files=MODELS,
            note="mutual recursion through a second function",
        ),
        flagged(
            """
            from models import Asset


            def root_of(asset: Asset) -> Asset:
                node = asset
                while node.parent is not None:
                    node = node.parent
                return node
            """,
            "7:15-7:26",
            files=MODELS,
            note="climbing in a loop: one query per level",
        ),
        flagged(
            """
            from models import Asset


            class TreePrinter:
                def show(self, asset: Asset, depth: int = 0) -> None:
                    print("  " * depth + asset.name)
                    for child in asset.children:
                        self.show(child, depth + 1)
            """,
            "8:12-8:39",
            files=MODELS,
            note="a method of a class that is not a model walks the tree through self",
        ),
        clean(
            """
            from models import Asset


            def count(asset: Asset) -> int:
                return 1 + len(asset.sensors)


            def names(asset: Asset) -> list[str]:
                return [child.name for child in asset.children]
            """,
            files=MODELS,
            note="no recursion",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A call of a function of the file on `x.rel` or on a for's variable over `x.rel`;
        or `x = x.rel` in a loop; `rel` the name of a relationship loaded lazily."""
        names = _gate_relationship_names(ctx)
        if names is not None and not names:
            return False  # no relationship in the workspace: `check` returns at once
        lazy = _gate_relationship_names(ctx, _LOADING)
        return _climbs(outline, lazy) or _recurses_on_relationship(outline, lazy)

    def check(self, ctx: Context) -> Iterator[Finding]:
        flow = _flow(ctx)
        names = flow.index.relationship_names()
        if not names:
            return
        functions = _functions(ctx)
        for function in ctx.source.nodes("funcdef"):
            if isinstance(function, Function):
                yield from self._check_function(ctx, flow, functions, function)
        for statement in ctx.source.nodes("expr_stmt"):
            rel = _climbing_step(flow, statement, names)
            if rel is not None and isinstance(statement, BaseNode):
                yield self.finding(
                    Range.of(statement.children[2]),
                    f"this loop climbs the lazy {rel.owner}.{rel.attribute}: one query per "
                    f"level of the tree",
                    cost=f"one SELECT per {rel.owner} visited: N queries",
                )

    def _check_function(self, ctx: Context, flow: OrmFlow,
                        functions: dict[str, list[NodeOrLeaf]],
                        function: Function) -> Iterator[Finding]:
        found = _subject(flow, function)
        if found is None:
            return  # the class of the argument is unknown
        subject, owner = found
        for call, callee, receiver in _calls_in(function, functions):
            if not _reaches(callee, function, functions):
                continue
            rel = _self_referential_source(flow, receiver, subject.value, owner)
            if rel is not None:
                yield self.finding(
                    Range.of(call),
                    f"{function.name.value}() recurses through the lazy {rel.owner}."
                    f"{rel.attribute}: one query per level of the tree",
                    cost=f"one SELECT per {owner.cls.name} visited: N queries",
                )


def _climbing_step(flow: OrmFlow, statement: NodeOrLeaf,
                   names: AbstractSet[str]) -> Relationship | None:
    """`node = node.parent` in a loop, where `node` holds a mapped object of a known class."""
    children = statement.children  # type: ignore[attr-defined]
    if len(children) != 3 or children[0].type != "name" or children[1].value != "=":
        return None
    value = children[2]
    parts = getattr(value, "children", [])
    if len(parts) != 2 or parts[0].type != "name" or parts[0].value != children[0].value:
        return None  # not `x = x.attr`
    if not _is_dot(parts[1]) or parts[1].children[1].value not in names:
        return None
    loops = loops_around(statement)
    if not loops:
        return None  # one step up, not a walk
    start = _initial_class(flow, children[0], loops[0].node)
    if start is None:
        return None  # what the variable holds is unknown
    return _lazy_self_reference(flow, start, parts[1].children[1].value)


def _initial_class(flow: OrmFlow, name: NodeOrLeaf, loop: NodeOrLeaf) -> MappedClass | None:
    """The class of what `name` holds before the loop: a parameter or `x = obj.rel`."""
    bindings = [candidate for candidate in
                name.get_root_node().get_used_names().get(name.value, [])  # type: ignore
                if candidate.is_definition() and scope_of(candidate) is scope_of(name)
                and not is_inside(candidate, loop)]
    if len(bindings) != 1:
        return None  # bound in several places before the loop: unclear
    statement = bindings[0].get_definition()
    if statement is not None and statement.type == "param":
        found = flow.parameter_instance(bindings[0])
        return found.cls if found is not None else None
    if statement is None or statement.type != "expr_stmt" or len(statement.children) != 3:
        return None
    value = statement.children[2]
    if value.type == "name":
        found = _instance_or_parameter(flow, value)  # `node = asset`
        return found.cls if found is not None else None
    parts = getattr(value, "children", [])
    if len(parts) != 2 or parts[0].type != "name" or not _is_dot(parts[1]):
        return None
    owner = _instance_or_parameter(flow, parts[0])
    if owner is None:
        return None
    rel = flow.index.relationship(owner.cls, parts[1].children[1].value)
    if rel is None or flow.index.is_collection(rel) is not False:
        return None
    return flow.index.target_of(rel)


def _instance_or_parameter(flow: OrmFlow, name: NodeOrLeaf) -> Elements | None:
    found = flow.instance(name)
    if found is not None:
        return found
    definitions = definitions_before(name)  # type: ignore[arg-type]
    if definitions and definitions[0].get_definition() is not None:
        return flow.parameter_instance(definitions[0])
    return None


def _subject(flow: OrmFlow, function: BaseNode) -> tuple[Name, Elements] | None:
    """The parameter a traversal walks: `self` of a model, else the first argument."""
    params = _parameters(function)
    if not params:
        return None
    owner = flow.parameter_instance(params[0])
    if owner is not None:
        return params[0], owner
    if len(params) < 2 or not _is_method(function) or "staticmethod" in _decorators(function):
        return None  # a plain function whose first argument is not a known model
    owner = flow.parameter_instance(params[1])
    return (params[1], owner) if owner is not None else None


def _calls_in(function: NodeOrLeaf, functions: dict[str, list[NodeOrLeaf]]
              ) -> Iterator[tuple[BaseNode, NodeOrLeaf, NodeOrLeaf | _Prefix]]:
    """(call chain, called funcdef, the object passed or called on) for calls in the body."""
    if not isinstance(function, BaseNode):
        return  # not a function body to walk
    for node in walk(function.children[-1]):
        if not isinstance(node, BaseNode) or node.type not in ("atom_expr", "power"):
            continue
        if scope_of(node) is not function:
            continue
        children = node.children
        method = _self_method(node)
        passed = [a for a in arguments_of(children[-1]) if a.type != "argument"] if (
            method is not None) else []
        if method is not None and passed:
            yield node, method, passed[0]  # `self.walk(child)`: the child is walked
        elif len(children) == 2 and children[0].type == "name" and _is_call(children[1]):
            targets = [f for f in functions.get(children[0].value, []) if not _is_method(f)]
            arguments = [a for a in arguments_of(children[1]) if a.type != "argument"]
            if targets and arguments:
                yield node, targets[0], arguments[0]
        elif len(children) >= 3 and _is_call(children[-1]) and _is_dot(children[-2]):
            name = children[-2].children[1].value
            targets = [f for f in functions.get(name, []) if _is_method(f)]
            if targets and _is_method(function):
                yield node, targets[0], _Prefix(children[:-2])


class _Prefix:
    """The receiver `a.b` of a method call `a.b.m()`, as a node-like view."""

    type = "prefix"

    def __init__(self, children):
        self.children = children


def _leaf_text(node: NodeOrLeaf) -> str:
    """The text of a leaf (an operator, a name); "" for a node with children."""
    return node.value if isinstance(node, Leaf) else ""


def _trailer_name(trailer: NodeOrLeaf) -> str:
    """`filter` for the trailer `.filter`."""
    children = trailer.children if isinstance(trailer, BaseNode) else []
    return _leaf_text(children[1]) if len(children) == 2 else ""


def _is_call(node: NodeOrLeaf) -> bool:
    return node.type == "trailer" and node.children[0].value == "("  # type: ignore


def _is_dot(node: NodeOrLeaf) -> bool:
    return node.type == "trailer" and node.children[0].value == "."  # type: ignore


def _reaches(start, goal, functions, seen=None) -> bool:
    """Whether calling `start` can lead back to `goal` through calls in this module."""
    if start is goal:
        return True
    seen = seen if seen is not None else set()
    if id(start) in seen:
        return False
    seen.add(id(start))
    for _, callee, _ in _calls_in(start, functions):
        if _reaches(callee, goal, functions, seen):
            return True
    return False


def _self_referential_source(flow, receiver, subject, owner) -> Relationship | None:
    """The lazy self-referential relationship the recursion follows, if it follows one."""
    children = list(getattr(receiver, "children", []))
    if receiver.type == "name":
        return _via_loop_target(flow, receiver, subject, owner)
    if len(children) == 1 and children[0].type == "name":
        return _via_loop_target(flow, children[0], subject, owner)
    if len(children) != 2 or children[0].type != "name" or children[0].value != subject:
        return None
    if not _is_dot(children[1]):
        return None
    return _lazy_self_reference(flow, owner.cls, children[1].children[1].value)


def _via_loop_target(flow, name, subject, owner) -> Relationship | None:
    """`for child in node.children: f(child)` or `f(child) for child in node.children`."""
    definitions = definitions_before(name)
    if not definitions:
        return None
    statement = definitions[0].get_definition()
    if statement is None or statement.type not in ("for_stmt", "sync_comp_for"):
        return None
    iterable = statement.children[3]
    parts = getattr(iterable, "children", [])
    if len(parts) != 2 or parts[0].type != "name" or parts[0].value != subject:
        return None
    if not _is_dot(parts[1]):
        return None
    return _lazy_self_reference(flow, owner.cls, parts[1].children[1].value)


def _lazy_self_reference(flow, cls, attribute) -> Relationship | None:
    rel = flow.index.relationship(cls, attribute)
    if rel is None or rel.lazy != LAZY or rel.target is None:
        return None
    target = flow.index.target_of(rel)
    if target is None or target not in flow.index.ancestors(cls) and cls not in (
        flow.index.ancestors(target)
    ):
        return None  # not a self-reference: recursion over another class
    return rel


def _climbs(outline: Outline, names: frozenset[str] | None) -> bool:
    """`node = node.rel` in a loop."""
    for statement in outline.in_loop_nodes(ast.Assign):
        target, value = statement.targets[0], statement.value
        if len(statement.targets) == 1 and isinstance(target, ast.Name) and _relationship_read(
                value, names) and value.value.id == target.id:  # type: ignore[attr-defined]
            return True
    return False


def _recurses_on_relationship(outline: Outline, names: frozenset[str] | None) -> bool:
    """A call of a function of this file on `x.rel`, or on a for's variable over `x.rel`."""
    defined = _defined_functions(outline)
    if not defined:
        return False  # no function of the file to recurse into
    over = _targets_over_relationships(outline, names)
    for call in outline.nodes(ast.Call):
        if called_name(call) not in defined:
            continue
        receivers = [*call.args, call.func.value] if isinstance(call.func, ast.Attribute) else (
            call.args)
        if any(_relationship_read(receiver, names)
               or isinstance(receiver, ast.Name) and receiver.id in over
               for receiver in receivers):
            return True
    return False


def _targets_over_relationships(outline: Outline, names: frozenset[str] | None) -> set[str]:
    """Variables of `for child in node.rel` and of comprehensions over `node.rel`."""
    return {name for target, iterable in _loops_with_targets(outline)
            if _relationship_read(iterable, names) for name in _names_in(target)}


# -- FMP104 --------------------------------------------------------------------------


@register
class QueryInLoop(Rule):
    code = "FMP104"
    name = "query-in-loop"
    summary = "A query runs once per element of a loop; load them all with one in_() query"
    severity = Severity.WARNING
    prefilter = ("query", "session", "execute", "scalars")
    docs = RuleDocs(
        what=(
            "Finds a query executed inside a loop body or comprehension whose arguments "
            "depend on the loop: `session.execute(...)`, `session.scalars(...)`, "
            "`session.get(...)`, `Model.query...first()`, `session.query(...).all()`."
        ),
        why=(
            "Each iteration is a round trip to the database: N queries where one would "
            "do. With network latency of a millisecond, 10,000 elements cost ten seconds "
            "before any work is done."
        ),
        example=(
            "for sensor_id in sensor_ids:\n"
            "    sensor = db.session.get(Sensor, sensor_id)  # one query per id: N queries"
        ),
        instead=(
            "sensors = db.session.scalars(\n"
            "    select(Sensor).where(Sensor.id.in_(sensor_ids))\n"
            ").all()  # one query\n"
            "by_id = {sensor.id: sensor for sensor in sensors}"
        ),
        false_alarms=(
            "Only queries that use the loop variable (or a value computed from it in the "
            "loop) are reported; loops over a literal list of a few items are not. "
            "`session.get` of an object already in the identity map sends no SQL."
        ),
        references=("https://docs.sqlalchemy.org/en/20/core/operators.html#in-comparisons",),
    )
    examples = (
        flagged(
            """
            from models import Sensor, db


            def units(sensor_ids):
                return [db.session.get(Sensor, sensor_id).unit for sensor_id in sensor_ids]
            """,
            "5:12-5:45",
            files=MODELS,
        ),
        flagged(
            """
            from models import Sensor


            def first_sensors(asset_ids):
                found = []
                for asset_id in asset_ids:
                    found.append(Sensor.query.filter_by(asset_id=asset_id).first())
                return found
            """,
            "7:21-7:70",
            files=MODELS,
        ),
        flagged(
            """
            from models import Sensor, db


            def sensors_by_group(groups):
                return [
                    db.session.get(Sensor, sensor_id)
                    for group in groups
                    for sensor_id in group
                ]
            """,
            "6:8-6:41",
            files=MODELS,
        ),
        clean(
            """
            from models import Asset, Sensor, db


            def counts(names):
                for model in (Asset, Sensor):
                    print(model.query.count())
                for name in names:
                    total = db.session.query(Asset).count()
                    print(name, total)
            """,
            files=MODELS,
            note="a literal tuple of models; a query that does not use the loop variable",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A query run per element of a `for` or a comprehension over something other than
        a literal display, naming what the loop binds: `session.get/execute/scalars(...)`,
        or a chain with `.query` ending in `.all()`, `.first()` and the like."""
        selects = "select" in outline.called
        queries = [call for call in outline.in_loop_nodes(ast.Call) if _runs_query(call, selects)]
        if not queries:
            return False
        chains = _whole_chains(outline)
        loops = _AstLoops(outline, ctx.source.lines)
        return any(loops.depends(call, _identifiers(chains.get(id(call), call)))
                   for call in queries)

    def check(self, ctx: Context) -> Iterator[Finding]:
        flow = _flow(ctx)
        reported: set[int] = set()
        for chain in ctx.source.nodes("atom_expr", "power"):
            if not isinstance(chain, BaseNode):
                continue
            end = flow.execution_end(chain)
            if end is None or _inside_reported(chain, reported):
                continue
            loop = _dependent_loop(chain)
            if loop is None:
                continue
            reported.add(id(chain))
            yield self.finding(
                Range.between(chain.children[0], chain.children[end]),
                "query executed once per element of the loop (N queries); fetch all rows "
                "at once with in_() before the loop",
                cost="one query per iteration: N queries",
            )


def _inside_reported(chain: NodeOrLeaf, reported: set[int]) -> bool:
    parent = chain.parent
    while parent is not None:
        if id(parent) in reported:
            return True
        parent = parent.parent
    return False


def _dependent_loop(chain: NodeOrLeaf) -> Loop | None:
    """The innermost loop whose variable the query uses, skipping small literal loops."""
    names = {node.value for node in walk(chain) if node.type == "name"}  # type: ignore
    for loop in loops_around(chain):
        if loop.kind == "while" or loop.iterable is None:
            continue
        iterable = loop.iterable
        if isinstance(iterable, BaseNode) and iterable.type == "atom" and _leaf_text(
                iterable.children[0]) in ("(", "[", "{"):
            continue  # `for model in (A, B)`: a fixed handful of queries
        bound = {name.value for name in loop.target_names()} | _assigned_in(loop)
        if names & bound:
            return loop
    return None


def _assigned_in(loop: Loop) -> set[str]:
    if loop.kind != "for":
        return set()
    body = loop.node.children[-1]  # type: ignore[attr-defined]
    return {
        node.value for node in walk(body)  # type: ignore[attr-defined]
        if node.type == "name" and node.is_definition()  # type: ignore[attr-defined]
    }


def _runs_query(call: ast.Call, selects: bool) -> bool:
    """`session.get(...)`, `session.execute(select(...))`, `X.query....first()` and the like."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False  # a plain function call: not a query method
    if func.attr in SESSION_EXECUTE and _session_receiver(func.value):
        return func.attr in ("get", "get_one") or selects
    return func.attr in EXECUTING and any(
        isinstance(node, ast.Attribute) and node.attr == "query"
        for node in _chain_nodes(func.value)
    )


def _session_receiver(node: ast.AST) -> bool:
    """`session`, `db.session`, `self.session`: a name or attribute that says session."""
    if isinstance(node, ast.Name):
        return "session" in node.id.lower()
    return isinstance(node, ast.Attribute) and "session" in node.attr.lower()


# -- FMP105 --------------------------------------------------------------------------

_ROUTE_WORDS = ("route", ".get(", ".post(", ".put(", ".patch(", "expose")


@register
class UnboundedListQuery(Rule):
    code = "FMP105"
    name = "unbounded-list-query"
    summary = "A request handler returns every row of a query: add a limit or paginate"
    severity = Severity.INFORMATION
    prefilter = ("route", "expose")
    docs = RuleDocs(
        what=(
            "Finds `.all()` in a request handler (a function with a route decorator) whose "
            "result is returned, when the query has no `limit`, `paginate` or `slice`."
        ),
        why=(
            "The response grows with the table: O(rows) memory, serialization time and "
            "bytes on the wire, and one slow request per big account. Tables only grow."
        ),
        example=(
            "@app.route(\"/assets\")\n"
            "def list_assets():\n"
            "    return [asset.name for asset in Asset.query.all()]  # every row, O(rows)"
        ),
        instead=(
            "@app.route(\"/assets\")\n"
            "def list_assets():\n"
            "    page = Asset.query.order_by(Asset.id).paginate(per_page=100)\n"
            "    return [asset.name for asset in page.items]"
        ),
        false_alarms=(
            "Tables that stay small by nature (types, roles) need no paging; suppress "
            "the line there."
        ),
        references=("https://flask-sqlalchemy.readthedocs.io/en/stable/pagination/",),
    )
    examples = (
        flagged(
            """
            from flask import Flask

            from models import Asset

            app = Flask(__name__)


            @app.route("/assets")
            def list_assets():
                assets = Asset.query.filter(Asset.parent_id.is_(None)).all()
                return {"assets": [asset.name for asset in assets]}
            """,
            "10:13-10:64",
            files=MODELS,
        ),
        clean(
            """
            from flask import Flask

            from models import Asset

            app = Flask(__name__)


            @app.route("/assets")
            def list_assets():
                page = Asset.query.order_by(Asset.id).paginate(per_page=50)
                first = Asset.query.limit(10).all()
                return {"assets": [a.name for a in page.items], "first": len(first)}


            def export():
                return Asset.query.all()
            """,
            files=MODELS,
            note="paginated or limited; not a request handler",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A function decorated with a route word whose body calls `.all()` and returns."""
        if not _QUERY_WORDS & outline.attributes and "select" not in outline.called:
            return False  # no query the check would recognize
        lines = ctx.source.text.splitlines()
        return any(_route_decorated(function, lines) and _calls_all_and_returns(function)
                   for function in _function_defs(outline))

    def check(self, ctx: Context) -> Iterator[Finding]:
        flow = _flow(ctx)
        for function in ctx.source.nodes("funcdef"):
            if not _is_route(function):
                continue
            for chain in _all_calls(flow, function):
                if _returned(chain, function):
                    yield self.finding(
                        Range.of(chain),
                        "every row of the query goes into the response; add .limit(...) "
                        "or paginate",
                        cost="O(rows) per request",
                    )


def _is_route(function: NodeOrLeaf) -> bool:
    parent = function.parent
    if parent is None or parent.type != "decorated":
        return False
    text = parent.children[0].get_code()
    return any(word in text for word in _ROUTE_WORDS)


def _all_calls(flow: OrmFlow, function: NodeOrLeaf) -> Iterator[NodeOrLeaf]:
    for node in walk(function.children[-1]):  # type: ignore[attr-defined]
        if node.type not in ("atom_expr", "power") or scope_of(node) is not function:
            continue
        children = node.children  # type: ignore[attr-defined]
        if len(children) < 3 or not _is_call(children[-1]) or not _is_dot(children[-2]):
            continue
        if children[-2].children[1].value != "all":
            continue
        text = node.get_code(include_prefix=False)
        if any(word in text for word in (".limit(", ".paginate(", ".slice(", ".first(")):
            continue  # bounded
        if flow.query_origin(node) is None and flow._executed_statement(node, 0) is None:
            continue  # not a query we recognize
        yield node


def _returned(chain: NodeOrLeaf, function: NodeOrLeaf) -> bool:
    """The rows reach a `return`: directly, or through the variable they were assigned to."""
    statement = chain.parent
    while statement is not None and statement.type not in ("return_stmt", "expr_stmt",
                                                            "simple_stmt"):
        statement = statement.parent
    if statement is None:
        return False
    if statement.type == "return_stmt":
        return True
    if statement.type != "expr_stmt" or statement.children[-1] is not chain:
        return False
    target = statement.children[0]
    if target.type != "name":
        return False
    for node in walk(function.children[-1]):  # type: ignore[attr-defined]
        if node.type == "return_stmt" and any(
            isinstance(leaf, Name) and leaf.value == target.value for leaf in walk(node)
        ):
            return True
    return False


_QUERY_WORDS = frozenset({"query", "scalars", "execute", "select"})
"""Attributes one of which a query the check recognizes must use (or a `select(...)` call)."""


def _route_decorated(function: ast.FunctionDef | ast.AsyncFunctionDef,
                     lines: list[str]) -> bool:
    """A route word in the decorators' text, with the comments just above them (parso's
    decorator code includes that prefix)."""
    if not function.decorator_list:
        return False  # not decorated: no route
    start = min(decorator.lineno for decorator in function.decorator_list) - 1
    while start > 0 and (not lines[start - 1].strip() or lines[start - 1].lstrip().startswith(
            "#")):
        start -= 1
    text = "\n".join(lines[start:function.lineno])
    return any(word in text for word in _ROUTE_WORDS)


def _calls_all_and_returns(function: ast.AST) -> bool:
    """An `.all()` somewhere in the function and a `return` with a value to carry the rows."""
    calls_all = returns = False
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            calls_all = calls_all or node.func.attr == "all"
        elif isinstance(node, ast.Return):
            returns = returns or node.value is not None
    return calls_all and returns


# -- FMP106 --------------------------------------------------------------------------

_FILTERS = {"filter", "where", "filter_by", "order_by"}


@register
class UnindexedFilter(Rule):
    code = "FMP106"
    name = "unindexed-filter"
    summary = "A query filters or sorts on a column with no index"
    severity = Severity.INFORMATION
    prefilter = ("filter", "where", "order_by")
    in_tests = False
    docs = RuleDocs(
        what=(
            "Finds a mapped column used in `filter`, `filter_by`, `where` or `order_by` "
            "that is neither primary key, unique, `index=True`, nor part of an `Index` or "
            "constraint in `__table_args__` or at module level."
        ),
        why=(
            "Without an index the database reads the whole table for every such query: "
            "O(rows) per query instead of O(log rows). Foreign-key columns are not indexed "
            "automatically by PostgreSQL either."
        ),
        example="Sensor.query.filter_by(name=name).first()  # sensor.name has no index",
        instead=(
            "name = db.Column(db.String(80), index=True)  # plus a migration\n"
            "Sensor.query.filter_by(name=name).first()"
        ),
        false_alarms=(
            "Indexes created only in migrations are invisible here, as are columns of "
            "mixins from libraries (those are never reported). Small lookup tables are "
            "skipped: a scan of a few rows is fine. So are Boolean columns, whose two values "
            "an index cannot narrow, and columns inside a function (`func.lower(col)`) or "
            "compared with `!=`, which an index on the column does not serve."
        ),
        references=("https://www.postgresql.org/docs/current/indexes-intro.html",),
    )
    examples = (
        flagged(
            """
            from models import Sensor


            def by_name(name):
                return Sensor.query.filter(Sensor.name == name).first()
            """,
            "5:31-5:42",
            files=MODELS,
        ),
        flagged(
            """
            from models import Sensor


            def by_unit(unit):
                return Sensor.query.filter_by(unit=unit).all()
            """,
            "5:34-5:38",
            files=MODELS,
        ),
        clean(
            """
            from models import AssetType, Sensor


            def lookups(asset_id, name):
                Sensor.query.filter(Sensor.asset_id == asset_id, Sensor.id > 3).all()
                AssetType.query.filter_by(name=name).first()
                Sensor.query.filter_by(active=True).all()
            """,
            files=MODELS,
            note="indexed, primary key, or unique columns; a Boolean column",
        ),
        flagged(
            """
            from sqlalchemy import select
            from sqlalchemy.orm import Session

            from typed import User


            def by_nickname(session: Session, nickname: str) -> User | None:
                query = select(User).where(User.nickname == nickname)
                return session.scalars(query).first()
            """,
            "8:31-8:44",
            files=TYPED,
        ),
        clean(
            """
            from sqlalchemy import select
            from sqlalchemy.orm import Session

            from typed import Account, User


            def lookups(session: Session, email: str, name: str):
                user = session.scalars(select(User).where(User.email == email)).first()
                account = session.scalars(select(Account).where(Account.name == name)).first()
                admins = session.scalars(select(User).where(User.is_admin)).all()
                return user, account, admins
            """,
            files=TYPED,
            note="a unique column; a small table of two columns without foreign keys; "
            "a column annotated Mapped[bool]",
        ),
        flagged(
            """
            from sqlalchemy import and_, desc, func, or_

            from models import Sensor


            def search(name, unit):
                lowered = Sensor.query.filter(func.lower(Sensor.name) == name.lower()).all()
                others = Sensor.query.filter(Sensor.unit != unit).all()
                named = Sensor.query.filter(or_(and_(Sensor.name == name))).all()
                latest = Sensor.query.order_by(desc(Sensor.unit)).first()
                return named, latest, lowered, others
            """,
            "9:41-9:52",
            "10:40-10:51",
            files=MODELS,
            note="and_, or_ and desc keep the column as it is; a function of the column and "
            "!= are not served by an index on it",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A `.filter`/`.where`/`.order_by` on `Cls.column`, or a `.filter_by(column=...)`
        in a file naming a mapped class, where the column is one the rule reports."""
        if _may_add_models(ctx):
            return True  # the check indexes the file's own classes first: any may count
        calls = [call for call in outline.nodes(ast.Call)
                 if isinstance(call.func, ast.Attribute) and call.func.attr in _FILTERS]
        if not calls:
            return False  # nothing filters or sorts
        flow = OrmFlow(ctx)  # resolves names through the imports and the index: no parse
        return any(_filters_on_reportable(flow, call, outline) for call in calls)

    def check(self, ctx: Context) -> Iterator[Finding]:
        flow = _flow(ctx)
        seen: set[tuple[str, str]] = set()
        chains = {id(t.parent): t.parent for t in ctx.source.nodes("trailer")
                  if t.parent is not None and _is_dot(t) and _trailer_name(t) in _FILTERS}
        for chain in chains.values():
            if chain is None or not _whole_statement(chain):
                continue
            for cls, column, node in _unindexed_in_chain(flow, chain):
                key = (cls.name, column)
                if key in seen:
                    continue
                seen.add(key)
                yield self.finding(
                    _range_of(node),
                    f"{cls.name}.{column} has no index: each such query scans the table",
                    cost="O(rows) per query",
                )


def _whole_statement(chain: NodeOrLeaf) -> bool:
    """The chain shows the whole query: not `query.filter(...)` refining an earlier one."""
    children = chain.children  # type: ignore[attr-defined]
    if any(_is_dot(child) and child.children[1].value in ("join", "outerjoin")
           for child in children):
        return False  # a join may narrow the rows through the other table's index
    head = children[0]
    if head.type != "name":
        return False
    definitions = definitions_before(head)
    statement = definitions[0].get_definition() if definitions else None
    return statement is None or statement.type not in ("expr_stmt", "param")


def _unindexed_in_chain(flow: OrmFlow, chain: NodeOrLeaf) -> list[tuple]:
    """Unindexed columns a query filters on, unless an indexed column narrows it too.

    A condition on an indexed column of the same class (`Asset.id == x`, a
    foreign key with `index=True`) lets the database use that index; the
    other conditions are then checked on few rows and are not worth a finding.
    """
    filtered: list[tuple[MappedClass, str, object]] = []
    ordered: list[tuple[MappedClass, str, object]] = []
    for trailer in chain.children:  # type: ignore[attr-defined]
        if not _is_dot(trailer) or trailer.children[1].value not in _FILTERS:
            continue
        found = list(_filtered_columns(flow, trailer))
        (ordered if trailer.children[1].value == "order_by" else filtered).extend(found)
    narrowed = {cls.name for cls, column, _ in filtered
                if flow.index.is_indexed(cls, column) is not False}
    filtering = {cls.name for cls, _, _ in filtered}
    result = [entry for entry in filtered
              if entry[0].name not in narrowed and _reportable(flow, entry[0], entry[1])]
    result += [entry for entry in ordered
               if entry[0].name not in filtering and _reportable(flow, entry[0], entry[1])]
    return result


def _filtered_columns(flow: OrmFlow,
                      trailer: NodeOrLeaf) -> Iterator[tuple[MappedClass, str, object]]:
    chain = trailer.parent
    if chain is None:
        return  # a detached trailer: no query around it
    children = chain.children
    position = children.index(trailer)
    if position + 1 >= len(children) or not _is_call(children[position + 1]):
        return
    call = children[position + 1]
    method = trailer.children[1].value  # type: ignore[attr-defined]
    if method == "filter_by":
        origin = flow.query_origin(_Chain(chain, position))  # type: ignore[arg-type]
        if origin is None:
            return
        for argument in arguments_of(call):
            keyword = argument.children[0] if isinstance(argument, BaseNode) else None
            if argument.type == "argument" and isinstance(keyword, Name):
                yield origin.model, keyword.value, keyword
        return
    for argument in arguments_of(call):
        for node in walk(argument):
            if not isinstance(node, BaseNode) or node.type not in ("atom_expr", "power"):
                continue
            parts = node.children
            if len(parts) < 2 or parts[0].type != "name" or not _is_dot(parts[1]):
                continue
            if not _indexable_use(node, argument):
                continue  # `func.lower(Cls.col)`, `Cls.col != x`: a plain index does not serve
            cls = flow.resolve_class(parts[0])
            if cls is not None:
                yield cls, parts[1].children[1].value, Range.between(parts[0], parts[1])


_TRANSPARENT_CALLS = ("and_", "or_", "not_", "asc", "desc", "nulls_first", "nulls_last",
                      "nullsfirst", "nullslast", "between")
"""Functions that combine conditions or order by a column as it is: its index still serves."""


def _indexable_use(column: NodeOrLeaf, argument: NodeOrLeaf) -> bool:
    """Whether a condition uses the column as an index on it could serve.

    Not when the column is an argument of a function (`func.lower(User.email)`
    needs an index on that expression) or a side of `!=` (nearly every row
    matches); `and_`, `desc` and the like leave the column as it is.
    """
    parent = column.parent
    if parent is not None and parent.type == "comparison" and any(
        child.type == "operator" and child.value in ("!=", "<>")  # type: ignore[attr-defined]
        for child in parent.children  # type: ignore[attr-defined]
    ):
        return False
    node = column
    while node is not argument and node.parent is not None:
        node = node.parent
        if node.type == "trailer" and node.children[0].value == "(":  # type: ignore
            callee = node.get_previous_sibling()
            name = callee.children[1] if callee is not None and _is_dot(callee) else callee
            if getattr(name, "value", None) not in _TRANSPARENT_CALLS:
                return False
    return True


class _Chain:
    """The first `end` children of an atom_expr, for asking what query it is."""

    type = "atom_expr"

    def __init__(self, chain: NodeOrLeaf, end: int):
        self.children = chain.children[:end]  # type: ignore[attr-defined]
        self.parent = chain.parent

    def get_code(self, include_prefix: bool = True) -> str:
        code = "".join(child.get_code() for child in self.children)
        return code if include_prefix else code.lstrip()


def _reportable(flow: OrmFlow, cls: MappedClass, column: str) -> bool:
    index = flow.index
    if index.has_unknown_bases(cls) or index.is_lookup_table(cls):
        return False  # a library mixin may index it; a lookup table is scanned cheaply
    known = index.column(cls, column)
    if known is not None and known.boolean:
        return False  # two values: the planner would scan the table all the same
    return index.is_indexed(cls, column) is False


def _range_of(node) -> Range:
    return node if isinstance(node, Range) else Range.of(node)


def _inside_any(node: NodeOrLeaf, containers: list[NodeOrLeaf]) -> bool:
    return any(is_inside(node, container) for container in containers)


def _filters_on_reportable(flow: OrmFlow, call: ast.Call, outline: Outline) -> bool:
    """`Cls.column` in the arguments, or `filter_by(column=...)` in a file naming a class,
    with a column `_reportable` (of the resolved class, or for filter_by of any class)."""
    if call.func.attr == "filter_by":  # type: ignore[attr-defined]
        columns = {keyword.arg for keyword in call.keywords if keyword.arg is not None}
        return bool(columns) and any(
            _reportable(flow, cls, column)
            for cls in _named_classes(flow, outline) for column in columns
        )
    for argument in [*call.args, *call.keywords]:
        for node in ast.walk(argument):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                cls = flow.resolve_parts([node.value.id])
                if cls is not None and _reportable(flow, cls, node.attr):
                    return True
    return False


def _named_classes(flow: OrmFlow, outline: Outline) -> Iterator[MappedClass]:
    """Classes whose name the file writes or imports; all of them when it names an alias."""
    imported = {qualified.rpartition(".")[2] for qualified in flow.ctx.imports.names.values()}
    words = outline.words() | imported
    every = any(not words.isdisjoint(facts.aliases) for facts in flow.index.files())
    for facts in flow.index.files():
        for cls in facts.classes.values():
            if every or cls.name in words:
                yield cls
