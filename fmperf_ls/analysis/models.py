"""ORM facts: mapped classes, relationships, loader strategies, columns, indexes.

Interface placeholder while the model index is written (issue 3).
"""

from __future__ import annotations

from fmperf_ls.analysis.source import SourceFile


def could_define_models(text: str) -> bool:
    """A cheap text test: can this file define a mapped class at all?"""
    return "relationship" in text or "Column" in text or "mapped_column" in text


class ModelIndex:
    def __init__(self) -> None:
        self._files: dict[str, object] = {}

    def update_file(self, path: str, source: SourceFile) -> bool:
        return False

    def remove_file(self, path: str) -> bool:
        return self._files.pop(path, None) is not None

    def defines_models(self, path: str) -> bool:
        return path in self._files
