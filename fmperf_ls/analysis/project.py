"""Facts about the whole workspace that one file cannot tell: the ORM models.

The index is updated file by file (`update`, `remove`), never rebuilt, so the
language server can keep it current while the user types in a model file.
Only files that can define mapped classes are parsed: a cheap text prefilter
runs first, because parsing every file of a large tree costs seconds. Modules
listed in `extend-model-modules` skip the prefilter: a module of aliases
(`Asset = GenericAsset`) or of subclasses of a base defined elsewhere has none
of the words it looks for. With a cache folder, the facts of each parsed text
are kept on disk by content, so an unchanged tree is indexed without parsing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fmperf_ls.analysis.index_cache import IndexCache, content_key
from fmperf_ls.analysis.models import (
    FileModels,
    ModelIndex,
    could_define_models,
    may_hold_model_facts,
    read_models,
)
from fmperf_ls.analysis.module_files import ModuleFiles
from fmperf_ls.analysis.outline import outline_of
from fmperf_ls.analysis.source import SourceFile

logger = logging.getLogger(__name__)


@dataclass
class _Seen:
    """What the index last took in for a path: a hash of its text, and its content key."""

    text_hash: int
    key: str | None
    """The content key of the facts in the index; None when the prefilter skipped it."""


def _may_hold_facts(text: str, path: str, source: SourceFile | None) -> bool:
    """The `ast` test of `may_hold_model_facts`; a text `ast` cannot read goes to parso."""
    if source is not None and source.parsed:
        return True  # the tree is there already: reading it costs less than compiling
    outline = source.outline if source is not None else outline_of(text, path)
    return outline is None or may_hold_model_facts(outline)


class ProjectIndex:
    """Workspace facts keyed by file path.

    `cache_dir`: a folder for the on-disk facts (e.g. `root / ".fmperf_cache"`);
    None keeps everything in memory. `model_modules`: the `extend-model-modules`
    setting, dotted module names, files or folders under `root`.
    """

    def __init__(self, root: Path | None = None, cache_dir: Path | None = None,
                 model_modules: Iterable[str] = ()):
        self.root = root
        self.models = ModelIndex()
        self.modules = ModuleFiles(root)
        self._seen: dict[str, _Seen] = {}
        self._cache = IndexCache(cache_dir) if cache_dir is not None else None
        self._forced: set[str] = set()
        self.parsed = 0
        """How many texts were parsed (the rest came from the cache or the prefilter)."""
        self.set_model_modules(model_modules)

    # -- extend-model-modules ----------------------------------------------------------

    def set_model_modules(self, entries: Iterable[str]) -> list[Path]:
        """Index these modules whatever the prefilter says; returns their files.

        The caller (a new setting in the server) passes the returned files to
        `index_files` so that modules the prefilter skipped are read now.
        """
        entries = tuple(entries)
        if not entries or self.root is None:
            self._forced = set()
            return []
        from fmperf_ls.discovery import model_module_files  # discovery reads settings

        files = model_module_files(entries, self.root)
        self._forced = {os.path.realpath(path) for path in files}
        for path, seen in list(self._seen.items()):
            if seen.key is None and os.path.realpath(path) in self._forced:
                del self._seen[path]  # skipped by the prefilter: read it on the next update
        return files

    def is_model_module(self, path: str) -> bool:
        """Whether `extend-model-modules` names this file."""
        return bool(self._forced) and os.path.realpath(path) in self._forced

    def is_test_module(self, path: str) -> bool:
        """A module of tests: under a `tests` or `test` folder of the project, or named
        `test_*.py`, `*_test.py` or `conftest.py`. Folders above the root do not count."""
        file = Path(path)
        folders = file.parent.parts
        if self.root is not None and file.is_relative_to(self.root):
            folders = file.parent.relative_to(self.root).parts
        name = file.name
        return (any(folder in ("tests", "test") for folder in folders)
                or name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py")

    def knows(self, path: str, text: str) -> bool:
        """Whether this very text of the file is indexed: checking it adds nothing."""
        seen = self._seen.get(path)
        return seen is not None and seen.text_hash == hash(text)

    # -- updates ----------------------------------------------------------------------

    def update(self, path: str, text: str, source: SourceFile | None = None, *,
               force: bool = False) -> bool:
        """Take in the current text of a file; True when the models it defines changed.

        `force` indexes the file even when the text prefilter would skip it, as
        files named by `extend-model-modules` always are.
        """
        seen = self._seen.get(path)
        if seen is None:
            self.modules.files_changed()
        text_hash = hash(text)
        if seen is not None and seen.text_hash == text_hash and (seen.key or not force):
            return False  # the same text as last time, already indexed as it should be
        forced = force or self.is_model_module(path)
        wanted = forced or could_define_models(text)
        if not wanted:
            self._seen[path] = _Seen(text_hash, None)
            return self.models.remove_file(path)
        key = content_key(text)
        self._seen[path] = _Seen(text_hash, key)
        if seen is not None and seen.key is not None and seen.key != key:
            self._forget(seen.key)
        facts = self._facts(path, text, source, key, forced)
        if facts is None:
            return self.models.remove_file(path)
        return self.models.update_facts(path, facts)

    def _facts(self, path: str, text: str, source: SourceFile | None,
               key: str, forced: bool) -> FileModels | None:
        """The facts of the text: from the cache when it knows them, else parsed.

        A text whose `ast` shows nothing the reader looks for has no facts and
        is not parsed; a forced module is parsed anyway (a module of aliases).
        """
        if self._cache is not None:
            cached = self._cache.get(key, path)
            if cached is not None:
                return cached
        if not forced and not _may_hold_facts(text, path, source):
            facts = FileModels(path)
            if self._cache is not None:
                self._cache.put(key, facts)
            return facts
        try:
            parsed = source if source is not None else SourceFile(text, path)
            facts = read_models(path, parsed)
        except Exception:  # a broken model file must not take the index down
            logger.exception("indexing %s failed; its models are skipped", path)
            return None
        self.parsed += 1
        if self._cache is not None:
            self._cache.put(key, facts)
        return facts

    def _forget(self, key: str) -> None:
        """Drop unsaved facts of a text no file has any more (an editor's older version)."""
        if self._cache is not None and all(seen.key != key for seen in self._seen.values()):
            self._cache.forget(key)

    def remove(self, path: str) -> bool:
        self.modules.files_changed()
        seen = self._seen.pop(path, None)
        if seen is not None and seen.key is not None:
            self._forget(seen.key)
        return self.models.remove_file(path)

    def save_cache(self) -> None:
        """Write newly parsed facts to the cache folder (a no-op without one).

        Called after indexing a batch of files, not on every keystroke: only the
        facts of the texts indexed now (and a bounded number of older ones) are kept.
        """
        if self._cache is None:
            return  # no cache folder: facts live in memory only
        live = {seen.key for seen in self._seen.values() if seen.key is not None}
        self._cache.save(live)

    def index_files(self, paths: Iterable[Path]) -> int:
        """Read and index files from disk; returns how many define models."""
        count = 0
        for path in paths:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                logger.debug("not indexed: %s (%s)", path, error)
                continue
            self.update(str(path), text)
            count += self.models.defines_models(str(path))
        self.save_cache()
        return count
