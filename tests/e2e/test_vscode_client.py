"""The VS Code extension: its unit tests, and the .vsix in a real VS Code.

Both run the extension's own scripts (vscode-client/): `npm test` (node's test
runner with a stub `vscode` module) and `e2e/run.sh`, which packages the
.vsix, installs it into code-server on 127.0.0.1 and drives it with headless
Chromium through an N+1 finding, its hover and its quick fix. They are slow
(minutes), so they run once each here. On CI a missing tool is a failure;
locally, without node or chromium, the tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "vscode-client"


def require(tool: str) -> None:
    if shutil.which(tool) is not None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is missing on CI; scripts/test-all.sh installs it")
    pytest.skip(f"{tool} is not installed; CI always runs this test")


def run(command: list[str], minutes: int) -> None:
    """Run a client script; on failure, show its last output in the assertion."""
    done = subprocess.run(
        command, cwd=CLIENT, capture_output=True, text=True, timeout=minutes * 60
    )
    tail = (done.stdout + done.stderr)[-6000:]
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{tail}"


def test_extension_unit_tests():
    require("npm")
    if not (CLIENT / "node_modules").is_dir():
        run(["npm", "ci", "--no-audit", "--no-fund"], minutes=10)

    run(["npm", "test"], minutes=5)


def test_vsix_in_code_server_shows_hovers_and_fixes_an_n_plus_one():
    require("npm")
    require("chromium")

    run(["bash", "e2e/run.sh", "--scenario", "orm"], minutes=20)


def test_untrusted_workspace_runs_only_the_bundled_server():
    require("npm")
    require("chromium")
    if not list(CLIENT.glob("fmperf-*.vsix")):
        run(["npm", "run", "package"], minutes=10)

    run(["bash", "e2e/run.sh", "--scenario", "pandas", "--untrusted", "--no-build"], minutes=10)
