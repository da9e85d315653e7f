"""`path:line:col: CODE message`, the form flake8 and ruff print, and a summary.

Lines and columns are both 1-based here, as editors and terminals expect when
they turn `path:line:col` into a link; the JSON format keeps 0-based columns.
"""

from __future__ import annotations

from fmperf_ls.report import FileResult, fixable_counts


def finding_lines(results: list[FileResult]) -> list[str]:
    lines = []
    for result in results:
        for finding in result.findings:
            start = finding.range.start
            message = finding.message.replace("\n", "\n    ")  # one finding, one unindented line
            lines.append(
                f"{result.display}:{start.line + 1}:{start.column + 1}: {finding.code} {message}"
            )
    return lines


def summary(results: list[FileResult], fixed: int | None = None) -> str:
    """One closing line: how many findings, and what `--fix` would do about them."""
    total = sum(len(result.findings) for result in results)
    if fixed is not None:
        if not fixed and not total:
            return "All checks passed."
        return f"Found {_count(fixed + total)} ({fixed} fixed, {total} remaining)."
    if not total:
        return "All checks passed."
    safe, unsafe = fixable_counts(results)
    hints = []
    if safe:
        hints.append(f"{safe} fixable with --fix")
    if unsafe:
        hints.append(f"{unsafe} more with --unsafe-fixes" if safe else
                     f"{unsafe} fixable with --fix --unsafe-fixes")
    suffix = f" ({', '.join(hints)})" if hints else ""
    return f"Found {_count(total)}{suffix}."


def render(results: list[FileResult], fixed: int | None = None) -> str:
    lines = finding_lines(results)
    lines.append(summary(results, fixed))
    return "\n".join(lines) + "\n"


def _count(number: int) -> str:
    return f"{number} finding" if number == 1 else f"{number} findings"
