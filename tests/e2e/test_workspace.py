"""Settings, pyproject.toml, the workspace index and what changes when models change."""

from __future__ import annotations

import asyncio

from lsp_editor import Editor
from lsprotocol import types


async def wait_until(predicate, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def indexed(editor: Editor) -> None:
    await editor.indexed()


async def test_initialization_options_select_and_ignore(editor: Editor):
    await editor.start({"fmperf": {"ignore": ["FMP2"]}})
    uri = editor.open("prices.py")

    assert await editor.diagnostics(uri) == []


async def test_configuration_change_rechecks_open_files(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    assert len(await editor.diagnostics(uri)) == 1
    refreshes = editor.client.diagnostic_refresh_count

    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"fmperf": {"ignore": ["FMP201"]}})
    )

    if editor.pulls:
        await wait_until(lambda: editor.client.diagnostic_refresh_count > refreshes)
    else:
        await wait_until(lambda: list(editor.client.published[uri].diagnostics) == [])
    assert await editor.diagnostics(uri) == []


async def test_null_settings_pull_the_configuration(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    assert len(await editor.diagnostics(uri)) == 1
    await indexed(editor)
    refreshes = editor.client.diagnostic_refresh_count

    editor.client.set_configuration({"select": ["FMP1"]}, section="fmperf")
    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=None)
    )

    if not editor.pulls:
        await wait_until(lambda: list(editor.client.published[uri].diagnostics) == [])
    else:
        await wait_until(lambda: editor.client.diagnostic_refresh_count > refreshes)
    assert await editor.diagnostics(uri) == []


async def test_bad_settings_fall_back_with_one_message(editor: Editor):
    await editor.start({"select": ["NOPE"], "debounceMs": "soon", "severity": {"FMP201": "loud"}})
    uri = editor.open("prices.py")

    items = await editor.diagnostics(uri)

    assert [item.code for item in items] == ["FMP201"]
    assert items[0].severity == types.DiagnosticSeverity.Warning
    [message] = editor.client.messages
    assert message.type == types.MessageType.Warning
    for key in ("select", "debounceMs", "severity"):
        assert key in message.message


async def test_indexing_reports_progress(editor: Editor):
    await editor.start()

    await indexed(editor)
    [reports] = editor.client.progress_reports.values()
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert reports[0].title == "fmperf: indexing"


async def test_file_watchers_registered_where_the_client_can(editor: Editor):
    await editor.start()
    await editor.diagnostics(editor.open("prices.py"))

    registrations = editor.client.registrations
    if editor.preset == "visual-studio-code":
        [registration] = registrations
        assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
        globs = [watcher["globPattern"] for watcher in registration.register_options["watchers"]]
        assert globs == ["**/*.py", "**/pyproject.toml"]
    else:
        assert registrations == []  # Neovim's preset has no dynamic registration


async def test_pyproject_change_applies_without_restart(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    assert len(await editor.diagnostics(uri)) == 1
    await indexed(editor)
    refreshes = editor.client.diagnostic_refresh_count

    pyproject = editor.write(
        "pyproject.toml", '[project]\nname = "x"\n\n[tool.fmperf]\nignore = ["FMP201"]\n'
    )
    editor.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]))

    if editor.pulls:
        await wait_until(lambda: editor.client.diagnostic_refresh_count > refreshes)
    else:
        await wait_until(lambda: list(editor.client.published[uri].diagnostics) == [])
    assert await editor.diagnostics(uri) == []


async def test_pyproject_problems_are_a_diagnostic_on_the_file(editor: Editor):
    pyproject = editor.write(
        "pyproject.toml", '[tool.fmperf]\nselect = ["FMP2"]\nsevirity = {}\n'
    )
    await editor.start()
    uri = pyproject.as_uri()

    await wait_until(lambda: uri in editor.client.published)

    [problem] = editor.client.published[uri].diagnostics
    assert problem.source == "fmperf"
    assert problem.range.start.line == 2
    assert "sevirity" in problem.message
    prices = editor.open("prices.py")
    assert [item.code for item in await editor.diagnostics(prices)] == ["FMP201"]


def lazy_sensor_reads(items: list[types.Diagnostic]) -> list[int]:
    """Lines where FMP101 reports the lazy `Asset.sensors` relationship."""
    return [
        item.range.start.line
        for item in items
        if item.code == "FMP101" and item.message.startswith("Asset.sensors")
    ]


async def flagged_sensors(editor: Editor, uri: str) -> list[int]:
    """FMP101 lines once the index knows the models (push clients may see a first publish
    from before indexing ended, then the re-check)."""
    if not editor.pulls:
        published = editor.client.published
        await wait_until(lambda: lazy_sensor_reads(getattr(published.get(uri), "diagnostics", [])))
    return lazy_sensor_reads(await editor.diagnostics(uri))


async def rechecked(editor: Editor, uri: str, refreshes: int) -> list[types.Diagnostic]:
    """Diagnostics of `uri` after the server said (refresh or publish) they changed."""
    if editor.pulls:
        await wait_until(lambda: editor.client.diagnostic_refresh_count > refreshes)
    else:
        await wait_until(lambda: not lazy_sensor_reads(editor.client.published[uri].diagnostics))
        assert editor.client.published[uri].version == 1
    return await editor.diagnostics(uri)


async def test_model_edit_rechecks_open_dependents(editor: Editor):
    await editor.start()
    services = editor.open("gridflex/services.py")
    models = editor.open("gridflex/models.py")
    await indexed(editor)
    assert await flagged_sensors(editor, services) == [11, 18]
    refreshes = editor.client.diagnostic_refresh_count

    text = (editor.root / "gridflex/models.py").read_text()
    editor.change(models, text.replace('backref("sensors", lazy="select")',
                                       'backref("sensors", lazy="selectin")'))

    assert lazy_sensor_reads(await rechecked(editor, services, refreshes)) == []


async def test_model_edit_leaves_files_that_name_nothing_changed_alone(editor: Editor):
    """prices.py mentions no model name: its result stands, it is not checked again."""
    await editor.start()
    services = editor.open("gridflex/services.py")
    prices = editor.open("prices.py")
    models = editor.open("gridflex/models.py")
    await indexed(editor)
    assert await flagged_sensors(editor, services) == [11, 18]
    before = await editor.diagnostics(prices)
    published = editor.client.published.get(prices)
    refreshes = editor.client.diagnostic_refresh_count

    text = (editor.root / "gridflex/models.py").read_text()
    editor.change(models, text.replace('backref("sensors", lazy="select")',
                                       'backref("sensors", lazy="selectin")'))

    assert lazy_sensor_reads(await rechecked(editor, services, refreshes)) == []
    logged = [message.message for message in editor.client.log_messages]
    assert any("checking 1 of 3 open files again" in line for line in logged), logged
    assert await editor.diagnostics(prices) == before
    if not editor.pulls:
        assert editor.client.published.get(prices) is published  # nothing sent again


async def test_model_change_on_disk_rechecks_open_dependents(editor: Editor):
    await editor.start()
    services = editor.open("gridflex/services.py")
    await indexed(editor)
    assert await flagged_sensors(editor, services) == [11, 18]
    refreshes = editor.client.diagnostic_refresh_count

    path = editor.root / "gridflex/models.py"
    path.write_text(path.read_text().replace('backref("sensors", lazy="select")',
                                             'backref("sensors", lazy="selectin")'))
    editor.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Changed)]))

    assert lazy_sensor_reads(await rechecked(editor, services, refreshes)) == []


async def test_workspace_diagnostics_cover_files_not_open(editor: Editor):
    await editor.start()
    editor.open("gridflex/services.py")
    await indexed(editor)

    report = await editor.client.workspace_diagnostic_async(
        types.WorkspaceDiagnosticParams(previous_result_ids=[]))

    by_uri = {item.uri: item for item in report.items}
    prices = editor.uri("prices.py")
    assert [item.code for item in by_uri[prices].items] == ["FMP201"]
    assert editor.uri("gridflex/services.py") not in by_uri  # open: pulled per document
    again = await editor.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(
        previous_result_ids=[types.PreviousResultId(uri=prices, value=by_uri[prices].result_id)]))
    assert {item.uri: item.kind for item in again.items}[prices] == "unchanged"
