"""docs/rules/FMPxxx.md are generated from each rule's own docs and must not go stale."""

from __future__ import annotations

from pathlib import Path

from fmperf_ls.docs import hover_text, main, rule_page, stale_pages, write_pages
from fmperf_ls.rules import all_rules

PAGES = Path(__file__).resolve().parent.parent / "docs" / "rules"


def test_every_rule_page_is_current():
    stale = sorted(path.name for path in stale_pages(PAGES))

    assert stale == [], "run: python -m fmperf_ls.docs --write docs/rules"


def test_no_page_without_a_rule():
    pages = {path.stem for path in PAGES.glob("FMP*.md")}

    assert pages <= set(all_rules())


def test_every_page_has_the_five_sections():
    for rule in all_rules().values():
        page = rule_page(rule)
        headings = [line for line in page.splitlines() if line.startswith("## ")]
        assert headings[:5] == ["## What it does", "## Why it is slow", "## Example",
                                "## Use instead", "## When it is a false alarm"], rule.code
        assert page.startswith(f"# {rule.code} {rule.name}\n")


def test_generator_writes_only_what_changed(tmp_path: Path, capsys):
    assert main(["--check", str(tmp_path)]) == 1
    assert capsys.readouterr().out.startswith("stale: ")
    assert len(write_pages(tmp_path)) == len(all_rules())

    assert write_pages(tmp_path) == []
    assert main(["--check", str(tmp_path)]) == 0
    first = next(iter(all_rules()))
    (tmp_path / f"{first}.md").write_text("old\n")
    assert main(["--write", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / f'{first}.md'}\n"


def test_hover_text_leads_with_the_cost_and_the_fix():
    rule = all_rules()["FMP201"]

    text = hover_text(rule, "one copy of the frame", "Use df.loc[mask, 'a']")

    assert text.startswith("**FMP201 chained-indexing**: ")
    assert "Cost here: one copy of the frame" in text
    assert "Quick fix: Use df.loc[mask, 'a']" in text
    assert "## What it does" in text
