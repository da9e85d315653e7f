"""Real project layouts: same-named models in several apps, and folders git ignores."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fmperf_ls.analysis.project import ProjectIndex
from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.config import Settings
from fmperf_ls.discovery import git_ignored_folders, walk_python_files
from fmperf_ls.engine import Engine

MODELS = '''
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import backref

db = SQLAlchemy()


class Asset(db.Model):
    id = db.Column(db.Integer, primary_key=True)


class Sensor(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    asset_id = db.Column(db.Integer, db.ForeignKey("asset.id"))
    asset = db.relationship("Asset", backref=backref("sensors", lazy={lazy!r}))
'''

SERVICE = '''
from .models import Asset


def sensor_counts():
    return {asset.id: len(asset.sensors) for asset in Asset.query.all()}
'''


def test_a_relative_import_picks_the_model_of_its_own_package(tmp_path: Path):
    """Another app's `Asset` (eager there) must not hide this app's lazy one."""
    files = {
        "billing/models.py": MODELS.format(lazy="selectin"),
        "grid/models.py": MODELS.format(lazy="select"),
        "grid/services.py": SERVICE,
        "billing/services.py": SERVICE,
    }
    project = ProjectIndex(tmp_path)
    for name, text in files.items():
        project.update(str(tmp_path / name), text)
    engine = Engine(project=project)

    def codes(name: str) -> list[str]:
        source = SourceFile(files[name], str(tmp_path / name))
        return [finding.code for finding in engine.check(source).findings]

    assert "FMP101" in codes("grid/services.py")
    assert "FMP101" not in codes("billing/services.py")


def test_folders_and_files_git_ignores_are_not_walked(tmp_path: Path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("bundled/\ngenerated_*.py\n")
    for name in ("app/models.py", "bundled/libs/lib.py", "app/generated_api.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    git_ignored_folders.cache_clear()

    walked = [path.relative_to(tmp_path).as_posix()
              for path in walk_python_files(tmp_path, Settings())]

    assert walked == ["app/models.py"]


def test_outside_git_nothing_extra_is_skipped(tmp_path: Path):
    (tmp_path / "bundled").mkdir()
    (tmp_path / "bundled" / "lib.py").write_text("x = 1\n")
    git_ignored_folders.cache_clear()

    assert [path.name for path in walk_python_files(tmp_path, Settings())] == ["lib.py"]
