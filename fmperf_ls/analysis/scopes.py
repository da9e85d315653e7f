"""Loops, comprehensions and name definitions: the control-flow facts rules share.

"Per element" is the question behind most rules here: is this expression
evaluated once per iteration of some loop? `loops_around` answers it for
`for` and `while` bodies and for every part of a comprehension that runs per
element (the element, the conditions, the iterables of inner `for` clauses).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from parso.python.tree import Module, Name
from parso.tree import BaseNode, Leaf, NodeOrLeaf

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
        loops.extend(_loops_for_child(parent, child))
        child, parent = parent, parent.parent
    return loops


def _loops_for_child(parent: BaseNode, child: NodeOrLeaf) -> list[Loop]:
    """The loops `parent` is, innermost first, if `child` runs once per iteration of them."""
    if parent.type == "for_stmt":
        if child is parent.children[5] and not _runs_once(child):
            return [Loop(parent, "for", parent.children[1], parent.children[3])]
        return []
    if parent.type == "while_stmt":
        if (child is parent.children[1] or child is parent.children[3]) and not _runs_once(
            parent.children[3]
        ):
            return [Loop(parent, "while", None, None)]
        return []
    if parent.type in ("sync_comp_for", "comp_for"):
        return _comprehension_loops(parent, child)
    if parent.type in _COMPREHENSION_PARENTS and len(parent.children) >= 2:
        comp_for = parent.children[1]
        if parent.type == "dictorsetmaker" and len(parent.children) == 4:
            comp_for = parent.children[3]  # {key: value for ...}
        if comp_for.type in ("sync_comp_for", "comp_for") and child is not comp_for:
            return _clauses(comp_for)[::-1]  # the element runs once per combination
    return []


def _runs_once(body: NodeOrLeaf) -> bool:
    """A loop body that ends in an unconditional `break`, `return` or `raise` and holds no
    `continue`: the loop never starts a second iteration (`for x in xs: ...; break`)."""
    last = body.children[-1] if isinstance(body, BaseNode) and body.type == "suite" else body
    if not isinstance(last, BaseNode) or last.type != "simple_stmt":
        return False
    parts = last.children
    final = parts[-2] if parts[-1].type == "newline" and len(parts) > 1 else parts[-1]
    ends = final.type in ("return_stmt", "raise_stmt") or _is_keyword(final, "break")
    return ends and not any(_is_keyword(leaf, "continue") for leaf in _leaves(body))


def _is_keyword(node: NodeOrLeaf, word: str) -> bool:
    return isinstance(node, Leaf) and node.type == "keyword" and node.value == word


def _clauses(comp_for: BaseNode) -> list[Loop]:
    """Each `for` clause of a comprehension, outermost first, skipping its `if` clauses."""
    clauses: list[Loop] = []
    node: NodeOrLeaf | None = comp_for
    while isinstance(node, BaseNode):
        if node.type == "comp_for":
            node = node.children[1]  # `async` and its sync_comp_for
            continue
        if node.type == "sync_comp_for":
            clauses.append(_clause(node))
            node = node.children[4] if len(node.children) > 4 else None
        elif node.type == "comp_if":
            node = node.children[2] if len(node.children) > 2 else None
        else:
            break
    return clauses


def _comprehension_loops(sync: BaseNode, child: NodeOrLeaf) -> list[Loop]:
    """Inside `for t in it <rest>`: `<rest>` (conditions, inner fors) is per element."""
    if sync.type == "comp_for":
        return []  # `async for`: the inner sync_comp_for decides
    if child is sync.children[3] or child is sync.children[1]:
        return []  # the first iterable is evaluated once
    return [_clause(sync)]


def _clause(sync: BaseNode) -> Loop:
    """One `for target in iterable` clause of a comprehension."""
    return Loop(sync, "comprehension", sync.children[1], sync.children[3])


def definitions_before(name: Name) -> list[Name]:
    """Definitions of `name` visible at its use, the latest first.

    Flow-insensitive within a scope beyond "defined earlier in the text":
    branches are not told apart, which is good enough for type evidence.
    """
    module = name.get_root_node()
    assert isinstance(module, Module)
    by_container = _definitions_named(module, name.value)
    if not by_container:
        return []
    visible = []
    node: NodeOrLeaf | None = name.parent
    while node is not None:
        for candidate, in_comprehension in by_container.get(id(node), ()):
            if in_comprehension or candidate.start_pos < name.start_pos:
                visible.append(candidate)
        node = node.parent
    visible.sort(key=lambda candidate: candidate.start_pos, reverse=True)
    return visible


def latest_definition(name: Name) -> tuple[Name, BaseNode] | None:
    """The nearest visible definition of `name` and the statement that makes it."""
    definitions = definitions_before(name)
    statement = definitions[0].get_definition() if definitions else None
    return (definitions[0], statement) if statement is not None else None


_DEFINITIONS: dict[int, tuple[Module, object, dict[str, dict[int, list[tuple[Name, bool]]]]]] = {}


def _definitions_named(module: Module, value: str) -> dict[int, list[tuple[Name, bool]]]:
    """The definitions of `value` in a module, grouped by the node they are visible in.

    That node is the function, class or module whose body binds the name, or
    the comprehension whose `for` binds it (then the flag is True: a target is
    written after its use, `[x for x in y]`). A use then only looks at the
    groups of its own ancestors, which keeps the cost linear in the uses of
    popular names such as `df`. The groups are kept for the few most recent
    modules, as long as parso's name index of the module is the same object:
    the diff parser updates an open document's tree in place, and then drops
    that index.
    """
    names = _used_names(module)
    entry = _DEFINITIONS.get(id(module))
    if entry is None or entry[0] is not module or entry[1] is not names:
        if len(_DEFINITIONS) >= 16:
            _DEFINITIONS.clear()
        entry = _DEFINITIONS[id(module)] = (module, names, {})
    found = entry[2].get(value)
    if found is None:
        found = entry[2][value] = {}
        for use in names.get(value, []):
            if not use.is_definition() or _is_attribute_name(use):
                continue  # `model.attr = ...` binds an attribute, not the name `attr`
            comprehension = _comprehension_of(use)
            container = comprehension if comprehension is not None else _binding_scope(use)
            found.setdefault(id(container), []).append((use, comprehension is not None))
    return found


def _is_attribute_name(name: Name) -> bool:
    parent = name.parent
    return parent is not None and parent.type == "trailer"


def _binding_scope(definition: Name) -> BaseNode:
    """The scope a definition binds in: `def f` binds `f` in the scope around it."""
    parent = definition.parent
    if parent is not None and parent.type in ("funcdef", "classdef") and (
        parent.name is definition  # type: ignore[attr-defined]
    ):
        return scope_of(parent)
    return scope_of(definition)


def _used_names(module: Module) -> dict[str, list[Name]]:
    """parso caches this per module; every rule shares the one dictionary."""
    return module.get_used_names()  # type: ignore[return-value]


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
