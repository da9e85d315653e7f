"""One `fmperf check` run over a project: read, consult the cache, index, check, fix.

The steps, in order: read every file to check (binary and undecodable files
are reported and skipped); read the rest of the project so the model index
sees mapped classes that live outside the checked paths; serve unchanged
files from the cache; build the project index only when something is left to
check; check the rest in worker processes; store fresh results in the cache.
Workers are forked after the index is built, so they share it (and the parse
trees of model files) without copying it through a pipe.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import hashlib
import io
import logging
import multiprocessing
import os
import tempfile
import time
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fmperf_ls import cache as cache_module
from fmperf_ls.analysis import consulted, infer
from fmperf_ls.analysis.models import could_define_models
from fmperf_ls.analysis.project import ProjectIndex
from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.config import Settings
from fmperf_ls.discovery import Target, model_module_files, walk_python_files
from fmperf_ls.engine import Engine, Report
from fmperf_ls.fixes import fix_text
from fmperf_ls.report import FileResult
from fmperf_ls.rules.base import Finding, Safety

logger = logging.getLogger(__name__)

JEDI_BUDGET_SECONDS = 1.0
"""jedi time per file; the command line can wait longer than an editor keystroke."""


@dataclass(frozen=True)
class Options:
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    jobs: int | None = None
    use_cache: bool = True

    @property
    def fixing(self) -> bool:
        """Whether fixes are computed: `--fix` writes them, `--diff` shows them."""
        return self.fix or self.diff

    def applies(self, finding: Finding) -> bool:
        fix = finding.fix
        return fix is not None and (self.unsafe_fixes or fix.safety is Safety.SAFE)


@dataclass
class Project:
    """The checked files of one pyproject, with its settings and root."""

    root: Path
    settings: Settings
    targets: list[Target]


@dataclass(frozen=True)
class Loaded:
    """A file's bytes and the text analysed: decoded, CRLF turned into LF.

    Columns do not change when CRLF becomes LF, and writing turns LF back into
    CRLF, so a fixed file keeps its newline style and its encoding.
    """

    data: bytes
    text: str | None = None
    encoding: str = "utf-8"
    crlf: bool = False
    problem: str | None = None

    def encode(self, text: str) -> bytes:
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return text.encode(self.encoding)


def load(path: Path) -> Loaded:
    """Read and decode a file; a binary or undecodable one carries its problem instead."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return Loaded(b"", problem=f"cannot read: {error.strerror or error}")
    if b"\0" in data:
        return Loaded(data, problem="binary file")
    try:
        encoding = _declared_encoding(data)
        text = data.decode(encoding)
    except (SyntaxError, LookupError) as error:
        return Loaded(data, problem=f"cannot decode: {error}")
    except UnicodeDecodeError as error:
        return Loaded(data, problem=f"not valid {error.encoding} text "
                                    f"(byte 0x{data[error.start]:02x} at offset {error.start})")
    if encoding == "utf-8-sig":
        text = text.removeprefix("\ufeff")
    crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
    return Loaded(data, text.replace("\r\n", "\n") if crlf else text, encoding, crlf)


def _declared_encoding(data: bytes) -> str:
    """The PEP 263 encoding of a file; UTF-8 when it declares none.

    tokenize reports undecodable bytes without a declaration as a SyntaxError;
    decoding as UTF-8 instead gives the caller the offending byte.
    """
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        data.decode("utf-8")  # raises UnicodeDecodeError naming the byte, if that is it
        raise


# -- the work one process does ------------------------------------------------------------


@dataclass
class Work:
    """Everything a worker needs; set before forking, so workers inherit it."""

    engine: Engine
    jobs: list[tuple[Target, Loaded]]
    options: Options
    sources: dict[Path, SourceFile] = field(default_factory=dict)
    store: ResultStore | None = None


_WORK: Work | None = None


def _process(number: int) -> tuple[int, FileResult]:
    assert _WORK is not None, "worker started without work"
    target, loaded = _WORK.jobs[number]
    try:
        result = check_file(_WORK, target, loaded)
    except Exception as error:  # a file that breaks the analysis must not end the run
        logger.exception("checking %s failed", target.display)
        return number, FileResult(target.display, target.path,
                                  skipped=f"internal error: {type(error).__name__}: {error}")
    if _WORK.store is not None:
        _WORK.store.put(result, loaded)  # in the worker: writing is part of the parallel work
    gc.collect(0)  # the file's parse tree is garbage now; see _collections_per_file
    return number, result


def check_file(work: Work, target: Target, loaded: Loaded) -> FileResult:
    """Check one file, and when fixing, compute its fixed text and what remains."""
    assert loaded.text is not None
    source = work.sources.pop(target.path, None) or SourceFile(loaded.text, str(target.path))
    with consulted.recording() as noted:
        report = work.engine.check(source)
    result = _result(target, report)
    result.consulted = consulted.stamps(noted, exclude=str(target.path))
    if work.options.fixing and report.syntax_problem is None:
        _apply_fixes(work, source, report, result)
    return result


def _result(target: Target, report: Report) -> FileResult:
    return FileResult(
        target.display,
        target.path,
        findings=list(report.findings),
        syntax_problem=report.syntax_problem,
        failures=[f"{failure.code}: {failure.message}" for failure in report.failures],
    )


def _apply_fixes(work: Work, source: SourceFile, report: Report, result: FileResult) -> None:
    """Fix until nothing applicable is left; the findings become those of the fixed text."""
    if not any(work.options.applies(finding) for finding in report.findings):
        return  # nothing --fix would change: the findings stand as they are
    last: dict[str, Any] = {}

    def check(fresh: SourceFile) -> list[Finding]:
        found = report if fresh.text == source.text else work.engine.check(fresh)
        last.update(text=fresh.text, report=found)
        return found.findings

    fixed, applied = fix_text(source.text, source.path, check, unsafe=work.options.unsafe_fixes)
    if not applied or fixed == source.text:
        return  # every fix waited on another that never applied: nothing changes
    remaining = last["report"] if last.get("text") == fixed else work.engine.check(
        SourceFile(fixed, source.path)
    )
    result.findings = list(remaining.findings)
    result.fixed_text = fixed
    result.fixes_applied = applied


@dataclass
class ResultStore:
    """Fresh results into the cache, under the keys the run computed for their files."""

    cache: cache_module.Cache
    options: Options
    relative: Callable[[Path], str]
    keys: dict[Path, str]

    def put(self, result: FileResult, loaded: Loaded) -> None:
        """Remember a fresh result; not one with failures, which deserve another try."""
        if result.skipped or result.failures:
            return  # nothing checked, or an incomplete answer
        if result.fixed_text is not None:
            if not self.options.fix or self.options.diff:
                return  # the findings belong to a text that is not on disk
            data = loaded.encode(result.fixed_text)
            key = cache_module.entry_key(self.relative(result.path), data)
        else:
            key = self.keys.get(result.path) or cache_module.entry_key(
                self.relative(result.path), loaded.data
            )
        self.cache.put(key, {
            "findings": [cache_module.finding_to_dict(finding) for finding in result.findings],
            "syntax_problem": cache_module.problem_to_dict(result.syntax_problem),
            "consulted": [list(stamp) for stamp in result.consulted],
        })


# -- a whole project -------------------------------------------------------------------------


ProgressCallback = Callable[[int], None]


class ProjectRun:
    """Checks the targets of one project; see the module docstring for the steps."""

    def __init__(self, project: Project, options: Options, advance: ProgressCallback):
        self.project = project
        self.options = options
        self.advance = advance
        self.loaded: dict[Path, Loaded] = {}
        self.results: dict[Path, FileResult] = {}
        self.keys: dict[Path, str] = {}

    def run(self) -> list[FileResult]:
        started = time.perf_counter()
        pending = self._read_targets()
        index_texts = self._index_texts()
        cache = self._open_cache(index_texts) if self.options.use_cache else None
        if cache is not None:
            pending = self._serve_from_cache(cache, pending)
        if pending:
            store = None if cache is None else ResultStore(cache, self.options, self._relative,
                                                           self.keys)
            for result in self._check(pending, index_texts, store):
                self.results[result.path] = result
        if cache is not None:
            cache.prune()
        logger.debug("checked %d file(s) under %s in %.2f s, %d from the cache",
                     len(self.project.targets), self.project.root,
                     time.perf_counter() - started, len(self.project.targets) - len(pending))
        return [self.results[target.path] for target in self.project.targets]

    def _read_targets(self) -> list[Target]:
        pending = []
        for target in self.project.targets:
            loaded = load(target.path)
            self.loaded[target.path] = loaded
            if loaded.problem is not None:
                self.results[target.path] = FileResult(target.display, target.path,
                                                       skipped=loaded.problem)
                self.advance(1)
            else:
                pending.append(target)
        return pending

    def _index_texts(self) -> dict[Path, str]:
        """Texts of every project file that can define models, plus extend-model-modules."""
        settings, root = self.project.settings, self.project.root
        paths = [path.resolve() for path in walk_python_files(root, settings)]
        listed = set(model_module_files(settings.extend_model_modules, root))
        texts = {}
        for path in dict.fromkeys([*paths, *listed]):
            text = self._text_of(path)
            if text is not None and (path in listed or could_define_models(text)):
                texts[path] = text
        return texts

    def _text_of(self, path: Path) -> str | None:
        loaded = self.loaded.get(path)
        if loaded is None:
            loaded = load(path)
        return loaded.text

    def _open_cache(self, index_texts: dict[Path, str]) -> cache_module.Cache:
        models = hashlib.blake2b(digest_size=16)
        for path in sorted(index_texts):
            models.update(f"{self._relative(path)}\0{len(index_texts[path])}\0".encode())
            models.update(index_texts[path].encode("utf-8", "surrogatepass"))
        context = "|".join([
            cache_module.code_stamp(),
            self.project.settings.fingerprint(),
            models.hexdigest(),
        ])
        return cache_module.Cache(self.project.root, context)

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.project.root).as_posix()
        except ValueError:
            return path.as_posix()

    def _serve_from_cache(self, cache: cache_module.Cache, pending: list[Target]) -> list[Target]:
        missed = []
        for target in pending:
            data = self.loaded[target.path].data
            key = cache_module.entry_key(self._relative(target.path), data)
            self.keys[target.path] = key
            result = _from_entry(target, cache.get(key))
            if result is None or (
                self.options.fixing and any(map(self.options.applies, result.findings))
            ):
                missed.append(target)  # unknown, or it has fixes to compute again
                continue
            self.results[target.path] = result
            self.advance(1)
        return missed

    def _check(self, pending: list[Target], index_texts: dict[Path, str],
               store: ResultStore | None) -> list[FileResult]:
        global _WORK
        with _collections_per_file():
            work = self._prepare(pending, index_texts)
            work.store = store
            jobs = choose_jobs(self.options.jobs, len(pending))
            _WORK = work
            gc.freeze()  # what workers inherit is never traversed, nor copied by traversing it
            try:
                if jobs <= 1 or not _can_fork():
                    return list(self._serially(work))
                return list(self._in_parallel(work, jobs))
            finally:
                _WORK = None
                gc.unfreeze()

    def _prepare(self, pending: list[Target], index_texts: dict[Path, str]) -> Work:
        """The project index over all model files; parse trees kept for files to check."""
        root, settings = self.project.root, self.project.settings
        cache_dir = root / cache_module.FOLDER if self.options.use_cache else None
        project = ProjectIndex(root, cache_dir, settings.extend_model_modules)
        wanted = {target.path for target in pending}
        sources = {}
        for path, text in index_texts.items():
            source = None
            if path in wanted:
                source = sources[path] = SourceFile(self.loaded[path].text or "", str(path))
            project.update(str(path), text, source)
        project.save_cache()
        engine = Engine(self.project.settings, project,
                        infer.jedi_definition(root, files_fixed=True), JEDI_BUDGET_SECONDS)
        pending = sorted(pending, key=lambda target: -len(self.loaded[target.path].data))
        jobs = [(target, self.loaded[target.path]) for target in pending]
        return Work(engine, jobs, self.options, sources)

    def _serially(self, work: Work) -> Iterator[FileResult]:
        for number in range(len(work.jobs)):
            yield _process(number)[1]
            self.advance(1)

    def _in_parallel(self, work: Work, jobs: int) -> Iterator[FileResult]:
        context = multiprocessing.get_context("fork")
        chunk = max(1, min(16, len(work.jobs) // (jobs * 8)))
        with context.Pool(jobs) as pool:
            for _, result in pool.imap_unordered(_process, range(len(work.jobs)), chunk):
                yield result
                self.advance(1)


def _from_entry(target: Target, entry: dict[str, Any] | None) -> FileResult | None:
    if entry is None:
        return None
    try:
        stamps = [(str(path), int(mtime), int(size)) for path, mtime, size in entry["consulted"]]
        if not consulted.unchanged(stamps):
            return None  # a helper, callee or schema elsewhere changed: check again
        findings = [cache_module.finding_from_dict(item) for item in entry["findings"]]
        problem = cache_module.problem_from_dict(entry["syntax_problem"])
    except (KeyError, TypeError, ValueError) as error:
        logger.debug("cache entry for %s ignored: %s", target.display, error)
        return None
    return FileResult(target.display, target.path, findings, problem, cached=True)


_NO_AUTOMATIC_COLLECTION = 2**30
"""A young-generation threshold no run reaches: `_process` collects after each file instead."""


@contextlib.contextmanager
def _collections_per_file() -> Iterator[None]:
    """Collect cyclic garbage once per checked file instead of every few hundred allocations.

    A parse tree is a web of cycles (every node points at its parent), so it
    is freed only by the collector. With the default thresholds, the
    collector ran thousands of times per run and traversed every live tree
    again each time: on FlexMeasures that was a sixth of the CPU. `_process`
    collects the young generation once a file is done, when its tree is
    garbage, so each object is traversed about once and freed memory is
    reused while it is still in the cache. Workers inherit the thresholds.
    """
    previous = gc.get_threshold()
    gc.set_threshold(_NO_AUTOMATIC_COLLECTION, 100, 10)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def choose_jobs(requested: int | None, files: int) -> int:
    """`--jobs`, or as many processes as cores while each has a few dozen files."""
    if requested is not None:
        return max(1, requested)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, files // 24))


# -- writing fixes -----------------------------------------------------------------------------


def write_atomically(path: Path, data: bytes) -> None:
    """Replace a file's content in one step, keeping its permissions."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".fmperf")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def unified_diff(result: FileResult, loaded: Loaded) -> str:
    assert result.fixed_text is not None and loaded.text is not None
    lines = difflib.unified_diff(
        loaded.text.splitlines(keepends=True),
        result.fixed_text.splitlines(keepends=True),
        fromfile=f"a/{result.display}",
        tofile=f"b/{result.display}",
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)
