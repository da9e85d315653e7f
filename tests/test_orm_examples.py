"""The examples of the ORM rules, run on their own so a broken family elsewhere cannot hide them.

tests/test_rule_examples.py runs every rule's examples; this module imports
only `rules.orm` and repeats the same checks for FMP1xx.
"""

from __future__ import annotations

import pytest

from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.engine import Engine, index_texts
from fmperf_ls.fixes import fix_text
from fmperf_ls.rules import orm
from fmperf_ls.rules.base import Example, Rule

ORM_RULES = [
    rule for rule in vars(orm).values()
    if isinstance(rule, type) and issubclass(rule, Rule) and getattr(rule, "code", "")
    .startswith("FMP1")
]
CASES = [
    pytest.param(rule, example, id=f"{rule.code}-{number}")
    for rule in ORM_RULES
    for number, example in enumerate(rule.examples)
]


def engine_for(rule: type[Rule], example: Example) -> Engine:
    project = index_texts({**example.other_files, "example.py": example.source})
    return Engine(project=project, rules=[rule])


def findings(engine: Engine, text: str):
    return engine.check(SourceFile(text, "example.py")).findings


def test_six_rules():
    assert sorted(rule.code for rule in ORM_RULES) == [f"FMP10{n}" for n in range(1, 7)]


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_ranges(rule: type[Rule], example: Example):
    found = findings(engine_for(rule, example), example.source)

    assert sorted(str(finding.range) for finding in found) == sorted(example.at)


@pytest.mark.parametrize(("rule", "example"), [case for case in CASES if case.values[1].at])
def test_fix(rule: type[Rule], example: Example):
    engine = engine_for(rule, example)
    check = lambda source: engine.check(source).findings  # noqa: E731
    unfixable = [finding for finding in findings(engine, example.source) if finding.fix is None]

    fixed, applied = fix_text(example.source, "example.py", check, unsafe=True)

    if example.fixed_source is None:
        assert applied == 0
        return
    assert fixed == example.fixed_source
    assert SourceFile(fixed).syntax_problem is None
    assert fix_text(fixed, "example.py", check, unsafe=True) == (fixed, 0)
    assert len(findings(engine, fixed)) == len(unfixable)
