"""Ordering and accumulation: sort and partition (the gradient follows the permutation numpy's
arg-functions give), cumsum and cumprod (primitives; cumprod's gradient exact where entries are
0), and numpy's finite-difference ``gradient`` (a linear combination of shifted slices)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..domains import calls, distinct, nonzero
from ..function import Function, data_of, is_tensor
from ..registry import add_to_namespaces, register
from .arithmetic import add, multiply
from .axes import axis_tuple
from .manipulation import diff, take_along_axis
from .shape import _shape, astype, broadcast_to, concatenate, flatten, getitem

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..tensor import Tensor
    from ..types import Axis, DTypeLike, TensorLike


def _data(a: Any) -> np.ndarray:
    return np.asarray(data_of(a))


@register(numpy=(np.sort,), cases=calls(("(3, 4) axis=-1 (distinct values)", None, ((3, 4),)),
                                         domain=distinct()))
def sort(a: TensorLike, axis: int | None = -1, kind: str | None = None,
         order: str | list[str] | None = None) -> Tensor:
    """Sorted copy along ``axis`` (flattened when None). Ties are ordered stably (numpy's
    'stable' kind), so each tied element's gradient goes to where it came from; the values
    equal numpy's for every ``kind``."""
    if order is not None:
        raise TypeError("sort: the order= argument (structured arrays) is not supported")
    if axis is None:
        a, axis = flatten(a), -1
    return take_along_axis(a, sort_indices(_data(a), axis), axis)


def sort_indices(arr: np.ndarray, axis: int) -> np.ndarray:
    """sort's permutation (ag.compile records this call: it depends on the values)."""
    return np.argsort(arr, axis=axis, kind="stable")


def partition_indices(arr: np.ndarray, kth: Any, axis: int, kind: str) -> np.ndarray:
    """partition's permutation (ag.compile records this call: it depends on the values)."""
    return np.argpartition(arr, kth, axis=axis, kind=kind)  # type: ignore[arg-type]


@register(numpy=(np.partition,), cases=calls(
    ("(2, 5) kth=2 (distinct values)", lambda f, x: f(x, 2), ((2, 5),)), domain=distinct()))
def partition(a: TensorLike, kth: int | Sequence[int], axis: int | None = -1,
              kind: str = "introselect",
              order: str | list[str] | None = None) -> Tensor:
    """numpy's partition (the k-th element in its sorted place, smaller ones before it); the
    gradient follows numpy's argpartition permutation."""
    if order is not None:
        raise TypeError("partition: the order= argument (structured arrays) is not supported")
    if axis is None:
        a, axis = flatten(a), -1
    return take_along_axis(a, partition_indices(_data(a), kth, axis, kind), axis)


def _reverse(g: Any, axis: int) -> Any:
    return g[(slice(None),) * axis + (slice(None, None, -1),)]


class Cumsum(Function):
    """Cumulative sum along an axis; its gradient is the reversed cumulative sum."""

    name = "cumsum"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int = 0) -> Any:
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return _reverse(ctx.xp.cumsum(_reverse(g, ctx.axis), axis=ctx.axis), ctx.axis)


class Cumprod(Function):
    """Cumulative product along an axis. Its gradient is reversed-cumsum(g * out) / x where
    no entry is 0; where some are, each partial product is formed without the entry itself
    (exact, at O(n^2) memory along the axis)."""

    name = "cumprod"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int = 0) -> Any:
        out = np.asarray(np.cumprod(x, axis=axis))
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        ctx.has_zero = bool((np.asarray(x) == 0).any())
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, out = ctx.saved_tensors
        ax = ctx.axis
        if not ctx.has_zero:
            return _reverse(xp.cumsum(_reverse(g * out, ax), axis=ax), ax) / x
        # rows[..., i, k] = x_k for k <= i, 1 after: exclusive_prod gives prod_{k<=i, k!=j}
        x_last, g_last = xp.swapaxes(x, ax, -1), xp.swapaxes(g, ax, -1)
        n = x_last.shape[-1]
        later = np.triu(np.ones((n, n), dtype=bool), 1)  # [i, k]: k > i
        rows = xp.where(later, 1, xp.expand_dims(x_last, -2))
        partial = xp.where(later, 0, xp.exclusive_prod(rows))
        return xp.swapaxes(xp.sum(xp.expand_dims(g_last, -1) * partial, axis=-2), ax, -1)


def _accumulate(op: str, cls: type[Function], a: Any, axis: Any, dtype: Any, out: Any) -> Tensor:
    if dtype is not None or out is not None:
        raise TypeError(f"{op}: the dtype= and out= arguments are not supported on Tensors")
    if axis is None:
        a, axis = flatten(a), 0
    shape = _shape(a)
    return cls.apply(a, axis=axis_tuple(op, axis, len(shape), shape)[0])


@register(Cumsum, numpy=(np.cumsum,), methods=("cumsum",),
          cases=calls(("(2, 3) axis=1", lambda f, x: f(x, 1), ((2, 3),))))
def cumsum(a: TensorLike, axis: int | None = None, dtype: DTypeLike | None = None,
           out: None = None) -> Tensor:
    """Cumulative sum along ``axis`` (of the flattened array when None)."""
    return _accumulate("cumsum", Cumsum, a, axis, dtype, out)


@register(Cumprod, numpy=(np.cumprod,), methods=("cumprod",), cases=calls(
    ("(2, 3) axis=1", lambda f, x: f(x, 1), ((2, 3),)), domain=nonzero(0.5, 1.5)))
def cumprod(a: TensorLike, axis: int | None = None, dtype: DTypeLike | None = None,
            out: None = None) -> Tensor:
    """Cumulative product along ``axis`` (of the flattened array when None)."""
    return _accumulate("cumprod", Cumprod, a, axis, dtype, out)


def _spacing(op: str, h: Any, n: int) -> Any:
    """The n - 1 steps of one axis from a scalar spacing or a coordinate array."""
    if is_tensor(h) and h.requires_grad:
        raise TypeError(f"{op}: a spacing or coordinate Tensor that requires grad is not "
                        "supported (no gradient flows to it); pass h.detach()")
    if isinstance(h, (int, float, np.number)) and not isinstance(h, bool):
        return np.full(n - 1, float(h))
    arr = np.asarray(data_of(h), dtype=float)
    if arr.ndim != 0 and arr.shape != (n,):
        raise ValueError(f"{op}: a coordinate array must have the axis' length {n}, got "
                         f"shape {arr.shape}")
    # an array or Tensor: the steps as ops (ag.compile follows them; numpy's same calls)
    steps = astype(h, np.float64) if arr.ndim == 0 else diff(astype(h, np.float64))
    return broadcast_to(steps, (n - 1,)) if arr.ndim == 0 else steps


def _axis_gradient(f: Any, ax: int, dx: np.ndarray, edge_order: int) -> Tensor:
    """numpy's second-order central differences inside, one-sided ones at both edges."""
    ndim = len(_shape(f))

    def part(sl: slice) -> Any:
        return getitem(f, (slice(None),) * ax + (sl,))

    def coef(c: np.ndarray) -> np.ndarray:
        return c.reshape((-1,) + (1,) * (ndim - ax - 1))

    d1, d2 = dx[:-1], dx[1:]
    inside = add(add(multiply(part(slice(None, -2)), coef(-d2 / (d1 * (d1 + d2)))),
                     multiply(part(slice(1, -1)), coef((d2 - d1) / (d1 * d2)))),
                 multiply(part(slice(2, None)), coef(d1 / (d2 * (d1 + d2)))))
    if edge_order == 1:
        first = (part(slice(1, 2)) - part(slice(0, 1))) / dx[0]
        last = (part(slice(-1, None)) - part(slice(-2, -1))) / dx[-1]
    else:
        first = _edge(part, dx[0], dx[1], (0, 1, 2), front=True)
        last = _edge(part, dx[-2], dx[-1], (-3, -2, -1), front=False)
    return concatenate([first, inside, last], axis=ax)


def _edge(part: Any, h1: float, h2: float, at: tuple, front: bool) -> Tensor:
    if front:
        w = (-(2 * h1 + h2) / (h1 * (h1 + h2)), (h1 + h2) / (h1 * h2), -h1 / (h2 * (h1 + h2)))
    else:
        w = (h2 / (h1 * (h1 + h2)), -(h2 + h1) / (h1 * h2), (2 * h2 + h1) / (h2 * (h1 + h2)))
    terms = [part(slice(k, k + 1 if k != -1 else None)) * c for k, c in zip(at, w)]
    return terms[0] + terms[1] + terms[2]


@register(numpy=(np.gradient,), cases=calls(("(4, 3) axis=0 edge_order=2",
                                             lambda f, x: f(x, 0.5, axis=0, edge_order=2),
                                             ((4, 3),))))
def gradient(f: TensorLike, *varargs: TensorLike, axis: Axis = None, edge_order: int = 1
             ) -> Tensor | tuple[Tensor, ...]:
    """numpy's gradient: central differences inside and one-sided (``edge_order`` 1 or 2) at
    the edges, with scalar spacings or coordinate arrays per axis; a tuple of tensors for
    several axes."""
    shape = _shape(f)
    axes = tuple(range(len(shape))) if axis is None else axis_tuple(
        "gradient", axis, len(shape), shape)
    if edge_order not in (1, 2):
        raise ValueError("gradient: edge_order must be 1 or 2")
    if len(varargs) not in (0, 1, len(axes)):
        raise TypeError(f"gradient: {len(varargs)} spacings for {len(axes)} axes")
    spacings = varargs * len(axes) if len(varargs) == 1 else varargs or (1.0,) * len(axes)
    out = []
    for ax, h in zip(axes, spacings):
        if shape[ax] < edge_order + 1:
            raise ValueError(f"gradient: axis {ax} has {shape[ax]} entries; edge_order="
                             f"{edge_order} needs at least {edge_order + 1}")
        out.append(_axis_gradient(f, ax, _spacing("gradient", h, shape[ax]), edge_order))
    return out[0] if len(out) == 1 else tuple(out)


add_to_namespaces("cumsum", np.cumsum, lambda g, axis: Cumsum.apply(g, axis=axis))
__all__ = ["cumprod", "cumsum", "gradient", "partition", "sort"]
