"""What the Tensor methods that work outside the ops do while a function is traced.

They are swapped in only while a trace runs (`watching`: installed by the first of overlapping
traces, in any thread, and restored by the last), and each one acts only on tensors the
current thread's trace knows (inputs, captured tensors, results of recorded ops); every other
call goes to the original method unchanged, in this thread and in others.

- comparisons, logical operators, ``~``, ``argmax``/``argmin``, numpy's no-gradient ufuncs:
  recorded as ops of the compiled code (their results change with the inputs);
- ``detach()``: the same value with no gradient;
- ``bool(t)``: guarded -- the compiled code checks it and traces again when it changes;
- ``float``, ``int``, ``item``, ``tolist``, ``numpy``, ``np.asarray(t)``, ``t.data``,
  ``Tensor(t)``, numpy functions without a rule: refused, naming the user's file and line;
- dropout: its mask is drawn afresh by the compiled code on every call.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import tensor as tensor_module
from ..ops import interop
from ..tensor import Tensor
from .trace import CompileError, active, package_site, user_site

_REFUSED = {
    "__float__": "float(t)", "__int__": "int(t)", "__index__": "using a tensor as an index",
    "item": "t.item()", "tolist": "t.tolist()", "numpy": "t.numpy()",
    "__array__": "np.asarray(t) (or another conversion to a numpy array)",
}


def _traced(*xs: Any) -> Any:
    tr = active()
    if tr is None:
        return None
    stack = list(xs)
    while stack:
        x = stack.pop()
        if isinstance(x, (tuple, list)):
            stack.extend(x)
        elif tr.var_of(x) is not None:
            return tr
    return None


def _refuse(what: str) -> CompileError:
    inside = package_site()
    advice = (" That read is autograd_nn's own code: this layer or function cannot be compiled "
              "yet; call it outside the compiled function.") if inside else (
        " Return the tensor and read it outside the compiled function, or compute with tensor "
        "ops instead.")
    return CompileError(
        f"{user_site()}{what}{inside} reads a tensor's value while ag.compile traces the "
        f"function; the compiled code would keep the value of the first call.{advice}"
    )


def _refusing(attr: str, original: Any) -> Any:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        if _traced(self) is not None:
            raise _refuse(_REFUSED[attr])
        return original(self, *args, **kwargs)

    return method


def _observed(original: Any, observe: Any) -> Any:
    """``original`` (a Tensor method of no arguments) that, while the tensor is traced, shows
    the tracer its result: ``observe(tracer, tensor, result)``."""
    def method(self: Tensor) -> Any:
        tr = _traced(self)
        out = original(self)
        if tr is not None:
            observe(tr, self, out)
        return out

    return method


def _bool(original: Any) -> Any:
    """``bool(t)`` guarded: the compiled code is valid only where the truth value is the same."""
    return _observed(original, lambda tr, t, value: tr.guard(t, value))


def _detach(original: Any) -> Any:
    """``t.detach()`` recorded as an identity outside the graph."""
    return _observed(original, lambda tr, t, out: tr.record_outside(_identity, [t], {}, out,
                                                                    "detach"))


def _identity(x: Any) -> Any:
    return x


def _compare(original: Any) -> Any:
    def compare(ufunc: Any, a: Any, b: Any) -> Tensor:
        tr = _traced(a, b)
        out = original(ufunc, a, b)
        if tr is not None:
            tr.record_outside(ufunc, [a, b], {}, out, ufunc.__name__)
        return out

    return compare


def _outside(np_fn: Any, original: Any) -> Any:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        tr = _traced(self)
        out = original(self, *args, **kwargs)
        if tr is not None:
            names = ("axis", "keepdims")
            kw = {**dict(zip(names, args)), **kwargs}
            tr.record_outside(np_fn, [self], kw, out, np_fn.__name__)
        return out

    return method


def _array_ufunc(original: Any) -> Any:
    def method(self: Tensor, ufunc: Any, m: str, *inputs: Any, **kwargs: Any) -> Any:
        tr = _traced(inputs, list(kwargs.values()))
        if tr is None or (m == "__call__" and not kwargs and ufunc in interop.ufunc_routes()):
            return original(self, ufunc, m, *inputs, **kwargs)
        if m == "__call__" and ufunc in interop._CONSTANT_UFUNCS and "out" not in kwargs:
            out = original(self, ufunc, m, *inputs, **kwargs)
            if isinstance(out, Tensor):
                tr.record_outside(ufunc, list(inputs), kwargs, out, ufunc.__name__)
                return out
        raise CompileError(f"{user_site()}np.{ufunc.__name__} (method {m}) on a traced tensor "
                           "has no rule ag.compile can record")

    return method


def _array_function(original: Any) -> Any:
    def method(self: Tensor, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func in interop.function_routes() or _traced(args, list(kwargs.values())) is None:
            return original(self, func, types, args, kwargs)
        raise _refuse(f"np.{func.__name__} (no gradient rule)")

    return method


def _init(original: Any) -> Any:
    def init(self: Tensor, data: Any, *args: Any, **kwargs: Any) -> None:
        if _traced(data) is not None:
            raise _refuse("Tensor(t) copies a tensor's value")
        original(self, data, *args, **kwargs)
        tr = active()
        if tr is not None:  # a constant made inside the function (inplace.py)
            tr.made[id(self)] = self

    return init


def _data_property(original: property) -> property:
    def get(self: Tensor) -> np.ndarray:
        if _traced(self) is not None:
            raise _refuse("t.data")
        return original.fget(self)  # type: ignore[misc]

    return property(get, original.fset, None, original.__doc__)


def _dropout(original: Any) -> Any:
    from ..nn import functional as F

    def dropout(x: Any, p: float = 0.5, training: bool = True, rng: Any = None) -> Any:
        tr = _traced(x)
        if tr is None or not training or p == 0 or p == 1:
            return original(x, p, training, rng)
        F.check_dropout_p(p)
        keep = dropout_scale(rng, x.shape, p, x.dtype)  # the eager draw: the same numbers
        tr.record_outside(dropout_scale, [rng, x.shape, p, x.dtype], {}, keep,
                          "dropout_mask", opaque=True)
        return x * keep

    return dropout


def _class_indices(original: Any) -> Any:
    """cross_entropy/nll_loss read a target's array and may convert it: follow the conversion."""

    def class_indices(op: str, target: Any, input_shape: tuple) -> Any:
        tr = _traced(target)
        idx = original(op, target, input_shape)
        if tr is not None and idx is not None and tr.var_of(idx) is None:
            tr.record_outside(_int_indices, [target], {}, idx, "class_indices")
            from ..nn import window_args  # the range check ran on the untraced conversion

            window_args.indices_in_range(idx, input_shape[-1])
        return idx

    return class_indices


def _value_check(original: Any, recorded: Any) -> Any:
    """A value check of ``nn.window_args`` on a traced array (``indices_in_range``,
    ``probabilities``, ``whole_numbers``): recorded, and guarded (a call whose values fail the
    check traces again, and the eager trace raises the layer's error)."""

    def check(arr: Any, *args: Any) -> bool:
        ok = original(arr, *args)
        tr = _traced(arr)
        if tr is not None:
            flag = Tensor._from_op(np.asarray(ok), None)
            tr.record_outside(recorded, [arr, *args], {}, flag, original.__name__)
            tr.guard(flag, ok)
        return ok

    return check


def _all_in_range(a: Any, n: int) -> Any:  # the predicates as the generated code computes them
    return ((a >= 0) & (a < n)).all()


def _all_probabilities(a: Any) -> Any:
    return ((a >= 0) & (a <= 1)).all()


def _all_whole(a: Any) -> Any:
    return (np.isfinite(a) & (a == np.round(a))).all()


def _followed(original: Any) -> Any:
    """A function of an array computed outside the graph (take's wrapped or clipped indices,
    sort's permutation): recorded when its operand is traced, so the compiled code computes
    it anew at each call."""

    def followed(arr: Any, *args: Any) -> Any:
        out = original(arr, *args)
        tr = _traced(arr)
        if tr is not None:
            tr.record_outside(original, [arr, *args], {}, out, original.__name__)
        return out

    return followed


_FOLLOWED = [("manipulation", "wrapped_indices"), ("manipulation", "clipped_indices"),
             ("ordering", "sort_indices"), ("ordering", "partition_indices")]


def _int_indices(target: Any) -> Any:
    return target.astype(np.int64)


_CONSTANT_MAKERS = ("autograd_nn.creation",)  # ag.zeros, ag.tensor...: from Python data only


def _from_op(original: Any) -> Any:
    def from_op(data: np.ndarray, grad_fn: Any) -> Tensor:
        t = original(data, grad_fn)
        tr = active()
        if tr is not None and grad_fn is None:
            import sys

            if sys._getframe(1).f_globals.get("__name__") not in _CONSTANT_MAKERS:
                tr.loose[id(t)] = t
            else:
                tr.made[id(t)] = t
        return t

    return staticmethod(from_op)


def dropout_scale(rng: Any, shape: tuple, p: float, dtype: Any) -> np.ndarray:
    """Dropout's scaled mask, drawn as `nn.functional.dropout` draws it."""
    from ..seeding import as_generator

    keep = as_generator(rng).random(shape) >= p
    return (keep / (1.0 - p)).astype(dtype, copy=False)


_INSTALL = threading.Lock()  # guards the installation below (not the traces themselves)
_installed: list = []  # [number of traces running, the attributes the first one replaced]


@contextlib.contextmanager
def watching() -> Iterator[None]:
    """Swap in the tracing versions of the methods above while at least one trace runs (in any
    thread); the last trace to end restores the originals. The versions act only in a thread
    whose own trace is active (``LOCAL.mode.tracer`` is thread-local): eager code in other
    threads gets the original methods' results, through one more call."""
    with _INSTALL:
        if not _installed:
            _installed[:] = [0, _install()]
        _installed[0] += 1
    try:
        yield
    finally:
        with _INSTALL:
            _installed[0] -= 1
            if _installed[0] == 0:
                _restore(_installed.pop())
                _installed.clear()


def _install() -> list[tuple[Any, str, Any]]:
    """Replace the methods (see the module doc); return what was there, for `_restore`."""
    from ..nn import functional as F

    saved: list[tuple[Any, str, Any]] = []

    def swap(owner: Any, name: str, new: Any) -> None:
        saved.append((owner, name, vars(owner).get(name, _MISSING)))
        setattr(owner, name, new)

    try:
        for attr in _REFUSED:
            original = getattr(Tensor, attr, None)
            if original is not None:
                swap(Tensor, attr, _refusing(attr, original))
        swap(Tensor, "__bool__", _bool(Tensor.__bool__))
        swap(Tensor, "detach", _detach(Tensor.detach))
        swap(Tensor, "argmax", _outside(np.argmax, Tensor.argmax))
        swap(Tensor, "argmin", _outside(np.argmin, Tensor.argmin))
        swap(Tensor, "__invert__", _outside(np.invert, Tensor.__invert__))
        swap(Tensor, "__array_ufunc__", _array_ufunc(Tensor.__array_ufunc__))
        swap(Tensor, "__array_function__", _array_function(Tensor.__array_function__))
        swap(Tensor, "__init__", _init(Tensor.__init__))
        swap(Tensor, "data", _data_property(Tensor.__dict__["data"]))
        swap(Tensor, "_from_op", _from_op(Tensor._from_op))
        swap(tensor_module, "_compare", _compare(tensor_module._compare))
        swap(F, "dropout", _dropout(F.dropout))
        from ..nn import losses

        if hasattr(losses, "_class_indices"):
            swap(losses, "_class_indices", _class_indices(losses._class_indices))
        from ..nn import window_args

        swap(window_args, "indices_in_range",
             _value_check(window_args.indices_in_range, _all_in_range))
        swap(window_args, "probabilities",
             _value_check(window_args.probabilities, _all_probabilities))
        swap(window_args, "whole_numbers", _value_check(window_args.whole_numbers, _all_whole))
        from ..ops import manipulation, ordering

        for owner, name in _FOLLOWED:
            module = manipulation if owner == "manipulation" else ordering
            swap(module, name, _followed(getattr(module, name)))
        from ..nn.module import Module
        from .modules import module_call

        swap(Module, "__call__", module_call(Module.__call__))
        from .step import patches

        for owner, name, new in patches():
            swap(owner, name, new)
    except BaseException:
        _restore(saved)
        raise
    return saved


def _restore(saved: list[tuple[Any, str, Any]]) -> None:
    for owner, name, value in reversed(saved):
        if value is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, value)


_MISSING = object()
