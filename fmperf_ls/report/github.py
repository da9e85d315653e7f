"""`--format github`: workflow commands that GitHub Actions shows as annotations.

`::warning file=a.py,line=3,col=5,endLine=3,endColumn=20,title=FMP201::message`;
lines and columns are 1-based. Values are escaped the way the runner expects:
`%`, CR and LF everywhere, and `:` and `,` inside properties too.
"""

from __future__ import annotations

from fmperf_ls.report import FileResult
from fmperf_ls.rules.base import Severity

LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFORMATION: "notice",
    Severity.HINT: "notice",
}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(results: list[FileResult]) -> str:
    lines = []
    for result in results:
        for finding in result.findings:
            start, end = finding.range.start, finding.range.end
            properties = ",".join([
                f"file={escape_property(result.display)}",
                f"line={start.line + 1}",
                f"col={start.column + 1}",
                f"endLine={end.line + 1}",
                f"endColumn={end.column + 1}",
                f"title={escape_property(finding.code)}",
            ])
            message = escape_data(finding.message)
            lines.append(f"::{LEVELS[finding.severity]} {properties}::{message}")
    return "".join(line + "\n" for line in lines)
