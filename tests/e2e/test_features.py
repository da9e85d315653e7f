"""Hover and code actions, and what applying each action does to the text."""

from __future__ import annotations

import parso
from lsp_editor import PRICES, Editor, apply
from lsprotocol import types

FLAGGED = types.Range(
    start=types.Position(line=3, character=12), end=types.Position(line=3, character=12)
)
FIXED = PRICES.replace(
    'prices[prices.hour >= 17]["price"]', 'prices.loc[prices.hour >= 17, "price"]'
)


def parses(text: str) -> bool:
    grammar = parso.load_grammar()
    return not list(grammar.iter_errors(grammar.parse(text)))


async def test_hover_shows_rule_page_and_fix(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    await editor.diagnostics(uri)

    hover = await editor.hover(uri, 3, 20)

    assert hover is not None
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert "**FMP201 chained-indexing**" in hover.contents.value
    assert 'Quick fix: Use prices.loc[prices.hour >= 17, "price"]' in hover.contents.value
    assert "## Why it is slow" in hover.contents.value
    assert (hover.range.start.line, hover.range.start.character) == (3, 10)


async def test_hover_elsewhere_is_empty(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")

    assert await editor.hover(uri, 0, 3) is None
    assert await editor.hover(uri, 500, 3) is None  # past the end of the file


async def test_quick_fix_is_preferred_versioned_and_applies(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    [diagnostic] = await editor.diagnostics(uri)

    actions = await editor.actions(uri, FLAGGED, diagnostics=[diagnostic])

    fix = next(action for action in actions if action.title.startswith("fmperf: Use"))
    assert fix.kind == types.CodeActionKind.QuickFix
    assert fix.is_preferred is True
    assert fix.diagnostics[0].code == "FMP201"
    if editor.preset == "visual-studio-code":  # the only preset that takes versioned edits
        assert fix.edit.document_changes[0].text_document.version == 1
    else:
        assert fix.edit.document_changes is None and uri in fix.edit.changes
    fixed = apply(PRICES, fix.edit, uri)
    assert fixed == FIXED

    editor.change(uri, fixed)
    assert await editor.diagnostics(uri) == []


async def test_ignore_action_adds_a_comment(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    await editor.diagnostics(uri)

    actions = await editor.actions(uri, FLAGGED)

    ignore = next(action for action in actions if "ignore FMP201" in action.title)
    assert ignore.title == "fmperf: ignore FMP201 on this line"
    assert not ignore.is_preferred
    fixed = apply(PRICES, ignore.edit, uri)
    assert fixed.splitlines()[3].endswith('["price"]  # fmperf: ignore[FMP201]')
    editor.change(uri, fixed)
    assert await editor.diagnostics(uri) == []


async def test_ignore_merges_into_an_existing_comment(editor: Editor):
    await editor.start()
    text = PRICES.replace('["price"]\n', '["price"]  # fmperf: ignore[FMP101]\n')
    uri = editor.open("merge.py", text)
    await editor.diagnostics(uri)

    actions = await editor.actions(uri, FLAGGED)

    ignore = next(action for action in actions if "ignore FMP201" in action.title)
    fixed = apply(text, ignore.edit, uri)
    assert fixed.splitlines()[3].endswith("# fmperf: ignore[FMP101,FMP201]")


async def test_ignore_never_lands_inside_a_multiline_string(editor: Editor):
    await editor.start()
    text = 'import pandas as pd\n\nprices = pd.read_csv("p.csv")\n'
    text += 'pair = (prices[prices.hour >= 17]["price"], """\n# not a comment\n""")\n'
    uri = editor.open("strings.py", text)
    [diagnostic] = await editor.diagnostics(uri)

    actions = await editor.actions(uri, diagnostic.range)

    ignore = next(action for action in actions if "ignore FMP201" in action.title)
    fixed = apply(text, ignore.edit, uri)
    assert parses(fixed)
    assert fixed.splitlines()[5] == '""")  # fmperf: ignore[FMP201]'
    editor.change(uri, fixed)
    assert await editor.diagnostics(uri) == []


async def test_fix_all_applies_safe_fixes_only(editor: Editor):
    await editor.start()
    text = PRICES + (
        "\n\ndef clip(frame: pd.DataFrame) -> None:\n"
        "    negative = frame[\"price\"] < 0\n"
        "    frame[negative][\"price\"] = 0\n"
    )
    uri = editor.open("both.py", text)
    assert len(await editor.diagnostics(uri)) == 2

    whole = types.Range(start=types.Position(line=0, character=0),
                        end=types.Position(line=0, character=0))
    actions = await editor.actions(uri, whole, only=["source.fixAll"])

    [fix_all] = actions
    assert fix_all.kind == "source.fixAll.fmperf"
    fixed = apply(text, fix_all.edit, uri)
    assert 'prices.loc[prices.hour >= 17, "price"]' in fixed
    assert 'frame[negative]["price"] = 0' in fixed  # the unsafe fix is left for the user
    assert parses(fixed)


async def test_quickfix_only_request_has_no_fix_all(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    await editor.diagnostics(uri)

    actions = await editor.actions(uri, FLAGGED, only=["quickfix"])

    assert actions and all(action.kind == types.CodeActionKind.QuickFix for action in actions)


async def test_unsafe_fix_is_offered_but_not_preferred(editor: Editor):
    await editor.start()
    text = (
        "import pandas as pd\n\n\n"
        "def clip(frame: pd.DataFrame) -> None:\n"
        "    negative = frame[\"price\"] < 0\n"
        "    frame[negative][\"price\"] = 0\n"
    )
    uri = editor.open("unsafe.py", text)
    [diagnostic] = await editor.diagnostics(uri)
    assert diagnostic.severity == types.DiagnosticSeverity.Error

    actions = await editor.actions(uri, diagnostic.range)

    fix = next(action for action in actions if action.title.endswith("(unsafe)"))
    assert fix.is_preferred is False
    assert apply(text, fix.edit, uri).splitlines()[5] == '    frame.loc[negative, "price"] = 0'
