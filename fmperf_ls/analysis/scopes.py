"""Loops, comprehensions and name definitions: the control-flow facts rules share.

"Per element" is the question behind most rules here: is this expression
evaluated once per iteration of some loop? `loops_around` answers it for
`for` and `while` bodies and for every part of a comprehension that runs per
element (the element, the conditions, the iterables of inner `for` clauses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from parso.python.tree import Module, Name
from parso.tree import BaseNode, NodeOrLeaf

_SCOPE_TYPES = ("funcdef", "lambdef", "classdef", "file_input")
_COMPREHENSION_PARENTS = ("testlist_comp", "dictorsetmaker", "argument")


@dataclass(frozen=True)
class Loop:
    """A loop and its parts; `iterable` is None for `while` loops."""

    node: NodeOrLeaf
    kind: str  # "for", "while" or "comprehension"
    target: NodeOrLeaf | None
    iterable: NodeOrLeaf | None

    def target_names(self) -> list[Name]:
        if self.target is None:
            return []
        if self.target.type == "name":
            return [self.target]  # type: ignore[list-item]
        return [leaf for leaf in _leaves(self.target) if isinstance(leaf, Name)]


def scope_of(node: NodeOrLeaf) -> BaseNode:
    """The function, lambda, class or module whose body holds the node."""
    parent = node.parent
    while parent is not None and parent.type not in _SCOPE_TYPES:
        parent = parent.parent
    return parent if parent is not None else node  # type: ignore[return-value]


def loops_around(node: NodeOrLeaf) -> list[Loop]:
    """Loops in which `node` is evaluated once per iteration, innermost first.

    Stops at the enclosing function: a loop that calls a function is the
    business of the rules that follow calls.
    """
    loops: list[Loop] = []
    child, parent = node, node.parent
    while parent is not None and parent.type not in ("funcdef", "lambdef", "classdef"):
        loop = _loop_for_child(parent, child)
        if loop is not None:
            loops.append(loop)
        child, parent = parent, parent.parent
    return loops


def _loop_for_child(parent: BaseNode, child: NodeOrLeaf) -> Loop | None:
    """The loop `parent` is, if `child` runs once per iteration of it."""
    if parent.type == "for_stmt":
        if child is parent.children[5]:
            return Loop(parent, "for", parent.children[1], parent.children[3])
        return None
    if parent.type == "while_stmt":
        if child is parent.children[1] or child is parent.children[3]:
            return Loop(parent, "while", None, None)
        return None
    if parent.type in ("sync_comp_for", "comp_for"):
        return _comprehension_loop(parent, child)
    if parent.type in _COMPREHENSION_PARENTS and len(parent.children) >= 2:
        comp_for = parent.children[1]
        if parent.type == "dictorsetmaker" and len(parent.children) == 4:
            comp_for = parent.children[3]  # {key: value for ...}
        if comp_for.type in ("sync_comp_for", "comp_for") and child is not comp_for:
            return _comprehension_part(comp_for)
    return None


def _comprehension_part(comp_for: BaseNode) -> Loop:
    sync = comp_for.children[1] if comp_for.type == "comp_for" else comp_for
    return Loop(sync, "comprehension", sync.children[1], sync.children[3])


def _comprehension_loop(sync: BaseNode, child: NodeOrLeaf) -> Loop | None:
    """Inside `for t in it <rest>`: `<rest>` (conditions, inner fors) is per element."""
    if sync.type == "comp_for":
        return None  # `async for`: the inner sync_comp_for decides
    if child is sync.children[3] or child is sync.children[1]:
        return None  # the first iterable is evaluated once
    return Loop(sync, "comprehension", sync.children[1], sync.children[3])


def definitions_before(name: Name) -> list[Name]:
    """Definitions of `name` visible at its use, the latest first.

    Flow-insensitive within a scope beyond "defined earlier in the text":
    branches are not told apart, which is good enough for type evidence.
    """
    module = name.get_root_node()
    assert isinstance(module, Module)
    candidates = _definitions_named(module, name.value)
    visible = []
    scope = scope_of(name)
    for candidate in candidates:
        if not candidate.is_definition() or candidate.start_pos >= name.start_pos:
            if not (candidate.is_definition() and _is_loop_target_around(candidate, name)):
                continue
        if _visible_from(candidate, name, scope):
            visible.append(candidate)
    visible.sort(key=lambda candidate: candidate.start_pos, reverse=True)
    return visible


_DEFINITIONS: dict[int, tuple[Module, dict[str, list[Name]]]] = {}


def _definitions_named(module: Module, value: str) -> list[Name]:
    """The names called `value` that define something, per module.

    `is_definition` walks up the tree; asking it of every use of a name at
    every use made this quadratic in the uses of popular names such as `df`.
    Trees are never changed after parsing, so the answer is kept for the few
    most recent modules.
    """
    entry = _DEFINITIONS.get(id(module))
    if entry is None or entry[0] is not module:
        if len(_DEFINITIONS) >= 16:
            _DEFINITIONS.clear()
        entry = _DEFINITIONS[id(module)] = (module, {})
    found = entry[1].get(value)
    if found is None:
        uses = _used_names(module).get(value, [])
        found = entry[1][value] = [use for use in uses if use.is_definition()]
    return found


def _used_names(module: Module) -> dict[str, list[Name]]:
    """parso caches this per module; every rule shares the one dictionary."""
    return module.get_used_names()  # type: ignore[return-value]


def _is_loop_target_around(definition: Name, use: Name) -> bool:
    """A comprehension target is written after its use in the text: `[x for x in y]`."""
    comp = _comprehension_of(definition)
    return comp is not None and _inside(use, comp)


def _comprehension_of(definition: Name) -> BaseNode | None:
    parent = definition.parent
    while parent is not None and parent.type not in _SCOPE_TYPES:
        if parent.type in ("sync_comp_for", "comp_for"):
            outer = parent
            while outer.parent is not None and outer.parent.type in (
                "sync_comp_for",
                "comp_for",
                "comp_if",
            ):
                outer = outer.parent
            return outer.parent
        parent = parent.parent
    return None


def _visible_from(definition: Name, use: Name, use_scope: BaseNode) -> bool:
    comp = _comprehension_of(definition)
    if comp is not None:
        return _inside(use, comp)
    definition_scope = scope_of(definition)
    scope: BaseNode | None = use_scope
    while scope is not None:
        if scope is definition_scope:
            return True
        scope = scope_of(scope) if scope.parent is not None else None
    return False


def _inside(node: NodeOrLeaf, container: NodeOrLeaf) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is container:
            return True
        parent = parent.parent
    return False


def _leaves(node: NodeOrLeaf) -> Iterator[NodeOrLeaf]:
    if isinstance(node, BaseNode):
        for child in node.children:
            yield from _leaves(child)
    else:
        yield node


def is_inside(node: NodeOrLeaf, container: NodeOrLeaf) -> bool:
    """Whether `container` is an ancestor of `node`."""
    return _inside(node, container)
