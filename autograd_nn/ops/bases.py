"""The shapes of rule that several op families share: a `Function` base each, so that an op
of that shape writes only its formulas (the forward's numpy call and the derivative beside it).

- `OnInputAndOutput`: the derivative is read off the operand and the output (numpy's
  elementwise math, and the reductions logsumexp and the 2-norm, which put the removed axes
  back first);
- `UnaryWithSetting`: a unary op with one keyword setting (leaky_relu's slope, sinc's order).

The reductions' own bookkeeping is in ``reduction_rules.py``.

Each base keeps ``np.asarray`` in its own ``forward``, where the compiler's recording numpy
stands in for it (``compile.symbolic.interpretable``); the formulas an op writes are plain
numpy calls that dispatch on the compiler's symbols.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..function import Function

__all__: list[str] = []


class OnInputAndOutput(Function):
    """An op of one operand x whose derivative is read off x and its output: ``compute(ctx, x,
    **settings)`` is the forward, ``derivative(xp, x, out)`` is d out / d x, and the gradient
    is g * derivative. A reduction first puts the axes it removed back into g and out as size
    1 (``spread``), so the same chain rule serves it.

    ``harmless``: float errors of the derivative's formula that leave an exact result (an
    underflow to 0; for arctan also x * x overflowing, 1 / inf = 0), ignored, so that
    ``np.errstate(all="raise")`` stops only at real trouble."""

    harmless: ClassVar[dict] = {"under": "ignore"}

    @classmethod
    def forward(cls, ctx: Any, x: Any, **settings: Any) -> Any:
        x = np.asarray(x)
        out = np.asarray(cls.compute(ctx, x, **settings))  # an array (0-d too): create_graph
        ctx.save_for_backward(x, out)                      # knows it as the output
        return out

    @classmethod
    def backward(cls, ctx: Any, g: Any) -> Any:
        x, out = ctx.saved_tensors
        with np.errstate(**cls.harmless):
            return cls.spread(ctx, g) * cls.derivative(ctx.xp, x, cls.spread(ctx, out))

    @staticmethod
    def spread(ctx: Any, t: Any) -> Any:
        """``t`` shaped to broadcast against the operand: as it is for an elementwise op."""
        return t

    @classmethod
    def compute(cls, ctx: Any, x: Any, *args: Any, **settings: Any) -> Any:  # pragma: no cover
        raise NotImplementedError  # every op has one

    @staticmethod
    def derivative(xp: Any, x: Any, out: Any) -> Any:  # pragma: no cover - every op has one
        raise NotImplementedError


class UnaryWithSetting(Function):
    """A unary op with one keyword setting, named ``setting`` (leaky_relu's negative_slope,
    the order of sinc's derivative): ``compute(x, value)`` is the forward, ``chain(xp, g, x,
    value)`` the chain rule g * f'(x); x is saved."""

    setting: ClassVar[str] = ""

    @classmethod
    def forward(cls, ctx: Any, x: Any, **setting: Any) -> Any:
        ctx.save_for_backward(x)
        ctx.setting = setting[cls.setting]
        return cls.compute(x, ctx.setting)

    @classmethod
    def backward(cls, ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return cls.chain(ctx.xp, g, x, ctx.setting)

    @staticmethod
    def compute(x: Any, value: Any) -> Any:  # pragma: no cover - every op has one
        raise NotImplementedError

    @staticmethod
    def chain(xp: Any, g: Any, x: Any, value: Any) -> Any:  # pragma: no cover - every op has one
        raise NotImplementedError
