"""ORM facts: mapped classes, relationships, loader strategies, columns, indexes.

Read from parso trees, importing and executing nothing. Most relationships of a
Flask-SQLAlchemy code base exist only as `backref("name", ...)` on the other
class, which jedi cannot see; this index records them on the class they land
on. Facts are kept per file (`update_file`, `remove_file`) and the questions
that need several files (inheritance, foreign-key direction, backrefs) are
answered on demand, so an edit to one model file never rebuilds the rest.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from parso.tree import BaseNode, Leaf, NodeOrLeaf

from fmperf_ls.analysis.imports import ImportMap, dotted_parts
from fmperf_ls.analysis.outline import Outline, called_name
from fmperf_ls.analysis.source import Range, SourceFile

logger = logging.getLogger(__name__)

_PREFILTER = (
    "relationship(", "Column(", "mapped_column(", "__tablename__", "declarative_base(",
    "DeclarativeBase", "registry(", "db.Model", "Mapped[",
)  # fmt: skip
"""Words a model module cannot do without; `Column(` rather than `Column`, which
pandas code spells in every other line as `columns`."""

EAGER = frozenset({"selectin", "joined", "subquery", "immediate"})
LAZY = "select"
DYNAMIC = frozenset({"dynamic", "write_only"})
QUIET = frozenset({"noload", "raise", "raise_on_sql"})
"""Strategies that never emit a query on access (they return nothing or raise)."""

_LAZY_VALUES = {"True": LAZY, "False": "joined", "None": "noload"}
_DECLARATIVE_ROOTS = {"DeclarativeBase", "DeclarativeBaseNoMeta", "AsyncAttrs"}
_CONTAINER_ANNOTATIONS = {"list", "List", "set", "Set", "Sequence", "MutableSequence",
                          "Collection", "AbstractSet", "WriteOnlyMapped", "DynamicMapped",
                          "dict", "Dict"}
_SCALAR_WRAPPERS = {"Optional"}


def could_define_models(text: str) -> bool:
    """A cheap text test: can this file define a mapped class at all?"""
    return any(word in text for word in _PREFILTER)


_MODULE_CALLS = frozenset({"declarative_base", "generate_base", "as_declarative_base", "Index",
                           "UniqueConstraint"})


def may_hold_model_facts(outline: Outline) -> bool:
    """Whether `read_models` can find anything in the file, judged from its `ast`.

    It reads only classes and a few kinds of assignment at the top level (also
    inside `if` and `try`); a migration script mentions `Column(` on every
    line and has none of them, and is then not parsed at all.
    """
    pending = list(outline.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, ast.ClassDef):
            return True
        if isinstance(statement, (ast.If, ast.Try, *_TRY_STAR)):
            pending.extend(statement.body)  # type: ignore[attr-defined]
            pending.extend(statement.orelse)  # type: ignore[attr-defined]
            pending.extend(getattr(statement, "finalbody", ()))
            for handler in getattr(statement, "handlers", ()):
                pending.extend(handler.body)
        elif isinstance(statement, ast.Assign) and _model_assignment(statement):
            return True
    return False


_TRY_STAR: tuple[type[ast.stmt], ...] = (ast.TryStar,) if hasattr(ast, "TryStar") else ()


def _model_assignment(statement: ast.Assign) -> bool:
    """`Base = declarative_base()`, `Asset = GenericAsset`, `Index(...)`: what is read."""
    if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
        return False
    value = statement.value
    if isinstance(value, ast.Name):
        return value.id[:1].isupper()
    return isinstance(value, ast.Call) and called_name(value) in _MODULE_CALLS


@dataclass
class Column:
    name: str
    primary_key: bool = False
    unique: bool = False
    indexed: bool = False
    foreign_table: str | None = None
    """The table a `ForeignKey("table.col")` of this column points at."""
    boolean: bool = False
    """Of SQL type Boolean: two values, too few for an index to narrow a filter."""


@dataclass
class Relationship:
    """One relationship attribute as it exists on `owner` (also when a backref made it)."""

    owner: str
    attribute: str
    target: str | None
    lazy: str  # "select", "joined", "selectin", "dynamic", ... or "unknown"
    path: str
    range: Range
    uselist: bool | None = None
    """`uselist=` or the `Mapped[...]` annotation; None when only the keys can tell."""
    secondary: bool = False
    remote_side: str | None = None
    foreign_keys: tuple[str, ...] = ()
    inverse: str | None = None
    """The attribute on the other side (backref or back_populates), when declared."""
    created_by_backref: bool = False
    viewonly: bool = False
    target_module: str | None = None
    """The module the target is named in: `"app.models.Asset"`, or the import of `Asset`."""
    backref: Relationship | None = None
    """The relationship a `backref=` of this one creates on the target class."""

    @property
    def self_referential(self) -> bool:
        return self.target == self.owner

    def describe(self) -> str:
        return f"{self.owner}.{self.attribute}"


@dataclass
class MappedClass:
    """A class of a model module: mapped, abstract, or a mixin with ORM members."""

    name: str
    path: str
    bases: tuple[str, ...]
    range: Range
    tablename: str | None = None
    abstract: bool = False
    declarative_root: bool = False
    """A base such as `db.Model`, `Base = declarative_base()` or a DeclarativeBase."""
    columns: dict[str, Column] = field(default_factory=dict)
    relationships: dict[str, Relationship] = field(default_factory=dict)
    indexed_names: set[str] = field(default_factory=set)
    """Column names that appear in an Index or constraint in `__table_args__`."""
    table_args_opaque: bool = False
    """`__table_args__` is computed: which columns it indexes is not known."""
    other_members: set[str] = field(default_factory=set)


@dataclass
class FileModels:
    path: str
    classes: dict[str, MappedClass] = field(default_factory=dict)
    roots: set[str] = field(default_factory=set)
    """Names bound to declarative bases in this file (`Base = declarative_base()`)."""
    aliases: dict[str, str] = field(default_factory=dict)
    """`Asset = GenericAsset` at module level."""
    module_indexes: dict[str, set[str]] = field(default_factory=dict)
    """Class name -> column names indexed by a module-level `Index(...)`."""
    imports: dict[str, str] = field(default_factory=dict)
    """Local name -> dotted name, for the names classes and relationships refer to."""
    skipped: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.classes and not self.roots and not self.aliases


@dataclass(frozen=True)
class _Reference:
    """A class name as some file writes it: where, and which module it names, if any."""

    name: str
    module: str | None
    path: str | None
    """The file the name is written in: a class of that file wins a tie."""
    registry: str | None = None
    """The declarative registry of the class that refers: SQLAlchemy looks there."""


class ModelIndex:
    """Mapped classes of the workspace by name, kept file by file."""

    def __init__(self) -> None:
        self._files: dict[str, FileModels] = {}
        self._by_name: dict[str, list[MappedClass]] | None = None
        self._changed: set[str] = set()
        self._backrefs: dict[int, dict[str, Relationship]] | None = None
        self._backref_sides: dict[int, tuple[MappedClass, Relationship]] = {}
        """id(backref) -> (the class it lands on, the relationship that declared it)."""
        self._resolved: dict[_Reference, MappedClass | None] = {}
        self._registries: dict[int, str | None] = {}
        self._names_by_loading: dict[frozenset[str] | None, frozenset[str]] = {}

    # -- updates ---------------------------------------------------------------

    def update_file(self, path: str, source: SourceFile) -> bool:
        """Read the models of one file; True when what it defines changed."""
        return self.update_facts(path, read_models(path, source))

    def update_facts(self, path: str, facts: FileModels) -> bool:
        """Take in facts read from (or cached for) one file; True when its models changed."""
        old = self._files.get(path)
        if facts.empty:
            return self.remove_file(path)
        self._files[path] = facts
        self._invalidate()
        if old is not None and _fingerprint(old) == _fingerprint(facts):
            return False  # moved or reformatted: the same models
        self._changed |= changed_words(old, facts)
        return True

    def remove_file(self, path: str) -> bool:
        removed = self._files.pop(path, None)
        if removed is not None:
            self._invalidate()
            self._changed |= changed_words(removed, None)
        return removed is not None

    def take_changed_words(self) -> set[str]:
        """The names whose meaning changed since the last call (see `changed_words`).

        Relationships of other classes that point at a changed class count
        too: which side holds the foreign key may have changed with it.
        """
        words, self._changed = self._changed, set()
        if words:
            for facts in self._files.values():
                for cls in facts.classes.values():
                    words.update(rel.attribute for rel in cls.relationships.values()
                                 if rel.target is not None
                                 and rel.target.rsplit(".", 1)[-1] in words)
        return words

    def defines_models(self, path: str) -> bool:
        facts = self._files.get(path)
        return facts is not None and any(self.is_mapped(cls) for cls in facts.classes.values())

    def _invalidate(self) -> None:
        self._by_name = None
        self._backrefs = None
        self._backref_sides = {}
        self._resolved = {}
        self._registries = {}
        self._names_by_loading = {}

    # -- classes -----------------------------------------------------------------

    def files(self) -> Iterator[FileModels]:
        return iter(self._files.values())

    def _names(self) -> dict[str, list[MappedClass]]:
        if self._by_name is None:
            by_name: dict[str, list[MappedClass]] = {}
            for facts in self._files.values():
                for cls in facts.classes.values():
                    by_name.setdefault(cls.name, []).append(cls)
            self._by_name = by_name
        return self._by_name

    def class_named(self, name: str, module_hint: str | None = None,
                    near: str | None = None) -> MappedClass | None:
        """The class called `name` (or an alias of it); None when unknown or ambiguous.

        Two classes of one name in different modules are told apart by
        `module_hint`, the dotted module the caller imported the name from, or
        by `near`, the file the name is written in.
        """
        return self._resolve(_Reference(name, module_hint or None, near))

    def _resolve(self, reference: _Reference) -> MappedClass | None:
        if reference not in self._resolved:
            self._resolved[reference] = None  # a cycle of aliases resolves to nothing
            self._resolved[reference] = self._find(reference)
        return self._resolved[reference]

    def _find(self, reference: _Reference) -> MappedClass | None:
        """SQLAlchemy's way: the module-qualified class, else the only one of that name."""
        candidates = self._names().get(reference.name)
        if not candidates:
            return self._through_alias(reference)
        if reference.module:
            matching = _in_module(candidates, reference.module)
            if len(matching) == 1:
                return matching[0]
            if matching:
                candidates = matching
        if len(candidates) == 1:
            return candidates[0]
        if reference.registry is not None:
            same = [cls for cls in candidates if self.registry_of(cls) == reference.registry]
            if len(same) == 1:
                return same[0]
        same_file = [cls for cls in candidates if cls.path == reference.path]
        if len(same_file) == 1:
            return same_file[0]
        logger.debug("class name %s is defined in several modules; not resolved",
                     reference.name)
        return None

    def _through_alias(self, reference: _Reference) -> MappedClass | None:
        """`Asset = GenericAsset` in some module: the class the alias names."""
        found = []
        for facts in self._files.values():
            target = facts.aliases.get(reference.name)
            if target is None or target == reference.name:
                continue
            if reference.module and not _in_module_path(facts.path, reference.module):
                continue
            module = _import_module(facts, target)
            cls = self._resolve(_Reference(target, module, facts.path))
            if cls is not None and cls not in found:
                found.append(cls)
        return found[0] if len(found) == 1 else None

    def mapped_class(self, name: str, module_hint: str | None = None) -> MappedClass | None:
        cls = self.class_named(name, module_hint)
        return cls if cls is not None and self.is_mapped(cls) else None

    def target_of(self, rel: Relationship) -> MappedClass | None:
        """The mapped class a relationship points at, resolved as SQLAlchemy would."""
        cls = self._target_class(rel)
        return cls if cls is not None and self.is_mapped(cls) else None

    def owner_of(self, rel: Relationship) -> MappedClass | None:
        cls = self._owner_class(rel)
        return cls if cls is not None and self.is_mapped(cls) else None

    def _target_class(self, rel: Relationship) -> MappedClass | None:
        if rel.created_by_backref:
            side = self._backref_side(rel)
            return self._owner_class(side[1]) if side is not None else None
        if rel.target is None:
            return None
        owner = self._owner_class(rel)
        registry = self.registry_of(owner) if owner is not None else None
        return self._resolve(_Reference(rel.target, rel.target_module, rel.path, registry))

    def _owner_class(self, rel: Relationship) -> MappedClass | None:
        if rel.created_by_backref:
            side = self._backref_side(rel)
            return side[0] if side is not None else None
        facts = self._files.get(rel.path)
        return facts.classes.get(rel.owner) if facts is not None else None

    def _backref_side(self, rel: Relationship) -> tuple[MappedClass, Relationship] | None:
        self._backref_map()
        return self._backref_sides.get(id(rel))

    def registry_of(self, cls: MappedClass) -> str | None:
        """Which declarative registry maps the class: `db.Model`, or a base by its file."""
        key = id(cls)
        if key not in self._registries:
            self._registries[key] = None  # an inheritance cycle has no registry
            self._registries[key] = self._find_registry(cls)
        return self._registries[key]

    def _find_registry(self, cls: MappedClass) -> str | None:
        if cls.declarative_root:
            return f"{cls.path}:{cls.name}"
        for base in cls.bases:
            if base.endswith(".Model") or base == "Model":
                return "Model"
            root = self._root_named(cls.path, base)
            if root is not None:
                return root
            parent = self._base_class(cls, base)
            if parent is not None:
                found = self.registry_of(parent)
                if found is not None:
                    return found
        return None

    def _root_named(self, path: str, base: str) -> str | None:
        """`Base` of `Base = declarative_base()`: in the same file or the one it came from."""
        facts = self._files.get(path)
        if facts is None or "." in base:
            return None
        if base in facts.roots:
            return f"{path}:{base}"
        module = _import_module(facts, base)
        for other in self._files.values():
            if base in other.roots and (module is None or _in_module_path(other.path, module)):
                return f"{other.path}:{base}"
        return None

    def _base_class(self, cls: MappedClass, base: str) -> MappedClass | None:
        """The class a base expression names, seen from the module of `cls`; never `cls`.

        `models.Asset`, `Asset` imported from a module, `BaseAsset` imported as an
        alias of `Asset`: the imports of the file say which module to look in.
        """
        facts = self._files.get(cls.path)
        first, _, rest = base.partition(".")
        imported = facts.imports.get(first) if facts is not None else None
        qualified = ".".join(part for part in (imported or first, rest) if part)
        module, _, name = qualified.rpartition(".")
        near = None if imported or rest else cls.path
        found = self._resolve(_Reference(name, module or None, near))
        if found is cls:
            others = [c for c in self._names().get(name, []) if c is not cls]
            return others[0] if len(others) == 1 else None
        return found

    def is_mapped(self, cls: MappedClass) -> bool:
        """Mapped: a declarative base is among its ancestors and it is not abstract."""
        if cls.abstract or cls.declarative_root:
            return False
        return self._reaches_root(cls, frozenset())

    def _reaches_root(self, cls: MappedClass, seen: frozenset[int]) -> bool:
        if id(cls) in seen:
            return False  # an inheritance cycle in half-written code
        seen = seen | {id(cls)}
        roots = self._roots()
        for base in cls.bases:
            if base in roots or base.endswith(".Model") or base == "Model":
                return True
            parent = self._base_class(cls, base)
            if parent is not None and (parent.declarative_root or
                                       self._reaches_root(parent, seen)):
                return True
        return False

    def _roots(self) -> set[str]:
        roots: set[str] = set()
        for facts in self._files.values():
            roots |= facts.roots
        return roots

    def ancestors(self, cls: MappedClass) -> list[MappedClass]:
        """The class and the bases the index knows, nearest first (a simple MRO)."""
        order: list[MappedClass] = []
        queue, seen = [cls], set()
        while queue:
            current = queue.pop(0)
            if id(current) in seen:
                continue
            seen.add(id(current))
            order.append(current)
            for base in current.bases:
                parent = self._base_class(current, base)
                if parent is not None:
                    queue.append(parent)
        return order

    def has_unknown_bases(self, cls: MappedClass) -> bool:
        """Whether a base (a library mixin, say) may add members the index cannot see."""
        roots = self._roots()
        for ancestor in self.ancestors(cls):
            for base in ancestor.bases:
                short = base.rsplit(".", 1)[-1]
                if base in roots or base.endswith(".Model") or short in _ADDS_NO_COLUMNS:
                    continue
                if self._base_class(ancestor, base) is None:
                    return True
        return False

    def tablename(self, cls: MappedClass) -> str:
        """`__tablename__`, inherited, or Flask-SQLAlchemy's snake_case of the name."""
        for ancestor in self.ancestors(cls):
            if ancestor.tablename:
                return ancestor.tablename
        return _snake_case(cls.name)

    # -- members ---------------------------------------------------------------

    def column(self, cls: MappedClass, name: str) -> Column | None:
        for ancestor in self.ancestors(cls):
            if name in ancestor.columns:
                return ancestor.columns[name]
        return None

    def is_indexed(self, cls: MappedClass, name: str) -> bool | None:
        """True/False when the index knows the column; None when it cannot tell."""
        column = self.column(cls, name)
        if column is None:
            return None
        if column.primary_key or column.unique or column.indexed:
            return True
        for ancestor in self.ancestors(cls):
            if ancestor.table_args_opaque:
                return None
            if name in ancestor.indexed_names:
                return True
            for facts in self._files.values():
                if name in facts.module_indexes.get(ancestor.name, ()):
                    return True
        return False

    def relationship(self, cls: MappedClass, attribute: str) -> Relationship | None:
        """The relationship `attribute` of the class: declared, inherited, or a backref."""
        for ancestor in self.ancestors(cls):
            if attribute in ancestor.relationships:
                return ancestor.relationships[attribute]
            found = self._backref_map().get(id(ancestor), {}).get(attribute)
            if found is not None:
                return found
        return None

    def member_kind(self, cls: MappedClass, attribute: str) -> str | None:
        """"relationship", "column", "other" (a method, a property) or None if unknown."""
        if self.relationship(cls, attribute) is not None:
            return "relationship"
        if self.column(cls, attribute) is not None:
            return "column"
        if any(attribute in ancestor.other_members for ancestor in self.ancestors(cls)):
            return "other"
        return None

    def relationship_names(self, lazies: frozenset[str] | None = None) -> frozenset[str]:
        """Every relationship attribute name of the workspace, backrefs included.

        `lazies`: only names of which some relationship loads in one of these
        ways. Rules ask on every file, so the answer is kept until the index changes.
        """
        if lazies not in self._names_by_loading:
            self._names_by_loading[lazies] = frozenset(
                side.attribute
                for facts in self._files.values()
                for cls in facts.classes.values()
                for rel in cls.relationships.values()
                for side in (rel, rel.backref)
                if side is not None and (lazies is None or side.lazy in lazies)
            )
        return self._names_by_loading[lazies]

    def _backref_map(self) -> dict[int, dict[str, Relationship]]:
        """id(class) -> the relationships backrefs create on it, by attribute."""
        if self._backrefs is None:
            created: dict[int, dict[str, Relationship]] = {}
            sides: dict[int, tuple[MappedClass, Relationship]] = {}
            self._backrefs = created  # target resolution below never reads backrefs
            for facts in self._files.values():
                for cls in facts.classes.values():
                    for rel in cls.relationships.values():
                        target = self._target_class(rel) if rel.backref else None
                        if rel.backref is None or target is None:
                            continue  # no backref, or a target that is unknown or ambiguous
                        created.setdefault(id(target), {})[rel.backref.attribute] = rel.backref
                        sides[id(rel.backref)] = (target, rel)
            self._backref_sides = sides
        return self._backrefs

    def is_collection(self, rel: Relationship) -> bool | None:
        """Whether reading the attribute gives a list; None when the declarations cannot tell."""
        if rel.uselist is not None:
            return rel.uselist
        if rel.secondary or rel.lazy in DYNAMIC:
            return True
        if rel.created_by_backref:
            forward = self._forward_of(rel)
            if forward is None:
                return None
            direction = self.is_collection(forward)
            return None if direction is None else not direction or forward.secondary
        return self._direction_from_keys(rel)

    def _forward_of(self, backref: Relationship) -> Relationship | None:
        side = self._backref_side(backref)
        return side[1] if side is not None else None

    def _direction_from_keys(self, rel: Relationship) -> bool | None:
        """One-to-many or many-to-one, from `remote_side` and the foreign keys."""
        owner = self._owner_class(rel)
        target = self._target_class(rel)
        if owner is None or target is None:
            return None
        if rel.self_referential:
            if rel.remote_side is None:
                return True  # SQLAlchemy's default for a self-reference: one-to-many
            return not self._names_primary_key(owner, rel.remote_side)
        local = self._foreign_tables(owner, rel.foreign_keys)
        remote = self._foreign_tables(target, rel.foreign_keys)
        to_target, to_owner = self.tablename(target) in local, self.tablename(owner) in remote
        if to_target and not to_owner:
            return False
        if to_owner and not to_target:
            return True
        partner = self._partner(rel, target)
        if partner is not None and partner.uselist is not None:
            return not partner.uselist
        return None

    def _partner(self, rel: Relationship, target: MappedClass) -> Relationship | None:
        if rel.inverse is None or rel.created_by_backref:
            return None
        partner = target.relationships.get(rel.inverse)
        return partner if partner is not None and partner.inverse == rel.attribute else None

    def _names_primary_key(self, cls: MappedClass, remote_side: str) -> bool:
        names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", remote_side))
        primary = {name for ancestor in self.ancestors(cls)
                   for name, column in ancestor.columns.items() if column.primary_key}
        return bool(names & (primary or {"id"}))

    def _foreign_tables(self, cls: MappedClass, only: tuple[str, ...]) -> set[str]:
        tables = set()
        wanted = {name.rsplit(".", 1)[-1] for name in only}
        for ancestor in self.ancestors(cls):
            for name, column in ancestor.columns.items():
                if column.foreign_table and (not wanted or name in wanted):
                    tables.add(column.foreign_table)
        return tables

    def is_lookup_table(self, cls: MappedClass) -> bool:
        """A small lookup table: no foreign keys of its own and at most four columns.

        Such tables (asset types, units, statuses) hold a handful of rows, so a
        many-to-one to them is served from the identity map after the first few
        loads; the rules report it at a lower severity.
        """
        columns = [column for ancestor in self.ancestors(cls)
                   for column in ancestor.columns.values()]
        if not columns or len(columns) > 4 or self.has_unknown_bases(cls):
            return False
        return not any(column.foreign_table for column in columns)


_ADDS_NO_COLUMNS = {"object", "Generic", "ABC", "MappedAsDataclass", "SerializerMixin",
                    "UserMixin", "RoleMixin", *_DECLARATIVE_ROOTS}
"""Bases from libraries known to add no mapped columns: SQLAlchemy's own roots among them."""


def _module_path(path: str) -> str:
    stem = path[:-3] if path.endswith(".py") else path
    return stem.replace("\\", "/")


def _in_module_path(path: str, module: str) -> bool:
    """Whether the file is the module (`a/b.py` for `a.b`) or inside that package."""
    stem = _module_path(path)
    tail = module.lstrip(".").replace(".", "/")
    if not tail:
        return False
    if stem.endswith("/__init__"):
        stem = stem[: -len("/__init__")]
    return stem == tail or stem.endswith("/" + tail)


def _in_module(candidates: list[MappedClass], module: str) -> list[MappedClass]:
    """The classes defined in `module`; failing that, those in the package `module`."""
    exact = [cls for cls in candidates if _in_module_path(cls.path, module)]
    if exact:
        return exact
    tail = "/" + module.lstrip(".").replace(".", "/") + "/"
    return [cls for cls in candidates if tail in "/" + _module_path(cls.path)]


def _import_module(facts: FileModels, name: str) -> str | None:
    """`app.models` when the file has `from app.models import Name`."""
    qualified = facts.imports.get(name)
    if qualified is None or "." not in qualified:
        return None
    return qualified.rsplit(".", 1)[0]


def _snake_case(name: str) -> str:
    first = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", first).lower()


def _fingerprint(facts: FileModels) -> tuple[object, ...]:
    """What the models of a file mean, without positions: to tell a real change."""
    return (tuple(_class_fingerprint(cls) for cls in facts.classes.values()),
            *_module_fingerprint(facts))


def _class_fingerprint(cls: MappedClass) -> tuple[object, ...]:
    return (*_class_identity(cls),
            tuple(sorted((k, repr(v)) for k, v in cls.columns.items())),
            tuple(_relationship_fingerprint(rel) for rel in cls.relationships.values()),
            tuple(sorted(cls.indexed_names)), cls.table_args_opaque,
            tuple(sorted(cls.other_members)))


def _class_identity(cls: MappedClass) -> tuple[object, ...]:
    """What decides whether and how the class is mapped, apart from its members."""
    return cls.name, cls.bases, cls.tablename, cls.abstract, cls.declarative_root


def _relationship_fingerprint(rel: Relationship | None) -> tuple[object, ...] | None:
    if rel is None:
        return None
    backref = rel.backref
    return (rel.attribute, rel.target, rel.target_module, rel.lazy, rel.uselist,
            rel.secondary, rel.remote_side, rel.inverse,
            None if backref is None else (backref.attribute, backref.lazy, backref.uselist))


def _module_fingerprint(facts: FileModels) -> tuple[object, ...]:
    """The file's facts outside its classes: bases, aliases, module-level indexes, imports."""
    return (tuple(sorted(facts.roots)), tuple(sorted(facts.aliases.items())),
            tuple(sorted((k, tuple(sorted(v))) for k, v in facts.module_indexes.items())),
            tuple(sorted(facts.imports.items())))


def changed_words(old: FileModels | None, new: FileModels | None) -> set[str]:
    """The names whose ORM meaning differs between two versions of a file's facts.

    A file that mentions none of them gets the same findings from either
    version: rules reach models only through class names and attribute
    names written in the file. Every name of a changed class counts, since
    its subclasses elsewhere inherit all of them.
    """
    before = old.classes if old is not None else {}
    after = new.classes if new is not None else {}
    words: set[str] = set()
    for name in before.keys() | after.keys():
        was, now = before.get(name), after.get(name)
        if was is None or now is None or _class_fingerprint(was) != _class_fingerprint(now):
            words |= _class_difference(was, now)
    if _module_fingerprint(old or FileModels("")) != _module_fingerprint(new or FileModels("")):
        for facts in (old, new):
            if facts is None:
                continue  # the file had no facts on this side
            words |= facts.roots | set(facts.aliases) | set(facts.aliases.values())
            words |= set(facts.module_indexes).union(*facts.module_indexes.values())
            for cls in facts.classes.values():
                words |= _class_words(cls)  # bases may now resolve elsewhere
    return words


def _class_difference(was: MappedClass | None, now: MappedClass | None) -> set[str]:
    """The members that differ; everything, class name included, when the class itself does."""
    if was is None or now is None or _class_identity(was) != _class_identity(now):
        return {word for cls in (was, now) if cls is not None for word in _class_words(cls)}
    words = set(was.indexed_names ^ now.indexed_names) | (was.other_members ^ now.other_members)
    for name in was.columns.keys() | now.columns.keys():
        if repr(was.columns.get(name)) != repr(now.columns.get(name)):
            words.add(name)
    for name in was.relationships.keys() | now.relationships.keys():
        pair = (was.relationships.get(name), now.relationships.get(name))
        if _relationship_fingerprint(pair[0]) != _relationship_fingerprint(pair[1]):
            words.add(name)
            words.update(rel.backref.attribute for rel in pair
                         if rel is not None and rel.backref is not None)
    if was.table_args_opaque != now.table_args_opaque:
        words |= set(was.columns) | set(now.columns)  # which columns are indexed is unknown now
    return words


def _class_words(cls: MappedClass) -> set[str]:
    words = {cls.name, *cls.columns, *cls.relationships, *cls.indexed_names, *cls.other_members}
    words.update(rel.backref.attribute for rel in cls.relationships.values()
                 if rel.backref is not None)
    if cls.tablename:
        words.add(cls.tablename)
    return words


# -- reading one file -------------------------------------------------------------


def read_models(path: str, source: SourceFile) -> FileModels:
    """The model facts of one file, as plain data (the index cache stores them)."""
    facts = FileModels(path)
    for node in source.tree.children:
        try:
            _read_top_level(facts, source, node)
        except (AttributeError, IndexError, TypeError, ValueError) as error:
            facts.skipped.append(f"line {node.start_pos[0]}: {error}")
            logger.info("%s:%s: model statement skipped (%s)", path, node.start_pos[0], error)
    _keep_imports(facts, source)
    return facts


def _keep_imports(facts: FileModels, source: SourceFile) -> None:
    """The imports of the names that bases and aliases of the file refer to."""
    used: set[str] = set(facts.aliases.values())
    for cls in facts.classes.values():
        used.update(base.split(".", 1)[0] for base in cls.bases)
    if not used:
        return  # no class of the file names anything that could be imported
    names = ImportMap.of(source).names
    facts.imports = {name: names[name] for name in sorted(used) if name in names}


def _read_top_level(facts: FileModels, source: SourceFile, node: NodeOrLeaf) -> None:
    if node.type == "decorated":
        node = node.children[-1]  # type: ignore[attr-defined]
    if node.type == "classdef":
        _read_class(facts, source, node)  # type: ignore[arg-type]
        return
    if node.type == "if_stmt" or node.type == "try_stmt":
        for block in node.children:  # type: ignore[attr-defined]
            if block.type == "suite":
                for inner in block.children:
                    _read_top_level(facts, source, inner)
        return
    if node.type != "simple_stmt":
        return
    statement = node.children[0]  # type: ignore[attr-defined]
    if statement.type == "expr_stmt":
        _read_module_assignment(facts, statement)
    elif statement.type in ("atom_expr", "power"):
        _read_module_index(facts, statement)


def _read_module_assignment(facts: FileModels, statement: BaseNode) -> None:
    """`Base = declarative_base()`, `Base = reg.generate_base()`, `Asset = GenericAsset`."""
    children = statement.children
    if len(children) != 3 or children[0].type != "name" or children[1].type != "operator":
        return
    name, value = children[0].value, children[2]
    callee = _callee_name(value)
    if callee in ("declarative_base", "generate_base", "as_declarative_base"):
        facts.roots.add(name)
    elif value.type == "name" and value.value[:1].isupper():
        facts.aliases[name] = value.value
    elif callee == "Index" or callee == "UniqueConstraint":
        _read_module_index(facts, value)


def _read_module_index(facts: FileModels, call: NodeOrLeaf) -> None:
    """`Index("ix", Sensor.name)` at module level indexes Sensor.name."""
    if _callee_name(call) not in ("Index", "UniqueConstraint"):
        return
    for argument in _call_arguments(call)[0]:
        parts = dotted_parts(argument)
        if parts and len(parts) >= 2:
            facts.module_indexes.setdefault(parts[0], set()).add(parts[-1])


def _read_class(facts: FileModels, source: SourceFile, node: BaseNode) -> None:
    name = node.children[1].value
    bases = _bases(node)
    cls = MappedClass(name, facts.path, bases, Range.of(node.children[1]))
    if any(base.rsplit(".", 1)[-1] in _DECLARATIVE_ROOTS for base in bases):
        cls.declarative_root = True
    if _decorated_as_mapped(node):
        cls.bases = cls.bases + ("Model",)
    suite = node.children[-1]
    statements = suite.children if suite.type == "suite" else [suite]
    for statement in statements:
        try:
            _read_member(cls, source, statement)
        except (AttributeError, IndexError, TypeError, ValueError) as error:
            facts.skipped.append(f"{name} line {statement.start_pos[0]}: {error}")
            logger.info("%s: member of %s skipped (%s)", facts.path, name, error)
    if cls.declarative_root and not cls.columns and not cls.relationships:
        facts.roots.add(name)
    facts.classes[name] = cls


def _bases(node: BaseNode) -> tuple[str, ...]:
    children = node.children
    if len(children) < 5 or children[2].type != "operator" or children[2].value != "(":
        return ()
    arglist = children[3]
    if arglist.type == "operator":
        return ()
    items = arglist.children[::2] if arglist.type == "arglist" else [arglist]
    bases = []
    for item in items:
        if item.type == "argument":
            continue  # metaclass=..., keyword arguments of __init_subclass__
        parts = dotted_parts(item)
        if parts:
            bases.append(".".join(parts))
    return tuple(bases)


def _decorated_as_mapped(node: BaseNode) -> bool:
    parent = node.parent
    if parent is None or parent.type != "decorated":
        return False
    decorators = parent.children[0]
    code = decorators.get_code(include_prefix=False)
    return ".mapped" in code or "mapped_as_dataclass" in code or "as_declarative" in code


def _read_member(cls: MappedClass, source: SourceFile, statement: NodeOrLeaf) -> None:
    if statement.type == "decorated" or statement.type in ("funcdef", "async_funcdef"):
        _read_method(cls, source, statement)
        return
    if statement.type != "simple_stmt":
        return
    expr = statement.children[0]  # type: ignore[attr-defined]
    if expr.type != "expr_stmt" or expr.children[0].type != "name":
        return
    name = expr.children[0].value
    annotation, value = _annotation_and_value(expr)
    if name == "__tablename__" and value is not None and value.type == "string":
        cls.tablename = _string_value(value)
    elif name == "__abstract__":
        cls.abstract = value is not None and value.get_code(include_prefix=False) == "True"
    elif name == "__table_args__" and value is not None:
        _read_table_args(cls, value)
    elif value is not None and _callee_name(value) in ("relationship", "dynamic_loader"):
        _add_relationship(cls, source, name, expr.children[0], value, annotation)
    elif value is not None and _callee_name(value) in ("Column", "mapped_column", "column"):
        cls.columns[name] = _column(name, value, annotation)
    elif annotation is not None and _mapped_origin(annotation) is not None:
        _read_annotation_only(cls, source, name, expr.children[0], annotation)
    elif not name.startswith("__"):
        cls.other_members.add(name)


def _annotation_and_value(expr: BaseNode) -> tuple[NodeOrLeaf | None, NodeOrLeaf | None]:
    second = expr.children[1]
    if second.type == "annassign":
        annotation = second.children[1]
        value = second.children[3] if len(second.children) >= 4 else None
        return annotation, value
    if len(expr.children) == 3 and second.type == "operator" and second.value == "=":
        return None, expr.children[2]
    return None, None


def _read_method(cls: MappedClass, source: SourceFile, statement: NodeOrLeaf) -> None:
    """`@declared_attr def sensor(cls): return relationship(...)` in mixins; else a member."""
    function = _last_child(statement) if statement.type == "decorated" else statement
    if function.type == "async_funcdef":
        function = _last_child(function)
    if not isinstance(function, BaseNode):
        return  # half-typed: nothing to read
    name_node = function.children[1]
    name = _leaf_value(name_node)
    decorators = _first_child_code(statement) if statement.type == "decorated" else ""
    if "declared_attr" in decorators:
        returned = _returned_value(function)
        callee = _callee_name(returned)
        if returned is not None and callee in ("relationship", "dynamic_loader"):
            _add_relationship(cls, source, name, name_node, returned, None)
            return
        if returned is not None and callee in ("Column", "mapped_column"):
            cls.columns[name] = _column(name, returned)
            return
    cls.other_members.add(name)


def _last_child(node: NodeOrLeaf) -> NodeOrLeaf:
    return node.children[-1] if isinstance(node, BaseNode) else node


def _first_child_code(node: NodeOrLeaf) -> str:
    return node.children[0].get_code() if isinstance(node, BaseNode) else ""


def _leaf_value(node: NodeOrLeaf) -> str:
    return node.value if isinstance(node, Leaf) else node.get_code(include_prefix=False)


def _returned_value(function: BaseNode) -> NodeOrLeaf | None:
    for node in function.children[-1].children if function.children[-1].type == "suite" else []:
        if node.type == "simple_stmt" and node.children[0].type == "return_stmt":
            return node.children[0].children[1]
    return None


def _read_annotation_only(cls, source, name, name_node, annotation) -> None:
    """`parent: Mapped["Node"]` without a value: a column unless the type is a model."""
    origin = _mapped_origin(annotation)
    if origin is None:
        return
    inner, is_list = _mapped_inner(origin)
    if inner is not None and inner[:1].isupper() and (is_list or inner not in _PLAIN_TYPES):
        return  # a relationship declared elsewhere, or a custom type: not a column we know
    cls.columns[name] = Column(name, boolean=_annotated_bool(origin))


_PLAIN_TYPES = {"Decimal", "Any", "UUID", "JSON", "Enum", "Optional"}


def _read_table_args(cls: MappedClass, value: NodeOrLeaf) -> None:
    """Column names named in Index/UniqueConstraint/PrimaryKeyConstraint entries."""
    if value.type != "atom":
        cls.table_args_opaque = True
        return
    for node in _walk(value):
        callee = _callee_name(node) if node.type in ("atom_expr", "power") else None
        if callee not in ("Index", "UniqueConstraint", "PrimaryKeyConstraint"):
            continue
        positional, _ = _call_arguments(node)
        for argument in positional[1 if callee == "Index" else 0:]:
            if argument.type == "string":
                cls.indexed_names.add(_string_value(argument).split(".")[-1])
            else:
                parts = dotted_parts(argument)
                if parts:
                    cls.indexed_names.add(parts[-1])
        if callee != "Index":
            first = positional[0] if positional else None
            if first is not None and first.type == "string":
                cls.indexed_names.add(_string_value(first))


def _column(name: str, call: NodeOrLeaf, annotation: NodeOrLeaf | None = None) -> Column:
    positional, keywords = _call_arguments(call)
    column = Column(name)
    column.primary_key = _is_true(keywords.get("primary_key"))
    column.unique = _is_true(keywords.get("unique"))
    column.indexed = _is_true(keywords.get("index"))
    for argument in positional:
        if _callee_name(argument) == "ForeignKey":
            target = _call_arguments(argument)[0]
            column.foreign_table = _foreign_table(target[0]) if target else None
    types = [_type_name(argument) for argument in [*positional, keywords.get("type_")]
             if argument is not None]
    origin = _mapped_origin(annotation) if annotation is not None else None
    column.boolean = "Boolean" in types or (
        not any(types) and origin is not None and _annotated_bool(origin))
    return column


def _type_name(argument: NodeOrLeaf) -> str | None:
    """`Boolean` for `db.Boolean`, `sa.Boolean()` or `Boolean`; None for anything but a type."""
    parts = dotted_parts(argument)
    name = parts[-1] if parts else _callee_name(argument)
    if name is None or not name[:1].isupper() or name == "ForeignKey":
        return None
    return "Boolean" if name == "BOOLEAN" else name


def _annotated_bool(origin: NodeOrLeaf) -> bool:
    """`bool`, `bool | None` or `Optional[bool]` as the X of `Mapped[X]`."""
    text = origin.get_code(include_prefix=False).replace(" ", "")
    return text in ("bool", "bool|None", "None|bool", "Optional[bool]", "typing.Optional[bool]")


def _foreign_table(argument: NodeOrLeaf) -> str | None:
    """"generic_asset" for `ForeignKey("generic_asset.id")`; `Class.id` gives its class."""
    if argument.type == "string":
        text = _string_value(argument)
        return text.rsplit(".", 1)[0].split(".")[-1] if "." in text else None
    parts = dotted_parts(argument)
    if parts and len(parts) >= 2:
        return _snake_case(parts[-2])
    return None


def _add_relationship(cls: MappedClass, source: SourceFile, name: str, name_node: NodeOrLeaf,
                      call: NodeOrLeaf, annotation: NodeOrLeaf | None) -> None:
    positional, keywords = _call_arguments(call)
    target, module = _target_name(positional[0], source) if positional else (None, None)
    uselist = _bool_literal(keywords.get("uselist"))
    if annotation is not None:
        annotated, is_list = _annotated_target(annotation)
        if target is None and annotated is not None:
            target, module = annotated, _imported_module(source, annotated)
        if uselist is None and annotated is not None:
            uselist = is_list
    rel = Relationship(
        owner=cls.name,
        attribute=name,
        target=target,
        lazy=_lazy(keywords.get("lazy"), _callee_name(call)),
        path=cls.path,
        range=Range.of(name_node),
        uselist=uselist,
        secondary="secondary" in keywords,
        remote_side=_code(keywords.get("remote_side")),
        foreign_keys=_names_in(keywords.get("foreign_keys")),
        inverse=_string_or_none(keywords.get("back_populates")),
        viewonly=_is_true(keywords.get("viewonly")),
        target_module=module,
    )
    backref = keywords.get("backref")
    if backref is not None and target is not None:
        rel.backref = _backref(rel, backref)
        if rel.backref is not None:
            rel.inverse = rel.backref.attribute
    cls.relationships[name] = rel


def _backref(forward: Relationship, node: NodeOrLeaf) -> Relationship | None:
    """The relationship a `backref="name"` or `backref("name", lazy=...)` adds to the target."""
    keywords: dict[str, NodeOrLeaf] = {}
    if node.type == "string":
        name = _string_value(node)
    elif _callee_name(node) == "backref":
        positional, keywords = _call_arguments(node)
        if not positional or positional[0].type != "string":
            return None
        name = _string_value(positional[0])
    else:
        return None
    return Relationship(
        owner=forward.target or "",
        attribute=name,
        target=forward.owner,
        lazy=_lazy(keywords.get("lazy"), "relationship"),
        path=forward.path,
        range=Range.of(node),
        uselist=_bool_literal(keywords.get("uselist")),
        secondary=forward.secondary,
        remote_side=_code(keywords.get("remote_side")),
        inverse=forward.attribute,
        created_by_backref=True,
        viewonly=forward.viewonly,
    )


def _lazy(node: NodeOrLeaf | None, callee: str | None) -> str:
    if callee == "dynamic_loader":
        return "dynamic"
    if node is None:
        return LAZY
    if node.type == "string":
        value = _string_value(node)
        return LAZY if value == "select" else value
    code = node.get_code(include_prefix=False)
    return _LAZY_VALUES.get(code, "unknown")


def _target_name(node: NodeOrLeaf, source: SourceFile) -> tuple[str | None, str | None]:
    """("Asset", "app.models") for `"app.models.Asset"`, `models.Asset` or an imported `Asset`.

    A string is a name in SQLAlchemy's class registry, optionally module-qualified;
    an expression is a class of this module or of the module it was imported from.
    """
    if node.type == "string":
        module, _, name = _string_value(node).rpartition(".")
        return (name or None), (module or None)
    if node.type == "lambdef":
        return _target_name(node.children[-1], source)  # type: ignore[attr-defined]
    parts = dotted_parts(node)
    if not parts:
        return None, None
    if len(parts) == 1:
        return parts[0], _imported_module(source, parts[0])
    head = ImportMap.of(source).resolve(parts[0]) or parts[0]
    return parts[-1], ".".join([head, *parts[1:-1]])


def _imported_module(source: SourceFile, name: str) -> str | None:
    """`app.models` when the file has `from app.models import Name`."""
    qualified = ImportMap.of(source).resolve(name)
    if qualified is None or "." not in qualified:
        return None
    return qualified.rsplit(".", 1)[0]


def _annotated_target(annotation: NodeOrLeaf) -> tuple[str | None, bool]:
    origin = _mapped_origin(annotation)
    if origin is None:
        return None, False
    return _mapped_inner(origin)


def _mapped_origin(annotation: NodeOrLeaf) -> NodeOrLeaf | None:
    """The `X` of `Mapped[X]` (also WriteOnlyMapped, DynamicMapped), else None."""
    if annotation.type == "string":
        return None
    if annotation.type not in ("atom_expr", "power"):
        return None
    head = annotation.get_code(include_prefix=False).split("[", 1)[0].rsplit(".", 1)[-1]
    if head not in ("Mapped", "WriteOnlyMapped", "DynamicMapped"):
        return None
    last = _last_child(annotation)
    if not isinstance(last, BaseNode) or last.type != "trailer":
        return None
    if _leaf_value(last.children[0]) != "[":
        return None
    if head != "Mapped":
        return _FakeList(last.children[1])  # type: ignore[return-value]
    return last.children[1]


class _FakeList:
    """`WriteOnlyMapped[X]` reads like `Mapped[list[X]]` for the collection question."""

    type = "fake_list"

    def __init__(self, inner: NodeOrLeaf):
        self.inner = inner


def _mapped_inner(node) -> tuple[str | None, bool]:
    """("Sensor", True) for `list["Sensor"]`, ("Asset", False) for `Optional[Asset]`."""
    if isinstance(node, _FakeList):
        return _mapped_inner(node.inner)[0], True
    if node.type == "string":
        text = _string_value(node)
        if "[" in text:
            head, inner = text.split("[", 1)
            inner = inner.rstrip("]").strip().strip("'\"")
            is_list = head.rsplit(".", 1)[-1] in _CONTAINER_ANNOTATIONS
            return inner.split("|")[0].strip().split(".")[-1], is_list
        return text.split("|")[0].strip().split(".")[-1], False
    if node.type in ("expr", "or_expr"):
        members = [child for child in node.children[::2]
                   if child.get_code(include_prefix=False) != "None"]
        return _mapped_inner(members[0]) if members else (None, False)
    if node.type in ("atom_expr", "power") and node.children[-1].type == "trailer":
        last = node.children[-1]
        head = node.get_code(include_prefix=False).split("[", 1)[0].rsplit(".", 1)[-1]
        if last.children[0].value == "[":
            inner = last.children[1]
            if inner.type == "subscriptlist":
                inner = inner.children[-1]
            if head in _CONTAINER_ANNOTATIONS:
                return _mapped_inner(inner)[0], True
            if head in _SCALAR_WRAPPERS:
                return _mapped_inner(inner)
    parts = dotted_parts(node)
    return (parts[-1], False) if parts else (None, False)


# -- small syntax helpers -----------------------------------------------------------


def _callee_name(node: NodeOrLeaf | None) -> str | None:
    """`relationship` for `db.relationship(...)` / `sa.orm.relationship(...)`."""
    if node is None or node.type not in ("atom_expr", "power"):
        return None
    children = node.children  # type: ignore[attr-defined]
    last = children[-1]
    if last.type != "trailer" or last.children[0].value != "(":
        return None
    if len(children) == 2 and children[0].type == "name":
        return children[0].value
    before = children[-2]
    if before.type == "trailer" and before.children[0].value == ".":
        return before.children[1].value
    return None


def _call_arguments(call: NodeOrLeaf) -> tuple[list[NodeOrLeaf], dict[str, NodeOrLeaf]]:
    """Positional arguments and keyword arguments of the call that ends `call`."""
    trailer = call.children[-1]  # type: ignore[attr-defined]
    if len(trailer.children) < 3:
        return [], {}
    inner = trailer.children[1]
    items = inner.children[::2] if inner.type == "arglist" else [inner]
    positional, keywords = [], {}
    for item in items:
        if item.type == "argument":
            first = item.children[0]
            if first.type == "name" and len(item.children) == 3:
                keywords[first.value] = item.children[2]
            continue  # *args, **kwargs, generator arguments
        positional.append(item)
    return positional, keywords


def _string_value(node: NodeOrLeaf) -> str:
    code = node.get_code(include_prefix=False)
    match = re.match(r"^[rRbBuU]*('''|\"\"\"|'|\")(.*)\1$", code, re.S)
    return match.group(2) if match else code.strip("'\"")


def _string_or_none(node: NodeOrLeaf | None) -> str | None:
    return _string_value(node) if node is not None and node.type == "string" else None


def _is_true(node: NodeOrLeaf | None) -> bool:
    return node is not None and node.get_code(include_prefix=False) == "True"


def _bool_literal(node: NodeOrLeaf | None) -> bool | None:
    if node is None:
        return None
    code = node.get_code(include_prefix=False)
    return {"True": True, "False": False}.get(code)


def _code(node: NodeOrLeaf | None) -> str | None:
    return None if node is None else node.get_code(include_prefix=False)


def _names_in(node: NodeOrLeaf | None) -> tuple[str, ...]:
    """Column names in `foreign_keys=[account_id]` or `foreign_keys="[Sensor.asset_id]"`."""
    if node is None:
        return ()
    text = _string_value(node) if node.type == "string" else node.get_code(include_prefix=False)
    return tuple(re.findall(r"[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*", text))


def _walk(node: NodeOrLeaf) -> Iterator[NodeOrLeaf]:
    yield node
    for child in getattr(node, "children", ()):
        yield from _walk(child)
