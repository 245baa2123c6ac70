"""Contractions: ``einsum`` is the primitive (its gradient for each operand is another einsum,
so every order comes from the same rule); tensordot, dot, inner, outer, kron, cross and vdot
are composites over it and the elementwise ops.

einsum's gradient with respect to operand i contracts the output gradient with the other
operands into operand i's subscripts. Two cases need a constant operand: a letter of operand i
that appears nowhere else (it was summed away: the gradient is constant along it, a ``ones``
vector) and a letter repeated in operand i (a diagonal: the gradient lives on it, an ``eye``).
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any

import numpy as np

from ..domains import calls
from ..function import Function
from ..registry import add_to_namespaces, register
from .arithmetic import multiply, subtract
from .manipulation import moveaxis
from .shape import _shape, concatenate, expand_dims, getitem, reshape

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..tensor import Tensor
    from ..types import TensorLike

_LETTERS = string.ascii_letters


def parse_subscripts(subscripts: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """numpy's einsum subscripts as explicit per-operand letter strings and the output's
    (``...`` replaced by letters; the implicit output made explicit as numpy orders it)."""
    if not isinstance(subscripts, str):
        raise TypeError("einsum: give the subscripts as a string (the interleaved "
                        "operand, sublist form is not supported on Tensors)")
    spec = subscripts.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(shapes)} operands")
    used = set(spec) - set(".,->")
    if any(c not in _LETTERS for c in used):
        raise ValueError(f"einsum: subscripts {subscripts!r} may use only letters, ',', '->', "
                         "and '...'")
    free = [c for c in _LETTERS if c not in used]
    n_ell = max((len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell = "".join(free[:n_ell])
    explicit = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[n_ell - k:] if k else "")
        if len(t) != len(s):
            raise ValueError(f"einsum: subscripts {t!r} do not match an operand of shape {s}")
        explicit.append(t)
    if arrow:
        out = out.replace("...", ell)
    else:
        letters = "".join(explicit)
        out = ell + "".join(sorted(c for c in set(letters) - set(ell) if letters.count(c) == 1))
    return explicit, out


class Einsum(Function):
    """einsum over explicit subscripts (no ``...``): see the module docstring for the rule."""

    name = "einsum"

    @staticmethod
    def forward(ctx: Any, *operands: Any, subs: tuple = (), out: str = "",
                optimize: Any = False) -> Any:
        ctx.save_for_backward(*operands)
        ctx.subs, ctx.out, ctx.optimize = subs, out, optimize
        return np.einsum(",".join(subs) + "->" + out, *operands, optimize=optimize)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xs = ctx.saved_tensors
        return tuple(_operand_grad(ctx, xs, g, i) if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


def _operand_grad(ctx: Any, xs: tuple, g: Any, i: int) -> Any:
    target = ctx.subs[i]
    subs = [s for j, s in enumerate(ctx.subs) if j != i] + [ctx.out]
    arrays = [x for j, x in enumerate(xs) if j != i] + [g]
    sizes = dict(zip(target, np.shape(xs[i])))
    present = set("".join(subs))
    spare = iter(c for c in _LETTERS if c not in present and c not in target)
    result = []
    for c in target:
        if c in result:  # a repeated letter: the gradient sits on the diagonal
            fresh = next(spare)
            subs.append(c + fresh)
            arrays.append(np.eye(sizes[c]))
            result.append(fresh)
        else:
            if c not in present:  # summed away: constant along this axis
                subs.append(c)
                arrays.append(np.ones(sizes[c]))
                present.add(c)
            result.append(c)
    return ctx.xp.einsum(",".join(subs) + "->" + "".join(result), *arrays)


@register(Einsum, numpy=(np.einsum,), cases=calls(*(
    (spec, lambda f, *xs, spec=spec: f(spec, *xs), shapes)
    for spec, shapes in [("ij,jk->ik", ((2, 3), (3, 4))), ("ii->i", ((3, 3),)),
                         ("...ij,...jk", ((2, 1, 2, 3), (4, 3, 2))),
                         ("ij,ij,ij->i", ((2, 3),) * 3)])))
def einsum(subscripts: str, *operands: TensorLike, optimize: bool | str | Sequence[object] = False,
           **kwargs: object) -> Tensor:
    """numpy's einsum on tensors: explicit (``->``) or implicit output, repeated indices
    (diagonals, traces), ``...`` broadcasting, any number of operands; ``optimize`` is passed
    to numpy (it changes the order of the contraction, not the value)."""
    if kwargs:
        raise TypeError(f"einsum: unsupported argument(s) {', '.join(sorted(kwargs))} on Tensors")
    if not operands:
        raise ValueError("einsum: give at least one operand")
    subs, out = parse_subscripts(subscripts, [_shape(x) for x in operands])
    return Einsum.apply(*operands, subs=tuple(subs), out=out, optimize=optimize)


def _explicit_einsum(subscripts: str, *operands: Any) -> Tensor:
    """einsum of already explicit subscripts (what backward rules call under create_graph)."""
    ins, _, out = subscripts.partition("->")
    return Einsum.apply(*operands, subs=tuple(ins.split(",")), out=out)


add_to_namespaces("einsum", np.einsum, _explicit_einsum)  # ctx.xp.einsum: explicit subscripts


@register(numpy=(np.tensordot,),
          cases=calls(("(2, 3, 4) (3, 4, 2) axes=2", None, ((2, 3, 4), (3, 4, 2)))))
def tensordot(a: TensorLike, b: TensorLike, axes: int | Sequence[int | Sequence[int]] = 2
              ) -> Tensor:
    """Sum products over the last ``axes`` axes of a and the first of b, or over the axis
    pairs ``axes = (axes_a, axes_b)`` (numpy's tensordot)."""
    na, nb = len(_shape(a)), len(_shape(b))
    if isinstance(axes, (int, np.integer)):
        if axes < 0 or axes > min(na, nb):
            raise ValueError(f"tensordot: axes={axes} is out of range for {na} and {nb} axes")
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))  # type: list[Any], list[Any]
    else:
        ax_a, ax_b = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
        if len(ax_a) != len(ax_b):
            raise ValueError("tensordot: the two lists of axes must have the same length")
    ax_a, ax_b = [x % na for x in ax_a], [x % nb for x in ax_b]
    la, lb = list(_LETTERS[:na]), list(_LETTERS[na:na + nb])
    for p, q in zip(ax_a, ax_b):
        lb[q] = la[p]
    out = [c for k, c in enumerate(la) if k not in ax_a] + [c for k, c in enumerate(lb)
                                                            if k not in ax_b]
    return einsum("".join(la) + "," + "".join(lb) + "->" + "".join(out), a, b)


@register(numpy=(np.dot,), methods=("dot",),
          cases=calls(("(2, 3, 4) . (2, 4, 3)", None, ((2, 3, 4), (2, 4, 3)))))
def dot(a: TensorLike, b: TensorLike, out: None = None) -> Tensor:
    """numpy's dot: a product with a scalar, matmul's rule for 1-d and 2-d, and for n-d the sum
    over the last axis of a and the second-to-last of b."""
    if out is not None:
        raise TypeError("dot: the out= argument is not supported on Tensors")
    na, nb = len(_shape(a)), len(_shape(b))
    if na == 0 or nb == 0:
        return multiply(a, b)
    return tensordot(a, b, ([-1], [-2 if nb >= 2 else 0]))


@register(numpy=(np.inner,), cases=calls(("(2, 3) (4, 3)", None, ((2, 3), (4, 3)))))
def inner(a: TensorLike, b: TensorLike) -> Tensor:
    """The sum of products over the last axes (a product when either is a scalar)."""
    if len(_shape(a)) == 0 or len(_shape(b)) == 0:
        return multiply(a, b)
    return tensordot(a, b, ([-1], [-1]))


@register(numpy=(np.outer,), cases=calls(("(3,) (2,)", None, ((3,), (2,)))))
def outer(a: TensorLike, b: TensorLike, out: None = None) -> Tensor:
    """out[i, j] = a.ravel()[i] * b.ravel()[j]."""
    if out is not None:
        raise TypeError("outer: the out= argument is not supported on Tensors")
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


@register(numpy=(np.vdot,), cases=calls(("(2, 3) (3, 2)", None, ((2, 3), (3, 2)))))
def vdot(a: TensorLike, b: TensorLike) -> Tensor:
    """The dot product of the flattened arrays (real data: no conjugation)."""
    return einsum("i,i->", reshape(a, (-1,)), reshape(b, (-1,)))


@register(numpy=(np.kron,), cases=calls(("(2, 3) (2, 2)", None, ((2, 3), (2, 2)))))
def kron(a: TensorLike, b: TensorLike) -> Tensor:
    """The Kronecker product: blocks a[i, j...] * b (numpy's kron, axes aligned at the end)."""
    sa, sb = tuple(_shape(a)), tuple(_shape(b))
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    a2 = reshape(a, tuple(v for m in sa for v in (m, 1)))
    b2 = reshape(b, tuple(v for m in sb for v in (1, m)))
    return reshape(multiply(a2, b2), tuple(p * q for p, q in zip(sa, sb)))


@register(numpy=(np.cross,), cases=calls(("(2, 3) x (3,)", None, ((2, 3), (3,)))))
def cross(a: TensorLike, b: TensorLike, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``axisa``/``axisb`` (broadcast over the other
    axes), placed along ``axisc``. 2-vectors (deprecated by numpy 2.0) are not supported."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise ValueError(f"cross: the vectors must have 3 components, got {a.shape[-1]} and "
                         f"{b.shape[-1]} (2-vectors are deprecated by numpy and not supported)")
    ai = [getitem(a, (Ellipsis, k)) for k in range(3)]
    bi = [getitem(b, (Ellipsis, k)) for k in range(3)]
    parts = [subtract(multiply(ai[1], bi[2]), multiply(ai[2], bi[1])),
             subtract(multiply(ai[2], bi[0]), multiply(ai[0], bi[2])),
             subtract(multiply(ai[0], bi[1]), multiply(ai[1], bi[0]))]
    c = concatenate([expand_dims(p, -1) for p in parts], axis=-1)
    return moveaxis(c, -1, axisc)


__all__ = ["cross", "dot", "einsum", "inner", "kron", "outer", "tensordot", "vdot"]
