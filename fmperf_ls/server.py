"""`fmperf-ls`: the language server, wired to pygls.

Only wiring lives here: each LSP method hands its parameters to the session
(`lsp.workspace`) or to a feature module (`lsp.hover`, `lsp.actions`) and
turns the answer into the protocol's types. stdout carries the protocol and
nothing else: logs go to stderr or `--log-file`, and to the client as
window/logMessage.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from fmperf_ls import __version__
from fmperf_ls.lsp import actions
from fmperf_ls.lsp.convert import PositionCodec, path_of
from fmperf_ls.lsp.hover import hover
from fmperf_ls.lsp.settings import SECTION, unwrap
from fmperf_ls.lsp.workspace import Busy, Result, Session

logger = logging.getLogger(__name__)

EXTRA_RULES_ENV = "FMPERF_LS_EXTRA_RULES"
"""Comma-separated modules imported at start; each registers rules (tests, plugins)."""
CLIENT_REQUEST_TIMEOUT = 5.0


class FmperfProtocol(LanguageServerProtocol):
    """Answers a request whose params do not deserialize, instead of leaving it hanging,
    and ignores edits to documents that were never opened instead of failing on them."""

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        uri = params.text_document.uri
        if unquote(uri) not in self.workspace.text_documents:
            logger.warning("didChange for %s, which is not open; ignored", uri)
            return  # pygls would raise KeyError: a client bug, not ours to report
        yield from super().lsp_text_document__did_change(params)

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                reply = JsonRpcInvalidParams(f"invalid params for {data.get('method')}")
                self._send_response(data["id"], error=reply.to_response_error())
            raise error


class ServerCancelled(JsonRpcException):
    """LSP's ServerCancelled: ask again later (a pull whose analysis is still running)."""

    CODE = -32802
    MESSAGE = "Server cancelled"


class FmperfServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("fmperf-ls", __version__, protocol_cls=FmperfProtocol)
        self.session: Session | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._shown_failure = False

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log every failure; show the first one outside a request to the user, once."""
        logger.error("server error (%s): %s", getattr(source, "__name__", source), error)
        if self._shown_failure or source is not _notification_error():
            return  # requests answer with their error; one popup is enough
        self._shown_failure = True
        self.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Error,
            message=f"fmperf: an internal error occurred ({error}); see the fmperf log",
        ))


def _notification_error() -> type:
    from pygls.exceptions import FeatureNotificationError

    return FeatureNotificationError


class ProtocolClient:
    """The session's view of the client: push or pull, refresh, messages."""

    def __init__(self, server: FmperfServer, capabilities: types.ClientCapabilities):
        self.server = server
        text = capabilities.text_document
        self.pulls = text is not None and text.diagnostic is not None
        workspace = capabilities.workspace
        edit = workspace.workspace_edit if workspace else None
        self.document_changes = bool(edit and edit.document_changes)
        self.configuration = bool(workspace and workspace.configuration)
        watched = workspace.did_change_watched_files if workspace else None
        self.watches_files = bool(watched and watched.dynamic_registration)
        window = capabilities.window
        self.progress = bool(window and window.work_done_progress)

    def publish(self, uri: str, version: int | None, items: list[types.Diagnostic]) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=items, version=version)
        )

    def refresh(self) -> None:
        """Ask a pull client to pull again; a client that cannot is only logged."""
        future = self.server.workspace_diagnostic_refresh(None)
        future.add_done_callback(_log_refused)

    def show_warning(self, message: str) -> None:
        self.server.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        )


def _log_refused(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.debug("client refused workspace/diagnostic/refresh: %s", future.exception())


server = FmperfServer()


def _session() -> Session | None:
    return server.session


@server.feature(types.INITIALIZE)
def initialize(ls: FmperfServer, params: types.InitializeParams) -> None:
    ls.loop = asyncio.get_running_loop()
    client = ProtocolClient(ls, params.capabilities)
    codec = PositionCodec(ls.workspace.position_encoding or "utf-16")
    ls.session = Session(client, _roots(params), codec)
    ls.session.apply_editor_settings(params.initialization_options)
    logger.info(
        "fmperf-ls %s: %s diagnostics, %s positions, root %s",
        __version__, "pulled" if client.pulls else "pushed", codec.encoding, ls.session.root,
    )


def _roots(params: types.InitializeParams) -> list[Path]:
    folders = [path_of(folder.uri) for folder in params.workspace_folders or []]
    if not folders and params.root_uri:
        folders = [path_of(params.root_uri)]
    if not folders and params.root_path:
        folders = [params.root_path]
    return [Path(folder) for folder in folders if os.path.isdir(folder)]


@server.feature(types.INITIALIZED)
async def initialized(ls: FmperfServer, params: types.InitializedParams) -> None:
    """Watch files, pull settings, read pyproject.toml, then index with progress."""
    session = ls.session
    if session is None:
        return  # `initialized` before `initialize`: nothing to start
    session.ready = True
    client: ProtocolClient = session.client  # type: ignore[assignment]
    if client.watches_files:
        await _watch_files(ls)
    if client.configuration:
        await _pull_configuration(ls, session)
    await session.load_pyproject()
    await _index(ls, session, client.progress)


async def _watch_files(ls: FmperfServer) -> None:
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[
            types.FileSystemWatcher(glob_pattern="**/*.py"),
            types.FileSystemWatcher(glob_pattern="**/pyproject.toml"),
        ]
    )
    registration = types.Registration(
        id=f"fmperf-watch-{uuid.uuid4()}",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )
    try:
        await asyncio.wait_for(
            ls.client_register_capability_async(types.RegistrationParams([registration])),
            CLIENT_REQUEST_TIMEOUT,
        )
    except (asyncio.TimeoutError, JsonRpcException) as error:
        logger.warning("could not register file watchers: %s", error)


async def _pull_configuration(ls: FmperfServer, session: Session) -> None:
    """workspace/configuration for section `fmperf`; nothing there keeps what we have."""
    request = types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
    try:
        answer = await asyncio.wait_for(
            ls.workspace_configuration_async(request), CLIENT_REQUEST_TIMEOUT
        )
    except (asyncio.TimeoutError, JsonRpcException) as error:
        logger.warning("could not pull settings: %s", error)
        return  # the settings we have stay
    value = answer[0] if answer else None
    if unwrap(value):
        session.apply_editor_settings(value)


async def _index(ls: FmperfServer, session: Session, progress: bool) -> None:
    token = f"fmperf-indexing-{uuid.uuid4()}"
    if progress:
        try:
            await asyncio.wait_for(
                ls.work_done_progress.create_async(token), CLIENT_REQUEST_TIMEOUT
            )
        except (asyncio.TimeoutError, JsonRpcException) as error:
            logger.debug("no progress token: %s", error)
            progress = False
    if progress:
        ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title="fmperf: indexing", message="finding models", percentage=0))

    def report(done: int, total: int) -> None:
        if progress:
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(
                message=f"{done}/{total} files", percentage=int(100 * done / max(total, 1))))

    try:
        count = await session.index_workspace(report)
        logger.info("indexed %s files", count)
    finally:
        if progress:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: FmperfServer, params: types.DidChangeConfigurationParams
) -> None:
    """Settings in the notification win; without any, pull them when the client can."""
    session = ls.session
    if session is None:
        return  # not initialized yet: initializationOptions will come first
    client: ProtocolClient = session.client  # type: ignore[assignment]
    if unwrap(params.settings):
        session.apply_editor_settings(params.settings)
    elif client.configuration:
        await _pull_configuration(ls, session)
    else:
        logger.info("didChangeConfiguration without settings; keeping the current ones")


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def did_change_watched_files(
    ls: FmperfServer, params: types.DidChangeWatchedFilesParams
) -> None:
    if ls.session is not None:
        await ls.session.files_changed(list(params.changes))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: FmperfServer, params: types.DidOpenTextDocumentParams) -> None:
    document = params.text_document
    if ls.session is not None:
        ls.session.open(document.uri, document.text, document.version, document.language_id)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: FmperfServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    if ls.session is None or uri not in ls.session.documents:
        return  # never opened: logged by the protocol
    text = ls.workspace.get_text_document(uri).source
    ls.session.change(uri, text, params.text_document.version)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: FmperfServer, params: types.DidSaveTextDocumentParams) -> None:
    """A saved pyproject.toml applies at once, also for clients that watch no files."""
    if ls.session is not None and params.text_document.uri.endswith("pyproject.toml"):
        await ls.session.load_pyproject()


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: FmperfServer, params: types.DidCloseTextDocumentParams) -> None:
    if ls.session is not None:
        ls.session.close(params.text_document.uri)


@server.feature(
    types.TEXT_DOCUMENT_DIAGNOSTIC,
    types.DiagnosticOptions(
        identifier="fmperf", inter_file_dependencies=True, workspace_diagnostics=True
    ),
)
async def document_diagnostic(
    ls: FmperfServer, params: types.DocumentDiagnosticParams
) -> types.DocumentDiagnosticReport:
    session = ls.session
    try:
        result = await session.current(params.text_document.uri) if session else None
    except Busy as busy:
        raise ServerCancelled(str(busy), data={"retriggerRequest": True}) from None
    if result is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    if params.previous_result_id == result.result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result.result_id)
    return types.RelatedFullDocumentDiagnosticReport(
        items=result.diagnostics, result_id=result.result_id
    )


@server.feature(types.WORKSPACE_DIAGNOSTIC)
async def workspace_diagnostic(
    ls: FmperfServer, params: types.WorkspaceDiagnosticParams
) -> types.WorkspaceDiagnosticReport:
    if ls.session is None:
        return types.WorkspaceDiagnosticReport(items=[])
    previous = {item.uri: item.value for item in params.previous_result_ids}
    return types.WorkspaceDiagnosticReport(items=await ls.session.workspace_reports(previous))


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def on_hover(ls: FmperfServer, params: types.HoverParams) -> types.Hover | None:
    session = ls.session
    result = await _current(session, params.text_document.uri)
    if session is None or result is None:
        return None  # never opened, or closed while waiting
    return hover(result.source, result.findings, params.position, session.codec, session.rules)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=actions.KINDS, resolve_provider=False),
)
async def on_code_action(
    ls: FmperfServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    session = ls.session
    uri = params.text_document.uri
    result = await _current(session, uri)
    if session is None or result is None:
        return None  # never opened, or closed while waiting
    only = list(params.context.only or []) or None
    target = _target(session, uri, result)
    found: list[types.CodeAction] = []
    if actions.wanted(actions.QUICKFIX, only):
        found += actions.quick_actions(target, result.findings, params.range)
    if only and actions.wanted(actions.FIX_ALL, only):
        fix_all = actions.fix_all_action(target, await session.fixed_text(result))
        found += [fix_all] if fix_all is not None else []
    return found


async def _current(session: Session | None, uri: str) -> Result | None:
    """The current analysis for hover and code actions; none while it is still running."""
    if session is None:
        return None  # not initialized: nothing is open
    try:
        return await session.current(uri, flush=True)
    except Busy:
        return None


def _target(session: Session, uri: str, result: Result) -> actions.Target:
    client: ProtocolClient = session.client  # type: ignore[assignment]
    return actions.Target(
        uri, result.version, result.source, session.codec, client.document_changes
    )


@server.feature(types.SHUTDOWN)
def on_shutdown(ls: FmperfServer, params: Any) -> None:
    if ls.session is not None:
        ls.session.stop()
    logger.info("shutting down")


# -- logging and start -----------------------------------------------------------


class ClientLogHandler(logging.Handler):
    """Sends fmperf's own log records to the client as window/logMessage."""

    LEVELS = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
        logging.DEBUG: types.MessageType.Log,
    }

    def __init__(self, ls: FmperfServer):
        super().__init__()
        self.ls = ls

    def emit(self, record: logging.LogRecord) -> None:
        loop = self.ls.loop
        if loop is None or loop.is_closed() or self.ls.protocol.writer is None:
            return  # before initialize or after exit: the log file has it
        kind = self.LEVELS.get(record.levelno, types.MessageType.Error)
        params = types.LogMessageParams(type=kind, message=self.format(record))
        if threading.current_thread() is threading.main_thread():
            self.ls.window_log_message(params)
        else:
            loop.call_soon_threadsafe(self.ls.window_log_message, params)


def setup_logging(log_file: str | None, verbose: int) -> None:
    """fmperf at INFO (-v: DEBUG) to a file or stderr; pygls quiet unless -vv."""
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("fmperf_ls").setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("pygls").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    to_client = ClientLogHandler(server)
    to_client.setLevel(logging.DEBUG if verbose else logging.INFO)
    to_client.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("fmperf_ls").addHandler(to_client)


def import_extra_rules() -> None:
    """Import the modules named in FMPERF_LS_EXTRA_RULES, which register more rules."""
    for name in filter(None, os.environ.get(EXTRA_RULES_ENV, "").split(",")):
        try:
            importlib.import_module(name.strip())
            logger.info("loaded extra rules from %s", name)
        except Exception:  # a broken plugin must not keep the server from starting
            logger.exception("could not import extra rules from %s", name)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="fmperf-ls", description="fmperf language server (stdio unless --tcp)"
    )
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP port instead")
    parser.add_argument("--log-file", metavar="PATH", help="log here instead of stderr")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="-v debug, -vv wire")
    parser.add_argument("--version", action="version", version=f"fmperf-ls {__version__}")
    return parser.parse_args(argv)


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        raise SystemExit(f"fmperf-ls: --tcp expects HOST:PORT, got {text!r}")
    return host or "127.0.0.1", int(port)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print anywhere must not corrupt the protocol
    setup_logging(args.log_file, args.verbose)
    import_extra_rules()
    if args.tcp:
        server.start_tcp(*_address(args.tcp))
    else:
        server.start_io(sys.stdin.buffer, protocol_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
