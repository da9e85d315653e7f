"""Asking a rule's gate the way the engine asks it, for the gate tests of FMP3xx-FMP5xx."""

from __future__ import annotations

import textwrap

from fmperf_ls.analysis.infer import TypeFacade
from fmperf_ls.analysis.project import ProjectIndex
from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.config import Settings
from fmperf_ls.engine import Context, Engine
from fmperf_ls.rules import all_rules
from fmperf_ls.rules.base import Finding


def gate(code: str, text: str, project: ProjectIndex | None = None,
         path: str = "<memory>") -> bool:
    """The gate's answer on an unparsed file; a "no" is checked against the ungated rule."""
    text = textwrap.dedent(text).lstrip("\n")
    project = project if project is not None else ProjectIndex()
    rule = all_rules()[code]
    source = SourceFile(text, path)
    ctx = Context(source, Settings(), TypeFacade(source, 1.0), project)

    answer = rule().gate(source.outline, ctx)

    assert not source.parsed  # a gate that parses saves nothing
    if not answer:  # ruled out: without its gate the rule must find nothing either
        ungated = Engine(project=project, rules=[rule], gates=False)
        assert ungated.check(SourceFile(text, path)).findings == []
    return answer


def findings(code: str, text: str, project: ProjectIndex | None = None,
             path: str = "<memory>") -> list[Finding]:
    """What the rule finds with its gate on, as `fmperf check` runs it."""
    engine = Engine(project=project, rules=[all_rules()[code]])
    report = engine.check(SourceFile(textwrap.dedent(text).lstrip("\n"), path))
    assert report.failures == []
    return report.findings
