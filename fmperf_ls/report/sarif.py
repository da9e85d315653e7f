"""`--format sarif`: a SARIF 2.1.0 log for code-scanning dashboards.

Every registered rule is described in `tool.driver.rules` (with its page as
`helpUri`), results point at them by id and index, fixes become SARIF fixes,
and files that were skipped or did not parse become tool notifications.
Columns are code points (`columnKind`), 1-based as SARIF requires; relative
paths are resolved against the working directory through `%SRCROOT%`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import fmperf_ls
from fmperf_ls.analysis.source import Range
from fmperf_ls.docs import rule_page, rule_url
from fmperf_ls.report import FileResult
from fmperf_ls.rules.base import Rule, Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/fmperf/fmperf"
LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFORMATION: "note",
    Severity.HINT: "note",
}


def render(results: list[FileResult], rules: dict[str, type[Rule]]) -> str:
    codes = list(rules)
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": _driver(rules)},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "invocations": [_invocation(results)],
            "results": [
                _result(result, finding, codes)
                for result in results
                for finding in result.findings
            ],
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _driver(rules: dict[str, type[Rule]]) -> dict[str, Any]:
    return {
        "name": "fmperf",
        "version": fmperf_ls.__version__,
        "semanticVersion": fmperf_ls.__version__,
        "informationUri": INFORMATION_URI,
        "rules": [_rule(rule) for rule in rules.values()],
    }


def _rule(rule: type[Rule]) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.docs.what},
        "help": {"text": rule.docs.why, "markdown": rule_page(rule)},
        "helpUri": rule_url(rule.code),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
    }


def _result(result: FileResult, finding, codes: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ruleId": finding.code,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact(result.display),
            "region": _region(finding.range),
        }}],
    }
    if finding.code in codes:
        entry["ruleIndex"] = codes.index(finding.code)
    if finding.related:
        entry["relatedLocations"] = [
            {
                "id": number,
                "message": {"text": related.message},
                "physicalLocation": {
                    "artifactLocation": _artifact(related.path),
                    "region": _region(related.range),
                },
            }
            for number, related in enumerate(finding.related)
        ]
    if finding.fix is not None:
        entry["fixes"] = [_fix(result.display, finding.fix)]
    return entry


def _fix(display: str, fix) -> dict[str, Any]:
    by_path: dict[str, list[dict[str, Any]]] = {}
    for edit in fix.edits:
        by_path.setdefault(edit.path or display, []).append({
            "deletedRegion": _region(edit.range),
            "insertedContent": {"text": edit.new_text},
        })
    return {
        "description": {"text": f"{fix.message} ({fix.safety.value} fix)"},
        "artifactChanges": [
            {"artifactLocation": _artifact(path), "replacements": replacements}
            for path, replacements in by_path.items()
        ],
    }


def _region(span: Range) -> dict[str, int]:
    return {
        "startLine": span.start.line + 1,
        "startColumn": span.start.column + 1,
        "endLine": span.end.line + 1,
        "endColumn": span.end.column + 1,
    }


def _artifact(path: str) -> dict[str, str]:
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(Path(path).as_posix()), "uriBaseId": "%SRCROOT%"}


def _invocation(results: list[FileResult]) -> dict[str, Any]:
    notifications = []
    for result in results:
        if result.skipped:
            text = f"skipped: {result.skipped}"
        elif result.syntax_problem is not None:
            text = f"does not parse ({result.syntax_problem.message}); findings may be incomplete"
        else:
            continue
        notifications.append({
            "level": "warning",
            "message": {"text": text},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(result.display)}}],
        })
    return {"executionSuccessful": True, "toolExecutionNotifications": notifications}
