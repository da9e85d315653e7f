"""What a rule is: its code, docs, examples, and the findings and fixes it yields.

Rules are classes registered explicitly with `@register`; the registry refuses
a second rule with the same code at import time, so a copy-paste mistake fails
loudly instead of silently hiding a rule.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from fmperf_ls.analysis.source import Range

if TYPE_CHECKING:
    from fmperf_ls.analysis.outline import Outline
    from fmperf_ls.engine import Context


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"


class Safety(str, Enum):
    """Safe fixes keep the result the same always; unsafe ones under assumptions."""

    SAFE = "safe"
    UNSAFE = "unsafe"


class Confidence(str, Enum):
    HIGH = "high"
    LOW = "low"


@dataclass(frozen=True)
class Edit:
    """Replace `range` of the file at `path` (None: the checked file) with text."""

    range: Range
    new_text: str
    path: str | None = None


@dataclass(frozen=True)
class Fix:
    message: str
    edits: tuple[Edit, ...]
    safety: Safety = Safety.SAFE


@dataclass(frozen=True)
class Related:
    """Another place that explains a finding, e.g. the lazy read in a callee."""

    path: str
    range: Range
    message: str


@dataclass(frozen=True)
class Finding:
    code: str
    range: Range
    message: str
    severity: Severity = Severity.WARNING
    fix: Fix | None = None
    related: tuple[Related, ...] = ()
    confidence: Confidence = Confidence.HIGH
    cost: str | None = None
    """What it costs in this place, for hover: "one SELECT per Asset: 1 + N"."""


@dataclass(frozen=True)
class RuleDocs:
    """The five sections every rule page has, in the order a reader needs them."""

    what: str
    why: str
    example: str
    instead: str
    false_alarms: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Example:
    """Source that a rule must flag (`at` given) or must leave alone (`at` empty).

    `at` lists the expected ranges as "line:col-line:col" (1-based lines,
    0-based columns, the CLI's form). `fixed` is the whole text after applying
    every fix of the rule (unsafe ones included); None means no fix is offered.
    `files` are other modules of the same little project, keyed by name.
    """

    code: str
    at: tuple[str, ...] = ()
    fixed: str | None = None
    files: tuple[tuple[str, str], ...] = ()
    note: str = ""

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")

    @property
    def fixed_source(self) -> str | None:
        return None if self.fixed is None else textwrap.dedent(self.fixed).lstrip("\n")

    @property
    def other_files(self) -> dict[str, str]:
        return {name: textwrap.dedent(text).lstrip("\n") for name, text in self.files}


def flagged(code: str, *at: str, fixed: str | None = None, **kwargs: object) -> Example:
    """An example the rule must flag at exactly the ranges `at`."""
    return Example(code, tuple(at), fixed, **kwargs)  # type: ignore[arg-type]


def clean(code: str, **kwargs: object) -> Example:
    """An example the rule must not flag."""
    return Example(code, **kwargs)  # type: ignore[arg-type]


class Rule:
    """Base class: subclasses set the class attributes and implement `check`."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[Severity] = Severity.WARNING
    docs: ClassVar[RuleDocs]
    examples: ClassVar[tuple[Example, ...]] = ()
    prefilter: ClassVar[tuple[str, ...]] = ()
    """Words of which the file must contain one for the rule to run at all."""
    in_tests: ClassVar[bool] = True
    """False where the cost lies in production's call rates and table sizes, which a test
    module's one call on a few fixture rows does not have (`ProjectIndex.is_test_module`)."""

    def applies_to(self, text: str) -> bool:
        return not self.prefilter or any(word in text for word in self.prefilter)

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """Whether the file may hold a finding, judged from its `ast` outline alone.

        Asked only of files nobody has parsed yet, so that a file holding
        nothing the rule starts from is never parsed. It must be a necessary
        condition: when it says no, `check` would have found nothing.
        """
        return True

    def check(self, ctx: Context) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(self, range: Range, message: str, **kwargs: object) -> Finding:
        kwargs.setdefault("severity", self.severity)
        return Finding(self.code, range, message, **kwargs)  # type: ignore[arg-type]


_REGISTRY: dict[str, type[Rule]] = {}


def register(rule: type[Rule]) -> type[Rule]:
    """Add a rule class to the registry; a second rule with its code is a bug."""
    existing = _REGISTRY.get(rule.code)
    if existing is not None and existing is not rule:
        raise RuntimeError(
            f"rule code {rule.code} is used by both {existing.__name__} and {rule.__name__}"
        )
    _REGISTRY[rule.code] = rule
    return rule


def registered() -> dict[str, type[Rule]]:
    return dict(sorted(_REGISTRY.items()))
