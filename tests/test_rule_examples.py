"""Every example of every rule, as one test each: exact ranges, fixed text, idempotence.

A rule's examples live in its own definition (see rules/base.py), so adding
an example adds a test here without touching this file.
"""

from __future__ import annotations

import pytest

from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.engine import Engine, index_texts
from fmperf_ls.fixes import fix_text
from fmperf_ls.rules import all_rules
from fmperf_ls.rules.base import Example, Rule

CASES = [
    pytest.param(rule, example, id=f"{code}-{number}")
    for code, rule in all_rules().items()
    for number, example in enumerate(rule.examples)
]


def engine_for(rule: type[Rule], example: Example) -> Engine:
    project = index_texts({**example.other_files, "example.py": example.source})
    return Engine(project=project, rules=[rule])


def findings(engine: Engine, text: str):
    return engine.check(SourceFile(text, "example.py")).findings


def test_every_rule_has_both_kinds_of_example():
    for code, rule in all_rules().items():
        assert any(example.at for example in rule.examples), f"{code} has no flagged example"
        assert any(not example.at for example in rule.examples), f"{code} has no clean example"


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_example_ranges(rule: type[Rule], example: Example):
    found = findings(engine_for(rule, example), example.source)

    assert sorted(str(finding.range) for finding in found) == sorted(example.at)
    assert all(finding.code == rule.code for finding in found)


@pytest.mark.parametrize(("rule", "example"), [case for case in CASES if case.values[1].at])
def test_example_fix(rule: type[Rule], example: Example):
    engine = engine_for(rule, example)
    check = lambda source: engine.check(source).findings  # noqa: E731
    unfixable = [finding for finding in findings(engine, example.source) if finding.fix is None]

    fixed, applied = fix_text(example.source, "example.py", check, unsafe=True)

    if example.fixed_source is None:
        assert applied == 0, "the example promises no fix, yet one was applied"
        return
    assert fixed == example.fixed_source
    assert SourceFile(fixed).syntax_problem is None
    assert fix_text(fixed, "example.py", check, unsafe=True) == (fixed, 0)
    assert len(findings(engine, fixed)) == len(unfixable), "the rule still fires where it fixed"


def test_every_rule_has_a_text_prefilter():
    """Without one, every file of a large project is parsed just in case."""
    for code, rule in all_rules().items():
        assert rule.prefilter, f"{code} has no prefilter words"


NOT_IN_TESTS = [
    pytest.param(rule, example, path, id=f"{code}-{path}")
    for code, rule in all_rules().items() if not rule.in_tests
    for example in rule.examples[:1]
    for path in ("tests/test_example.py", "app/tests/example.py", "conftest.py")
]


def test_some_rules_leave_test_modules_alone():
    assert {param.values[0].code for param in NOT_IN_TESTS} == {"FMP106", "FMP501"}


@pytest.mark.parametrize("gates", [True, False])
@pytest.mark.parametrize(("rule", "example", "path"), NOT_IN_TESTS)
def test_a_rule_for_production_code_is_silent_in_test_modules(rule, example, path, gates):
    assert example.at, "the first example of each rule is a flagged one"
    project = index_texts({**example.other_files, path: example.source})
    engine = Engine(project=project, rules=[rule], gates=gates)

    assert engine.check(SourceFile(example.source, path)).findings == []
