"""A rule's page in Markdown, made from its own docs and examples.

The same text serves `fmperf explain`, the hover in the editor, and the files
under docs/rules/ (a test fails when those are stale), so there is one source
of truth for what a rule says about itself.
"""

from __future__ import annotations

from fmperf_ls.rules.base import Rule

DOCS_URL = "https://github.com/fmperf/fmperf/blob/main/docs/rules/{code}.md"


def rule_url(code: str) -> str:
    return DOCS_URL.format(code=code)


def rule_page(rule: type[Rule]) -> str:
    """The whole page: title, the five sections, and whether a fix exists."""
    docs = rule.docs
    sections = [
        f"# {rule.code} {rule.name}",
        f"{rule.summary}.",
        f"Default severity: {rule.severity.value}. {_fix_line(rule)}",
        "## What it does",
        docs.what,
        "## Why it is slow",
        docs.why,
        "## Example",
        _code(docs.example),
        "## Use instead",
        _code(docs.instead),
        "## When it is a false alarm",
        docs.false_alarms,
    ]
    if docs.references:
        sections += ["## References", "\n".join(f"- <{url}>" for url in docs.references)]
    return "\n\n".join(sections) + "\n"


def hover_text(rule: type[Rule], cost: str | None, fix_message: str | None) -> str:
    """The hover: what is wrong here, what it costs here, the fix, then the page."""
    lines = [f"**{rule.code} {rule.name}**: {rule.summary}"]
    if cost:
        lines.append(f"Cost here: {cost}")
    if fix_message:
        lines.append(f"Quick fix: {fix_message}")
    body = rule_page(rule).split("\n", 2)[2]  # the page without its title line
    return "\n\n".join(lines) + "\n\n---\n\n" + body


def _fix_line(rule: type[Rule]) -> str:
    fixable = any(example.fixed is not None for example in rule.examples)
    return "A quick fix is offered where it is provably right." if fixable else "Advice only."


def _code(text: str) -> str:
    return f"```python\n{text.strip()}\n```"
