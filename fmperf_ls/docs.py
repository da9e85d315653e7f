"""A rule's page in Markdown, made from its own docs and examples.

The same text serves `fmperf explain`, the hover in the editor, and the files
under docs/rules/ (a test fails when those are stale), so there is one source
of truth for what a rule says about itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
        f"Default severity: {rule.severity.value}. {_fix_line(rule)}{_tests_line(rule)}",
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
    body = rule_page(rule).split("\n\n", 3)[3]  # the page after title, summary, severity
    return "\n\n".join(lines) + "\n\n---\n\n" + body


def _fix_line(rule: type[Rule]) -> str:
    fixable = any(example.fixed is not None for example in rule.examples)
    return "A quick fix is offered where it is provably right." if fixable else "Advice only."


def _tests_line(rule: type[Rule]) -> str:
    if rule.in_tests:
        return ""
    return " Not reported in test modules (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`)."


def _code(text: str) -> str:
    return f"```python\n{text.strip()}\n```"


# -- docs/rules/FMPxxx.md ---------------------------------------------------------------


def stale_pages(folder: Path) -> dict[Path, str]:
    """Pages under `folder` that are missing or differ from their rule's docs, with the text."""
    from fmperf_ls.rules import all_rules

    wanted = {folder / f"{code}.md": rule_page(rule) for code, rule in all_rules().items()}
    stale = {}
    for path, page in wanted.items():
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != page:
            stale[path] = page
    return stale


def write_pages(folder: Path) -> list[Path]:
    """Write the stale pages only, so re-running the generator is cheap; returns them."""
    stale = stale_pages(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for path, page in stale.items():
        path.write_text(page, encoding="utf-8", newline="\n")
    return sorted(stale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fmperf_ls.docs", description="Generate docs/rules/FMPxxx.md."
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", metavar="FOLDER", type=Path, help="write stale pages")
    action.add_argument("--check", metavar="FOLDER", type=Path,
                        help="exit 1 when a page is stale, writing nothing")
    args = parser.parse_args(argv)
    if args.write is not None:
        for path in write_pages(args.write):
            print(f"wrote {path}")
        return 0
    stale = sorted(stale_pages(args.check))
    for path in stale:
        print(f"stale: {path} (run python -m fmperf_ls.docs --write {args.check})")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
