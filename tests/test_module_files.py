"""Finding an imported module's file in the project, and its outline, without importing."""

from __future__ import annotations

import os
from pathlib import Path

from fmperf_ls.analysis.module_files import ModuleFiles


def tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_absolute_and_relative_imports_find_modules_and_packages(tmp_path):
    tree(tmp_path, {
        "app/__init__.py": "def setup(): pass\n",
        "app/api/__init__.py": "",
        "app/api/views.py": "",
        "app/services/__init__.py": "",
        "app/services/assets.py": "",
    })
    modules = ModuleFiles(tmp_path)
    views = str(tmp_path / "app" / "api" / "views.py")

    assert modules.file_of(views, "app.services.assets") == tmp_path / "app/services/assets.py"
    assert modules.file_of(views, "app.services") == tmp_path / "app/services/__init__.py"
    assert modules.file_of(views, "..services.assets") == tmp_path / "app/services/assets.py"
    assert modules.file_of(views, ".") == tmp_path / "app/api/__init__.py"
    assert modules.file_of(views, "..") == tmp_path / "app/__init__.py"
    assert modules.follows(views, "..setup")


def test_libraries_and_missing_modules_are_not_project_code(tmp_path):
    tree(tmp_path, {"app/__init__.py": "", "app/views.py": ""})
    modules = ModuleFiles(tmp_path)
    views = str(tmp_path / "app" / "views.py")

    assert modules.file_of(views, "json") is None
    assert modules.file_of(views, "sqlalchemy.orm") is None
    assert modules.file_of(views, "app.nowhere") is None
    assert not modules.follows(views, "json.dumps")
    assert not modules.follows(views, ".nowhere.helper")


def test_a_src_layout_and_a_package_outside_the_root_both_count(tmp_path):
    """Under `root/src`, or beside the importing file's topmost package."""
    tree(tmp_path, {
        "src/shop/__init__.py": "",
        "src/shop/prices.py": "",
        "elsewhere/tool/__init__.py": "",
        "elsewhere/tool/main.py": "",
        "elsewhere/tool/util.py": "",
    })
    modules = ModuleFiles(tmp_path)

    assert modules.file_of(str(tmp_path / "tests/test_x.py"), "shop.prices") == \
        tmp_path / "src/shop/prices.py"
    assert modules.file_of(str(tmp_path / "elsewhere/tool/main.py"), "tool.util") == \
        tmp_path / "elsewhere/tool/util.py"


def test_without_a_root_every_import_counts_and_none_is_found():
    modules = ModuleFiles(None)

    assert modules.follows("app/views.py", "json.dumps")
    assert modules.file_of("app/views.py", "app.helpers") is None


def test_an_outline_is_read_again_when_the_file_changes(tmp_path):
    path = tmp_path / "helpers.py"
    path.write_text("def one(x):\n    return x.a\n")
    modules = ModuleFiles(tmp_path)

    first = modules.outline(path)
    assert first.sole_definition("one") is not None and first.sole_definition("two") is None

    path.write_text("def one(x):\n    return x.a\n\n\ndef two(y):\n    return y\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    second = modules.outline(path)
    assert second.sole_definition("one") is not None and second.sole_definition("two") is not None


def test_an_unreadable_or_broken_module_has_no_outline(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00")
    modules = ModuleFiles(tmp_path)

    assert modules.outline(broken) is None
    assert modules.outline(binary) is None
    assert modules.outline(tmp_path / "missing.py") is None


def test_a_module_created_later_is_found_once_the_index_hears_of_it(tmp_path):
    from fmperf_ls.analysis.project import ProjectIndex

    tree(tmp_path, {"app/__init__.py": "", "app/views.py": ""})
    project = ProjectIndex(tmp_path)
    views = str(tmp_path / "app" / "views.py")
    assert project.modules.file_of(views, "app.helpers") is None

    tree(tmp_path, {"app/helpers.py": "def describe(asset):\n    return asset.name\n"})
    project.update(str(tmp_path / "app" / "helpers.py"), "def describe(asset): ...\n")

    assert project.modules.file_of(views, "app.helpers") == tmp_path / "app/helpers.py"
