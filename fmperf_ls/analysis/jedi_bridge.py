"""The one place that talks to jedi, wrapped so that it can only say "unknown".

jedi raises a small zoo of exceptions on odd code and can be slow on first
touch of a large library; every call here is narrow, timed by the caller's
budget, and any failure is logged at debug level and becomes None.
"""

from __future__ import annotations

import logging
from pathlib import Path

from parso.python.tree import Name
from parso.tree import NodeOrLeaf

from fmperf_ls.analysis.source import SourceFile

logger = logging.getLogger(__name__)


class JediBridge:
    def __init__(self, project_root: Path | None, site_packages: tuple[str, ...] = ()):
        self._root = project_root
        self._site_packages = site_packages
        self._project = None
        self._modules: dict[str, SourceFile] = {}

    def _jedi_project(self):
        if self._project is None:
            import jedi

            self._project = jedi.Project(
                path=str(self._root or Path.cwd()),
                added_sys_path=list(self._site_packages),
                smart_sys_path=True,
                load_unsafe_extensions=False,
            )
        return self._project

    def definition_of(self, source: SourceFile, name: Name) -> NodeOrLeaf | None:
        """The parso node, in its own parsed module, that defines `name`."""
        try:
            import jedi

            script = jedi.Script(source.text, path=source.path, project=self._jedi_project())
            line, column = name.start_pos
            found = script.goto(line, column, follow_imports=True)
        except Exception as error:  # jedi raises many kinds; none may escape
            logger.debug("jedi goto failed for %s in %s: %s", name.value, source.path, error)
            return None
        for definition in found:
            path = definition.module_path
            if path is None or definition.line is None or definition.type != "function":
                continue
            module = self._module(Path(path))
            if module is None:
                continue
            leaf = module.tree.get_leaf_for_position((definition.line, definition.column))
            node = leaf.parent if leaf is not None else None
            if node is not None and node.type == "funcdef":
                return node
        return None

    def _module(self, path: Path) -> SourceFile | None:
        key = str(path)
        if key not in self._modules:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            module = SourceFile(text, key)
            register_source(module)
            self._modules[key] = module
        return self._modules[key]


_SOURCES: dict[int, SourceFile] = {}
"""Parsed modules by id of their tree: parso nodes have __slots__ and take no extra
attributes. Each entry holds its tree alive, so an id is never reused while listed."""


def register_source(source: SourceFile) -> None:
    """Let `source_of_tree` find the SourceFile of a module parsed outside the engine."""
    _SOURCES[id(source.tree)] = source


def source_of_tree(root: NodeOrLeaf) -> SourceFile | None:
    return _SOURCES.get(id(root))
