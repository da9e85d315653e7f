"""Suppression comments: which ones hide a finding, and where "ignore" edits land."""

from __future__ import annotations

import textwrap

import pytest

from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.engine import check_text
from fmperf_ls.fixes import apply_edits
from fmperf_ls.rules import all_rules
from fmperf_ls.suppression import comment_line, ignore_edit, suppressions_of

CHAINED = 'import pandas as pd\n\nframe = pd.DataFrame()\nvalue = frame[frame.a > 1]["b"]'


def codes_found(text: str) -> list[str]:
    report = check_text(text, rules=[all_rules()["FMP201"]])
    return [finding.code for finding in report.findings]


def test_the_fixture_is_flagged_without_a_comment():
    assert codes_found(CHAINED + "\n") == ["FMP201"]


@pytest.mark.parametrize("comment", [
    "# fmperf: ignore",
    "# fmperf: ignore[FMP201]",
    "# fmperf: ignore[FMP101,FMP201]",
    "# fmperf: ignore[FMP101, FMP201]",
    "#fmperf:ignore[fmp201]",
    "# noqa: FMP201",
    "# noqa:FMP201",
    "# noqa: E501,FMP201",
    "# noqa: E501 FMP201",
    "# noqa: FMP201 chained on purpose",
    "# noqa",
    "# noqa: E501  # fmperf: ignore[FMP201]",
    "# explained here  # fmperf: ignore[FMP201]",
])
def test_comments_that_hide(comment: str):
    assert codes_found(f"{CHAINED}  {comment}\n") == []


@pytest.mark.parametrize("comment", [
    "# fmperf: ignore[FMP101]",
    "# noqa: E501",
    "# noqa: FMP2011",
    "# noqa: FMP101",
    "# noqanything",
    "# fmperf is great",
])
def test_comments_that_do_not_hide(comment: str):
    assert codes_found(f"{CHAINED}  {comment}\n") == ["FMP201"]


def test_a_hash_inside_a_string_is_not_a_comment():
    text = CHAINED.replace('["b"]', '["# fmperf: ignore"]') + "\n"

    assert codes_found(text) == ["FMP201"]
    assert suppressions_of(SourceFile(text)).by_line == {}


def test_a_comment_after_a_string_with_a_hash_counts():
    text = CHAINED.replace('["b"]', '["#b"]') + "  # fmperf: ignore\n"

    assert codes_found(text) == []


def test_a_comment_on_another_line_does_not_hide():
    text = "# fmperf: ignore\n" + CHAINED + "\n"

    assert codes_found(text) == ["FMP201"]


def test_the_comment_after_a_multiline_string_hides_its_statement():
    text = CHAINED + ' + """\n# fmperf: ignore\n"""  # fmperf: ignore[FMP201]\n'

    assert codes_found(text) == []


def test_a_suppression_text_inside_a_multiline_string_does_not_hide():
    text = CHAINED + ' + """\n# fmperf: ignore\n"""\n'

    assert codes_found(text) == ["FMP201"]


def _apply(text: str, line: int, code: str) -> str:
    source = SourceFile(text)
    edit = ignore_edit(source, line, code)
    assert edit is not None
    return apply_edits(source, [edit])


def test_ignore_edit_adds_a_comment_at_the_end_of_the_line():
    assert _apply("x = 1   \ny = 2\n", 0, "FMP201") == "x = 1  # fmperf: ignore[FMP201]\ny = 2\n"


def test_ignore_edit_merges_into_an_existing_ignore():
    text = "x = 1  # fmperf: ignore[FMP301]\n"

    assert _apply(text, 0, "FMP201") == "x = 1  # fmperf: ignore[FMP201,FMP301]\n"


def test_ignore_edit_appends_to_another_comment():
    text = "x = 1  # why: it is small\n"

    assert _apply(text, 0, "FMP201") == "x = 1  # why: it is small  # fmperf: ignore[FMP201]\n"


def test_ignore_edit_does_nothing_when_already_ignored():
    for text in ("x = 1  # fmperf: ignore\n", "x = 1  # fmperf: ignore[FMP201]\n"):
        assert ignore_edit(SourceFile(text), 0, "FMP201") is None


def test_ignore_edit_skips_a_hash_inside_a_string():
    text = 'x = "# fmperf: ignore[FMP101]"\n'

    assert _apply(text, 0, "FMP201") == (
        'x = "# fmperf: ignore[FMP101]"  # fmperf: ignore[FMP201]\n'
    )


def test_ignore_edit_never_lands_inside_a_multiline_string():
    text = textwrap.dedent('''\
        query = frame[mask]["a"] + """
        text
        """
        done = 1
        ''')

    fixed = _apply(text, 0, "FMP201")

    assert fixed.splitlines()[2] == '"""  # fmperf: ignore[FMP201]'
    assert SourceFile(fixed).syntax_problem is None


def test_ignore_edit_goes_after_a_backslash_continuation():
    text = "total = frame[mask]['a'] + \\\n    1\n"

    fixed = _apply(text, 0, "FMP201")

    assert fixed == "total = frame[mask]['a'] + \\\n    1  # fmperf: ignore[FMP201]\n"
    assert SourceFile(fixed).syntax_problem is None
    assert comment_line(SourceFile(text), 0) == 1


def test_a_backslash_inside_a_comment_is_not_a_continuation():
    text = "x = 1  # see C:\\\ny = 2\n"

    assert comment_line(SourceFile(text), 0) == 0


def test_the_edit_makes_the_finding_disappear():
    source = SourceFile(CHAINED + "\n")
    finding = check_text(source.text, rules=[all_rules()["FMP201"]]).findings[0]

    edit = ignore_edit(source, finding.range.start.line, finding.code)

    assert edit is not None
    assert codes_found(apply_edits(source, [edit])) == []
