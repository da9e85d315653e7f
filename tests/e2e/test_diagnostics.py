"""Diagnostics as both kinds of client see them: pulled (Neovim) and pushed (VS Code)."""

from __future__ import annotations

import asyncio

from lsp_editor import PRICES, Editor
from lsprotocol import types

from fmperf_ls.docs import rule_url


async def test_finding_becomes_a_diagnostic(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")

    items = await editor.diagnostics(uri)

    assert len(items) == 1
    diagnostic = items[0]
    assert diagnostic.source == "fmperf"
    assert diagnostic.code == "FMP201"
    assert diagnostic.code_description.href == rule_url("FMP201")
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert (diagnostic.range.start.line, diagnostic.range.start.character) == (3, 10)
    assert (diagnostic.range.end.line, diagnostic.range.end.character) == (3, 44)


async def test_pull_clients_get_no_pushes_and_push_clients_get_versions(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")

    await editor.diagnostics(uri)
    await asyncio.sleep(0.3)

    if editor.pulls:
        assert uri not in editor.client.published
    else:
        assert editor.client.published[uri].version == 1


async def test_unchanged_result_id_on_a_second_pull(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    if not editor.pulls:
        await editor.diagnostics(uri)
        return  # push clients have no result ids; covered by the test above

    first = await editor.pull(uri)
    second = await editor.pull(uri, previous=first.result_id)

    assert first.kind == "full" and first.result_id
    assert second.kind == "unchanged" and second.result_id == first.result_id


async def test_edit_updates_diagnostics(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    assert len(await editor.diagnostics(uri)) == 1

    editor.change(uri, PRICES.replace('prices[prices.hour >= 17]["price"]', "prices.price"))

    assert await editor.diagnostics(uri) == []


async def test_severity_override_and_unicode_columns(editor: Editor):
    await editor.start({"severity": {"FMP201": "error"}})
    text = 'import pandas as pd\n\nprices = pd.read_csv("p.csv")\n'
    text += 'x = ("\N{GRINNING FACE}", prices[prices.hour >= 17]["price"])\n'
    uri = editor.open("emoji.py", text)

    [diagnostic] = await editor.diagnostics(uri)

    assert diagnostic.severity == types.DiagnosticSeverity.Error
    # Code points: the chain starts at column 10; the emoji is 2 UTF-16 units, 4 UTF-8 bytes.
    expected = 13 if editor.preset == "neovim" else 11
    assert diagnostic.range.start.character == expected


async def test_syntax_error_mid_edit_keeps_other_findings(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    assert len(await editor.diagnostics(uri)) == 1

    editor.change(uri, PRICES + "\ndef half_typed(:\n    return prices[\n")

    items = await editor.diagnostics(uri)
    assert [item.code for item in items] == ["FMP201"]
    assert items[0].range.start.line == 3


async def test_fifty_rapid_edits_publish_only_the_last_version(editor: Editor):
    await editor.start({"debounceMs": 50})
    await editor.indexed()
    uri = editor.open("prices.py")
    await editor.diagnostics(uri)
    before = len(editor.client.history.get(uri, []))

    for number in range(50):
        clean = number % 2 == 0
        body = "prices.price" if clean else 'prices[prices.hour >= 17]["price"]'
        editor.change(uri, PRICES.replace('prices[prices.hour >= 17]["price"]', body))
    items = await editor.diagnostics(uri)

    assert len(items) == 1  # version 51 is the 50th edit: the flagged text
    if not editor.pulls:
        await asyncio.sleep(0.3)
        assert set(editor.client.history[uri][before:]) == {editor.versions[uri]}


async def test_closing_clears_pushed_diagnostics(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    await editor.diagnostics(uri)

    editor.close(uri)
    await asyncio.sleep(0.3)

    if editor.pulls:
        assert uri not in editor.client.published
    else:
        assert list(editor.client.published[uri].diagnostics) == []


DESCRIBE = '''from .models import Sensor


def describe_sensor(sensor: Sensor) -> str:
    return f"{sensor.name} on {sensor.asset.name}"
'''
REPORT = '''from .describe import describe_sensor
from .models import Sensor


def describe_all() -> list[str]:
    return [describe_sensor(sensor) for sensor in Sensor.query.all()]
'''


async def test_findings_that_need_jedi_follow_the_first_publish(editor: Editor):
    editor.write("gridflex/describe.py", DESCRIBE)
    await editor.start()
    await editor.indexed()
    refreshes = editor.client.diagnostic_refresh_count
    uri = editor.open("gridflex/report.py", REPORT)

    assert await editor.diagnostics(uri) == []  # the first pass does not wait for jedi

    if editor.pulls:
        deadline = asyncio.get_running_loop().time() + 30
        while editor.client.diagnostic_refresh_count == refreshes:
            assert asyncio.get_running_loop().time() < deadline, "no refresh after jedi"
            await asyncio.sleep(0.05)
        items = await editor.diagnostics(uri)
    else:
        deadline = asyncio.get_running_loop().time() + 30
        while not list(editor.client.published[uri].diagnostics):
            assert asyncio.get_running_loop().time() < deadline, "no second publish"
            await asyncio.sleep(0.05)
        items = list(editor.client.published[uri].diagnostics)
    [finding] = items
    assert finding.code == "FMP102"
    [related] = finding.related_information
    assert related.location.uri == editor.uri("gridflex/describe.py")
