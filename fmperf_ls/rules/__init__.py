"""The rule families. `all_rules()` imports them, which registers every rule."""

from __future__ import annotations

import importlib

from fmperf_ls.rules.base import Rule, registered

__all__ = ["FAMILIES", "Rule", "all_rules"]

FAMILIES = ("orm", "pandas", "algorithm", "caching", "serialization")


def all_rules() -> dict[str, type[Rule]]:
    """Every registered rule class by code, sorted by code."""
    for family in FAMILIES:
        importlib.import_module(f"fmperf_ls.rules.{family}")
    return registered()
