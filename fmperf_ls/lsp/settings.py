"""Editor settings: what clients send in initializationOptions and didChangeConfiguration.

The editor may send the settings bare (`{"select": [...]}`) or under an
`fmperf` key, and may share the section with settings only the client reads
(`importStrategy`, `path`, ...). Known keys are parsed into a typed,
keyword-only dataclass; a bad value falls back to its default and is named in
one message, so a typo never keeps the server from starting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fmperf_ls.config import Settings, parse_settings
from fmperf_ls.rules.base import Severity

logger = logging.getLogger(__name__)

SECTION = "fmperf"
CLIENT_ONLY_KEYS = frozenset(
    {"importStrategy", "path", "args", "showNotifications", "trace", "enable"}
)


@dataclass(frozen=True, kw_only=True)
class EditorSettings:
    """Settings from the editor; None means "not set here, use pyproject.toml"."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    severity: Mapping[str, Severity] = field(default_factory=dict)
    debounce_ms: int = 150
    """Quiet time after the last keystroke before a document is analysed again."""
    analysis_budget_ms: int = 1000
    """Time per file that jedi may spend answering type questions."""
    site_packages: tuple[str, ...] = ()
    interpreter: str | None = None

    def apply_to(self, base: Settings) -> Settings:
        """The file's settings with the editor's choices on top (the editor wins)."""
        changes: dict[str, Any] = {}
        if self.select is not None:
            changes["select"] = self.select
        if self.ignore is not None:
            changes["ignore"] = self.ignore
        if self.severity:
            changes["severity"] = {**base.severity, **self.severity}
        return replace(base, **changes)


def unwrap(raw: Any) -> Mapping[str, Any] | None:
    """The settings mapping, whether sent bare or under an `fmperf` key; None if absent."""
    if not isinstance(raw, Mapping):
        return None  # null or a scalar: no settings in it
    inner = raw.get(SECTION)
    if isinstance(inner, Mapping):
        return inner
    return raw


def parse_editor_settings(raw: Any) -> tuple[EditorSettings, list[str]]:
    """Typed settings and one line per rejected key; unknown keys are only logged."""
    table = unwrap(raw)
    if table is None:
        shape = [] if raw is None else [f"expected an object, got {type(raw).__name__}"]
        return EditorSettings(), shape
    problems: list[str] = []
    values: dict[str, Any] = {}
    _parse_rule_keys(table, values, problems)
    for key, (name, parse) in _PARSERS.items():
        if key not in table or table[key] is None:
            continue  # not sent: the default stands
        try:
            values[name] = parse(table[key])
        except ValueError as error:
            problems.append(f"{key}: {error}")
    unknown = set(table) - set(_PARSERS) - {"select", "ignore", "severity"} - CLIENT_ONLY_KEYS
    if unknown:
        logger.info("ignoring unknown settings: %s", ", ".join(sorted(unknown)))
    return EditorSettings(**values), problems


def _parse_rule_keys(table: Mapping[str, Any], values: dict, problems: list[str]) -> None:
    """select/ignore/severity, validated by the same parser as pyproject.toml.

    An empty list counts as "not set": editors send their defaults, and an
    empty `select` must not switch every rule off.
    """
    rule_table = {
        key: table[key]
        for key in ("select", "ignore", "severity")
        if table.get(key) not in (None, [], {})
    }
    parsed, config_problems = parse_settings(rule_table, "settings", Settings(select=()))
    bad = {problem.key for problem in config_problems}
    problems.extend(f"{problem.key}: {problem.message}" for problem in config_problems)
    if "select" in rule_table and "select" not in bad:
        values["select"] = parsed.select
    if "ignore" in rule_table and "ignore" not in bad:
        values["ignore"] = parsed.ignore
    if "severity" in rule_table and "severity" not in bad:
        values["severity"] = dict(parsed.severity)


def _milliseconds(limit: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number of milliseconds, got {value!r}")
        if not 0 <= value <= limit:
            raise ValueError(f"expected 0 to {limit} milliseconds, got {value!r}")
        return int(value)

    return parse


def _paths(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of folder paths")
    return tuple(item for item in value if item)


def _interpreter(value: Any) -> str | None:
    """A path; VS Code's `fmperf.interpreter` is a list whose first item is the path."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value[0] if value else None
    if isinstance(value, str):
        return value or None
    raise ValueError(f"expected the path of a Python interpreter, got {value!r}")


_PARSERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "debounceMs": ("debounce_ms", _milliseconds(5_000)),
    "analysisBudgetMs": ("analysis_budget_ms", _milliseconds(60_000)),
    "sitePackages": ("site_packages", _paths),
    "interpreter": ("interpreter", _interpreter),
}
