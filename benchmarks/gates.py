"""How many files the rule gates spare from parsing, and proof that they change nothing.

Every file of each folder given is checked twice in this process: once with
the gates of analysis/outline.py, once with every rule run on a parsed tree.
Per rule, it prints how many files that rule alone parses with and without
its gate and how many hold a finding; then the files the whole rule set
parses and the time of both passes. Any finding that differs between the
two passes is printed and makes the exit status 1: a gate must never hide a
finding.

    python benchmarks/gates.py PATH [PATH ...] [--rules FMP101,FMP201]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path

from fmperf_ls.analysis import infer
from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.checker import load
from fmperf_ls.config import Settings
from fmperf_ls.discovery import walk_python_files
from fmperf_ls.engine import Engine, index_texts
from fmperf_ls.rules.base import Finding


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--rules", help="comma-separated codes; all rules when absent")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # rule failures show up as differences anyway

    status = 0
    for root in args.paths:
        status |= _compare(root.resolve(), args.rules.split(",") if args.rules else None)
    return status


def _compare(root: Path, codes: list[str] | None) -> int:
    texts = {}
    for path in walk_python_files(root, Settings()):
        text = load(path).text
        if text is not None:
            texts[str(path)] = text
    project = index_texts(texts, root)
    lookup = infer.jedi_definition(root)
    gated, ungated = (Engine(Settings(), project, lookup, gates=flag) for flag in (True, False))
    chosen = [rule for rule in gated.rules if codes is None or rule.code in codes]
    lines = sum(text.count("\n") for text in texts.values())
    print(f"{root}: {len(texts)} files, {lines} lines")

    print(f"{'rule':8} {'parsed':>7} {'ungated':>8} {'found in':>9}")
    for rule in chosen:
        parsed, _, found = _run(gated, [rule], texts)
        unparsed, _, _ = _run(ungated, [rule], texts)
        print(f"{rule.code:8} {len(parsed):7} {len(unparsed):8} {found:9}")

    started = time.perf_counter()
    parsed, with_gates, _ = _run(gated, chosen, texts)
    gated_seconds = time.perf_counter() - started
    started = time.perf_counter()
    unparsed, without_gates, _ = _run(ungated, chosen, texts)
    ungated_seconds = time.perf_counter() - started
    parsed_lines = sum(texts[path].count("\n") for path in parsed)
    print(f"all rules: {len(parsed)} files ({parsed_lines} lines) parsed in "
          f"{gated_seconds:.1f} s with gates, {len(unparsed)} in {ungated_seconds:.1f} s without")

    differences = 0
    for path in texts:
        if with_gates[path] != without_gates[path]:
            differences += 1
            print(f"DIFFERS {path}\n  gated:   {with_gates[path]}\n"
                  f"  ungated: {without_gates[path]}")
    print(f"{differences} file(s) with different findings\n")
    return 1 if differences else 0


def _run(engine: Engine, rules: list, texts: dict[str, str]) -> tuple[list[str], dict, int]:
    """Files parsed, findings per file, and files with a finding, for these rules alone."""
    kept = engine.rules
    engine.rules = rules
    parsed: list[str] = []
    found, findings = 0, {}
    try:
        for path, text in texts.items():
            source = SourceFile(text, path)
            report = engine.check(source)
            if source.parsed:
                parsed.append(path)
            found += bool(report.findings)
            findings[path] = Counter(_key(finding) for finding in report.findings)
    finally:
        engine.rules = kept
    return parsed, findings, found


def _key(finding: Finding) -> str:
    return f"{finding.code}@{finding.range}"


if __name__ == "__main__":
    sys.exit(main())
