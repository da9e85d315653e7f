"""Hover on a flagged range: the rule's page, the cost in this place, and the fix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lsprotocol import types

from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.docs import hover_text
from fmperf_ls.lsp.convert import PositionCodec
from fmperf_ls.lsp.diagnostics import contains
from fmperf_ls.rules.base import Finding, Rule


def hover(
    source: SourceFile,
    findings: Sequence[Finding],
    position: types.Position,
    codec: PositionCodec,
    rules: Mapping[str, type[Rule]],
) -> types.Hover | None:
    """Markdown for every finding under the cursor; None where nothing is flagged."""
    at = codec.from_lsp(source, position)
    here = [finding for finding in findings if contains(finding.range, at)]
    pages = [page for page in (_page(finding, rules) for finding in here) if page]
    if not pages:
        return None  # nothing flagged here: let the other servers answer alone
    innermost = min(here, key=lambda finding: (finding.range.end.line - finding.range.start.line,
                                               finding.range.end.column))
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(pages)
        ),
        range=codec.range_to_lsp(source, innermost.range),
    )


def _page(finding: Finding, rules: Mapping[str, type[Rule]]) -> str | None:
    rule = rules.get(finding.code)
    if rule is None:
        return None  # a code without a registered rule has no page to show
    fix_message = finding.fix.message if finding.fix is not None else None
    return hover_text(rule, finding.cost, fix_message)
