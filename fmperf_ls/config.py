"""Settings from `[tool.fmperf]` in pyproject.toml, the command line and the editor.

Parsing never raises on bad input: every bad key or value becomes a
`ConfigProblem` naming the file, the key and what is accepted, and the rest of
the configuration still applies. The CLI turns problems into exit code 2, the
server into one diagnostic on pyproject.toml.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fmperf_ls.rules.base import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

logger = logging.getLogger(__name__)

_CODE_PATTERN = re.compile(r"^(ALL|FMP\d{0,3})$")
_SEVERITIES = ", ".join(level.value for level in Severity)


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: [tool.fmperf] {self.key}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Which rules run and how loudly. Codes may be prefixes: FMP2 is FMP2xx."""

    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    extend_model_modules: tuple[str, ...] = ()
    root: str | None = None
    """The folder of the pyproject.toml the settings came from, for globs."""

    def enabled(self, code: str) -> bool:
        """Whether a rule runs: the longest matching prefix of select/ignore wins."""
        chosen = _longest_match(code, self.select)
        dropped = _longest_match(code, self.ignore)
        return chosen > 0 and chosen > dropped

    def severity_for(self, code: str, default: Severity) -> Severity:
        return self.severity.get(code, default)

    def excludes(self, path: Path) -> bool:
        """Whether a path matches one of the exclude globs (relative to root)."""
        if not self.exclude:
            return False
        candidates = [path.as_posix(), path.name]
        if self.root:
            try:
                candidates.append(path.resolve().relative_to(self.root).as_posix())
            except ValueError:
                pass
        return any(
            fnmatch.fnmatch(candidate, pattern) or fnmatch.fnmatch(candidate, f"{pattern}/*")
            for candidate in candidates
            for pattern in self.exclude
        )

    def fingerprint(self) -> str:
        """A stable text of the settings that change findings, for cache keys."""
        severity = sorted((code, level.value) for code, level in self.severity.items())
        return repr((self.select, self.ignore, severity, self.extend_model_modules))


def _longest_match(code: str, patterns: tuple[str, ...]) -> int:
    best = 0
    for pattern in patterns:
        if pattern == "ALL":
            best = max(best, 1)
        elif code.startswith(pattern):
            best = max(best, len(pattern) + 1)
    return best


def parse_settings(
    table: Mapping[str, Any], source: str, base: Settings | None = None
) -> tuple[Settings, list[ConfigProblem]]:
    """Settings from a `[tool.fmperf]`-shaped mapping; unknown or bad keys are skipped."""
    settings, problems = base or Settings(), []
    changes: dict[str, Any] = {}
    for key, value in table.items():
        parser = _PARSERS.get(key)
        if parser is None:
            known = ", ".join(sorted(_PARSERS))
            problems.append(ConfigProblem(source, key, f"unknown key; known keys: {known}"))
            continue
        try:
            changes[parser[0]] = parser[1](value)
        except ValueError as error:
            problems.append(ConfigProblem(source, key, str(error)))
    for problem in problems:
        logger.warning("%s", problem)
    return replace(settings, **changes), problems


def _codes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of rule codes such as [\"FMP101\", \"FMP2\"]")
    bad = [item for item in value if not _CODE_PATTERN.match(item.strip().upper())]
    if bad:
        raise ValueError(
            f"not a rule code or prefix: {', '.join(bad)} (use ALL, FMP, FMP1 or FMP101)"
        )
    return tuple(item.strip().upper() for item in value)


def _severities(value: Any) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a table of rule code = level ({_SEVERITIES})")
    result = {}
    for raw_code, level in value.items():
        code = str(raw_code).strip().upper()
        if not re.match(r"^FMP\d{3}$", code):
            raise ValueError(f"{raw_code!r} is not a rule code such as FMP101")
        try:
            result[code] = Severity(str(level).lower())
        except ValueError:
            raise ValueError(f"{code} = {level!r}: expected one of {_SEVERITIES}") from None
    return result


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of strings")
    return tuple(value)


_PARSERS = {
    "select": ("select", _codes),
    "ignore": ("ignore", _codes),
    "severity": ("severity", _severities),
    "exclude": ("exclude", _strings),
    "extend-model-modules": ("extend_model_modules", _strings),
}


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.fmperf] table.

    Falls back to the nearest pyproject.toml of any kind, which marks the
    project root even when it does not configure fmperf.
    """
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    nearest = None
    for candidate_dir in (folder, *folder.parents):
        candidate = candidate_dir / "pyproject.toml"
        if not candidate.is_file():
            continue
        nearest = nearest or candidate
        try:
            if "[tool.fmperf" in candidate.read_text(encoding="utf-8", errors="replace"):
                return candidate
        except OSError:
            continue
    return nearest


def load_pyproject(path: Path) -> tuple[Settings, list[ConfigProblem]]:
    """Settings from one pyproject.toml; a file that does not parse is one problem."""
    base = Settings(root=str(path.parent.resolve()))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return base, [ConfigProblem(str(path), "-", f"cannot read: {error}")]
    table = data.get("tool", {}).get("fmperf", {})
    if not isinstance(table, dict):
        return base, [ConfigProblem(str(path), "tool.fmperf", "expected a table")]
    return parse_settings(table, str(path), base)


def settings_for(path: Path) -> tuple[Settings, list[ConfigProblem]]:
    """The settings that apply to a file or folder, from its nearest pyproject.toml."""
    pyproject = find_pyproject(path)
    if pyproject is None:
        return Settings(), []
    return load_pyproject(pyproject)
