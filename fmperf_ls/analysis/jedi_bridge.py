"""The one place that talks to jedi, wrapped so that it can only say "unknown".

jedi raises a small zoo of exceptions on odd code and can be slow on first
touch of a large library; every call here is narrow, timed by the caller's
budget, and any failure is logged at debug level and becomes None.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

from parso.cache import parser_cache
from parso.python.tree import Module, Name
from parso.tree import NodeOrLeaf

from fmperf_ls.analysis import consulted
from fmperf_ls.analysis.scopes import definitions_before
from fmperf_ls.analysis.source import Range, SourceFile

logger = logging.getLogger(__name__)

_MAX_MODULES = 256
"""Parsed modules jedi led to; enough for a project's helpers, bounded for long sessions."""
_MAX_ANSWERS = 4096


class JediBridge:
    """jedi for one project.

    `files_fixed`: the files on disk do not change while this bridge lives (a
    command-line run), so the trees jedi parsed can serve the rules too. In
    the editor they may change, and jedi then updates its trees in place.
    """

    def __init__(self, project_root: Path | None, site_packages: tuple[str, ...] = (),
                 files_fixed: bool = False):
        self._files_fixed = files_fixed
        self._root = project_root
        self._site_packages = site_packages
        self._project = None
        self._modules: OrderedDict[str, SourceFile] = OrderedDict()
        self._script: tuple[tuple[str, int], Any] | None = None
        self._answers: dict[tuple[str, int, tuple[int, int]], NodeOrLeaf | None] = {}

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
        """The parso node, in its own parsed module, that defines `name`.

        Answers are kept per text and position: rules ask about the same helper
        call more than once, and each question would otherwise cost a goto.
        """
        key = (source.path, hash(source.text), name.start_pos)
        if key not in self._answers:
            if len(self._answers) >= _MAX_ANSWERS:
                self._answers.clear()
            self._answers[key] = self._lookup(source, name)
        found = self._answers[key]
        module = source_of_tree(found.get_root_node()) if found is not None else None
        if module is not None:
            consulted.note(module.path)
        return found

    def _goto_through_import(self, source: SourceFile, name: Name) -> list | None:
        """Ask jedi about `import line + expression` instead of the whole file.

        Most questions are about a helper imported from another module. A
        two-line script with just that import resolves the same way (relative
        imports too, since the path is the file's), while a script of the
        whole file makes jedi parse all of it again: most of a cold run's time.
        None when the name does not come straight from an import.
        """
        import jedi

        head, expression = _dotted_expression_ending_at(source, name)
        if head is None:
            return None
        definitions = definitions_before(head)
        statement = definitions[0].get_definition() if definitions else None
        if statement is None or statement.type not in ("import_from", "import_name"):
            return None
        code = statement.get_code(include_prefix=False).rstrip() + "\n"
        line = code.count("\n") + 1
        script = jedi.Script(code + expression + "\n", path=source.path,
                             project=self._jedi_project())
        return script.goto(line, len(expression) - len(name.value), follow_imports=True)

    def _script_for(self, source: SourceFile):
        """One jedi.Script per text: creating one parses the whole file again."""
        import jedi

        key = (source.path, hash(source.text))
        if self._script is None or self._script[0] != key:
            script = jedi.Script(source.text, path=source.path, project=self._jedi_project())
            self._script = (key, script)
        return self._script[1]

    def _lookup(self, source: SourceFile, name: Name) -> NodeOrLeaf | None:
        try:
            found = self._goto_through_import(source, name)
            if found is None:
                line, column = name.start_pos
                found = self._script_for(source).goto(line, column, follow_imports=True)
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
        """The parsed module at `path`; the least recently used ones are let go."""
        key = str(path)
        module = self._modules.pop(key, None)
        if module is None:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            tree = _parsed_by_jedi(path, text) if self._files_fixed else None
            module = SourceFile(text, key, tree=tree)
            register_source(module)
        self._modules[key] = module
        if len(self._modules) > _MAX_MODULES:
            _, oldest = self._modules.popitem(last=False)
            forget_source(oldest)
        return module


def _parsed_by_jedi(path: Path, text: str) -> Module | None:
    """The tree jedi parsed of this text while answering, from parso's memory cache.

    jedi has just parsed the module a definition lies in; parsing it again
    for the rules doubled the cost of following a helper. Nothing is taken
    unless the cached lines are exactly the text.
    """
    for trees in parser_cache.values():
        item = trees.get(path)
        if item is not None and "".join(item.lines) == text:
            return item.node
    return None


_SOURCES: dict[int, SourceFile] = {}
"""Parsed modules by id of their tree: parso nodes have __slots__ and take no extra
attributes. Each entry holds its tree alive, so an id is never reused while listed."""


def register_source(source: SourceFile) -> None:
    """Let `source_of_tree` find the SourceFile of a module parsed outside the engine."""
    _SOURCES[id(source.tree)] = source


def _dotted_expression_ending_at(source: SourceFile, name: Name) -> tuple[Name | None, str]:
    """(`helpers`, "helpers.load") for the name `load` in `helpers.load(...)`."""
    parent = name.parent
    if parent is None or parent.type != "trailer":
        return name, name.value
    chain = parent.parent
    head = chain.children[0] if chain is not None else None  # type: ignore[union-attr]
    if head is None or head.type != "name":
        return None, ""
    text = source.text[source.offset(Range.of(head).start):source.offset(Range.of(name).end)]
    if any(char in text for char in "([\n"):
        return None, ""  # a call or subscript on the way: not a plain dotted name
    return head, text


def forget_source(source: SourceFile) -> None:
    if "tree" in source.__dict__:
        _SOURCES.pop(id(source.tree), None)


def source_of_tree(root: NodeOrLeaf) -> SourceFile | None:
    return _SOURCES.get(id(root))
