"""The one registration point for the calls that go up the layers.

Imports flow one way (mode → function → ops → tensor → engine → autograd ...), but at run time
two calls go up: `Function.apply` makes its result a `Tensor`, and ``Tensor.backward()`` runs
the engine. The module above hands its piece over here once, when it is imported; nothing else
is rebound at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tensor import Tensor


class Links:
    """What the lower layers call upward: filled by tensor.py and autograd.py at import."""

    tensor: type[Tensor]  # the class op results are made of (tensor.py)
    backward: Callable[..., None]  # autograd.backward, which Tensor.backward calls (autograd.py)


LINKS = Links()


def connect_tensor(cls: type[Tensor]) -> None:
    LINKS.tensor = cls


def connect_backward(fn: Callable[..., None]) -> None:
    LINKS.backward = fn
