"""A rule that always raises, loaded into the server under test via FMPERF_LS_EXTRA_RULES.

It runs only on files that mention `fmperf_test_raise`, so every other test
sees the real rules alone. Never imported by the test process itself, so the
rule examples test does not see it.
"""

from __future__ import annotations

from fmperf_ls.rules.base import Rule, RuleDocs, register


@register
class AlwaysRaises(Rule):
    code = "FMP999"
    name = "always-raises"
    summary = "A test rule that raises on every file it runs on"
    prefilter = ("fmperf_test_raise",)
    docs = RuleDocs(
        what="Raises, to prove one broken rule does not stop the others.",
        why="It is a test double.",
        example="fmperf_test_raise = 1",
        instead="fmperf_test_raise = 1",
        false_alarms="Always.",
    )

    def check(self, ctx):
        raise RuntimeError("this rule always fails")
