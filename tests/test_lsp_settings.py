"""Editor settings: both shapes clients send, defaults for bad values, one line each."""

from __future__ import annotations

from fmperf_ls.config import Settings
from fmperf_ls.lsp.settings import EditorSettings, parse_editor_settings
from fmperf_ls.rules.base import Severity


def test_bare_and_nested_settings_read_the_same():
    raw = {"select": ["FMP2"], "ignore": ["FMP201"], "severity": {"FMP202": "error"},
           "debounceMs": 40, "analysisBudgetMs": 500, "sitePackages": ["/venv/lib"],
           "interpreter": "/venv/bin/python"}

    bare, problems = parse_editor_settings(raw)
    nested, _ = parse_editor_settings({"fmperf": raw})

    assert problems == []
    assert bare == nested
    assert bare == EditorSettings(
        select=("FMP2",), ignore=("FMP201",), severity={"FMP202": Severity.ERROR},
        debounce_ms=40, analysis_budget_ms=500, site_packages=("/venv/lib",),
        interpreter="/venv/bin/python",
    )


def test_null_and_empty_settings_are_the_defaults():
    assert parse_editor_settings(None) == (EditorSettings(), [])
    assert parse_editor_settings({}) == (EditorSettings(), [])
    assert parse_editor_settings({"select": [], "ignore": []}) == (EditorSettings(), [])


def test_bad_values_fall_back_one_problem_each():
    settings, problems = parse_editor_settings(
        {"select": ["NOPE"], "debounceMs": -5, "analysisBudgetMs": "1s",
         "severity": {"FMP201": "loud"}, "sitePackages": 3, "importStrategy": "useBundled"}
    )

    assert settings == EditorSettings()
    assert len(problems) == 5
    assert [problem.split(":")[0] for problem in problems] == [
        "select", "severity", "debounceMs", "analysisBudgetMs", "sitePackages"]


def test_vscode_interpreter_list_takes_the_first_path():
    settings, problems = parse_editor_settings({"interpreter": ["/usr/bin/python3", "-X"]})

    assert problems == []
    assert settings.interpreter == "/usr/bin/python3"


def test_editor_wins_over_pyproject_and_severities_merge():
    file_settings = Settings(select=("FMP1",), severity={"FMP101": Severity.HINT})
    editor = EditorSettings(ignore=("FMP106",), severity={"FMP102": Severity.ERROR})

    merged = editor.apply_to(file_settings)

    assert merged.select == ("FMP1",)
    assert merged.ignore == ("FMP106",)
    assert merged.severity == {"FMP101": Severity.HINT, "FMP102": Severity.ERROR}
