"""The project file an import names, found on disk without importing anything.

Rules that follow a call into another module (FMP102 reading a callee's
parameters, FMP101 trusting a helper's `-> list[Asset]`) follow project code
only: a library cannot annotate with the project's mapped classes, and the
attribute it reads on an argument is not the project's relationship by
intent. Knowing which imports are project code also lets a rule's gate look
at the callee's module through a cheap `ast` outline before any parse or
jedi lookup.

A module is project code when its file lies under the project root, under
`root/src`, or in the package tree of the importing file (the folder above
its topmost `__init__.py`), the places an import of a project module resolves
to when the project runs from its root.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

from fmperf_ls.analysis import consulted
from fmperf_ls.analysis.outline import Definition, Outline, outline_of

_MAX_OUTLINES = 32
"""Outlines of other modules kept per process: a gate asks about a few modules
again and again, and an outline of a large module weighs some megabytes."""


class ModuleFiles:
    """Imported modules' files and outlines for one project root."""

    def __init__(self, root: Path | None):
        self.root = root
        self._files: dict[tuple[str, str], Path | None] = {}
        self._outlines: OrderedDict[Path, tuple[tuple[int, int], Outline | None]] = OrderedDict()

    def file_of(self, importer: str, module: str) -> Path | None:
        """The project file of `module` (`pkg.mod` or a relative `.mod`) imported by `importer`.

        None when the project holds no such module: a library, the standard
        library, or a module the project does not have.
        """
        if self.root is None or not module:
            return None
        folder = os.path.dirname(os.path.abspath(importer))
        key = (folder, module)
        if key not in self._files:
            self._files[key] = _first_existing(_candidates(self.root, folder, module))
        return self._files[key]

    def files_changed(self) -> None:
        """A file appeared or went away: where imports lead is looked up again."""
        self._files.clear()

    def follows(self, importer: str, qualified: str) -> bool:
        """Whether a name `importer` imported as `qualified` (`pkg.mod.f`) is project code.

        Without a root every import counts: nothing can be told apart.
        """
        if self.root is None:
            return True
        module = qualified.rpartition(".")[0]
        return self.file_of(importer, module) is not None

    def definition(self, importer: str, qualified: str) -> tuple[Outline, Definition] | None:
        """The module outline and the one `def` or `class` that `pkg.mod.name` names there.

        None when the module is not project code, cannot be read, or binds the
        name otherwise or more than once (a re-export, a def per branch): then
        only jedi can tell what an importer gets.
        """
        module, _, name = qualified.rpartition(".")
        path = self.file_of(importer, module)
        outline = self.outline(path) if path is not None else None
        found = outline.sole_definition(name) if outline is not None else None
        return (outline, found) if outline is not None and found is not None else None

    def outline(self, path: Path) -> Outline | None:
        """A module file's outline, read again when the file changes on disk.

        None when it cannot be read or compiled: then nothing can be ruled out.
        """
        consulted.note(path)
        try:
            status = path.stat()
            stamp = (status.st_mtime_ns, status.st_size)
        except OSError:
            return None
        kept = self._outlines.pop(path, None)
        if kept is None or kept[0] != stamp:
            kept = (stamp, _read_outline(path))
        self._outlines[path] = kept
        while len(self._outlines) > _MAX_OUTLINES:
            self._outlines.popitem(last=False)
        return kept[1]


def _candidates(root: Path, folder: str, module: str) -> list[Path]:
    level = len(module) - len(module.lstrip("."))
    parts = [part for part in module.lstrip(".").split(".") if part]
    if level:
        base = Path(folder)
        for _ in range(level - 1):
            base = base.parent
        bases = [base]
    else:
        bases = list(dict.fromkeys([_package_base(Path(folder)), root, root / "src"]))
    found = []
    for base in bases:
        module_path = base.joinpath(*parts)
        if parts:
            found.append(module_path.with_name(module_path.name + ".py"))
        found.append(module_path / "__init__.py")  # a package, or `from . import f`
    return found


def _package_base(folder: Path) -> Path:
    """The folder above the topmost package that holds `folder`: where imports start."""
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


def _first_existing(paths: list[Path]) -> Path | None:
    return next((path for path in paths if path.is_file()), None)


def _read_outline(path: Path) -> Outline | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return outline_of(text, str(path))
