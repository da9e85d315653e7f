"""Small projects on disk and ways to run `fmperf` on them, shared by the CLI tests."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from fmperf_ls.cli import main

READ = textwrap.dedent('''\
    import pandas as pd


    def evening_peak(prices: pd.DataFrame) -> float:
        evening = prices[prices.hour >= 17]["price"]
        return float(evening.max())
    ''')
"""One FMP201 finding with a safe fix, at 5:15 (1-based line and column)."""

WRITE = textwrap.dedent('''\
    import pandas as pd


    def clear_evening(prices: pd.DataFrame) -> None:
        prices[prices.hour >= 17]["price"] = 0.0
    ''')
"""One FMP201 chained assignment (an error) whose fix is unsafe."""

CLEAN = "import pandas as pd\n\n\ndef total(frame: pd.DataFrame) -> float:\n    return 1.0\n"


def project(root: Path, files: dict[str, str | bytes], config: str = "") -> Path:
    """Write a pyproject.toml (with `config` under [tool.fmperf]) and the files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "demo"\n\n[tool.fmperf]\n{config}')
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def run_cli(cwd: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """`fmperf ARGS` as a user runs it, in a separate process."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "fmperf_ls.cli", *args],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=120, **kwargs,
    )


def call(capsys, cwd: Path, *args: str) -> tuple[int, str, str]:
    """`fmperf ARGS` in this process, for speed; returns (exit code, stdout, stderr)."""
    previous, root = Path.cwd(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    os.chdir(cwd)
    try:
        code = main(list(args))
    finally:
        os.chdir(previous)
        root.handlers[:], root.level = handlers, level  # main() set up its own
    captured = capsys.readouterr()
    return code, captured.out, captured.err
