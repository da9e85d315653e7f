"""End-to-end fixtures: the real server in a subprocess, driven like an editor would."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsp_editor import PRESETS, SERVER, Editor, project
from lsprotocol import types
from pytest_lsp import LanguageClient


@pytest_lsp.fixture(config=SERVER)
async def lsp(lsp_client: LanguageClient):
    published: dict[str, types.PublishDiagnosticsParams] = {}
    lsp_client.published = published  # type: ignore[attr-defined]
    handler = lsp_client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    history: dict[str, list[int | None]] = {}
    lsp_client.history = history  # type: ignore[attr-defined]

    def keep(params: types.PublishDiagnosticsParams) -> None:
        published[params.uri] = params
        history.setdefault(params.uri, []).append(params.version)
        handler(params)

    lsp_client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = keep
    registrations: list[types.Registration] = []
    lsp_client.registrations = registrations  # type: ignore[attr-defined]

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    yield


@pytest.fixture(params=PRESETS)
async def editor(request, lsp: LanguageClient, tmp_path: Path):
    root = tmp_path / "project"
    project(root)
    editor = Editor(lsp, request.param, root)
    yield editor
    if editor.started and lsp.error is None and not getattr(lsp, "exited", False):
        await lsp.shutdown_session()
