"""The `fmperf` command: `check`, `rules` and `explain`.

Findings go to stdout in the chosen format; everything else (files that do
not parse or were skipped, configuration errors, logs, the progress bar) goes
to stderr, so `--format json > out.json` is always valid JSON. Exit codes:
0 clean, 1 findings (or changes `--diff` would make), 2 usage or
configuration error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import fmperf_ls
from fmperf_ls import discovery
from fmperf_ls.checker import Options, Project, ProjectRun, load, unified_diff, write_atomically
from fmperf_ls.config import (
    Settings,
    find_pyproject,
    load_pyproject,
    parse_settings,
)
from fmperf_ls.docs import rule_page
from fmperf_ls.gitdiff import ChangedLines, GitError, changed_since
from fmperf_ls.report import FORMATS, FileResult, github, json_report, sarif, text
from fmperf_ls.report.progress import Progress
from fmperf_ls.rules import all_rules
from fmperf_ls.rules.base import Rule

logger = logging.getLogger(__name__)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A bad command line or configuration: reported on stderr, exit code 2."""


def run() -> NoReturn:
    """The console script: `main`, then an exit that skips tearing the interpreter down.

    A check leaves hundreds of thousands of objects behind (the model index,
    jedi's caches), and freeing them one by one at exit took longer than
    ruff's whole run. Output is flushed and `main` has closed every file it wrote.
    """
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"fmperf: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("fmperf: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fmperf",
        description="Find performance anti-patterns in SQLAlchemy, pandas, Pyomo, "
        "marshmallow and RQ code.",
    )
    parser.add_argument("--version", action="version", version=f"fmperf {fmperf_ls.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    check = commands.add_parser("check", help="check files and folders")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    check.add_argument("--select", metavar="CODES", help="rules to run, e.g. FMP1,FMP201")
    check.add_argument("--ignore", metavar="CODES", help="rules not to run")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--fix", action="store_true", help="apply safe fixes")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="also apply (with --fix) or show (with --diff) unsafe fixes")
    check.add_argument("--diff", action="store_true",
                       help="print what --fix would change; write nothing")
    check.add_argument("--jobs", type=_positive, metavar="N", help="worker processes")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument("--since", metavar="REV",
                       help="report only findings on lines changed since a git revision")
    check.add_argument("--config", metavar="PATH", help="a pyproject.toml to use instead")
    check.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help=argparse.SUPPRESS)
    check.set_defaults(command="check", handler=run_check)

    rules = commands.add_parser("rules", help="list the rules")
    rules.set_defaults(command="rules", handler=run_rules)

    explain = commands.add_parser("explain", help="print a rule's page")
    explain.add_argument("code", metavar="CODE")
    explain.set_defaults(command="explain", handler=run_explain)
    return parser


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


class _ConfigEcho(logging.Filter):
    """Configuration problems are printed by the CLI itself, once, as errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "fmperf_ls.config" and record.levelno == logging.WARNING)


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ConfigEcho())
    layout = "fmperf: %(levelname)s: %(name)s: %(message)s" if verbose else (
        "fmperf: %(levelname)s: %(message)s"
    )
    handler.setFormatter(logging.Formatter(layout))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    if verbose:  # parso and jedi are chatty at debug level: keep their warnings only
        for noisy in ("parso", "jedi"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


# -- check ---------------------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    options = Options(
        fix=args.fix,
        unsafe_fixes=args.unsafe_fixes,
        diff=args.diff,
        jobs=args.jobs,
        use_cache=not args.no_cache,
    )
    projects = _projects(args)
    changed = _changed_lines(args.since, projects) if args.since else None
    progress = Progress(sum(len(project.targets) for project in projects), sys.stderr)
    results: list[FileResult] = []
    try:
        for project in projects:
            results += ProjectRun(project, options, progress.advance).run()
    finally:
        progress.close()
    if not results:
        print("fmperf: warning: no Python files found under the given paths", file=sys.stderr)
    if changed is not None:
        results = [_only_changed(result, changed) for result in results]
    _report_problems(results)
    if options.diff:
        return _show_diff(results, projects)
    fixed = _write_fixes(results, projects) if options.fix else None
    sys.stdout.write(_render(args.format, results, fixed))
    found = any(result.findings for result in results)
    return EXIT_FINDINGS if found else EXIT_CLEAN


def _projects(args: argparse.Namespace) -> list[Project]:
    """The given paths grouped by the pyproject.toml that configures them."""
    missing = [path for path in args.paths if not Path(path).exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    if args.config and not Path(args.config).is_file():
        raise UsageError(f"--config: no such file: {args.config}")
    groups: dict[Path | None, list[str]] = {}
    for path in args.paths:
        pyproject = Path(args.config) if args.config else find_pyproject(Path(path))
        groups.setdefault(pyproject.resolve() if pyproject else None, []).append(path)
    problems: list[str] = []
    projects = []
    for pyproject, paths in groups.items():
        root = discovery.project_root(paths, pyproject)
        settings, found = _settings(pyproject, root, args)
        problems += found
        projects.append(Project(root, settings, discovery.targets(paths, settings)))
    if problems:
        raise UsageError("\n".join(["invalid configuration:", *problems]))
    return projects


def _settings(pyproject: Path | None, root: Path, args: argparse.Namespace
              ) -> tuple[Settings, list[str]]:
    settings, problems = (
        load_pyproject(pyproject) if pyproject else (Settings(root=str(root)), [])
    )
    messages = [str(problem) for problem in problems]
    if args.select is not None:
        codes = _flag_codes("--select", args.select, messages)
        settings = replace(settings, select=codes, ignore=())  # a new selection, as in ruff
    if args.ignore is not None:
        codes = _flag_codes("--ignore", args.ignore, messages)
        settings = replace(settings, ignore=settings.ignore + codes)
    return settings, messages


def _flag_codes(flag: str, value: str, messages: list[str]) -> tuple[str, ...]:
    codes = [code.strip() for code in value.split(",") if code.strip()]
    parsed, problems = parse_settings({"select": codes}, flag)
    messages += [f"{flag}: {problem.message}" for problem in problems]
    return parsed.select if not problems else ()


def _changed_lines(revision: str, projects: list[Project]) -> ChangedLines:
    folder = projects[0].root if projects else Path.cwd()
    try:
        return changed_since(revision, folder)
    except GitError as error:
        raise UsageError(f"--since {revision}: {error}") from None


def _only_changed(result: FileResult, changed: ChangedLines) -> FileResult:
    kept = []
    for finding in result.findings:
        start, end = finding.range.start, finding.range.end
        last = end.line if end.column > 0 or end.line == start.line else end.line - 1
        if changed.touches(result.path, start.line + 1, last + 1):
            kept.append(finding)
    if result.path not in changed.by_file:  # untouched: its old problems are not news
        return replace(result, findings=kept, syntax_problem=None, skipped=None)
    return replace(result, findings=kept)


def _report_problems(results: list[FileResult]) -> None:
    """One stderr line per file that was skipped or does not parse."""
    for result in results:
        if result.skipped:
            print(f"{result.display}: error: {result.skipped}; skipped", file=sys.stderr)
        elif result.syntax_problem is not None:
            start = result.syntax_problem.range.start
            print(
                f"{result.display}:{start.line + 1}:{start.column + 1}: error: does not parse "
                f"({result.syntax_problem.message}); findings may be incomplete",
                file=sys.stderr,
            )


def _show_diff(results: list[FileResult], projects: list[Project]) -> int:
    changed = [result for result in results if result.fixed_text is not None]
    for result in changed:
        sys.stdout.write(unified_diff(result, load(result.path)))
    fixes = sum(result.fixes_applied for result in changed)
    if changed:
        print(f"Would fix {fixes} finding{'s' * (fixes != 1)} in {len(changed)} "
              f"file{'s' * (len(changed) != 1)}.", file=sys.stderr)
        return EXIT_FINDINGS
    print("No fixes available.", file=sys.stderr)
    return EXIT_CLEAN


def _write_fixes(results: list[FileResult], projects: list[Project]) -> int:
    """Write fixed files atomically, in their encoding and newline style; count fixes."""
    fixed = 0
    for result in results:
        if result.fixed_text is None:
            continue
        loaded = load(result.path)
        if loaded.text is None:
            continue  # the file changed into something unreadable since: leave it
        try:
            write_atomically(result.path, loaded.encode(result.fixed_text))
        except OSError as error:
            print(f"{result.display}: error: cannot write fixes: {error}", file=sys.stderr)
            continue
        fixed += result.fixes_applied
    return fixed


def _render(format: str, results: list[FileResult], fixed: int | None) -> str:
    rules = all_rules()
    if format == "json":
        return json_report.render(results, rules)
    if format == "sarif":
        return sarif.render(results, rules)
    if format == "github":
        return github.render(results)
    return text.render(results, fixed)


# -- rules and explain ---------------------------------------------------------------------


def run_rules(args: argparse.Namespace) -> int:
    rows = [("code", "name", "fix", "summary")]
    rows += [
        (code, rule.name, "yes" if _has_fix(rule) else "", rule.summary)
        for code, rule in all_rules().items()
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[3]]).rstrip())
    return EXIT_CLEAN


def _has_fix(rule: type[Rule]) -> bool:
    return any(example.fixed is not None for example in rule.examples)


def run_explain(args: argparse.Namespace) -> int:
    code = args.code.strip().upper()
    rule = all_rules().get(code)
    if rule is None:
        raise UsageError(f"unknown rule code {args.code!r}; `fmperf rules` lists them")
    sys.stdout.write(rule_page(rule))
    return EXIT_CLEAN


if __name__ == "__main__":
    run()
