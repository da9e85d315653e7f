"""Editor latency and memory of `fmperf-ls`, measured through the protocol.

Runs the real server in a subprocess and drives it like VS Code would (push
diagnostics), with the document debounce set to 0 so that the numbers are the
server's own work; the default debounce (150 ms) adds to every edit.

- edit-to-diagnostics p50/p95 on warm 1,000- and 5,000-line files
- hover and code action p50/p95 on a flagged range
- first diagnostics of a newly opened file with a cold jedi (fresh server),
  and when the jedi pass (if any) follows
- resident memory of the server after indexing a FlexMeasures-sized tree
  (benchmarks/corpus.py: 500 files, 120k lines)

    python benchmarks/lsp.py [--edits 40] [--sizes 1000,5000] [--skip-memory]

Budgets (DESIGN section 6): edits p95 < 50 ms at 1k lines, < 200 ms at 5k;
hover and code action p95 < 20 ms; first diagnostics < 1 s; memory < 500 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import client_capabilities, make_test_lsp_client

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from benchmarks.corpus import generate  # noqa: E402

BLOCK = '''

def {name}(frame: pd.DataFrame, limit: float = {number}) -> float:
    """Sum the evening prices above a limit."""
    total = 0.0
    for value in frame["power"].to_numpy():
        if value > limit:
            total += value
    evening = frame.loc[frame.hour >= 17, "price"]
    scaled = evening * {number}
    return total + float(scaled.sum())
'''
FLAGGED = '''

def flagged_{number}(frame: pd.DataFrame) -> float:
    return float(frame[frame.hour >= 17]["price"].sum())
'''


def python_file(lines: int) -> str:
    """About `lines` lines of pandas code with one chained-indexing finding per 500."""
    parts = ["import pandas as pd\n"]
    number = 0
    while sum(part.count("\n") for part in parts) < lines:
        number += 1
        template = FLAGGED if number % 40 == 0 else BLOCK
        parts.append(template.format(name=f"evening_total_{number}", number=number))
    return "".join(parts)


class Server:
    """A client connected to a fresh server, recording when each publish arrives."""

    def __init__(self, root: Path):
        self.root = root
        self.client = make_test_lsp_client()
        self.published: dict[str, list[tuple[float, int | None, int]]] = {}
        self.versions: dict[str, int] = {}

    async def start(self, options: dict[str, Any] | None = None) -> None:
        await self.client.start_io(sys.executable, "-m", "fmperf_ls.server", "--stdio")
        features = self.client.protocol.fm.features

        def keep(params: types.PublishDiagnosticsParams) -> None:
            record = (time.perf_counter(), params.version, len(params.diagnostics))
            self.published.setdefault(params.uri, []).append(record)

        features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = keep
        self.client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda params: None)
        await self.client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=self.root.as_uri(),
            initialization_options=options or {"debounceMs": 0},
        ))

    async def stop(self) -> None:
        await self.client.shutdown_session()
        await self.client.stop()

    async def indexed(self) -> None:
        """Wait for the end of the start-up indexing."""
        while True:
            reports = [item for items in self.client.progress_reports.values() for item in items]
            if any(isinstance(item, types.WorkDoneProgressEnd) for item in reports):
                return
            await asyncio.sleep(0.02)

    def pid(self) -> int:
        return self.client._server.pid  # type: ignore[union-attr]

    async def published_for(self, uri: str, version: int, timeout: float = 120) -> float:
        """When the publish for `version` arrived."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for at, got, _ in self.published.get(uri, []):
                if got == version:
                    return at
            await asyncio.sleep(0.001)
        raise TimeoutError(f"no diagnostics for {uri} v{version}")

    def open(self, name: str, text: str) -> tuple[str, float]:
        uri = (self.root / name).as_uri()
        self.versions[uri] = 1
        started = time.perf_counter()
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                 text=text)))
        return uri, started

    def change(self, uri: str, text: str) -> tuple[int, float]:
        self.versions[uri] += 1
        started = time.perf_counter()
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri,
                                                                version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        return self.versions[uri], started


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


async def edit_latency(root: Path, lines: int, edits: int) -> list[float]:
    server = Server(root)
    await server.start()
    text = python_file(lines)
    uri, _ = server.open(f"edit_{lines}.py", text)
    await server.published_for(uri, 1)
    samples = []
    for number in range(edits):
        edited = text.replace("limit: float = 1)", f"limit: float = {number + 2})", 1)
        version, started = server.change(uri, edited)
        samples.append(await server.published_for(uri, version) - started)
    await server.stop()
    return samples


async def request_latency(root: Path, repeat: int) -> tuple[list[float], list[float]]:
    server = Server(root)
    await server.start()
    text = python_file(1000)
    uri, _ = server.open("requests.py", text)
    await server.published_for(uri, 1)
    line = next(n for n, row in enumerate(text.splitlines()) if '["price"]' in row)
    document = types.TextDocumentIdentifier(uri=uri)
    position = types.Position(line=line, character=20)
    hovers, actions = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        await server.client.text_document_hover_async(
            types.HoverParams(text_document=document, position=position))
        hovers.append(time.perf_counter() - started)
        started = time.perf_counter()
        await server.client.text_document_code_action_async(types.CodeActionParams(
            text_document=document, range=types.Range(start=position, end=position),
            context=types.CodeActionContext(diagnostics=[])))
        actions.append(time.perf_counter() - started)
    await server.stop()
    return hovers, actions


DESCRIBE = '''
from .models import Sensor


def describe_sensor(sensor: Sensor) -> str:
    return f"{sensor.name} on {sensor.asset.name}"
'''
REPORT = '''
from .describe import describe_sensor
from .models import Sensor


def describe_all() -> list[str]:
    return [describe_sensor(sensor) for sensor in Sensor.query.all()]
'''


async def first_diagnostics(root: Path) -> tuple[float, float | None, int]:
    """Open a file whose finding (FMP102) needs jedi to follow an imported helper."""
    shutil.copytree(REPO / "examples" / "gridflex", root / "gridflex")
    (root / "gridflex" / "describe.py").write_text(DESCRIBE)
    server = Server(root)
    await server.start()
    await server.indexed()
    uri, started = server.open("gridflex/report.py", REPORT)
    first = await server.published_for(uri, 1) - started
    deadline = time.perf_counter() + 30
    while len(server.published.get(uri, [])) < 2 and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    records = server.published[uri]
    jedi = records[1][0] - started if len(records) > 1 else None
    await server.stop()
    return first, jedi, records[-1][2]


async def memory_after_indexing(root: Path) -> tuple[float, float, int]:
    lines = generate(root, files=500, lines=120_000)
    server = Server(root)
    started = time.perf_counter()
    await server.start()
    await server.indexed()
    elapsed = time.perf_counter() - started
    status = Path(f"/proc/{server.pid()}/status").read_text()
    rss_kb = int(next(row.split()[1] for row in status.splitlines() if row.startswith("VmRSS")))
    await server.stop()
    return rss_kb / 1024, elapsed, lines


async def main() -> None:
    parser = argparse.ArgumentParser(description="fmperf-ls latency and memory")
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--sizes", default="1000,5000", help="file lengths for the edit runs")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for lines in map(int, args.sizes.split(",")):
            samples = await edit_latency(root, lines, args.edits)
            print(f"edit-to-diagnostics, {lines:5} lines: {percentiles(samples)}")
        hovers, actions = await request_latency(root, 50)
        print(f"hover:                          {percentiles(hovers)}")
        print(f"code action:                    {percentiles(actions)}")
    with tempfile.TemporaryDirectory() as folder:
        first, jedi, findings = await first_diagnostics(Path(folder))
        jedi_text = f"{jedi * 1000:.0f} ms" if jedi is not None else "no second publish"
        print(f"first diagnostics, cold jedi:   {first * 1000:7.1f} ms "
              f"(jedi pass published {findings} finding(s) at {jedi_text})")
    if not args.skip_memory:
        with tempfile.TemporaryDirectory() as folder:
            rss, elapsed, lines = await memory_after_indexing(Path(folder))
            print(f"memory after indexing {lines} lines: {rss:.0f} MB RSS "
                  f"(indexing took {elapsed:.1f} s)")


if __name__ == "__main__":
    asyncio.run(main())
