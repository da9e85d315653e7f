"""A worker thread that runs analysis jobs by priority, off the event loop.

Parsing and checking are CPU work: on the event loop they would stall every
request behind a keystroke. One thread per worker keeps the engine's state
(the project index, jedi's caches) single-threaded, and the priority queue
lets a newly opened document overtake workspace indexing.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

DOCUMENT = 0
"""A pass over a document the user is looking at."""
INDEX = 1
"""Workspace indexing and workspace diagnostics, in small chunks."""
BACKGROUND = 2


class Worker:
    """One daemon thread draining a priority queue of jobs."""

    def __init__(self, name: str):
        self.name = name
        self._jobs: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._drain, name=name, daemon=True)
        self._thread.start()

    def submit(self, priority: int, job: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((priority, next(self._order), job, args, future))
        return future

    async def run(self, priority: int, job: Callable[..., T], *args: Any) -> T:
        """Run a job on the worker and wait for it without blocking the loop."""
        return await asyncio.wrap_future(self.submit(priority, job, *args))

    def stop(self) -> None:
        self._jobs.put((-1, -1, None, (), None))

    def _drain(self) -> None:
        while True:
            _, _, job, args, future = self._jobs.get()
            if job is None:
                return  # the stop marker: the thread ends
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while it waited: a newer version replaced it
            try:
                future.set_result(job(*args))
            except BaseException as error:  # handed to the waiting coroutine
                future.set_exception(error)
