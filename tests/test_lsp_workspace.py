"""Workspace helpers: which files are indexed, and what jedi is told about the user's venv."""

from __future__ import annotations

import sys
from pathlib import Path

from fmperf_ls.config import Settings
from fmperf_ls.lsp.workspace import collect_python_files, interpreter_paths


def test_collects_python_files_but_not_venvs_caches_or_excluded(tmp_path: Path):
    for name in ("app/models.py", "app/views.py", ".git/hook.py", "venv/lib/x.py",
                 "app/__pycache__/m.py", "generated/big.py", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")

    found = collect_python_files([tmp_path], Settings(exclude=("generated",)))

    assert sorted(Path(path).relative_to(tmp_path).as_posix() for path in found) == [
        "app/models.py", "app/views.py"]


def test_the_interpreter_tells_its_site_packages():
    paths = interpreter_paths(sys.executable)

    assert paths and all("site-packages" in path for path in paths)


def test_a_missing_interpreter_means_no_extra_paths():
    assert interpreter_paths("/nonexistent/bin/python") == ()
    assert interpreter_paths(None) == ()
