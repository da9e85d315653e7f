"""The on-disk cache of findings per file, under `.fmperf_cache/` at the project root.

An entry is found by the file's content and project-relative path; entries live
in a folder named after everything else that changes findings: the fmperf
version (and a stamp of its own code, so a development checkout never serves
stale results), the settings fingerprint and the project's model facts. A
model edited anywhere therefore invalidates every ORM finding. A corrupt or
unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import fmperf_ls
from fmperf_ls.analysis.source import Position, Range, SyntaxProblem
from fmperf_ls.rules.base import Confidence, Edit, Finding, Fix, Related, Safety, Severity

logger = logging.getLogger(__name__)

FOLDER = ".fmperf_cache"
KEPT_CONTEXTS = 4
"""How many cache folders (settings x models x version) survive a run."""

_FORMAT = 1


def code_stamp() -> str:
    """The version plus the sizes and times of fmperf's own modules."""
    package = Path(fmperf_ls.__file__).parent
    stamps = []
    for path in sorted(package.rglob("*.py")):
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}")
    return fmperf_ls.__version__ + ":" + _digest("\n".join(stamps).encode())


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def entry_key(relative_path: str, content: bytes) -> str:
    return _digest(relative_path.encode() + b"\0" + content)


class Cache:
    """Findings by entry key, in one folder per context."""

    def __init__(self, root: Path, context: str):
        self.base = root / FOLDER
        self.folder = self.base / _digest(f"{_FORMAT}:{context}".encode())
        self.writable = True

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._entry(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.debug("cache entry %s ignored: %s", path, error)
            return None
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            logger.debug("cache entry %s ignored: unexpected content", path)
            return None
        return data

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Write an entry atomically; a read-only project just has no cache."""
        if not self.writable:
            return  # an earlier write failed: do not try, and log, 500 more times
        path = self._entry(key)
        try:
            self._prepare(path.parent)
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                json.dump({**entry, "format": _FORMAT}, stream, separators=(",", ":"))
            os.replace(temporary, path)
        except OSError as error:
            logger.debug("cache disabled: cannot write %s (%s)", path, error)
            self.writable = False

    def prune(self) -> None:
        """Keep the folders of the few most recently used contexts, drop older ones."""
        try:
            folders = [entry for entry in self.base.iterdir() if entry.is_dir()]
            folders.sort(key=lambda folder: folder.stat().st_mtime, reverse=True)
        except OSError:
            return  # no cache folder yet (or an unreadable one): nothing to prune
        for folder in folders[KEPT_CONTEXTS:]:
            if folder != self.folder:
                shutil.rmtree(folder, ignore_errors=True)

    def _entry(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def _prepare(self, shard: Path) -> None:
        if shard.is_dir():
            return  # the common case: created by an earlier entry
        if not self.base.is_dir():
            self.base.mkdir(parents=True, exist_ok=True)
            (self.base / ".gitignore").write_text("# created by fmperf\n*\n", encoding="utf-8")
            (self.base / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n", encoding="utf-8"
            )
        shard.mkdir(parents=True, exist_ok=True)
        os.utime(self.folder)  # the context folder was used now: prune keeps it


# -- findings as JSON ------------------------------------------------------------------


def range_to_list(span: Range) -> list[int]:
    return [span.start.line, span.start.column, span.end.line, span.end.column]


def range_from_list(values: list[int]) -> Range:
    line, column, end_line, end_column = values
    return Range(Position(line, column), Position(end_line, end_column))


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    fix = finding.fix
    return {
        "code": finding.code,
        "range": range_to_list(finding.range),
        "message": finding.message,
        "severity": finding.severity.value,
        "confidence": finding.confidence.value,
        "cost": finding.cost,
        "related": [
            [related.path, range_to_list(related.range), related.message]
            for related in finding.related
        ],
        "fix": None if fix is None else {
            "message": fix.message,
            "safety": fix.safety.value,
            "edits": [
                [range_to_list(edit.range), edit.new_text, edit.path] for edit in fix.edits
            ],
        },
    }


def finding_from_dict(data: dict[str, Any]) -> Finding:
    fix = data["fix"]
    return Finding(
        code=data["code"],
        range=range_from_list(data["range"]),
        message=data["message"],
        severity=Severity(data["severity"]),
        confidence=Confidence(data["confidence"]),
        cost=data["cost"],
        related=tuple(
            Related(path, range_from_list(span), message)
            for path, span, message in data["related"]
        ),
        fix=None if fix is None else Fix(
            fix["message"],
            tuple(Edit(range_from_list(span), text, path) for span, text, path in fix["edits"]),
            Safety(fix["safety"]),
        ),
    )


def problem_to_dict(problem: SyntaxProblem | None) -> dict[str, Any] | None:
    if problem is None:
        return None
    return {"range": range_to_list(problem.range), "message": problem.message}


def problem_from_dict(data: dict[str, Any] | None) -> SyntaxProblem | None:
    if data is None:
        return None
    return SyntaxProblem(range_from_list(data["range"]), data["message"])
