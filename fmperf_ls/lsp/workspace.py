"""The server's state: open documents, their analysis, the workspace index, settings.

Everything here runs on the event loop except the jobs handed to the two
workers: `fast` parses and checks documents (and indexes the workspace in
small chunks between them), `slow` repeats a check with jedi when the fast
pass met a question only jedi can answer. A result is kept only if the
document version and the settings/models generation it was computed for are
still current; anything else is a stale result and is dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from lsprotocol import types

from fmperf_ls import fixes
from fmperf_ls.analysis.jedi_bridge import JediBridge
from fmperf_ls.analysis.project import ProjectIndex
from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.config import ConfigProblem, Settings, find_pyproject, load_pyproject
from fmperf_ls.engine import Engine, Report
from fmperf_ls.lsp.convert import PositionCodec, path_of, uri_of
from fmperf_ls.lsp.diagnostics import config_diagnostics, to_diagnostics
from fmperf_ls.lsp.incremental import DocumentSource, forget
from fmperf_ls.lsp.settings import EditorSettings, parse_editor_settings
from fmperf_ls.lsp.worker import DOCUMENT, INDEX, Worker
from fmperf_ls.rules import all_rules
from fmperf_ls.rules.base import Finding

logger = logging.getLogger(__name__)

WAIT_SECONDS = 10.0
"""How long a pull, hover or code action waits for the analysis of the current text."""
INDEX_CHUNK = 8
JEDI_DELAY_SECONDS = 0.3
"""The jedi pass waits for a pause in typing, so it never competes with the first pass."""
MAX_LINES = 20_000
"""Longer files (generated code, data dumps) are skipped: parsing one costs many seconds
and would hold every other document's diagnostics back for as long."""
MAX_WORKSPACE_FILES = 50_000
_SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages", "build", "dist"}


class Busy(Exception):
    """The analysis of a document took longer than a request may wait."""


class Client(Protocol):
    """What the session needs from the protocol side; `server.py` implements it."""

    pulls: bool

    def publish(self, uri: str, version: int | None, items: list[types.Diagnostic]) -> None: ...

    def refresh(self) -> None: ...

    def show_warning(self, message: str) -> None: ...


@dataclass(frozen=True)
class Result:
    """One analysis of one document version."""

    version: int
    generation: int
    source: SourceFile
    findings: tuple[Finding, ...]
    diagnostics: list[types.Diagnostic]
    needs_jedi: bool = False
    with_jedi: bool = False

    @cached_property
    def result_id(self) -> str:
        """Equal for equal diagnostics, so a re-pull after a no-op refresh is "unchanged"."""
        digest = hashlib.blake2b(repr(self.diagnostics).encode(), digest_size=8).hexdigest()
        return f"{self.version}-{digest}"


@dataclass
class Document:
    uri: str
    path: str
    version: int
    text: str
    python: bool = True
    result: Result | None = None
    timer: asyncio.TimerHandle | None = None
    waiters: list[tuple[int, asyncio.Future]] = field(default_factory=list)


class JediProbe:
    """A jedi lookup that answers "unknown" at once and remembers it was asked.

    The first pass runs with it, so a cold jedi never delays the first
    diagnostics; when it was asked, a second pass with real jedi follows.
    """

    def __init__(self) -> None:
        self.asked = False

    def __call__(self, source: SourceFile, name: Any) -> None:
        self.asked = True
        return None


class JediLookup:
    """Real jedi lookups, built on first use inside the slow worker's thread."""

    def __init__(self, root: Path | None, site_packages: tuple[str, ...], interpreter: str | None):
        self._root = root
        self._site_packages = site_packages
        self._interpreter = interpreter
        self._bridge: JediBridge | None = None

    def __call__(self, source: SourceFile, name: Any) -> Any:
        if self._bridge is None:
            paths = self._site_packages + interpreter_paths(self._interpreter)
            self._bridge = JediBridge(self._root, paths)
        return self._bridge.definition_of(source, name)


def interpreter_paths(interpreter: str | None) -> tuple[str, ...]:
    """The import path of the user's interpreter, so jedi sees their pandas and SQLAlchemy."""
    if not interpreter:
        return ()
    script = "import json, sys; print(json.dumps([p for p in sys.path if p]))"
    try:
        done = subprocess.run(
            [interpreter, "-c", script], capture_output=True, text=True, timeout=10, check=True
        )
        paths = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        logger.warning("cannot ask %s for its import path: %s", interpreter, error)
        return ()
    return tuple(path for path in paths if isinstance(path, str) and "site-packages" in path)


class Session:
    """Documents, analysis and settings of one client connection."""

    def __init__(self, client: Client, roots: list[Path], codec: PositionCodec):
        self.client = client
        self.roots = roots
        self.root = roots[0] if roots else None
        self.codec = codec
        self.project = ProjectIndex(self.root)
        self.documents: dict[str, Document] = {}
        self.generation = 0
        self.editor = EditorSettings()
        self.file_settings = Settings()
        self.settings = Settings()
        self.config_problems: list[ConfigProblem] = []
        self.pyproject: Path | None = None
        self.workspace_files: set[str] = set()
        self._listed = False
        self.rules = all_rules()
        self.fast = Worker("fmperf-analysis")
        self.slow = Worker("fmperf-jedi")
        self._probe = JediProbe()
        self._tasks: set[asyncio.Task] = set()
        self._failures_seen: set[tuple[str, str]] = set()
        self._applied: tuple[Settings, EditorSettings] | None = None
        self.ready = False
        """Set once the client sent `initialized`: no requests to it before that."""
        self._build_engines()

    # -- settings ---------------------------------------------------------------

    def _build_engines(self) -> None:
        # No gates for the open document: the diff parser updates its tree for less than
        # the `ast` outline a gate would first compile (see analysis/outline.py).
        self.fast_engine = Engine(self.settings, self.project, self._probe, budget_seconds=3600,
                                  gates=False, syntax=False)
        lookup = JediLookup(self.root, self.editor.site_packages, self.editor.interpreter)
        budget = self.editor.analysis_budget_ms / 1000
        self.slow_engine = Engine(self.settings, self.project, lookup, budget_seconds=budget,
                                  syntax=False)

    def apply_editor_settings(self, raw: Any) -> None:
        """New editor settings; bad values fall back to defaults with one message."""
        editor, problems = parse_editor_settings(raw)
        if problems:
            message = "fmperf: ignored bad settings, using defaults: " + "; ".join(problems)
            logger.warning("%s", message)
            self.client.show_warning(message)
        self.editor = editor
        self._settings_changed()

    async def load_pyproject(self) -> None:
        """Read pyproject.toml again; its problems become one diagnostic each on the file."""
        found = await self.fast.run(INDEX, _read_pyproject, self.root)
        previous = self.config_problems
        self.pyproject, self.file_settings, self.config_problems, text = found
        for problem in self.config_problems:
            logger.warning("%s", problem)
        if self.pyproject is not None and (self.config_problems or previous):
            items = config_diagnostics(self.config_problems, text)
            self.client.publish(uri_of(str(self.pyproject)), None, items)
        self._settings_changed()

    def _settings_changed(self) -> None:
        settings = self.editor.apply_to(self.file_settings)
        if (settings, self.editor) == self._applied:
            return  # the same settings again: the current results stand
        previous = self.settings
        self._applied = (settings, self.editor)
        self.settings = settings
        self._build_engines()
        self._recheck_all()
        if settings.extend_model_modules != previous.extend_model_modules:
            self._spawn(self._model_modules(settings.extend_model_modules))

    async def _model_modules(self, modules: tuple[str, ...]) -> None:
        """`extend-model-modules` changed: index the named modules whatever the prefilter says."""
        files = await self.fast.run(INDEX, self.project.set_model_modules, modules)
        if files:
            await self._reindex([str(path) for path in files])

    def _recheck_all(self) -> None:
        """A new generation: every open document is checked again, pull clients re-pull."""
        self.generation += 1
        for document in self.documents.values():
            self._schedule(document, 0)
        if self.client.pulls and self.ready:
            self.client.refresh()

    def _recheck_dependents(self, words: set[str], edited: str | None = None) -> None:
        """Models changed: check again the open documents that mention a changed name.

        The others keep their result under the new generation: findings reach
        models only through names written in the file (see
        `models.changed_words`). `edited`, the model document whose own
        check saw the change, needs no second check.
        """
        self.generation += 1
        alternatives = "|".join(map(re.escape, sorted(words)))
        mentions = re.compile(rf"\b(?:{alternatives})\b")
        again = []
        for document in self.documents.values():
            if document.uri == edited:
                continue  # its fresh result is stored under the new generation by the caller
            if mentions.search(document.text):
                again.append(document.path)
                self._schedule(document, 0)
            elif document.result is not None and document.result.version == document.version:
                document.result = replace(document.result, generation=self.generation)
        logger.info("models changed (%s); checking %d of %d open files again",
                    ", ".join(sorted(words)[:8]) or "nothing named", len(again),
                    len(self.documents))
        if self.client.pulls and self.ready:
            self.client.refresh()

    # -- documents --------------------------------------------------------------

    def open(self, uri: str, text: str, version: int, language: str) -> None:
        path = path_of(uri)
        python = language == "python" or path.endswith((".py", ".pyi"))
        document = Document(uri, path, version, text, python)
        self.documents[uri] = document
        self._schedule(document, 0)

    def change(self, uri: str, text: str, version: int) -> None:
        document = self.documents.get(uri)
        if document is None:
            logger.warning("change to %s, which was never opened; ignored", uri)
            return  # no text to apply the change to
        document.version, document.text = version, text
        self._schedule(document, self.editor.debounce_ms)

    def close(self, uri: str) -> None:
        document = self.documents.pop(uri, None)
        if document is None:
            return  # closed twice or never opened: nothing to release
        if document.timer is not None:
            document.timer.cancel()
        for _, waiter in document.waiters:
            if not waiter.done():
                waiter.set_result(None)
        if not self.client.pulls:
            self.client.publish(uri, None, [])
        self.fast.submit(DOCUMENT, forget, uri)  # on the worker: it owns parso's cache entry
        if document.python:
            self._spawn(self._reindex([document.path]))

    def _schedule(self, document: Document, delay_ms: int) -> None:
        if document.timer is not None:
            document.timer.cancel()
        loop = asyncio.get_running_loop()
        document.timer = loop.call_later(delay_ms / 1000, self._start, document.uri)

    def _start(self, uri: str) -> None:
        document = self.documents.get(uri)
        if document is None:
            return  # closed while its debounce timer ran
        document.timer = None
        self._spawn(self._analyze(document, document.version, document.text, self.generation))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _analyze(self, document: Document, version: int, text: str, generation: int) -> None:
        engine = self.fast_engine
        try:
            result, changed_words = await self.fast.run(
                DOCUMENT, self._first_pass, engine, document, version, text, generation
            )
        except Exception:  # a bug here must cost one result, not the server
            logger.exception("analysis of %s failed", document.uri)
            return  # the previous diagnostics stay until the next edit
        if result is None:
            return  # the text changed while this pass waited: the newer pass decides
        if changed_words and generation == self.generation:
            self._recheck_dependents(changed_words, document.uri)
            result = replace(result, generation=self.generation)
        if self._store(document.uri, result) and result.needs_jedi:
            self._spawn(self._second_pass(document.uri, result))

    def _first_pass(
        self, engine: Engine, document: Document, version: int, text: str, generation: int
    ) -> tuple[Result | None, set[str]]:
        """Runs on the fast worker: index update, then a check without jedi.

        Also returns the names whose ORM meaning the update changed, taken
        here because only this thread touches the index.
        """
        if document.version != version:
            return None, set()  # typed over while queued: checking it would be wasted
        source = DocumentSource(text, document.path, version, document.uri)
        if not document.python:
            return Result(version, generation, source, (), []), set()
        lines = text.count("\n") + 1
        if lines > MAX_LINES:
            if (document.path, "size") not in self._failures_seen:
                self._failures_seen.add((document.path, "size"))
                logger.warning("%s has %s lines (over %s): not checked", document.path, lines,
                               MAX_LINES)
            return Result(version, generation, source, (), []), set()
        changed = self.project.update(document.path, text)  # the index keeps its own tree
        words = self.project.models.take_changed_words() if changed else set()
        self._probe.asked = False
        report = engine.check(source)
        self._log_failures(report)
        diagnostics = to_diagnostics(report.findings, source, self.codec)
        result = Result(
            version, generation, source, tuple(report.findings), diagnostics, self._probe.asked
        )
        return result, words

    async def _second_pass(self, uri: str, first: Result) -> None:
        """The check again with jedi, once the user pauses; published only if it differs."""
        await asyncio.sleep(JEDI_DELAY_SECONDS)
        document = self.documents.get(uri)
        if document is None or document.version != first.version:
            return  # typed over: the next first pass will ask for its own jedi pass
        engine = self.slow_engine
        source = SourceFile(first.source.text, first.source.path, first.version)
        try:
            report = await self.slow.run(DOCUMENT, engine.check, source)
        except Exception:  # jedi or a rule failed: the first pass stands
            logger.exception("jedi pass over %s failed", uri)
            return  # the first pass's diagnostics stand
        diagnostics = to_diagnostics(report.findings, source, self.codec)
        if diagnostics == first.diagnostics:
            return  # jedi changed nothing: no second publish
        second = replace(
            first, source=source, findings=tuple(report.findings), diagnostics=diagnostics,
            with_jedi=True,
        )
        if self._store(uri, second) and self.client.pulls and self.ready:
            self.client.refresh()

    def _store(self, uri: str, result: Result) -> bool:
        """Keep and publish a result if it is still current; a stale one is dropped."""
        document = self.documents.get(uri)
        if document is None or document.version != result.version:
            logger.debug("dropped a result for %s v%s: stale", uri, result.version)
            return False  # positions of an older text would be wrong in the new one
        if result.generation != self.generation:
            logger.debug("dropped a result for %s: settings or models changed", uri)
            if document.timer is None:
                self._schedule(document, 0)
            return False  # computed with old settings or models: checked again
        document.result = result
        for version, waiter in list(document.waiters):
            if version <= result.version and not waiter.done():
                waiter.set_result(result)
        document.waiters = [(v, w) for v, w in document.waiters if not w.done()]
        if not self.client.pulls:
            self.client.publish(uri, result.version, result.diagnostics)
        return True

    def _log_failures(self, report: Report) -> None:
        for failure in report.failures:
            key = (report.path, failure.code)
            if key in self._failures_seen:
                continue  # said once per file and rule, not on every keystroke
            if len(self._failures_seen) > 1000:
                self._failures_seen.clear()
            self._failures_seen.add(key)
            logger.warning(
                "rule %s failed on %s (%s); the other rules still ran",
                failure.code, report.path, failure.message,
            )

    async def current(self, uri: str, flush: bool = False) -> Result | None:
        """The result for the document's current text, waiting for it when needed."""
        document = self.documents.get(uri)
        if document is None:
            return None  # never opened or already closed: nothing to answer from
        result = document.result
        if result is not None and result.version == document.version:
            if result.generation == self.generation:
                return result
        if flush and document.timer is not None:
            document.timer.cancel()
            self._start(uri)
        waiter = asyncio.get_running_loop().create_future()
        document.waiters.append((document.version, waiter))
        try:
            return await asyncio.wait_for(waiter, WAIT_SECONDS)
        except asyncio.TimeoutError:
            logger.warning("no analysis of %s within %ss", uri, WAIT_SECONDS)
            raise Busy(f"fmperf is still analysing {uri}") from None

    async def fixed_text(self, result: Result) -> str:
        """The text with every safe fix applied, computed on the fast worker."""
        engine = self.fast_engine

        def check(source: SourceFile) -> list[Finding]:
            return engine.check(source).findings

        text, _ = await self.fast.run(
            DOCUMENT, fixes.fix_text, result.source.text, result.source.path, check
        )
        return text

    # -- workspace --------------------------------------------------------------

    async def index_workspace(self, report: Callable[[int, int], None]) -> int:
        """Index every Python file of the workspace, in chunks that let documents go first."""
        files = await self._list_files()
        changed = False
        for start in range(0, len(files), INDEX_CHUNK):
            chunk = files[start : start + INDEX_CHUNK]
            changed |= bool(await self.fast.run(INDEX, self._index_chunk, chunk))
            report(min(start + INDEX_CHUNK, len(files)), len(files))
        if changed:
            self._recheck_all()
        return len(files)

    async def _list_files(self) -> list[str]:
        files = await self.fast.run(INDEX, collect_python_files, self.roots, self.settings)
        self.workspace_files = set(files)
        self._listed = True
        return files

    def _index_chunk(self, paths: Iterable[str]) -> set[str]:
        """Index files from disk on the fast worker; the names whose meaning changed."""
        changed = False
        open_paths = {document.path for document in list(self.documents.values())}
        for path in paths:
            if path in open_paths:
                continue  # the editor's text wins over the file on disk
            text = _read(path)
            if text is None or text.count("\n") >= MAX_LINES:
                changed |= self.project.remove(path)
            else:
                changed |= self.project.update(path, text)
        return self.project.models.take_changed_words() if changed else set()

    async def _reindex(self, paths: list[str]) -> None:
        words = await self.fast.run(INDEX, self._index_chunk, paths)
        if words:
            self._recheck_dependents(words)

    async def files_changed(self, changes: list[types.FileEvent]) -> None:
        """workspace/didChangeWatchedFiles: models on disk and pyproject.toml."""
        python: list[str] = []
        config = False
        for change in changes:
            path = path_of(change.uri)
            if Path(path).name == "pyproject.toml":
                config = True
            elif path.endswith(".py"):
                python.append(path)
                if change.type == types.FileChangeType.Deleted:
                    self.workspace_files.discard(path)
                else:
                    self.workspace_files.add(path)
        if config:
            await self.load_pyproject()
        if python:
            await self._reindex(python)

    async def workspace_reports(self, previous: dict[str, str]) -> list[Any]:
        """Reports for the workspace's files that are not open (open ones are pulled)."""
        if not self._listed:
            await self._list_files()  # asked before indexing listed them
        open_paths = {document.path for document in self.documents.values()}
        paths = sorted(path for path in self.workspace_files if path not in open_paths)
        reports: list[Any] = []
        for start in range(0, len(paths), INDEX_CHUNK):
            chunk = paths[start : start + INDEX_CHUNK]
            reports += await self.fast.run(
                INDEX, self._file_reports, chunk, previous, self.fast_engine, self.generation
            )
        return reports

    def _file_reports(
        self, paths: list[str], previous: dict[str, str], engine: Engine, generation: int
    ) -> list[Any]:
        reports: list[Any] = []
        for path in paths:
            uri = uri_of(path)
            try:
                stat = os.stat(path)
            except OSError:
                continue  # deleted since it was listed
            result_id = f"{stat.st_mtime_ns}.{stat.st_size}.{generation}"
            if previous.get(uri) == result_id:
                reports.append(types.WorkspaceUnchangedDocumentDiagnosticReport(
                    uri=uri, version=None, result_id=result_id))
                continue  # the client's copy is current: no need to check it again
            text = _read(path)
            if text is None or self.settings.excludes(Path(path)):
                continue  # unreadable, binary or excluded: nothing to report
            if text.count("\n") >= MAX_LINES:
                continue  # too long to check, as when it is open
            source = SourceFile(text, path)
            findings = engine.check(source).findings
            reports.append(types.WorkspaceFullDocumentDiagnosticReport(
                uri=uri, version=None, result_id=result_id,
                items=to_diagnostics(findings, source, self.codec)))
        return reports

    def stop(self) -> None:
        for document in self.documents.values():
            if document.timer is not None:
                document.timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        self.fast.stop()
        self.slow.stop()


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        logger.debug("not read: %s (%s)", path, error)
        return None


def _read_pyproject(
    root: Path | None,
) -> tuple[Path | None, Settings, list[ConfigProblem], str]:
    if root is None:
        return None, Settings(), [], ""
    path = find_pyproject(root)
    if path is None:
        return None, Settings(), [], ""
    settings, problems = load_pyproject(path)
    text = _read(str(path)) or ""
    return path, settings, problems, text


def collect_python_files(roots: list[Path], settings: Settings) -> list[str]:
    """The workspace's Python files, without virtualenvs, caches and excluded folders."""
    found: list[str] = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [
                name
                for name in dirs
                if not name.startswith(".")
                and name not in _SKIPPED_DIRS
                and not os.path.exists(os.path.join(folder, name, "pyvenv.cfg"))
                and not settings.excludes(Path(folder, name))
            ]
            for name in files:
                path = os.path.join(folder, name)
                if name.endswith(".py") and not settings.excludes(Path(path)):
                    found.append(path)
            if len(found) >= MAX_WORKSPACE_FILES:
                logger.warning("more than %s Python files; indexing the first", len(found))
                return found
    return found
