"""`[tool.fmperf]` parsing: every bad key or value is one clear problem, the rest applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmperf_ls.config import (
    Settings,
    find_pyproject,
    load_pyproject,
    parse_settings,
    settings_for,
)
from fmperf_ls.rules.base import Severity


def test_defaults_select_everything():
    settings, problems = parse_settings({}, "pyproject.toml")

    assert problems == []
    assert settings.enabled("FMP101") and settings.enabled("FMP503")


def test_unknown_key_is_named_with_the_known_ones_and_the_rest_applies():
    settings, problems = parse_settings({"selct": ["FMP2"], "ignore": ["FMP201"]}, "p.toml")

    assert [str(problem) for problem in problems] == [
        "p.toml: [tool.fmperf] selct: unknown key; known keys: exclude, "
        "extend-model-modules, ignore, select, severity"
    ]
    assert settings.ignore == ("FMP201",)


@pytest.mark.parametrize("value", [["PD901"], ["FMP1234"], ["fmp2x"], [3], "E501", {"a": 1}])
def test_bad_codes(value):
    settings, problems = parse_settings({"select": value}, "p.toml")

    assert len(problems) == 1 and problems[0].key == "select"
    assert settings.select == ("ALL",), "a bad value leaves the default"


def test_codes_are_normalised_and_a_single_string_is_a_list():
    settings, problems = parse_settings({"select": "fmp2", "ignore": [" FMP203 "]}, "p.toml")

    assert problems == []
    assert settings.select == ("FMP2",) and settings.ignore == ("FMP203",)


@pytest.mark.parametrize(("select", "ignore", "code", "enabled"), [
    (("ALL",), (), "FMP101", True),
    (("FMP2",), (), "FMP201", True),
    (("FMP2",), (), "FMP101", False),
    (("FMP",), ("FMP2",), "FMP201", False),
    (("FMP",), ("FMP2",), "FMP301", True),
    (("FMP201",), ("FMP2",), "FMP201", True),
    (("FMP2",), ("FMP201",), "FMP201", False),
    (("FMP2",), ("FMP201",), "FMP202", True),
    (("ALL",), ("ALL",), "FMP101", False),
    ((), (), "FMP101", False),
])
def test_the_longest_prefix_wins(select, ignore, code, enabled):
    assert Settings(select=select, ignore=ignore).enabled(code) is enabled


def test_severity_table():
    settings, problems = parse_settings({"severity": {"fmp201": "Error"}}, "p.toml")

    assert problems == []
    assert settings.severity_for("FMP201", Severity.WARNING) is Severity.ERROR
    assert settings.severity_for("FMP202", Severity.WARNING) is Severity.WARNING


@pytest.mark.parametrize(("value", "message"), [
    ({"FMP201": "loud"}, "FMP201 = 'loud': expected one of error, warning, information, hint"),
    ({"FMP2": "error"}, "'FMP2' is not a rule code such as FMP101"),
    ("error", "expected a table of rule code = level (error, warning, information, hint)"),
])
def test_bad_severity(value, message):
    settings, problems = parse_settings({"severity": value}, "p.toml")

    assert [problem.message for problem in problems] == [message]
    assert settings.severity == {}


def test_exclude_globs(tmp_path: Path):
    settings, problems = parse_settings(
        {"exclude": ["migrations", "*/generated_*.py", "docs/*"]}, "p.toml",
        Settings(root=str(tmp_path)),
    )

    assert problems == []
    assert settings.excludes(tmp_path / "migrations")
    assert settings.excludes(tmp_path / "migrations" / "env.py")
    assert settings.excludes(tmp_path / "app" / "generated_api.py")
    assert settings.excludes(tmp_path / "docs" / "conf.py")
    assert not settings.excludes(tmp_path / "app" / "models.py")
    assert not settings.excludes(tmp_path / "app" / "migrations_helper.py")


def test_exclude_must_be_strings():
    _, problems = parse_settings({"exclude": [1, 2]}, "p.toml")

    assert [problem.message for problem in problems] == ["expected a list of strings"]


def test_extend_model_modules():
    settings, problems = parse_settings({"extend-model-modules": ["app.models"]}, "p.toml")

    assert problems == [] and settings.extend_model_modules == ("app.models",)


def test_fingerprint_follows_what_changes_findings():
    base = Settings()

    assert base.fingerprint() == Settings().fingerprint()
    assert base.fingerprint() != Settings(ignore=("FMP201",)).fingerprint()
    assert base.fingerprint() != Settings(severity={"FMP201": Severity.ERROR}).fingerprint()
    assert base.fingerprint() != Settings(extend_model_modules=("a",)).fingerprint()


def test_find_pyproject_prefers_one_that_configures_fmperf(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.fmperf]\nselect = ['FMP2']\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "sub" / "a.py").write_text("")

    assert find_pyproject(tmp_path / "sub" / "a.py") == tmp_path / "pyproject.toml"
    assert settings_for(tmp_path / "sub")[0].select == ("FMP2",)


def test_a_pyproject_that_does_not_parse_is_one_problem(tmp_path: Path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.fmperf\nselect = \n")

    settings, problems = load_pyproject(path)

    assert len(problems) == 1 and problems[0].message.startswith("cannot read: ")
    assert settings.root == str(tmp_path)


def test_tool_fmperf_must_be_a_table(tmp_path: Path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool]\nfmperf = "on"\n')

    _, problems = load_pyproject(path)

    assert [(problem.key, problem.message) for problem in problems] == [
        ("tool.fmperf", "expected a table")
    ]
