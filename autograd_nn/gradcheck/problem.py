"""The function under check and its arguments, in the form every checker works on.

One contract for every checker (`gradcheck`, `gradgradcheck`, `numerical_jacobian`,
`numerical_grad`, `eps_sweep`, `check_three_way`). ``inputs`` is a Tensor, an ndarray, a
sequence, a dict ``name -> input`` (the keys name them in reports) or any other iterable of
them (a generator such as ``net.parameters()``). Then either

* ``f`` takes the inputs as arguments: each differentiable input (a Tensor with
  ``requires_grad=True``, a floating ndarray) arrives as a fresh float64 leaf made from a copy,
  the others as given; the caller's arrays are never touched. Or
* ``f`` takes no arguments (``lambda: loss(net(X), y)``): the inputs are the live Tensors f
  reads (a model's parameters). Each is perturbed in place: its ``.data`` is replaced by a
  float64 copy (perturbed or not) for every evaluation, and the original array object and
  ``.grad`` are put back afterwards, bit for bit, also when f raises (`Problem.restoring`).
  Nothing is written into the original arrays, and no version counter moves.
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from ..mode import enable_grad
from ..tensor import Tensor

if TYPE_CHECKING:
    from ..types import DTypeLike, TensorLike

#: a checker's ``inputs``: a Tensor or array, a sequence or any iterable of inputs (a generator
#: such as ``net.parameters()``), or a dict ``name -> input``; entries that are not
#: differentiable are passed to ``f`` as they are, whatever they are
Inputs: TypeAlias = "TensorLike | Iterable[object] | Mapping[str, object]"


class GradcheckPrecisionWarning(UserWarning):
    """An input was not float64; the check ran on float64 copies of it."""


def warn_precision(where: str, name: str, dtype: DTypeLike, stacklevel: int = 4) -> None:
    warnings.warn(
        f"{where}: input {name} has dtype {dtype}. Finite differences need float64: with a step "
        f"of ~1e-6, {dtype} round-off (relative ~{np.finfo(dtype).eps:.0e}) is larger than the "
        "change being measured, so the numerical derivative would be noise. The check runs on "
        "float64 copies of the inputs; to check float32 arithmetic itself, compare against a "
        "float64 run of the same function instead.",
        GradcheckPrecisionWarning,
        stacklevel=stacklevel,
    )


def takes_arguments(fn: Callable) -> bool:
    """Whether ``fn`` has a positional parameter without a default (or ``*args``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind is p.VAR_POSITIONAL or (
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty)
        for p in params)


def as_argument_list(inputs: Any, where: str = "gradcheck"  # Inputs, checked here
                     ) -> tuple[list, bool, list | None]:
    """``inputs`` as a list of arguments, whether a single input (not a collection) was given,
    and the names a dict gave them (else None)."""
    if isinstance(inputs, (Tensor, np.ndarray)):
        return [inputs], True, None
    if isinstance(inputs, (int, float, complex, np.number)):
        raise TypeError(
            f"{where}: inputs is the number {inputs!r}; give a Tensor or an array, e.g. "
            f"ag.Tensor({inputs!r}, requires_grad=True)"
        )
    if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
        raise TypeError(
            f"{where}: inputs must be a Tensor, an ndarray, or a sequence, dict or iterable of "
            f"them (e.g. net.parameters()), got {type(inputs).__name__}"
        )
    names = [str(k) for k in inputs] if isinstance(inputs, Mapping) else None
    args = list(inputs.values()) if isinstance(inputs, Mapping) else list(inputs)
    if not args:
        raise ValueError(f"{where}: inputs is empty; give a Tensor, an array or a sequence "
                         "(an exhausted generator is empty too)")
    return args, False, names


def is_differentiable(a: object) -> bool:
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


def _check_live(args: list, where: str) -> None:
    """In the no-argument form every input must be a distinct live Tensor."""
    bad = [f"input {i} ({type(a).__name__})" for i, a in enumerate(args)
           if not isinstance(a, Tensor)]
    if bad:
        raise TypeError(
            f"{where}: f takes no arguments, so the inputs must be the live Tensors it reads "
            f"(e.g. net.parameters()), which are perturbed in place; {', '.join(bad)} cannot "
            "be. To check a function of arrays, let f take them as arguments."
        )
    seen: dict[int, int] = {}
    for i, a in enumerate(args):
        if id(a) in seen:
            raise ValueError(f"{where}: inputs {seen[id(a)]} and {i} are the same Tensor; give "
                             "each live Tensor once")
        seen[id(a)] = i


class Problem:
    """``f`` and its arguments; evaluation on fresh float64 leaves (or, for the indices in
    ``live``, on the live Tensors themselves, their data swapped for float64 copies).

    ``live=None`` decides from f: all inputs are live when f takes no arguments, none when it
    does; f is called with the inputs that are not live. An explicit ``live`` (the second-order
    check's VJP function) passes every input, live or not. ``every_input`` differentiates every
    input (check_three_way's parameters); ``all_floating`` every floating one when none is
    marked (the finite-difference tools).
    """

    def __init__(self, f: Callable[..., object], inputs: Inputs, where: str, *,
                 all_floating: bool = False, warn: bool = True, names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None,
                 live: Collection[int] | None = None, every_input: bool = False,
                 tensor_outputs: bool = True) -> None:
        if not callable(f):
            raise TypeError(f"{where}: f must be callable, got {type(f).__name__}")
        self.f = f
        self.where = where
        self.tensor_outputs = tensor_outputs  # the checkers need a graph: Tensors only
        self.args, self.single_input, given_names = as_argument_list(inputs, where)
        names = names if names is not None else given_names
        self.pass_live = live is not None
        if live is None:
            live = () if takes_arguments(f) else range(len(self.args))
            if live:
                _check_live(self.args, where)
        self.live = frozenset(live)
        self.diff = self._differentiated(all_floating, every_input)
        self.names: dict[int, str] = {}
        self.base: dict[int, np.ndarray] = {}
        for i in self.diff:
            a = self.args[i]
            own = getattr(a, "name", None) if isinstance(a, Tensor) else None
            self.names[i] = (names[i] if names is not None else own) or f"input {i}"
            data = a.data if isinstance(a, Tensor) else a
            if data.dtype != np.float64 and warn:
                warn_precision(where, repr(self.names[i]), data.dtype)
            self.base[i] = np.array(data, dtype=np.float64)  # a copy, always
        self.held_constant = [
            names[i] if names is not None else getattr(a, "name", None) or f"input {i}"
            for i, a in enumerate(self.args) if isinstance(a, Tensor) and i not in self.diff]
        self.output_names = list(output_names) if output_names is not None else None
        self.single_output = False
        self.out_shapes: list[tuple[int, ...] | None] = []

    def _differentiated(self, all_floating: bool, every_input: bool) -> list[int]:
        args, where = self.args, self.where
        if every_input:
            bad = [i for i, a in enumerate(args) if np.asarray(
                a.data if isinstance(a, Tensor) else a).dtype.kind != "f"
                or (i in self.live and not a.requires_grad)]
            if bad:
                raise TypeError(f"{where}: inputs {bad} cannot be differentiated: every one "
                                "must be floating point (and, when f takes no arguments, a "
                                "Tensor that requires grad)")
            return list(range(len(args)))
        diff = [i for i, a in enumerate(args) if is_differentiable(a)]
        if not diff and all_floating:
            diff = [i for i, a in enumerate(args)
                    if isinstance(a, (Tensor, np.ndarray)) and np.asarray(a).dtype.kind == "f"]
        if not diff:
            raise ValueError(
                f"{where}: no input to differentiate: mark the inputs to check with "
                "requires_grad=True (or pass them as float numpy arrays)"
            )
        return diff

    # ---- evaluation ---------------------------------------------------------------------
    def arguments(self, overrides: dict | None = None, dtype: Any = np.float64) -> list:
        """The argument list with each differentiable input a fresh leaf Tensor (a live one
        given a fresh copy as its data)."""
        args = list(self.args)
        for i in self.diff:
            arr = overrides.get(i, self.base[i]) if overrides else self.base[i]
            if i in self.live:
                args[i].data = np.array(arr, dtype=dtype)
            else:
                args[i] = Tensor(arr, dtype=dtype, requires_grad=True)
        return args

    def invoke(self, args: list) -> Any:
        """f's raw result on the full argument list (the live inputs are not passed to a user's
        function: it reads them itself)."""
        if self.pass_live:
            return self.f(*args)
        return self.f(*[a for j, a in enumerate(args) if j not in self.live])

    @contextlib.contextmanager
    def restoring(self) -> Iterator[None]:
        """Put every live input's original ``.data`` array and ``.grad`` back on exit."""
        saved = [(self.args[i], self.args[i].data, self.args[i].grad)
                 for i in sorted(self.live) if isinstance(self.args[i], Tensor)]
        try:
            yield
        finally:
            for t, data, grad in saved:
                t.data = data
                t.grad = grad

    def call(self, args: list) -> tuple:
        """Call f; its result as a tuple of outputs (shapes recorded on the first call)."""
        with enable_grad():  # f may differentiate inside (gradgradcheck's VJP does)
            out = self.invoke(args)
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
            if self.tensor_outputs:
                _require_tensors(outs, single, self.where)
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

    def out_shape(self, k: int) -> tuple[int, ...]:
        """The shape of checked (floating) output ``k``."""
        shape = self.out_shapes[k]
        if shape is None:
            raise ValueError(f"{self.where}: {self.output_name(k)} has no derivative to check")
        return shape

    def out_size(self, k: int) -> int:
        """Elements of checked (floating) output ``k``."""
        return int(np.prod(self.out_shape(k), dtype=np.int64))


def _require_tensors(outs: tuple, single: bool, where: str) -> None:
    """A checker compares the engine's derivative: every output must be a Tensor (a Python
    number or an ndarray has no graph, so its derivative could only be taken as zero)."""
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            name = "output" if single else f"output {k}"
            raise TypeError(
                f"{where}: f's {name} is of type {type(o).__name__}, not a Tensor; it has no "
                "graph, so the engine's derivative of it cannot be checked. Return the Tensor "
                "itself (not .item(), float() or .data)"
            )


def _data(o: Any) -> Any:
    return o._data if isinstance(o, Tensor) else o
