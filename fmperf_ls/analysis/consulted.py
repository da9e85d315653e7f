"""The other files an analysis read, so that a result kept on disk is used only while
they stay as they were.

A finding in one file can rest on another: a helper's return annotation, a
callee that reads a relationship, a schema declared elsewhere. The command
line caches findings per file; it records here which other files the check
of a file consulted and serves the cached result only while each of them has
the same size and modification time. Outside a recording (the editor, which
keeps no cache) noting a file costs nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator

_RECORDING: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "fmperf_consulted", default=None
)

Stamp = tuple[str, int, int]
"""(path, modification time in ns, size) of one consulted file."""


def note(path: str | os.PathLike[str]) -> None:
    """The running analysis read `path` (a module other than the one it checks)."""
    recording = _RECORDING.get()
    if recording is not None:
        recording.add(os.fspath(path))


@contextlib.contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the files noted while the block runs."""
    noted: set[str] = set()
    token = _RECORDING.set(noted)
    try:
        yield noted
    finally:
        _RECORDING.reset(token)


def stamps(paths: set[str], exclude: str) -> list[Stamp]:
    """The stamps of the noted files but `exclude` (the checked file itself), sorted.

    A file that cannot be read any more gets a stamp no file has, so that the
    result resting on it is never served.
    """
    found = []
    for path in sorted(paths - {exclude}):
        try:
            status = os.stat(path)
            found.append((path, status.st_mtime_ns, status.st_size))
        except OSError:
            found.append((path, -1, -1))
    return found


def unchanged(stamped: list[Stamp]) -> bool:
    """Whether every file still has the stamp it had when the result was computed."""
    for path, mtime_ns, size in stamped:
        try:
            status = os.stat(path)
        except OSError:
            return False
        if status.st_mtime_ns != mtime_ns or status.st_size != size:
            return False
    return True
