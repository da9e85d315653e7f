"""Lines changed since a git revision, for `fmperf check --since REV`.

A pull request should be reviewed for what it touches: the working tree is
compared with REV (`git diff -U0`), and files git does not track yet count as
changed in full. The analysis itself still sees the whole project.
"""

from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")


class GitError(Exception):
    """git is missing, the folder is not a repository, or the revision is unknown."""


@dataclass(frozen=True)
class ChangedLines:
    """1-based changed lines per resolved path; None as a value means the whole file."""

    by_file: dict[Path, frozenset[int] | None]

    def touches(self, path: Path, first_line: int, last_line: int) -> bool:
        """Whether any line of [first_line, last_line] (1-based) changed in `path`."""
        if path not in self.by_file:
            return False
        lines = self.by_file[path]
        if lines is None:
            return True
        return any(line in lines for line in range(first_line, last_line + 1))


def changed_since(revision: str, folder: Path) -> ChangedLines:
    """What changed in the working tree of the repository holding `folder` since `revision`."""
    top = Path(_git(["rev-parse", "--show-toplevel"], folder).strip())
    _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], top,
         f"unknown revision {revision!r}")
    diff = _git(["diff", "-U0", "--no-color", "--no-ext-diff", "--no-renames", revision, "--"],
                top)
    by_file: dict[Path, frozenset[int] | None] = dict(_parse_diff(diff, top))
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], top)
    for name in filter(None, untracked.split("\0")):
        by_file[(top / name).resolve()] = None
    return ChangedLines(by_file)


def _parse_diff(diff: str, top: Path) -> dict[Path, frozenset[int]]:
    """Added or modified lines of the new side of each file in a `-U0` diff."""
    found: dict[Path, set[int]] = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            current = None if name == "/dev/null" else found.setdefault(
                (top / _unquote(name)[2:]).resolve(), set()
            )
            continue
        match = _HUNK.match(line)
        if match is None or current is None:
            continue  # a header line, or a deleted file: nothing new to report on
        start = int(match.group("start"))
        count = 1 if match.group("count") is None else int(match.group("count"))
        current.update(range(start, start + count))
    return {path: frozenset(lines) for path, lines in found.items()}


def _unquote(name: str) -> str:
    """git quotes unusual file names C-style: `"b/na\\303\\257ve.py"`."""
    if not (name.startswith('"') and name.endswith('"')):
        return name
    raw = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
    return raw.encode("latin-1").decode("utf-8", "replace")


def _git(arguments: list[str], folder: Path, failure: str | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", *arguments], cwd=folder, capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise GitError(f"cannot run git: {error}") from None
    if done.returncode != 0:
        message = failure or done.stderr.strip() or f"git {arguments[0]} failed"
        raise GitError(message)
    return done.stdout
