"""Run the selected rules over one file and return what they found.

The engine owns everything rules should not repeat: choosing rules from the
settings, the text prefilter, catching a rule that raises (logged with its
code, the other rules still run), suppression comments, severity overrides,
low confidence as hints, and dropping a fix that does not verify.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from parso.python.tree import Name
from parso.tree import NodeOrLeaf

from fmperf_ls import fixes
from fmperf_ls.analysis.imports import ImportMap
from fmperf_ls.analysis.infer import TypeFacade
from fmperf_ls.analysis.models import ModelIndex
from fmperf_ls.analysis.outline import Outline
from fmperf_ls.analysis.project import ProjectIndex
from fmperf_ls.analysis.source import SourceFile, SyntaxProblem
from fmperf_ls.config import Settings
from fmperf_ls.rules import all_rules
from fmperf_ls.rules.base import Confidence, Finding, Rule, Severity
from fmperf_ls.suppression import Suppressions, comment_line, suppressions_of

logger = logging.getLogger(__name__)

JediLookup = Callable[[SourceFile, Name], "NodeOrLeaf | None"]


@dataclass
class Context:
    """What a rule may ask about the file it checks; rules never parse or call jedi."""

    source: SourceFile
    settings: Settings
    infer: TypeFacade
    project: ProjectIndex

    @property
    def models(self) -> ModelIndex:
        return self.project.models

    @property
    def imports(self) -> ImportMap:
        return self.infer.imports


@dataclass(frozen=True)
class RuleFailure:
    code: str
    message: str


@dataclass
class Report:
    """Findings of one file, plus what kept the analysis from being complete."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    syntax_problem: SyntaxProblem | None = None
    failures: list[RuleFailure] = field(default_factory=list)


class Engine:
    def __init__(
        self,
        settings: Settings | None = None,
        project: ProjectIndex | None = None,
        jedi_lookup: JediLookup | None = None,
        budget_seconds: float = 1.0,
        rules: Iterable[type[Rule]] | None = None,
        gates: bool = True,
        syntax: bool = True,
    ):
        self.settings = settings or Settings()
        self.project = project or ProjectIndex()
        self.jedi_lookup = jedi_lookup
        self.budget_seconds = budget_seconds
        self.gates = gates
        """Whether rules' gates may spare a file the parso parse (see analysis/outline.py)."""
        self.syntax = syntax
        """Whether reports say where a file does not parse. The command line prints it; an
        editor leaves it to the user's Python server, and a compile per keystroke costs."""
        chosen = rules if rules is not None else all_rules().values()
        self.rules = [rule() for rule in chosen]

    def check(self, source: SourceFile, settings: Settings | None = None) -> Report:
        settings = settings or self.settings
        report = Report(source.path)
        active = [
            rule
            for rule in self.rules
            if settings.enabled(rule.code) and rule.applies_to(source.text)
        ]
        if any(not rule.in_tests for rule in active) and self.project.is_test_module(source.path):
            active = [rule for rule in active if rule.in_tests]
        outline = source.outline if active and self.gates and not source.parsed else None
        ctx = Context(
            source,
            settings,
            TypeFacade(source, self.budget_seconds, self.jedi_lookup, self.project.modules),
            self.project,
        )
        if outline is not None:
            active = [rule for rule in active if self._may_fire(rule, outline, ctx)]
        suppressed: Suppressions | None = None
        for rule in active:
            for finding in self._run(rule, ctx, report):
                suppressed = suppressed or suppressions_of(source)
                line = finding.range.start.line
                if suppressed.hides(finding.code, line) or suppressed.hides(
                    finding.code, comment_line(source, line)
                ):
                    continue
                report.findings.append(self._finish(finding, source, settings))
        report.findings.sort(key=lambda finding: (finding.range.start, finding.code))
        if self.syntax:
            report.syntax_problem = source.syntax_problem  # after the rules: parsed only if needed
        return report

    def _may_fire(self, rule: Rule, outline: Outline, ctx: Context) -> bool:
        """The rule's gate; a gate that raises lets the rule run, which decides for itself."""
        try:
            return rule.gate(outline, ctx)
        except Exception:
            logger.exception("gate of rule %s failed on %s; the rule runs", rule.code,
                             ctx.source.path)
            return True

    def _run(self, rule: Rule, ctx: Context, report: Report) -> list[Finding]:
        try:
            return list(rule.check(ctx))
        except Exception as error:  # one broken rule must not hide the others
            logger.exception("rule %s failed on %s; skipped", rule.code, ctx.source.path)
            report.failures.append(RuleFailure(rule.code, f"{type(error).__name__}: {error}"))
            return []

    def _finish(self, finding: Finding, source: SourceFile, settings: Settings) -> Finding:
        severity = settings.severity_for(finding.code, finding.severity)
        if finding.confidence is Confidence.LOW and finding.code not in settings.severity:
            severity = Severity.HINT
        fix = finding.fix
        if fix is not None and fixes.verify(source, fix) is None:
            fix = None
        return replace(finding, severity=severity, fix=fix)


def check_text(
    text: str,
    path: str = "<memory>",
    settings: Settings | None = None,
    project: ProjectIndex | None = None,
    rules: Iterable[type[Rule]] | None = None,
) -> Report:
    """Check a piece of text with a fresh engine: the entry point tests use."""
    engine = Engine(settings, project, rules=rules)
    return engine.check(SourceFile(text, path))


def index_texts(texts: dict[str, str], root: Path | None = None) -> ProjectIndex:
    """A project index of in-memory modules, for examples and tests."""
    project = ProjectIndex(root)
    for path, text in texts.items():
        project.update(path, text)
    return project
