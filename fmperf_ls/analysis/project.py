"""Facts about the whole workspace that one file cannot tell: the ORM models.

The index is updated file by file (`update`, `remove`), never rebuilt, so the
language server can keep it current while the user types in a model file.
Only files that can define mapped classes are parsed: a cheap text prefilter
runs first, because parsing every file of a large tree costs seconds.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from fmperf_ls.analysis.models import ModelIndex, could_define_models
from fmperf_ls.analysis.source import SourceFile

logger = logging.getLogger(__name__)


class ProjectIndex:
    """Workspace facts keyed by file path."""

    def __init__(self, root: Path | None = None):
        self.root = root
        self.models = ModelIndex()
        self._texts: dict[str, int] = {}

    def update(self, path: str, text: str, source: SourceFile | None = None) -> bool:
        """Take in the current text of a file; True when the models it defines changed."""
        key = hash(text)
        if self._texts.get(path) == key:
            return False
        self._texts[path] = key
        if not could_define_models(text):
            return self.models.remove_file(path)
        try:
            parsed = source if source is not None else SourceFile(text, path)
            return self.models.update_file(path, parsed)
        except Exception:  # a broken model file must not take the index down
            logger.exception("indexing %s failed; its models are skipped", path)
            return self.models.remove_file(path)

    def remove(self, path: str) -> bool:
        self._texts.pop(path, None)
        return self.models.remove_file(path)

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
        return count
