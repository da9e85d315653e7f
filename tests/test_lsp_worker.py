"""The analysis worker: documents overtake indexing, failures reach the caller."""

from __future__ import annotations

import threading

import pytest

from fmperf_ls.lsp.worker import DOCUMENT, INDEX, Worker


def test_document_jobs_run_before_waiting_index_jobs():
    worker = Worker("test-worker")
    gate, order = threading.Event(), []
    blocker = worker.submit(INDEX, gate.wait)
    jobs = [worker.submit(INDEX, order.append, "index"),
            worker.submit(DOCUMENT, order.append, "document")]

    gate.set()
    blocker.result(5)
    for job in jobs:
        job.result(5)
    worker.stop()

    assert order == ["document", "index"]


def test_a_failing_job_hands_its_error_to_the_caller():
    worker = Worker("test-worker")

    with pytest.raises(ZeroDivisionError):
        worker.submit(DOCUMENT, lambda: 1 / 0).result(5)
    assert worker.submit(DOCUMENT, lambda: 2).result(5) == 2
    worker.stop()
