"""Code action helpers: the ignore comment is re-parsed, fix-all edits only what changed."""

from __future__ import annotations

from fmperf_ls import fixes
from fmperf_ls.analysis.source import Position, Range, SourceFile
from fmperf_ls.lsp import actions
from fmperf_ls.lsp.convert import PositionCodec
from fmperf_ls.rules.base import Edit

TEXT = "import os\n\n\ndef f():\n    return os.sep\n\n\nvalue = f()\n"


def at(line: int, column: int) -> Range:
    return Range(Position(line, column), Position(line, column))


def test_a_comment_at_the_end_of_a_line_reparses():
    source = SourceFile(TEXT)

    assert actions.reparses(source, Edit(at(4, 17), "  # fmperf: ignore[FMP303]"))


def test_an_edit_that_breaks_the_statement_is_refused():
    source = SourceFile(TEXT)

    assert not actions.reparses(source, Edit(at(4, 17), " +"))


def test_a_file_with_a_syntax_error_is_verified_whole():
    source = SourceFile(TEXT + "def broken(:\n")

    assert actions.reparses(source, Edit(at(7, 11), "  # fmperf: ignore[FMP303]"))


def test_fix_all_replaces_only_the_lines_that_differ():
    source = SourceFile(TEXT)
    fixed = TEXT.replace("return os.sep", "return os.pathsep")
    target = actions.Target("file:///t.py", 3, source, PositionCodec(), True)

    action = actions.fix_all_action(target, fixed)

    [document] = action.edit.document_changes
    assert document.text_document.version == 3
    [edit] = document.edits
    assert (edit.range.start.line, edit.range.end.line) == (4, 5)
    assert edit.new_text == "    return os.pathsep\n"
    assert fixes.apply_edits(source, [Edit(Range(Position(4, 0), Position(5, 0)),
                                           edit.new_text)]) == fixed


def test_fix_all_with_nothing_to_fix_offers_nothing():
    target = actions.Target("file:///t.py", 1, SourceFile(TEXT), PositionCodec(), False)

    assert actions.fix_all_action(target, TEXT) is None


def test_kinds_requested():
    assert actions.wanted("quickfix", None)
    assert not actions.wanted(actions.FIX_ALL, None)
    assert actions.wanted(actions.FIX_ALL, ["source"])
    assert actions.wanted(actions.FIX_ALL, ["source.fixAll"])
    assert not actions.wanted("quickfix", ["source.fixAll"])
