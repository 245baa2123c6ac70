"""The numpy surface beyond the core ops (issue 12), registered family by family.

Each family module declares ``XP`` (name -> (numpy kernel, differentiable function)),
``UFUNC_ROUTES`` and ``FUNCTION_ROUTES`` (numpy callable -> autograd_nn function) and lists its
functions in ``__all__``; `register_families` turns that into registrations (registry.py), so
the routes, the backward namespaces and the Tensor methods come from the registry as the core
ops' do. (Transitional: the families are to move to one ``@register`` per function, with their
gradient-check cases, which today live in cli/catalog_numpy.py.)
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ..registry import add_to_namespaces, register
from . import (
    contract,
    decompositions,
    diagonals,
    elementwise_math,
    joining,
    linalg,
    manipulation,
    norms,
    ordering,
)

FAMILIES = (elementwise_math, diagonals, manipulation, joining, contract, ordering, linalg,
            decompositions, norms)
LINALG = (linalg, decompositions, norms)  # under autograd_nn.linalg, not the top level
# Tensor methods of the surface (numpy's ndarray has them)
METHODS = {"cumsum", "cumprod", "diagonal", "dot", "repeat", "take", "trace"}
OPERATORS = {"remainder": ("__mod__", "__rmod__")}


def _register_family(family: ModuleType) -> None:
    routes: dict[Any, Any] = {**getattr(family, "UFUNC_ROUTES", {}),
                              **getattr(family, "FUNCTION_ROUTES", {})}
    for name, (kernel, function) in getattr(family, "XP", {}).items():
        add_to_namespaces(name, kernel, function)
    for name in family.__all__:
        fn = getattr(family, name)
        if isinstance(fn, type) or not callable(fn):
            continue
        register(name=name, numpy=[k for k, f in routes.items() if f is fn],
                 methods=(name,) if name in METHODS else (), operators=OPERATORS.get(name, ()),
                 checked=False, public=family not in LINALG)(fn)


def register_families() -> None:
    for family in FAMILIES:
        _register_family(family)


register_families()
