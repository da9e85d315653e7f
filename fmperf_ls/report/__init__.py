"""What a `fmperf check` run found, and the reporters that print it.

One module per output format; each turns the same list of `FileResult`s into
text, so the formats can never disagree about what was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fmperf_ls.analysis.source import SyntaxProblem
from fmperf_ls.rules.base import Finding, Safety

FORMATS = ("text", "json", "sarif", "github")


@dataclass
class FileResult:
    """The outcome for one file, in the order reporters print them."""

    display: str
    path: Path
    findings: list[Finding] = field(default_factory=list)
    syntax_problem: SyntaxProblem | None = None
    skipped: str | None = None
    """Why the file was not checked at all (binary, undecodable, unreadable)."""
    failures: list[str] = field(default_factory=list)
    """Rules that raised on this file, as "FMP201: KeyError: ..."."""
    fixed_text: str | None = None
    """The text after `--fix`, when any fix applied; None otherwise."""
    fixes_applied: int = 0
    cached: bool = False
    consulted: list[tuple[str, int, int]] = field(default_factory=list)
    """Other files the findings rest on, with their stamps (see analysis/consulted.py)."""


def fixable_counts(results: list[FileResult]) -> tuple[int, int]:
    """How many findings `--fix` would fix, and how many more `--unsafe-fixes` would."""
    safe = unsafe = 0
    for result in results:
        for finding in result.findings:
            if finding.fix is None:
                continue
            if finding.fix.safety is Safety.SAFE:
                safe += 1
            else:
                unsafe += 1
    return safe, unsafe
