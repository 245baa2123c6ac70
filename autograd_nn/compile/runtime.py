"""What the generated code calls for an op whose rules read a value while interpreted: the rule
itself, on a context made as `Function.apply` and the engine make it."""

from __future__ import annotations

from typing import Any

import numpy as np

from .trace import Retrace


def run_forward(cls: Any, *arrays: Any, **kwargs: Any) -> tuple:
    """``cls.forward`` on a fresh ctx, as `Function.apply` runs it: (ctx, output array)."""
    ctx = object.__new__(cls)
    ctx.saved_tensors = ()
    out = cls.forward(ctx, *arrays, **kwargs)
    if type(out) is not np.ndarray:
        raw, out = out, np.asarray(out)
        ctx.saved_tensors = tuple(out if s is raw else s for s in ctx.saved_tensors)
    return ctx, out


def run_forward_converting(cls: Any, *operands: Any, **kwargs: Any) -> tuple:
    """`run_forward` for an op given a list or tuple operand: converted by numpy at each call,
    as `Function.apply` converts it (the forward would otherwise add or multiply Python lists:
    ``[1.0] + [2.0]`` concatenates; a list of tensors from outside is read at each call)."""
    return run_forward(cls, *[np.asarray(a) if isinstance(a, (list, tuple)) else a
                              for a in operands], **kwargs)


def make_ctx(cls: Any, needs: tuple, saved: tuple, **attrs: Any) -> Any:
    ctx = object.__new__(cls)
    ctx.saved_tensors = tuple(saved)
    ctx.needs_input_grad = needs
    vars(ctx).update(attrs)
    return ctx


def run_backward(ctx: Any, needs: tuple, g: Any) -> tuple:
    """``cls.backward`` as the engine calls it: one entry per operand."""
    ctx.needs_input_grad = needs
    out = type(ctx).backward(ctx, g)
    out = out if type(out) is tuple else (tuple(out) if isinstance(out, list) else (out,))
    return tuple(None if r is None else np.asarray(r) for r in out)


def rollback(pairs: tuple, label: str) -> Retrace:
    """A guard failed: put back the arrays the forward wrote (array, copy, array, copy...)."""
    for target, copy in zip(pairs[::2], pairs[1::2]):
        target[...] = copy
    return Retrace(label)


def clear_grad(t: Any) -> None:
    """``t.grad = None``, as a recorded effect of a training step (step.py, driver.py)."""
    t.grad = None
