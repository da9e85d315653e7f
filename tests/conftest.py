"""Shared test helpers: checking examples the way the CLI and the server do."""

from __future__ import annotations

import pytest

from fmperf_ls.rules import all_rules


@pytest.fixture(scope="session")
def rules():
    return all_rules()
