"""Tensor's in-place changes: ``+=`` and friends, ``add_``/``sub_``/``mul_``/``div_``,
``copy_``/``fill_``/``zero_`` and item assignment. Each refuses to write into a tensor that is
part of a graph while grad mode is on, writes through numpy, and bumps the version counter, so
a graph that saved the array notices. `Tensor` inherits them."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .errors import same_kind
from .function import data_of
from .links import LINKS
from .mode import LOCAL
from .ops.shape import plain_index

if TYPE_CHECKING:
    from .tensor import Tensor
    from .types import IndexLike, TensorLike


class InPlaceMethods:
    """The in-place methods of `Tensor` (a mixin: it has no state of its own)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what the methods use of Tensor
        _data: np.ndarray
        _requires_grad: bool
        grad_fn: object

        @property
        def shape(self) -> tuple[int, ...]: ...

        @property
        def dtype(self) -> np.dtype: ...

        def _bump_version(self) -> None: ...

    def _check_inplace(self, op: str, other: TensorLike | None = None) -> None:
        other_rg = isinstance(other, LINKS.tensor) and other._requires_grad
        if LOCAL.mode.grad_enabled and (self._requires_grad or other_rg):
            raise RuntimeError(
                f"in-place {op} on a tensor that requires grad (or with an operand that does) "
                "would corrupt the graph. Update parameters inside `with no_grad():`, or write "
                "the operation out of place (x = x + y)."
            )

    def _inplace(self, op: str, ufunc: np.ufunc, other: TensorLike) -> Tensor:
        """``ufunc(self, other)`` into this tensor's data, once the write is allowed."""
        self._check_inplace(op, other)
        return self._write(op, ufunc, other)

    def _write(self, op: str, ufunc: np.ufunc, other: TensorLike) -> Tensor:
        """The one in-place write of the ufunc methods (``ag.compile`` follows it while
        tracing): numpy's, then the version bump."""
        value = other._data if isinstance(other, LINKS.tensor) else other  # data_of, inline
        try:
            ufunc(self._data, value, out=self._data)
        except (TypeError, ValueError) as e:
            raise same_kind(e, f"in-place {op} on shape {self.shape} {self.dtype}: {e}") from e
        self._bump_version()
        return self  # type: ignore[return-value]  # the mixin is only ever a Tensor

    def _augmented(self, op: str, ufunc: np.ufunc, other: TensorLike,
                   fallback: Callable[[Tensor, TensorLike], Tensor]) -> Tensor:
        """``x op= other``: in place outside a graph (an optimizer step), else ``x op other``.
        The operand is read here, not through helpers (with the clock's tick written into
        `VersionCounter.bump`): 9 -> 5 Python calls per update, -1.2% instructions on W1."""
        other_rg = isinstance(other, LINKS.tensor) and other._requires_grad
        if LOCAL.mode.grad_enabled and (self._requires_grad or other_rg):
            if self.grad_fn is None and self._requires_grad:
                self._check_inplace(op, other)
            # inside a graph, x += y means x = x + y
            return fallback(self, other)  # type: ignore[arg-type]
        return self._write(op, ufunc, other)

    def __iadd__(self, other: TensorLike) -> Tensor:
        return self._augmented("+=", np.add, other, operator.add)

    def __isub__(self, other: TensorLike) -> Tensor:
        return self._augmented("-=", np.subtract, other, operator.sub)

    def __imul__(self, other: TensorLike) -> Tensor:
        return self._augmented("*=", np.multiply, other, operator.mul)

    def __itruediv__(self, other: TensorLike) -> Tensor:
        return self._augmented("/=", np.divide, other, operator.truediv)

    def add_(self, other: TensorLike, alpha: float = 1.0) -> Tensor:
        """In place ``self += alpha * other``."""
        self._check_inplace("add_", other)  # before ``other`` is scaled into a plain array
        if alpha != 1.0:
            other = np.asarray(data_of(other)) * alpha
        return self._write("add_", np.add, other)

    def sub_(self, other: TensorLike) -> Tensor:
        return self._inplace("sub_", np.subtract, other)

    def mul_(self, other: TensorLike) -> Tensor:
        return self._inplace("mul_", np.multiply, other)

    def div_(self, other: TensorLike) -> Tensor:
        return self._inplace("div_", np.divide, other)

    def copy_(self, src: TensorLike) -> Tensor:
        """Copy ``src`` (broadcast to this shape) into this tensor's data."""
        self._check_inplace("copy_", src)
        value = data_of(src)
        try:
            np.copyto(self._data, value)
        except (TypeError, ValueError) as e:
            raise same_kind(e, f"copy_ into shape {self.shape} {self.dtype}: {e}") from e
        self._bump_version()
        return self  # type: ignore[return-value]

    def fill_(self, value: float) -> Tensor:
        return self.copy_(value)

    def zero_(self) -> Tensor:
        return self.copy_(0)

    def __setitem__(self, index: IndexLike, value: TensorLike) -> None:
        self._check_inplace("item assignment", value)
        value = data_of(value)
        try:
            self._data[plain_index(index)] = value
        except (TypeError, ValueError, IndexError) as e:
            raise same_kind(e, f"item assignment on shape {self.shape}: {e}") from e
        self._bump_version()
