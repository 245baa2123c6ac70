"""PyTorch state dicts in and out, without importing torch.

This package stores `Linear` and recurrent weights as (in, out), the transpose of PyTorch's
(out, in); every other parameter and buffer (convolution, normalisation, embedding) has
PyTorch's layout and name. These two functions transpose exactly the weights that differ::

    model.load_state_dict(from_torch_state_dict(model, torch_model.state_dict()))
    torch_model.load_state_dict({k: torch.tensor(v) for k, v in
                                 to_torch_state_dict(model).items()})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .layers import Linear
from .module import Module
from .recurrent import _Cell, _Recurrent

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def transposed_names(model: Module) -> set[str]:
    """The dotted names of ``model``'s weights stored as the transpose of PyTorch's."""
    names = set()
    for prefix, mod in model.named_modules():
        pre = f"{prefix}." if prefix else ""
        if isinstance(mod, Linear):
            names.add(pre + "weight")
        elif isinstance(mod, (_Cell, _Recurrent)):
            names.update(pre + n for n, p in mod._parameters.items()
                         if p is not None and n.startswith("weight_"))
    return names


def _numpy(v: ArrayLike) -> np.ndarray:
    if hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch.Tensor
        return v.detach().cpu().numpy()
    return np.asarray(v)


def from_torch_state_dict(model: Module, state_dict: Mapping[str, ArrayLike]
                          ) -> dict[str, np.ndarray]:
    """A PyTorch state dict (tensors or arrays) as arrays in this package's layout, ready
    for ``model.load_state_dict``."""
    flip = transposed_names(model)
    return {k: (_numpy(v).T.copy() if k in flip else _numpy(v).copy())
            for k, v in state_dict.items()}


def to_torch_state_dict(model: Module) -> dict[str, np.ndarray]:
    """``model.state_dict()`` with the weights in PyTorch's layout (numpy arrays)."""
    flip = transposed_names(model)
    return {k: (v.T.copy() if k in flip else v) for k, v in model.state_dict().items()}
