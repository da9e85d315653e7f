"""The model facts of each file on disk, keyed by its content, so a restart parses nothing.

Parsing the model modules of a large project with parso costs about a second;
their facts (classes, columns, relationships) are a few kilobytes of plain
data. One JSON file in the cache folder holds them, keyed by a digest of each
file's text, stamped with the fmperf version and a digest of the code that
reads them: facts written by another version are never served. Facts carry no
path, so a renamed or copied file is still a hit. A corrupt store or entry is
a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import fmperf_ls
from fmperf_ls.analysis import models
from fmperf_ls.analysis.models import Column, FileModels, MappedClass, Relationship
from fmperf_ls.analysis.source import Position, Range

logger = logging.getLogger(__name__)

STORE = "model-index.json"
_FORMAT = 2
_KEPT_STALE = 200
"""Entries of texts no longer current (another branch, an older edit) kept on save."""
_READERS = ("models.py", "imports.py", "source.py")
"""The modules whose code decides what the facts of a text are."""

Entry = dict[str, Any]


def content_key(text: str) -> str:
    """A digest of the text: the same text anywhere in the project has the same facts."""
    data = text.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def reader_stamp() -> str:
    """The version, the store format and a digest of the code that reads the facts."""
    digest = hashlib.blake2b(digest_size=12)
    folder = Path(models.__file__).parent
    for name in _READERS:
        try:
            digest.update((folder / name).read_bytes())
        except OSError:
            digest.update(name.encode())  # a zipped install: the version must do
    return f"{fmperf_ls.__version__}:{_FORMAT}:{digest.hexdigest()}"


class IndexCache:
    """Facts by content key, read once from the store and written back on `save`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / STORE
        self.stamp = reader_stamp()
        self._stored: dict[str, Entry] | None = None
        self._fresh: dict[str, Entry] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str, path: str) -> FileModels | None:
        """The facts of a text with this key, placed at `path`; None when unknown or unusable."""
        entry = self._fresh.get(key) or self._entries().get(key)
        if entry is None:
            self.misses += 1
            return None
        try:
            facts = facts_from_entry(entry, path)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            logger.debug("index cache entry %s ignored: %s", key, error)
            self._entries().pop(key, None)
            self.misses += 1
            return None
        self.hits += 1
        return facts

    def put(self, key: str, facts: FileModels) -> None:
        self._fresh[key] = facts_to_entry(facts)

    def forget(self, key: str) -> None:
        """Drop facts not yet saved: typing in a model file must not pile them up."""
        self._fresh.pop(key, None)

    def save(self, live: set[str]) -> None:
        """Write the entries of the current texts (and a few older ones) when any is new."""
        if not self._fresh:
            return  # everything came from the store: it is up to date
        stored = self._entries()
        entries = {key: self._fresh.get(key) or stored[key]
                   for key in sorted(live) if key in self._fresh or key in stored}
        stale = [key for key in stored if key not in entries]
        for key in stale[:_KEPT_STALE]:
            entries[key] = stored[key]
        if self._write({"format": _FORMAT, "stamp": self.stamp, "entries": entries}):
            self._stored = entries
            self._fresh = {}

    def _entries(self) -> dict[str, Entry]:
        if self._stored is None:
            self._stored = self._read()
        return self._stored

    def _read(self) -> dict[str, Entry]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            logger.info("index cache %s ignored: %s", self.path, error)
            return {}
        if not isinstance(data, dict) or data.get("stamp") != self.stamp:
            logger.debug("index cache %s is from another version: not used", self.path)
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def _write(self, data: dict[str, Any]) -> bool:
        """Replace the store in one step; a read-only folder just means no cache."""
        try:
            _prepare(self.folder)
            text = json.dumps(data, separators=(",", ":"))  # one write: faster than dump()
            descriptor, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        except OSError as error:
            logger.info("index cache not written to %s: %s", self.path, error)
            return False
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, self.path)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            logger.info("index cache not written to %s: %s", self.path, error)
            return False
        return True


def _prepare(folder: Path) -> None:
    """Create the folder, marked so that git and backup tools leave it alone."""
    if folder.is_dir():
        return  # made by an earlier run, or by the findings cache
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".gitignore").write_text("# created by fmperf\n*\n", encoding="utf-8")
    (folder / "CACHEDIR.TAG").write_text(
        "Signature: 8a477f597d28d172789f06886806bc55\n", encoding="utf-8"
    )


# -- facts as JSON ---------------------------------------------------------------------


def facts_to_entry(facts: FileModels) -> Entry:
    return {
        "classes": [_class_to_entry(cls) for cls in facts.classes.values()],
        "roots": sorted(facts.roots),
        "aliases": facts.aliases,
        "module_indexes": {name: sorted(columns)
                           for name, columns in facts.module_indexes.items()},
        "imports": facts.imports,
        "skipped": facts.skipped,
    }


def facts_from_entry(entry: Entry, path: str) -> FileModels:
    facts = FileModels(path)
    for item in entry["classes"]:
        cls = _class_from_entry(item, path)
        facts.classes[cls.name] = cls
    facts.roots = {_text(name) for name in entry["roots"]}
    facts.aliases = {_text(key): _text(value) for key, value in entry["aliases"].items()}
    facts.module_indexes = {_text(name): {_text(column) for column in columns}
                            for name, columns in entry["module_indexes"].items()}
    facts.imports = {_text(key): _text(value) for key, value in entry["imports"].items()}
    facts.skipped = [_text(line) for line in entry["skipped"]]
    return facts


def _class_to_entry(cls: MappedClass) -> Entry:
    return {
        "name": cls.name,
        "bases": list(cls.bases),
        "range": _range_to_list(cls.range),
        "tablename": cls.tablename,
        "abstract": cls.abstract,
        "declarative_root": cls.declarative_root,
        "columns": [[column.name, column.primary_key, column.unique, column.indexed,
                     column.foreign_table, column.boolean] for column in cls.columns.values()],
        "relationships": [_relationship_to_entry(rel) for rel in cls.relationships.values()],
        "indexed_names": sorted(cls.indexed_names),
        "table_args_opaque": cls.table_args_opaque,
        "other_members": sorted(cls.other_members),
    }


def _class_from_entry(item: Entry, path: str) -> MappedClass:
    cls = MappedClass(_text(item["name"]), path, tuple(map(_text, item["bases"])),
                      _range_from_list(item["range"]))
    cls.tablename = _optional_text(item["tablename"])
    cls.abstract = bool(item["abstract"])
    cls.declarative_root = bool(item["declarative_root"])
    for name, primary_key, unique, indexed, foreign_table, boolean in item["columns"]:
        cls.columns[_text(name)] = Column(_text(name), bool(primary_key), bool(unique),
                                          bool(indexed), _optional_text(foreign_table),
                                          bool(boolean))
    for rel_item in item["relationships"]:
        rel = _relationship_from_entry(rel_item, path)
        cls.relationships[rel.attribute] = rel
    cls.indexed_names = set(map(_text, item["indexed_names"]))
    cls.table_args_opaque = bool(item["table_args_opaque"])
    cls.other_members = set(map(_text, item["other_members"]))
    return cls


def _relationship_to_entry(rel: Relationship) -> Entry:
    return {
        "owner": rel.owner,
        "attribute": rel.attribute,
        "target": rel.target,
        "lazy": rel.lazy,
        "range": _range_to_list(rel.range),
        "uselist": rel.uselist,
        "secondary": rel.secondary,
        "remote_side": rel.remote_side,
        "foreign_keys": list(rel.foreign_keys),
        "inverse": rel.inverse,
        "created_by_backref": rel.created_by_backref,
        "viewonly": rel.viewonly,
        "target_module": rel.target_module,
        "backref": None if rel.backref is None else _relationship_to_entry(rel.backref),
    }


def _relationship_from_entry(item: Entry, path: str) -> Relationship:
    uselist = item["uselist"]
    backref = item["backref"]
    return Relationship(
        owner=_text(item["owner"]),
        attribute=_text(item["attribute"]),
        target=_optional_text(item["target"]),
        lazy=_text(item["lazy"]),
        path=path,
        range=_range_from_list(item["range"]),
        uselist=None if uselist is None else bool(uselist),
        secondary=bool(item["secondary"]),
        remote_side=_optional_text(item["remote_side"]),
        foreign_keys=tuple(map(_text, item["foreign_keys"])),
        inverse=_optional_text(item["inverse"]),
        created_by_backref=bool(item["created_by_backref"]),
        viewonly=bool(item["viewonly"]),
        target_module=_optional_text(item["target_module"]),
        backref=None if backref is None else _relationship_from_entry(backref, path),
    )


def _range_to_list(span: Range) -> list[int]:
    return [span.start.line, span.start.column, span.end.line, span.end.column]


def _range_from_list(values: list[int]) -> Range:
    line, column, end_line, end_column = (int(value) for value in values)
    return Range(Position(line, column), Position(end_line, end_column))


def _text(value: object) -> str:
    """A string from the store; anything else means the entry is not ours."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {type(value).__name__}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)
