"""Which local names stand for which library objects, from a file's imports.

`import pandas as pd` makes `pd.read_csv` mean `pandas.read_csv`; `from
sqlalchemy.orm import selectinload as sil` makes `sil` mean
`sqlalchemy.orm.selectinload`. Imports anywhere in the file count (also those
inside functions): a file rarely binds one name to two libraries.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parso.tree import NodeOrLeaf

if TYPE_CHECKING:
    from fmperf_ls.analysis.outline import Outline
    from fmperf_ls.analysis.source import SourceFile


@dataclass
class ImportMap:
    names: dict[str, str]
    """Local name -> dotted name it was imported as."""

    @classmethod
    def of(cls, source: SourceFile) -> ImportMap:
        cached = getattr(source, "_import_map", None)
        if cached is None:
            cached = cls(_collect(source))
            source._import_map = cached  # type: ignore[attr-defined]
        return cached

    @classmethod
    def of_outline(cls, outline: Outline) -> ImportMap:
        """The map of a module known only by its `ast` outline (another module's)."""
        return cls(_collect_from_ast(outline))

    def resolve(self, local: str) -> str | None:
        return self.names.get(local)

    def refers_to(self, local: str, module: str) -> bool:
        """Whether `local` is `module` itself or something imported from it."""
        target = self.names.get(local)
        return target is not None and (target == module or target.startswith(module + "."))

    def imports_any(self, *modules: str) -> bool:
        return any(
            target == module or target.startswith(module + ".")
            for target in self.names.values()
            for module in modules
        )

    def qualified(self, node: NodeOrLeaf) -> str | None:
        """`pandas.read_csv` for the expression `pd.read_csv`, None if not imported."""
        parts = dotted_parts(node)
        if not parts:
            return None
        head = self.names.get(parts[0])
        if head is None:
            return None
        return ".".join([head, *parts[1:]])


def dotted_parts(node: NodeOrLeaf) -> list[str] | None:
    """['pd', 'read_csv'] for `pd.read_csv`; None for anything but a dotted name."""
    if node.type == "name":
        return [node.value]  # type: ignore[attr-defined]
    if node.type not in ("atom_expr", "power", "dotted_name"):
        return None
    children = node.children  # type: ignore[attr-defined]
    if node.type == "dotted_name":
        return [child.value for child in children if child.type == "name"]
    if children[0].type != "name":
        return None
    parts = [children[0].value]
    for trailer in children[1:]:
        if trailer.type != "trailer" or trailer.children[0].value != ".":
            return None
        parts.append(trailer.children[1].value)
    return parts


def _collect(source: SourceFile) -> dict[str, str]:
    outline = source.built_outline
    if not source.parsed and outline is not None:
        return _collect_from_ast(outline)
    names: dict[str, str] = {}
    for node in source.nodes("import_name", "import_from"):
        try:
            _add(node, names)
        except (AttributeError, IndexError, TypeError):
            continue  # half-typed import: nothing to learn from it
    return names


def _collect_from_ast(outline: Outline) -> dict[str, str]:
    """The same map from `ast`, for a file no rule has parsed with parso yet.

    Most rules ask what a file imports before anything else, and most files
    then turn out to hold nothing they look for.
    """
    plain = sorted(outline.nodes(ast.Import), key=_place)
    from_imports = sorted(outline.nodes(ast.ImportFrom), key=_place)

    names: dict[str, str] = {}  # in the parso walk's order: plain imports, then from-imports
    for statement in plain:
        for alias in statement.names:
            head = alias.name.partition(".")[0]
            names[alias.asname or head] = alias.name if alias.asname else head
    for node in from_imports:
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name != "*":
                local = alias.asname or alias.name
                names[local] = f"{module}.{alias.name}" if module else alias.name
    return names


def _place(node: ast.Import | ast.ImportFrom) -> tuple[int, int]:
    return node.lineno, node.col_offset


def _add(node, names: dict[str, str]) -> None:
    if node.type == "import_name":
        for path, alias in zip(node.get_paths(), _aliases(node), strict=False):
            dotted = ".".join(part.value for part in path)
            if alias is not None:
                names[alias] = dotted
            else:
                names[path[0].value] = path[0].value
        return
    if node.level:
        module = "." * node.level + ".".join(part.value for part in node.get_from_names())
    else:
        module = ".".join(part.value for part in node.get_from_names())
    if node.is_star_import():
        return
    for imported, alias in node._as_name_tuples():
        local = (alias or imported).value
        names[local] = f"{module}.{imported.value}" if module else imported.value


def _aliases(node) -> list[str | None]:
    """The `as` name of each dotted path in `import a.b as c, d`."""
    result: list[str | None] = []
    for _path, alias in node._dotted_as_names():
        result.append(alias.value if alias is not None else None)
    return result
