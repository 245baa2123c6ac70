"""numpy's array rearrangements as composites over the shape primitives: every one is indexing
(its adjoint scatters back and adds up repeats), transpose, reshape, broadcast_to or
concatenate, so first and second derivatives come from those primitives' rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..domains import calls
from ..function import as_tensor, data_of
from ..registry import register
from .arithmetic import subtract
from .axes import axis_tuple
from .elementwise import where
from .shape import (
    _shape,
    astype,
    broadcast_to,
    concatenate,
    flatten,
    getitem,
    reshape,
    transpose,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..tensor import Tensor
    from ..types import ArrayLike, Axis, TensorLike

_X = ((2, 3),)  # the operand shape of most gradient-check cases


def _along(axis: int, index: Any) -> tuple:
    """An index that applies ``index`` to axis ``axis`` and keeps the others whole."""
    return (slice(None),) * axis + (index,)


def _axis(op: str, axis: Any, shape: tuple) -> int:
    return axis_tuple(op, axis, len(shape), shape)[0]


@register(numpy=(np.repeat,), methods=("repeat",), cases=calls(
    ("(2, 3) 2 axis=1", lambda f, x: f(x, 2, axis=1), _X),
    ("(2, 3) [1, 0] axis=0", lambda f, x: f(x, [1, 0], axis=0), _X)))
def repeat(a: TensorLike, repeats: TensorLike, axis: int | None = None) -> Tensor:
    """Repeat elements (numpy's repeat); ``axis=None`` repeats the flattened array."""
    if axis is None:
        a, axis = flatten(a), 0
    shape = _shape(a)
    ax = _axis("repeat", axis, shape)
    idx = np.repeat(np.arange(shape[ax]), np.asarray(repeats))
    return getitem(a, _along(ax, idx))


@register(numpy=(np.tile,), cases=calls(("(2, 3) (2, 1, 2)", lambda f, x: f(x, (2, 1, 2)), _X)))
def tile(A: TensorLike, reps: int | Sequence[int]) -> Tensor:
    """Construct an array by repeating ``A`` ``reps`` times (numpy's tile)."""
    # np.ndim(reps) == 0: an int (or numpy integer); else a sequence of them
    reps = ((int(reps),) if np.ndim(reps) == 0  # type: ignore[arg-type]
            else tuple(int(r) for r in reps))  # type: ignore[union-attr]
    shape = _shape(A)
    d = max(len(reps), len(shape))
    reps = (1,) * (d - len(reps)) + reps
    shape = (1,) * (d - len(shape)) + tuple(shape)
    spread = reshape(A, tuple(v for n in shape for v in (1, n)))
    full = broadcast_to(spread, tuple(v for r, n in zip(reps, shape) for v in (r, n)))
    return reshape(full, tuple(r * n for r, n in zip(reps, shape)))


@register(numpy=(np.roll,), cases=calls(("(2, 3) 2", lambda f, x: f(x, 2), _X),
                                         ("(2, 3) -1 axis=1", lambda f, x: f(x, -1, 1), _X)))
def roll(a: TensorLike, shift: int | Sequence[int], axis: Axis = None) -> Tensor:
    """Roll elements along ``axis`` (several shifts and axes allowed); ``axis=None`` rolls the
    flattened array and restores the shape."""
    if axis is None:
        return reshape(roll(flatten(a), shift, 0), _shape(a))
    shape = _shape(a)
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    total: dict[int, Any] = {}
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        ax = _axis("roll", int(ax), shape)
        total[ax] = total.get(ax, 0) + int(s)
    out = a
    for ax, s in total.items():
        out = getitem(out, _along(ax, (np.arange(shape[ax]) - s) % max(shape[ax], 1)))
    return as_tensor(out)  # no shift at all (shift=[]): an array comes back as a Tensor too


@register(numpy=(np.flip,), cases=calls(("(2, 3) axis=None", None, _X)))
def flip(m: TensorLike, axis: Axis = None) -> Tensor:
    """Reverse the order of elements along ``axis`` (all axes when None)."""
    shape = _shape(m)
    axes = range(len(shape)) if axis is None else axis_tuple("flip", axis, len(shape), shape)
    index = [slice(None)] * len(shape)
    for ax in axes:
        index[ax] = slice(None, None, -1)
    return getitem(m, tuple(index))


@register(numpy=(np.flipud,), checked=False)
def flipud(m: TensorLike) -> Tensor:
    if len(_shape(m)) < 1:
        raise ValueError("flipud: the input must be at least 1-d")
    return flip(m, 0)


@register(numpy=(np.fliplr,), checked=False)
def fliplr(m: TensorLike) -> Tensor:
    if len(_shape(m)) < 2:
        raise ValueError("fliplr: the input must be at least 2-d")
    return flip(m, 1)


@register(numpy=(np.rot90,), cases=calls(("(2, 3) k=1", None, _X),
                                          ("(2, 3) k=3", lambda f, x: f(x, 3), _X)))
def rot90(m: TensorLike, k: int = 1, axes: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (first towards second)."""
    shape = _shape(m)
    if len(axes) != 2:
        raise ValueError("rot90: len(axes) must be 2")
    a0, a1 = (_axis("rot90", ax, shape) for ax in axes)
    if a0 == a1:
        raise ValueError("rot90: the axes must be different")
    k %= 4
    if k == 0:
        return getitem(m, ())
    if k == 2:
        return flip(flip(m, a0), a1)
    perm = list(range(len(shape)))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return transpose(flip(m, a1), perm)
    return flip(transpose(m, perm), a1)


@register(numpy=(np.moveaxis,),
          cases=calls(("(2, 3, 4) 0 -> -1", lambda f, x: f(x, 0, -1), ((2, 3, 4),))))
def moveaxis(a: TensorLike, source: int | Sequence[int],
             destination: int | Sequence[int]) -> Tensor:
    """Move axes to new positions; the others keep their order (numpy's moveaxis)."""
    shape = _shape(a)
    src = axis_tuple("moveaxis", source, len(shape), shape)
    dst = axis_tuple("moveaxis", destination, len(shape), shape)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of axes")
    order = [n for n in range(len(shape)) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


@register(numpy=(np.rollaxis,), checked=False)
def rollaxis(a: TensorLike, axis: int, start: int = 0) -> Tensor:
    """numpy's rollaxis: move ``axis`` to before position ``start``."""
    n = len(_shape(a))
    axis = _axis("rollaxis", axis, _shape(a))
    if not -n <= start <= n:
        raise ValueError(f"rollaxis: start={start} is out of range for {n} axes")
    start = start + n if start < 0 else start
    if axis < start:
        start -= 1
    order = [i for i in range(n) if i != axis]
    order.insert(start, axis)
    return transpose(a, order)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


@register(numpy=(np.pad,), cases=calls(*(
    (f"(2, 3) mode={m}", lambda f, x, m=m: f(x, ((1, 2), (2, 1)), m), _X)
    for m in ("constant", "edge", "reflect", "symmetric", "wrap"))))
def pad(array: TensorLike, pad_width: ArrayLike, mode: str = "constant",
        **kwargs: ArrayLike) -> Tensor:
    """numpy's pad for modes constant (``constant_values``), edge, reflect, symmetric and wrap
    (``reflect_type='even'``); axis by axis, as numpy, so corners follow the later axes."""
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode={mode!r} is not supported on Tensors; use one of "
                         + ", ".join(_PAD_MODES))
    allowed = {"constant_values"} if mode == "constant" else set()
    bad = sorted(set(kwargs) - allowed)
    if bad or kwargs.get("reflect_type", "even") != "even":
        raise TypeError(f"pad: unsupported argument(s) {', '.join(bad)} for mode={mode!r}")
    shape = _shape(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (len(shape), 2))
    if (widths < 0).any():
        raise ValueError("pad: pad_width must be non-negative")
    values = np.broadcast_to(np.asarray(kwargs.get("constant_values", 0)), (len(shape), 2))
    out = start = as_tensor(array)
    for ax, (before, after) in enumerate(widths.tolist()):
        if mode == "constant":
            out = _pad_constant(out, ax, before, after, values[ax])
        elif before or after:
            idx = np.pad(np.arange(shape[ax]), (before, after), mode=mode)  # type: ignore[call-overload]
            out = getitem(out, _along(ax, idx))
    return astype(out, out.dtype) if out is start else out  # numpy's pad returns a new array


def _pad_constant(x: Tensor, ax: int, before: int, after: int, values: Any) -> Tensor:
    parts = []
    for width, value, at_end in ((before, values[0], False), (after, values[1], True)):
        if width:
            side = x.shape[:ax] + (width,) + x.shape[ax + 1:]
            parts.append((at_end, np.full(side, value, dtype=x.dtype)))
    if not parts:
        return x
    pieces = [p for e, p in parts if not e] + [x] + [p for e, p in parts if e]
    return concatenate(pieces, axis=ax)


@register(numpy=(np.diff,), cases=calls(("(2, 4) n=2", lambda f, x: f(x, 2), ((2, 4),))))
def diff(a: TensorLike, n: int = 1, axis: int = -1, prepend: TensorLike | None = None,
         append: TensorLike | None = None) -> Tensor:
    """The n-th discrete difference along ``axis`` (numpy's diff, prepend/append included)."""
    shape = _shape(a)
    ax = _axis("diff", axis, shape)
    if n < 0:
        raise ValueError(f"diff: order n={n} must be non-negative")
    parts = []
    for extra in (prepend, a, append):
        if extra is a:
            parts.append(a)
        elif extra is not None:
            extra_shape = _shape(extra)
            if len(extra_shape) == 0:
                extra = broadcast_to(extra, shape[:ax] + (1,) + shape[ax + 1:])
            parts.append(extra)
    out = concatenate(parts, axis=ax) if len(parts) > 1 else a
    for _ in range(n):
        m = _shape(out)[ax]
        out = subtract(getitem(out, _along(ax, slice(1, None))),
                       getitem(out, _along(ax, slice(None, max(m - 1, 0)))))
    return as_tensor(out)


def wrapped_indices(idx: np.ndarray, n: int) -> np.ndarray:
    """``take(mode='wrap')``'s indices (ag.compile records this call: the indices may be traced)."""
    return idx % n


def clipped_indices(idx: np.ndarray, n: int) -> np.ndarray:
    """``take(mode='clip')``'s indices (ag.compile records this call: the indices may be traced)."""
    return np.clip(idx, 0, n - 1)


@register(numpy=(np.take,), methods=("take",),
          cases=calls(("(2, 3) [0, 5, 5] flat", lambda f, x: f(x, [0, 5, 5]), _X)))
def take(a: TensorLike, indices: TensorLike, axis: int | None = None, out: None = None,
         mode: str = "raise") -> Tensor:
    """Elements of ``a`` at ``indices`` along ``axis`` (of the flattened array when None);
    ``mode`` 'raise', 'wrap' or 'clip' as numpy."""
    if out is not None:
        raise TypeError("take: the out= argument is not supported on Tensors")
    if axis is None:
        a, axis = flatten(a), 0
    shape = _shape(a)
    ax = _axis("take", axis, shape)
    idx = np.asarray(data_of(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take: indices must be integers, got dtype {idx.dtype}")
    if mode == "wrap":
        idx = wrapped_indices(idx, shape[ax])
    elif mode == "clip":
        idx = clipped_indices(idx, shape[ax])
    elif mode != "raise":
        raise ValueError(f"take: mode={mode!r} must be 'raise', 'wrap' or 'clip'")
    return getitem(a, _along(ax, idx))


@register(numpy=(np.take_along_axis,), cases=calls(("(2, 3) axis=1", lambda f, x: f(
    x, np.array([[2, 0], [1, 1]]), 1), _X)))
def take_along_axis(arr: TensorLike, indices: TensorLike, axis: int | None = -1) -> Tensor:
    """numpy's take_along_axis: ``indices`` has ``arr``'s number of axes and broadcasts with it
    along the others (the companion of argsort/argmax with keepdims)."""
    idx = np.asarray(data_of(indices))
    if axis is None:
        arr, axis = flatten(arr), 0
    shape = _shape(arr)
    if idx.ndim != len(shape):
        raise ValueError(f"take_along_axis: indices has {idx.ndim} axes, arr has {len(shape)}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be integers, got dtype {idx.dtype}")
    ax = _axis("take_along_axis", axis, shape)
    grids = []
    for d in range(len(shape)):
        if d == ax:
            grids.append(idx)
        else:
            grids.append(np.arange(shape[d]).reshape((-1,) + (1,) * (len(shape) - d - 1)))
    return getitem(arr, tuple(grids))


@register(numpy=(np.select,), cases=calls(("two conditions", lambda f, x, y: f(
    [x.data > 0, x.data <= 0], [x * y, y]), ((2, 3), (3,)))))
def select(condlist: Sequence[TensorLike], choicelist: Sequence[TensorLike],
           default: TensorLike = 0) -> Tensor:
    """numpy's select: where the first true condition picks its choice; ``default`` elsewhere."""
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError("select: condlist and choicelist must be of the same length")
    if not condlist:
        raise ValueError("select: condlist must not be empty")
    out = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        c = np.asarray(data_of(cond))
        if c.dtype != np.bool_:
            raise TypeError(f"select: conditions must be boolean, got dtype {c.dtype}")
        out = where(c, choice, out)
    shape = np.broadcast_shapes(*(np.shape(c) for c in condlist),
                                *(_shape(c) for c in choicelist))
    # condlist is not empty, so out is where's Tensor
    return broadcast_to(out, shape) if _shape(out) != shape else out  # type: ignore[return-value]


__all__ = [
    "diff", "flip", "fliplr", "flipud", "moveaxis", "pad", "repeat", "roll", "rollaxis", "rot90",
    "select", "take", "take_along_axis", "tile",
]
