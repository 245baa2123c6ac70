"""The numpy surface beyond the core ops, gathered in one place for wiring: the names its
backward rules need in the array namespaces, and the numpy functions routed to its ops.

Each family module declares ``XP`` (name -> (numpy kernel, differentiable function)),
``UFUNC_ROUTES`` and ``FUNCTION_ROUTES`` (numpy callable -> autograd_nn function); this module
merges them, `ops/__init__` installs ``XP`` and `ops/interop` the routes.
"""

from __future__ import annotations

from typing import Any

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

XP: dict[str, tuple[Any, Any]] = {}
UFUNC_ROUTES: dict[Any, Any] = {}
FUNCTION_ROUTES: dict[Any, Any] = {}
for _family in FAMILIES:
    XP.update(getattr(_family, "XP", {}))
    UFUNC_ROUTES.update(getattr(_family, "UFUNC_ROUTES", {}))
    FUNCTION_ROUTES.update(getattr(_family, "FUNCTION_ROUTES", {}))


def install(numpy_ns: Any, tensor_ns: Any) -> None:
    """Add the surface's names to the plain and the differentiable array namespaces."""
    for name, (kernel, function) in XP.items():
        setattr(numpy_ns, name, kernel)
        setattr(tensor_ns, name, function)
