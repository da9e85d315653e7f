"""Which files a run checks, and which it reads to learn the project's models.

Walking follows ruff's habits: hidden folders, virtual environments, caches and
build output are skipped, and so is whatever git ignores (a bundled copy of a
library, generated code); `exclude` globs from `[tool.fmperf]` prune whole
folders; a file named explicitly on the command line is always checked.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fmperf_ls.config import Settings

logger = logging.getLogger(__name__)

SKIPPED_FOLDERS = frozenset({
    "__pycache__", "__pypackages__", "node_modules", "site-packages", "venv", "build",
    "dist", "_build", "buck-out",
})  # fmt: skip


@dataclass(frozen=True)
class Target:
    """One file to check: how to show it, and where it is."""

    display: str
    """The path as given on the command line joined with the file's relative path."""
    path: Path
    """The resolved absolute path, the identity of the file within a run."""


def is_skipped_folder(folder: Path) -> bool:
    """Folders nobody wants checked: hidden ones, caches, build output, virtualenvs."""
    name = folder.name
    if name.startswith(".") and name not in (".", ".."):
        return True
    return name in SKIPPED_FOLDERS or (folder / "pyvenv.cfg").is_file()


def walk_python_files(folder: Path, settings: Settings) -> Iterator[Path]:
    """Every `.py` file below `folder`, in a stable order, minus skipped and excluded ones."""
    ignored = git_ignored_folders(str(folder.resolve()))
    yield from _walk(folder, settings, ignored)


def _walk(folder: Path, settings: Settings, ignored: frozenset[str]) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as error:
        logger.warning("cannot list %s: %s", folder, error)
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            if is_skipped_folder(path) or settings.excludes(path):
                continue
            if ignored and os.path.realpath(path) in ignored:
                continue  # git ignores it: bundled libraries, generated code
            yield from _walk(path, settings, ignored)
        elif entry.name.endswith(".py") and entry.is_file() and not settings.excludes(path):
            if not (ignored and os.path.realpath(path) in ignored):
                yield path


@lru_cache(maxsize=32)
def git_ignored_folders(folder: str) -> frozenset[str]:
    """Folders and .py files below `folder` that git ignores, as real paths.

    Empty outside a git work tree.

    One `git ls-files` call lists them (`--directory` stops at the top ignored
    folder), so the walk never descends into a bundled site-packages.
    """
    command = ["git", "-C", folder, "ls-files", "--others", "--ignored", "--exclude-standard",
               "--directory"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as error:
        logger.debug("git ls-files failed in %s: %s", folder, error)
        return frozenset()
    if done.returncode != 0:
        return frozenset()  # not a git work tree: nothing is ignored
    return frozenset(
        os.path.realpath(os.path.join(folder, line.rstrip("/")))
        for line in done.stdout.splitlines()
        if line.endswith(("/", ".py"))
    )


def targets(given: list[str], settings: Settings) -> list[Target]:
    """The files to check for the paths given on the command line, without duplicates."""
    found: dict[Path, Target] = {}
    for argument in given:
        start = Path(argument)
        if start.is_file():
            resolved = start.resolve()
            found.setdefault(resolved, Target(os.path.normpath(argument), resolved))
            continue
        for path in walk_python_files(start, settings):
            display = os.path.normpath(os.path.join(argument, path.relative_to(start)))
            found.setdefault(path.resolve(), Target(display, path.resolve()))
    return sorted(found.values(), key=lambda target: target.display)


def project_root(given: list[str], pyproject: Path | None) -> Path:
    """The folder whose files make up the project: the pyproject's, else the common one."""
    if pyproject is not None:
        return pyproject.parent.resolve()
    resolved = [Path(argument).resolve() for argument in given]
    folders = [path if path.is_dir() else path.parent for path in resolved]
    return Path(os.path.commonpath([str(folder) for folder in folders]))


def model_module_files(entries: tuple[str, ...], root: Path) -> list[Path]:
    """Files named by `extend-model-modules`: dotted module names, files or folders.

    A dotted name is looked up under the root and under `root/src`, the two
    layouts projects use; nothing is imported to find it.
    """
    found: list[Path] = []
    for entry in entries:
        candidates = _candidates(entry, root)
        existing = [path for path in candidates if path.exists()]
        if not existing:
            logger.warning("extend-model-modules: %s not found under %s", entry, root)
            continue
        first = existing[0]
        if first.is_dir():
            found.extend(walk_python_files(first, Settings()))
        else:
            found.append(first.resolve())
    return found


def _candidates(entry: str, root: Path) -> list[Path]:
    if entry.endswith(".py") or "/" in entry or os.sep in entry:
        path = Path(entry)
        return [path if path.is_absolute() else root / path]
    parts = entry.split(".")
    paths = []
    for base in (root, root / "src"):
        module = base.joinpath(*parts)
        paths += [module.with_name(module.name + ".py"), module]  # a package: all of it
    return paths
