"""autograd_nn: reverse-mode automatic differentiation on numpy.

``Tensor`` records the operations applied to it; ``backward()`` differentiates in reverse mode.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import autograd, ops
from .anomaly import AnomalyError, detect_anomaly
from .compile import CompileError, compile  # noqa: A004  (the function, not the package)
from .creation import (
    arange,
    eye,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .function import Function, once_differentiable
from .gradcheck import (  # after this, ``autograd_nn.gradcheck`` is the function, not the package
    GradcheckError,
    check_three_way,
    compare_gradients,
    eps_sweep,
    gradcheck,
    gradgradcheck,
    numerical_grad,
    numerical_jacobian,
)
from .mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import *  # noqa: F403  (every public op function: ops.__all__)
from .seeding import manual_seed
from .tensor import Tensor
from .transforms import grad, hessian, hvp, jacobian, jvp, value_and_grad

if TYPE_CHECKING:  # what type checkers cannot read from the computed ops.__all__ and __getattr__
    from . import cli, data, datasets, linalg, nn, optim, reference, train, viz  # noqa: F401
    from .ops.arithmetic import *  # noqa: F403
    from .ops.contract import *  # noqa: F403
    from .ops.diagonals import *  # noqa: F403
    from .ops.elementwise import *  # noqa: F403
    from .ops.elementwise_binary import *  # noqa: F403
    from .ops.elementwise_math import *  # noqa: F403
    from .ops.joining import *  # noqa: F403
    from .ops.manipulation import *  # noqa: F403
    from .ops.ordering import *  # noqa: F403
    from .ops.reduce import *  # noqa: F403
    from .ops.shape import *  # noqa: F403
    from .train import fit, plot_history  # noqa: F401
    from .viz import draw_graph, format_graph, print_graph, trace_backward  # noqa: F401

__version__ = "0.1.0"

_LAZY = {
    "draw_graph": ("viz", "draw_graph"),
    "print_graph": ("viz", "print_graph"),
    "format_graph": ("viz", "format_graph"),
    "trace_backward": ("viz", "trace_backward"),
    "fit": ("train", "fit"),
    "plot_history": ("train", "plot_history"),
}
_SUBMODULES = {
    "nn", "optim", "data", "datasets", "train", "viz", "reference", "cli", "linalg",
}


def __getattr__(name: str) -> Any:
    """Heavier parts load on first use, so ``import autograd_nn`` stays light."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'autograd_nn' has no attribute {name!r}")


__all__ = [
    "AnomalyError", "CompileError", "Function", "GradcheckError", "Tensor", "__version__",
    "arange", "autograd",
    "check_three_way", "compare_gradients", "compile", "detect_anomaly", "eps_sweep", "gradcheck",
    "gradgradcheck", "numerical_grad", "numerical_jacobian", "once_differentiable",
    "enable_grad", "eye", "full", "grad", "hessian", "hvp", "is_grad_enabled", "jacobian",
    "jvp", "linspace", "manual_seed", "no_grad", "ones", "ones_like", "rand", "randn",
    "set_grad_enabled", "tensor", "value_and_grad", "zeros", "zeros_like", *_LAZY,
]
__all__ += ops.__all__
