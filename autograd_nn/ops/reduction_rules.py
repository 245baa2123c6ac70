"""What every reduction over numpy's ``axis``/``keepdims`` shares: the axes it runs over
(``axes.reduction_axes``, recorded on the node by `record_reduction`), the removed axes put
back for the backward (`unreduce`), and `ReductionOnInputAndOutput`, the base of the
reductions whose derivative is read off input and output (logsumexp, the 2-norm)."""

from __future__ import annotations

from typing import Any, ClassVar

from .axes import reduction_axes
from .bases import OnInputAndOutput

__all__: list[str] = []


def unreduce_axes(g: Any, axes: tuple, keepdims: bool, xp: Any) -> Any:
    """A reduced gradient with the reduced axes put back as size-1 axes."""
    if keepdims or not axes or not g.ndim:  # a 0-d gradient broadcasts as it is
        return g
    return xp.expand_dims(g, axes)


def record_reduction(ctx: Any, ndim: int, axis: Any, keepdims: bool) -> None:
    """What a reduction's backward needs to know: the axes it runs over (sorted,
    non-negative: ``ctx.axes``) and ``ctx.keepdims``."""
    ctx.axes = reduction_axes(axis, ndim)
    ctx.keepdims = keepdims


def unreduce(ctx: Any, g: Any) -> Any:
    """g (a reduction's result or gradient) with the axes the reduction ``ctx`` removed put
    back as size-1 axes, so that it broadcasts against the operand."""
    return unreduce_axes(g, ctx.axes, ctx.keepdims, ctx.xp)


class ReductionOnInputAndOutput(OnInputAndOutput):
    """A reduction over ``axis`` (numpy's ``axis``, ``keepdims``) whose derivative is read off
    its input and output (`OnInputAndOutput`): ``reduce(x, axes, keepdims)`` is the forward,
    and g and the output have the reduced axes put back as size 1 for the chain rule."""

    harmless: ClassVar[dict] = {}

    @classmethod
    def compute(cls, ctx: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        record_reduction(ctx, x.ndim, axis, keepdims)
        return cls.reduce(x, ctx.axes, keepdims)

    @staticmethod
    def spread(ctx: Any, t: Any) -> Any:
        return unreduce(ctx, t)

    @staticmethod
    def reduce(x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:  # pragma: no cover
        raise NotImplementedError  # every reduction has one
