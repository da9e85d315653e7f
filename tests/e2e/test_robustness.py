"""Bad input and broken parts: a JSON-RPC error or nothing, never a crash or a hang."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import Future

import pytest
from lsp_editor import PRICES, Editor
from lsprotocol import types
from pygls.exceptions import JsonRpcException


async def still_serving(editor: Editor) -> None:
    """The server answers a real request after whatever came before."""
    uri = editor.open("prices.py")
    assert [item.code for item in await editor.diagnostics(uri)] == ["FMP201"]
    hover = await editor.hover(uri, 3, 20)
    assert hover is not None


async def test_a_rule_that_raises_is_logged_and_skipped(editor: Editor):
    await editor.start()
    uri = editor.open("broken.py", PRICES + "fmperf_test_raise = True\n")

    items = await editor.diagnostics(uri)

    assert [item.code for item in items] == ["FMP201"]
    logged = [message.message for message in editor.client.log_messages]
    assert any("rule FMP999 failed" in line for line in logged)
    await still_serving(editor)


async def test_shutdown_and_exit(editor: Editor):
    await editor.start()
    await editor.diagnostics(editor.open("prices.py"))

    await editor.client.shutdown_async(None)
    editor.client.exit(None)
    code = await asyncio.wait_for(editor.client._server.wait(), 10)

    editor.client.exited = True
    assert code == 0


async def test_unknown_method_is_an_error_reply(editor: Editor):
    await editor.start()

    with pytest.raises(JsonRpcException) as error:
        await asyncio.wait_for(editor.client.protocol.send_request_async("fmperf/nothing", {}), 5)

    assert "fmperf/nothing" in str(error.value)
    editor.client.protocol.notify("fmperf/alsoNothing", {})
    await still_serving(editor)


def send_raw(editor: Editor, message: dict | bytes) -> None:
    """Write one message the typed client could not send, straight to the server."""
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    header = f"Content-Length: {len(body)}\r\n\r\n".encode()
    editor.client._server.stdin.write(header + body)


async def test_malformed_params_are_an_error_reply(editor: Editor):
    await editor.start()
    reply: Future = Future()
    editor.client.protocol._request_futures["malformed-1"] = reply

    send_raw(editor, {"jsonrpc": "2.0", "id": "malformed-1", "method": "textDocument/hover",
                      "params": {"textDocument": 5, "position": "here"}})

    with pytest.raises(JsonRpcException) as error:
        await asyncio.wait_for(asyncio.wrap_future(reply), 5)
    assert error.value.code == -32602  # InvalidParams
    await still_serving(editor)


async def test_requests_on_a_document_never_opened(editor: Editor):
    await editor.start()
    uri = editor.uri("never.py")

    assert await editor.hover(uri, 0, 0) is None
    assert await editor.actions(uri, types.Range(start=types.Position(line=0, character=0),
                                                 end=types.Position(line=0, character=0))) == []
    report = await editor.pull(uri)
    assert list(report.items) == []
    editor.client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="x = 1\n")]))
    await still_serving(editor)


async def test_code_action_past_the_end(editor: Editor):
    await editor.start()
    uri = editor.open("prices.py")
    await editor.diagnostics(uri)

    far = types.Position(line=10_000, character=10_000)
    assert await editor.actions(uri, types.Range(start=far, end=far)) == []


async def test_a_fifty_thousand_line_file(editor: Editor):
    await editor.start()
    body = "".join(f"value_{number} = {number} * 2\n" for number in range(50_000))
    uri = editor.open("huge.py", PRICES + body)

    items = await editor.diagnostics(uri, timeout=60)

    assert items == []  # too long to check: skipped, with one log line
    logged = [message.message for message in editor.client.log_messages]
    assert any("huge.py has 50005 lines" in line for line in logged)
    await still_serving(editor)


async def test_lone_surrogates_in_the_text(editor: Editor):
    await editor.start()
    uri = editor.open("odd.py", PRICES + 'name = "\udcff"\n')

    items = await editor.diagnostics(uri)

    assert [item.code for item in items] == ["FMP201"]
    await still_serving(editor)


async def test_bytes_that_are_not_utf8(editor: Editor):
    await editor.start()
    body = json.dumps({
        "jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": {"textDocument": {"uri": editor.uri("bad.py"), "languageId": "python",
                                    "version": 1, "text": "PLACEHOLDER"}},
    }).encode().replace(b"PLACEHOLDER", b"x = '\xff\xfe'")

    send_raw(editor, body)

    await still_serving(editor)


async def test_client_that_never_sends_initialized(lsp, tmp_path):
    from lsp_editor import project
    from pytest_lsp import client_capabilities

    root = tmp_path / "project"
    project(root)
    editor = Editor(lsp, "visual-studio-code", root)
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri()
    )
    lsp.capabilities = params.capabilities
    await lsp.initialize_async(params)

    await still_serving(editor)
    await lsp.shutdown_session()
