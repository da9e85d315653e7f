"""The editor side of the end-to-end tests: open, edit and ask like a user would.

Every test runs twice, once as Neovim 0.11 (pulls diagnostics) and once as
VS Code 1.65 (only takes pushed ones), using pytest-lsp's capability presets.
`Editor` hides the difference where a test only cares about the findings.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

HERE = Path(__file__).parent
REPO = HERE.parent.parent
PRESETS = ["neovim", "visual-studio-code"]

PRICES = textwrap.dedent(
    """\
    import pandas as pd

    prices = pd.read_csv("prices.csv")
    evening = prices[prices.hour >= 17]["price"]
    """
)
"""A file with one FMP201 finding, on line 4 (index 3), columns 10-44."""


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).strip(os.pathsep)
    env["FMPERF_LS_EXTRA_RULES"] = "raising_rule"
    return env


SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "fmperf_ls.server", "--stdio", "-v"],
    server_env=server_env(),
)


class Editor:
    """A thin editor over the test client: open, edit and ask like a user would."""

    def __init__(self, client: LanguageClient, preset: str, root: Path):
        self.client = client
        self.preset = preset
        self.root = root
        self.versions: dict[str, int] = {}
        self.started = False

    @property
    def pulls(self) -> bool:
        return self.preset == "neovim"

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    async def start(self, options: Any = None) -> types.InitializeResult:
        params = types.InitializeParams(
            capabilities=client_capabilities(self.preset),
            root_uri=self.root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=self.root.as_uri(), name="project")],
            initialization_options=options,
        )
        result = await self.client.initialize_session(params)
        self.started = True
        return result

    async def indexed(self, timeout: float = 30) -> None:
        """Wait for the end of the start-up indexing (both presets show progress)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not any(
            isinstance(report, types.WorkDoneProgressEnd)
            for reports in self.client.progress_reports.values()
            for report in reports
        ):
            assert asyncio.get_running_loop().time() < deadline, "indexing did not end"
            await asyncio.sleep(0.05)

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def open(self, name: str, text: str | None = None) -> str:
        uri = self.uri(name)
        if text is None:
            text = (self.root / name).read_text(encoding="utf-8")
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text)))
        return uri

    def change(self, uri: str, text: str) -> int:
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=uri, version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        return self.versions[uri]

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))

    async def diagnostics(self, uri: str, timeout: float = 15) -> list[types.Diagnostic]:
        """The diagnostics of the current version, pulled or waited for as pushed."""
        if self.pulls:
            return await asyncio.wait_for(self._pull_items(uri), timeout)
        return await self.pushed(uri, timeout)

    async def _pull_items(self, uri: str) -> list[types.Diagnostic]:
        """Pull until the server answers; "ask again" (ServerCancelled) is retried."""
        while True:
            try:
                report = await self.pull(uri)
            except JsonRpcException as error:
                if error.code != -32802:
                    raise
                continue
            return list(report.items)

    async def pull(self, uri: str, previous: str | None = None) -> Any:
        return await self.client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous))

    async def pushed(self, uri: str, timeout: float = 15) -> list[types.Diagnostic]:
        """Wait for a publish for the current version of `uri`."""
        wanted = self.versions.get(uri)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            published = self.client.published.get(uri)
            if published is not None and published.version == wanted:
                return list(published.diagnostics)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no diagnostics for {uri} v{wanted}: {published}")
            await asyncio.sleep(0.02)

    async def hover(self, uri: str, line: int, character: int) -> types.Hover | None:
        return await self.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character)))

    async def actions(
        self, uri: str, span: types.Range, only: list[str] | None = None,
        diagnostics: list[types.Diagnostic] | None = None,
    ) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=span,
            context=types.CodeActionContext(
                diagnostics=diagnostics or [],
                only=list(only) if only else None),
        ))
        return list(result or [])


def apply(text: str, edit: types.WorkspaceEdit, uri: str) -> str:
    """The document text after a workspace edit, as an editor applies it."""
    edits: list[types.TextEdit] = []
    if edit.document_changes:
        for change in edit.document_changes:
            assert isinstance(change, types.TextDocumentEdit)
            if change.text_document.uri == uri:
                edits += change.edits
    for target, more in (edit.changes or {}).items():
        if target == uri:
            edits += more
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position: types.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        return offsets[position.line] + position.character  # ASCII in these tests

    for text_edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        start, end = offset(text_edit.range.start), offset(text_edit.range.end)
        text = text[:start] + text_edit.new_text + text[end:]
    return text


def project(root: Path) -> None:
    """The default workspace: the example Flask-SQLAlchemy app and a pandas script."""
    shutil.copytree(REPO / "examples" / "gridflex", root / "gridflex")
    (root / "prices.py").write_text(PRICES, encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "gridflex"\n\n[tool.fmperf]\nignore = []\n', encoding="utf-8"
    )
