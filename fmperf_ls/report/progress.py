"""A one-line progress bar on stderr, for long runs in a terminal only.

Nothing is drawn when stderr is not a terminal (CI logs, pipes, editors), and
nothing for short runs: the bar appears once a run has more than
`MANY_FILES` files or has taken longer than `SLOW_SECONDS`.
"""

from __future__ import annotations

import time
from typing import TextIO

MANY_FILES = 200
SLOW_SECONDS = 1.0
REDRAW_SECONDS = 0.1
WIDTH = 30


class Progress:
    def __init__(self, total: int, stream: TextIO, enabled: bool | None = None):
        self.total = total
        self.stream = stream
        self.enabled = _is_terminal(stream) if enabled is None else enabled
        self.done = 0
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.visible = False

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.monotonic()
        long_run = self.total > MANY_FILES or now - self.started > SLOW_SECONDS
        if long_run and (now - self.drawn_at >= REDRAW_SECONDS or self.done >= self.total):
            self._draw()
            self.drawn_at = now

    def close(self) -> None:
        """Erase the bar, so that what follows starts on a clean line."""
        if self.visible:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.visible = False

    def _draw(self) -> None:
        share = self.done / self.total if self.total else 1.0
        filled = int(WIDTH * share)
        bar = "#" * filled + "-" * (WIDTH - filled)
        self.stream.write(f"\rfmperf [{bar}] {self.done}/{self.total} files")
        self.stream.flush()
        self.visible = True


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
