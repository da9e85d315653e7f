"""The README's first command: `fmperf check examples/` shows every rule at work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fmperf_ls.rules import all_rules

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_project_trips_every_rule():
    done = subprocess.run(
        [sys.executable, "-m", "fmperf_ls.cli", "check", "examples/", "--format", "json",
         "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )

    assert done.returncode == 1, done.stderr
    found = {finding["code"] for finding in json.loads(done.stdout)}
    assert found == set(all_rules())
