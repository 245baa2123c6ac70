"""The function under check and its arguments, in the form every checker works on.

`Problem` decides which arguments are differentiable (Tensors with ``requires_grad=True``
and floating ndarrays), keeps a float64 copy of each (the caller's arrays are never touched),
warns once when an input is not float64, and evaluates ``f`` on fresh leaves made from those
copies, one perturbed element or direction at a time.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..mode import enable_grad
from ..tensor import Tensor


class GradcheckPrecisionWarning(UserWarning):
    """An input was not float64; the check ran on float64 copies of it."""


def warn_precision(where: str, name: str, dtype: Any, stacklevel: int = 4) -> None:
    warnings.warn(
        f"{where}: input {name} has dtype {dtype}. Finite differences need float64: with a step "
        f"of ~1e-6, {dtype} round-off (relative ~{np.finfo(dtype).eps:.0e}) is larger than the "
        "change being measured, so the numerical derivative would be noise. The check runs on "
        "float64 copies of the inputs; to check float32 arithmetic itself, compare against a "
        "float64 run of the same function instead.",
        GradcheckPrecisionWarning,
        stacklevel=stacklevel,
    )


def as_argument_list(inputs: Any) -> tuple[list, bool]:
    """``inputs`` as a list of arguments, and whether a single input (not a sequence) was given.

    A Tensor or ndarray is one input; a tuple or list is a sequence of inputs (its Python
    numbers are constant arguments)."""
    if isinstance(inputs, (Tensor, np.ndarray)):
        return [inputs], True
    if isinstance(inputs, (tuple, list)):
        if not inputs:
            raise ValueError("gradcheck: inputs is empty; give a Tensor, an array or a sequence")
        return list(inputs), False
    if isinstance(inputs, (int, float, np.number)):
        raise TypeError(
            f"gradcheck: inputs is the number {inputs!r}; give a Tensor or an array, e.g. "
            f"ag.Tensor({inputs!r}, requires_grad=True)"
        )
    raise TypeError(
        f"gradcheck: inputs must be a Tensor, an ndarray or a sequence of them, "
        f"got {type(inputs).__name__}"
    )


def is_differentiable(a: Any) -> bool:
    """Tensors that require grad and floating ndarrays are differentiated; the rest is constant."""
    if isinstance(a, Tensor):
        return a.requires_grad
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _floating_or_none(a: Any) -> np.ndarray | None:
    """An output as a float64 array, or None when it has no derivative (int/bool data)."""
    arr = np.asarray(a._data if isinstance(a, Tensor) else a)
    if arr.dtype.kind != "f":
        return None
    return arr.astype(np.float64, copy=False)


class Problem:
    """``f`` and its arguments; evaluation on fresh float64 leaves."""

    def __init__(self, f: Callable, inputs: Any, where: str, *, all_floating: bool = False,
                 warn: bool = True, names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None) -> None:
        if not callable(f):
            raise TypeError(f"{where}: f must be callable, got {type(f).__name__}")
        self.f = f
        self.where = where
        self.args, self.single_input = as_argument_list(inputs)
        diff = [i for i, a in enumerate(self.args) if is_differentiable(a)]
        if not diff and all_floating:
            diff = [i for i, a in enumerate(self.args)
                    if isinstance(a, (Tensor, np.ndarray)) and np.asarray(a).dtype.kind == "f"]
        if not diff:
            raise ValueError(
                f"{where}: no input to differentiate: mark the inputs to check with "
                "requires_grad=True (or pass them as float numpy arrays)"
            )
        self.diff = diff
        self.names: dict[int, str] = {}
        self.base: dict[int, np.ndarray] = {}
        for i in diff:
            a = self.args[i]
            own = getattr(a, "name", None) if isinstance(a, Tensor) else None
            self.names[i] = (names[i] if names is not None else own) or f"input {i}"
            data = a.data if isinstance(a, Tensor) else a
            if data.dtype != np.float64 and warn:
                warn_precision(where, repr(self.names[i]), data.dtype)
            self.base[i] = np.array(data, dtype=np.float64)  # a copy, always
        self.output_names = list(output_names) if output_names is not None else None
        self.single_output = False
        self.out_shapes: list[tuple | None] = []

    # ---- evaluation ---------------------------------------------------------------------
    def arguments(self, overrides: dict | None = None, dtype: Any = np.float64) -> list:
        """The argument list with each differentiable input a fresh leaf Tensor."""
        args = list(self.args)
        for i in self.diff:
            arr = overrides.get(i, self.base[i]) if overrides else self.base[i]
            args[i] = Tensor(arr, dtype=dtype, requires_grad=True)
        return args

    def call(self, args: list) -> tuple:
        """Call f; its result as a tuple of outputs (shapes recorded on the first call)."""
        with enable_grad():  # f may differentiate inside (gradgradcheck's VJP does)
            out = self.f(*args)
        if isinstance(out, (tuple, list)):
            outs = tuple(out)
            single = False
        else:
            outs, single = (out,), True
        shapes = [None if _floating_or_none(o) is None else np.shape(_data(o)) for o in outs]
        if not self.out_shapes:
            self.single_output = single
            self.out_shapes = shapes
            if not any(s is not None for s in shapes):
                raise TypeError(
                    f"{self.where}: f returned no floating-point output "
                    f"({', '.join(type(o).__name__ for o in outs)}); it must return a Tensor "
                    "(or a tuple of Tensors) computed from the inputs"
                )
        elif shapes != self.out_shapes:
            raise ValueError(
                f"{self.where}: f returned outputs of shapes {shapes} after returning "
                f"{self.out_shapes}; the output shapes must not depend on the input values"
            )
        return outs

    def values(self, overrides: dict | None = None, dtype: Any = np.float64) -> list:
        """f's floating outputs as float64 arrays (None for outputs without a derivative)."""
        with np.errstate(all="ignore"):  # a stencil point may leave f's domain: no warnings
            outs = self.call(self.arguments(overrides, dtype))
        return [_floating_or_none(o) for o in outs]

    def output_name(self, k: int) -> str:
        if self.output_names is not None:
            return self.output_names[k]
        return "output" if self.single_output else f"output {k}"

    @property
    def checked_outputs(self) -> list[int]:
        return [k for k, s in enumerate(self.out_shapes) if s is not None]


def _data(o: Any) -> Any:
    return o._data if isinstance(o, Tensor) else o
