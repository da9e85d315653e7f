"""`--format json`: one array, each element exactly the shape DESIGN section 2 fixes.

Lines are 1-based and columns 0-based (code points), like the `at` ranges
of rule examples; paths are the ones shown in text output.
"""

from __future__ import annotations

import json
from typing import Any

from fmperf_ls.analysis.source import Range
from fmperf_ls.report import FileResult
from fmperf_ls.rules.base import Finding, Rule


def element(display: str, finding: Finding, rules: dict[str, type[Rule]]) -> dict[str, Any]:
    rule = rules.get(finding.code)
    fix = finding.fix
    return {
        "path": display,
        **_span(finding.range),
        "code": finding.code,
        "rule": rule.name if rule is not None else finding.code,
        "message": finding.message,
        "severity": finding.severity.value,
        "fix": None if fix is None else {
            "message": fix.message,
            "safety": fix.safety.value,
            "edits": [
                {"path": edit.path or display, **_span(edit.range), "new_text": edit.new_text}
                for edit in fix.edits
            ],
        },
    }


def _span(span: Range) -> dict[str, int]:
    return {
        "line": span.start.line + 1,
        "column": span.start.column,
        "end_line": span.end.line + 1,
        "end_column": span.end.column,
    }


def render(results: list[FileResult], rules: dict[str, type[Rule]]) -> str:
    elements = [
        element(result.display, finding, rules)
        for result in results
        for finding in result.findings
    ]
    return json.dumps(elements, indent=2, ensure_ascii=False) + "\n"
