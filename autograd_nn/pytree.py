"""Pytrees: the nested tuples, lists and dicts of arrays that the function transforms take.

A pytree is a leaf or a container of pytrees. Containers are tuples, lists, dicts (and
``OrderedDict``) and namedtuples; ``None`` is an empty subtree (it holds no leaf and comes back
as ``None``), as in JAX. What counts as a leaf is the caller's ``check``: by default a Tensor, a
real numeric ndarray or a number. ``flatten`` lists a tree's leaves in a fixed order (dicts in
their key order) together with its structure, a ``TreeDef``; ``unflatten`` builds a tree of that
structure from other leaves (the gradients); ``flatten_like`` reads the leaves of a second tree
that must have the same structure (tangents for primals). Errors name the path of the offending
entry, as in ``args[0]['layers'][1]``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .tensor import Tensor

LeafCheck = Callable[[object], "str | None"]  # None when the object is a valid leaf, else why not
CONTAINERS = "a tuple, list or dict (None is an empty subtree)"


@dataclass(frozen=True)
class TreeDef:
    """The structure of a pytree: ``kind`` is the container type (``None`` for a leaf,
    ``type(None)`` for an empty subtree), ``keys`` a dict's keys in order, ``children`` the
    structures of the entries."""

    kind: type | None = None
    keys: tuple = ()
    children: tuple[TreeDef, ...] = ()

    @property
    def num_leaves(self) -> int:
        if self.kind is None:
            return 1
        return sum(c.num_leaves for c in self.children)


LEAF = TreeDef()
EMPTY = TreeDef(type(None))


def numeric_leaf(x: object) -> str | None:
    """Why ``x`` cannot be a differentiated leaf (None when it can): a Tensor, a real numeric
    ndarray or numpy scalar, or a Python bool, int or float."""
    if isinstance(x, Tensor | bool | int | float):
        return None
    if isinstance(x, np.ndarray | np.generic):
        if x.dtype.kind in "biuf":
            return None
        if x.dtype.kind == "c":
            return f"is complex ({x.dtype}); complex numbers are not supported"
        return f"is an array of dtype {x.dtype}, not a numeric one"
    if isinstance(x, complex):
        return "is a complex number; complex numbers are not supported"
    return (f"is a {type(x).__name__}; a leaf must be a Tensor, an array or a number, and a "
            f"container {CONTAINERS}")


def _is_namedtuple(x: object) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _entries(x: Any) -> tuple[tuple, list] | None:
    """The keys and entries of a container (None for anything else)."""
    if type(x) in (tuple, list) or _is_namedtuple(x):
        return tuple(range(len(x))), list(x)
    if type(x) in (dict, OrderedDict):
        return tuple(x), list(x.values())
    return None


def _step(path: str, kind: type, key: Any) -> str:
    if kind in (dict, OrderedDict):
        return f"{path}[{key!r}]"
    if kind not in (tuple, list):  # a namedtuple
        return f"{path}.{kind._fields[key]}"  # type: ignore[attr-defined]
    return f"{path}[{key}]"


def flatten(tree: Any, name: str, path: str,
            check: LeafCheck = numeric_leaf) -> tuple[list[Any], TreeDef]:
    """The leaves of ``tree`` in order and its structure. A leaf that ``check`` refuses raises
    ``TypeError`` naming the transform ``name`` and the leaf's path (``path`` is the root's)."""
    leaves: list[Any] = []
    return leaves, _flatten(tree, name, path, check, leaves)


def _flatten(tree: Any, name: str, path: str, check: LeafCheck, leaves: list) -> TreeDef:
    if tree is None:
        return EMPTY
    found = _entries(tree)
    if found is None:
        problem = check(tree)
        if problem is not None:
            raise TypeError(f"{name}: {path} {problem}")
        leaves.append(tree)
        return LEAF
    keys, entries = found
    kind = type(tree)
    children = tuple(_flatten(e, name, _step(path, kind, k), check, leaves)
                     for k, e in zip(keys, entries))
    return TreeDef(kind, keys if kind in (dict, OrderedDict) else (), children)


def unflatten(spec: TreeDef, leaves: list[Any]) -> Any:
    """A tree of structure ``spec`` holding ``leaves`` (any objects) in flatten's order."""
    if len(leaves) != spec.num_leaves:
        raise ValueError(f"unflatten: {len(leaves)} leaves for a structure of "
                         f"{spec.num_leaves}")
    return _build(spec, iter(leaves))


def _build(spec: TreeDef, leaves: Iterator[Any]) -> Any:
    if spec.kind is None:
        return next(leaves)
    if spec.kind is type(None):
        return None
    entries = [_build(c, leaves) for c in spec.children]
    if spec.kind in (dict, OrderedDict):
        return spec.kind(zip(spec.keys, entries))
    if spec.kind in (tuple, list):
        return spec.kind(entries)
    return spec.kind(*entries)  # a namedtuple


def flatten_like(spec: TreeDef, tree: Any, name: str, path: str, like: str,
                 check: LeafCheck = numeric_leaf) -> list[Any]:
    """The leaves of ``tree``, which must have structure ``spec`` (the structure of the tree
    at ``like``, named in the error otherwise), in the order of ``spec``'s leaves."""
    leaves: list[Any] = []
    _match(spec, tree, (name, path, like, check), leaves)
    return leaves


def _match(spec: TreeDef, tree: Any, where: tuple, leaves: list) -> None:
    name, path, like, check = where
    if spec.kind is None and tree is not None and _entries(tree) is None:
        problem = check(tree)
        if problem is not None:
            raise TypeError(f"{name}: {path} {problem}")
        leaves.append(tree)
        return
    if not _same_structure(spec, tree):
        raise ValueError(f"{name}: {path} is {_describe(tree)} but {like} is "
                         f"{_describe_spec(spec)}; they must have the same structure")
    keys = spec.keys if spec.kind in (dict, OrderedDict) else range(len(spec.children))
    for key, child in zip(keys, spec.children):
        _match(child, tree[key], (name, _step(path, type(tree), key),
                                  _step(like, type(tree), key), check), leaves)


def _same_structure(spec: TreeDef, tree: Any) -> bool:
    """Does ``tree``'s top level match ``spec``'s (a container's type and keys or length)?"""
    if spec.kind is None or type(tree) is not spec.kind:
        return False
    container: Any = tree  # (mypy narrows ``tree`` to ``spec.kind``'s instances: object)
    if spec.kind in (dict, OrderedDict):
        return set(container) == set(spec.keys)
    return spec.kind is type(None) or len(container) == len(spec.children)


def _describe(x: Any) -> str:
    if x is None:
        return "None"
    found = _entries(x)
    if found is None:
        return f"a leaf ({type(x).__name__})"
    if isinstance(x, dict):
        return f"a {type(x).__name__} with keys {_keys(x)}"
    return f"a {type(x).__name__} of {len(x)}"


def _keys(keys: Iterable[object]) -> str:
    return "[" + ", ".join(sorted(map(repr, keys))) + "]"


def _describe_spec(spec: TreeDef) -> str:
    if spec.kind is None:
        return "a leaf"
    if spec.kind is type(None):
        return "None"
    if spec.kind in (dict, OrderedDict):
        return f"a {spec.kind.__name__} with keys {_keys(spec.keys)}"
    return f"a {spec.kind.__name__} of {len(spec.children)}"


def map_tensors(fn: Callable[[Tensor], object], tree: Any) -> Any:
    """``tree`` with ``fn`` applied to every Tensor in it; other objects (any type: this is for
    a function's auxiliary results) are kept as they are."""
    found = None if isinstance(tree, Tensor) else _entries(tree)
    if found is None:
        return fn(tree) if isinstance(tree, Tensor) else tree
    kind = type(tree)
    entries = [map_tensors(fn, e) for e in found[1]]
    if kind in (dict, OrderedDict):
        return kind(zip(found[0], entries))
    return kind(entries) if kind in (tuple, list) else kind(*entries)


def leaf_paths(spec: TreeDef, path: str) -> list[str]:
    """The path of each leaf of ``spec``, in flatten's order, below the root's ``path``."""
    if spec.kind is None:
        return [path]
    keys = spec.keys if spec.kind in (dict, OrderedDict) else range(len(spec.children))
    return [p for key, child in zip(keys, spec.children)
            for p in leaf_paths(child, _step(path, spec.kind, key))]
