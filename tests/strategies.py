"""Hypothesis strategies shared by the core-engine tests: shapes, broadcastable shape pairs,
matmul operand shapes, reduction axes, and float64 arrays drawn from a domain that keeps a
margin around the points where an op has a kink (so central differences are valid there).

Nothing here imports autograd_nn: the strategies describe inputs, never expected results.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 3


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Array shapes, scalars (``()``) included by default; sides from 1 to ``max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def broadcastable_shape_pairs(max_dims: int = 3, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Pairs of shapes that broadcast together, e.g. ((2, 1, 3), (4, 1)); ``()`` included."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=max_dims, max_side=max_side
    ).map(lambda bs: tuple(bs.input_shapes))


def matmul_shape_pairs(max_batch_dims: int = 2, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Operand shapes valid for ``matmul``: 1-d or N-d, with broadcastable batch dimensions."""
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=max_batch_dims, max_side=max_side
    ).map(lambda bs: tuple(bs.input_shapes))


@st.composite
def shapes_and_axes(draw: st.DrawFn, min_dims: int = 1, max_dims: int = 3) -> tuple:
    """A shape and an ``axis`` argument for it: None, an int (maybe negative) or a tuple."""
    shape = draw(shapes(min_dims=min_dims, max_dims=max_dims))
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-ndim, ndim - 1))
    axes = draw(hnp.valid_tuple_axes(ndim, min_size=1))
    return shape, axes


def float_arrays(shape: tuple, lo: float = -2.0, hi: float = 2.0,
                 avoid: tuple = (), margin: float = 0.05) -> st.SearchStrategy:
    """float64 arrays of ``shape`` with values in [lo, hi], none within ``margin`` of ``avoid``.

    Values near a kink are pushed out of the band around it (``kink +- margin``), so every
    value stays at least ``margin`` away from each avoided point.
    """

    def push(v: float) -> float:
        for k in avoid:
            if abs(v - k) < margin:
                v = k + margin if v >= k else k - margin
        return v

    elements = st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(push)
    return hnp.arrays(np.float64, shape, elements=elements)


def seeds() -> st.SearchStrategy:
    """Seeds for numpy generators (the values of table inputs are drawn with them)."""
    return st.integers(0, 2**32 - 1)


@st.composite
def indices(draw: st.DrawFn, shape: tuple) -> object:
    """An index for an array of ``shape``: basic (ints, slices with any step, None, ...),
    integer arrays (one per leading axis, negatives and repeats included) or a boolean mask."""
    kind = draw(st.sampled_from(["basic", "integer", "mask"]))
    if kind == "basic":
        return draw(hnp.basic_indices(shape, allow_newaxis=True))
    if kind == "integer":
        return draw(hnp.integer_array_indices(shape, result_shape=shapes(1, 2, 4)))
    mask_dims = draw(st.integers(1, len(shape)))
    return draw(hnp.arrays(np.bool_, shape[:mask_dims]))
