"""numpy.linalg on tensors: inverse, solve, determinants, Cholesky, pseudo-inverse and powers,
stacked over leading axes as numpy allows. Each primitive's derivative is written with matmul
and the other primitives of this family, so create_graph differentiates it again. The matrix
decompositions with several outputs (eigh, svd, qr) are in ``decompositions.py``; norms in
``norms.py``. Conventions at singular matrices are listed in docs/numpy.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..domains import calls, wellconditioned
from ..function import Function, as_tensor, constant, data_of
from ..registry import add_to_namespaces, register
from .arithmetic import matmul
from .elementwise import where
from .reduce import numpy_exclusive_prod
from .shape import _shape, expand_dims, squeeze, swapaxes

if TYPE_CHECKING:
    from ..tensor import Tensor
    from ..types import ArrayLike, TensorLike


def _mT(xp: Any, x: Any) -> Any:
    return xp.swapaxes(x, -1, -2)


def _square(op: str, a: Any) -> None:
    shape = _shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{op}: expected a (stack of) square matrices, got shape {tuple(shape)}")


class _OnOutput(Function):
    """A matrix function of one operand, numpy.linalg's ``name``, whose derivative is read off
    its output: ``chain(xp, g, out)`` gives the gradient."""

    @classmethod
    def forward(cls, ctx: Any, a: Any) -> Any:
        out = getattr(np.linalg, cls.name)(a)  # np, not a captured function: compile records it
        ctx.save_for_backward(out)
        return out

    @classmethod
    def backward(cls, ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return cls.chain(ctx.xp, g, out)

    @staticmethod
    def chain(xp: Any, g: Any, out: Any) -> Any:  # pragma: no cover - every op has one
        raise NotImplementedError


class Inv(_OnOutput):
    """The inverse; d inv = -inv dA inv."""

    name = "inv"

    @staticmethod
    def chain(xp: Any, g: Any, ai: Any) -> Any:
        ait = _mT(xp, ai)
        return -(ait @ g @ ait)


class _OnOperandAndOutput(Function):
    """A function of the matrix a (and of any further operands and settings) whose gradients
    are read off a and the output: ``compute`` is the forward (numpy.linalg's ``name``), and
    ``chain(xp, g, a, out, needs)`` gives one gradient per operand (``needs``: which)."""

    @classmethod
    def forward(cls, ctx: Any, a: Any, *operands: Any, **settings: Any) -> Any:
        out = np.asarray(cls.compute(a, *operands, **settings))
        ctx.save_for_backward(a, out)
        return out

    @classmethod
    def compute(cls, *operands: Any, **settings: Any) -> Any:
        return getattr(np.linalg, cls.name)(*operands, **settings)

    @classmethod
    def backward(cls, ctx: Any, g: Any) -> Any:
        a, out = ctx.saved_tensors
        return cls.chain(ctx.xp, g, a, out, ctx.needs_input_grad)

    @staticmethod
    def chain(xp: Any, g: Any, a: Any, out: Any, needs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError  # every op has one


class Solve(_OnOperandAndOutput):
    """x = solve(a, b) for a stack of matrices b (..., M, K)."""

    name = "solve"

    @staticmethod
    def chain(xp: Any, g: Any, a: Any, x: Any, needs: Any) -> Any:
        gb = xp.solve(_mT(xp, a), g)
        na, nb = needs
        return (-(gb @ _mT(xp, x)) if na else None), (gb if nb else None)


def cofactor(a: Any, det: Any) -> Any:
    """The cofactor matrix (d det / d a), also at singular matrices: det * inv^T where a is
    invertible, else from the SVD a = U S Vh as det(U) det(Vh) U diag(prod_{j!=i} s_j) Vh."""
    a = np.asarray(a)
    det = np.asarray(det)
    if (det != 0).all():
        return det[..., None, None] * _mT(np, np.linalg.inv(a))
    u, s, vh = np.linalg.svd(a)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * ((u * numpy_exclusive_prod(s)[..., None, :]) @ vh)


def cofactor_op(a: TensorLike, det: TensorLike) -> Tensor:
    """cofactor, differentiable (det's rule under create_graph): invertible matrices only."""
    if (np.asarray(data_of(det)) == 0).any():
        raise ValueError("det: second derivatives at a singular matrix are not supported "
                         "(the first derivative there is the cofactor matrix)")
    return expand_dims(det, (-1, -2)) * swapaxes(inv(a), -1, -2)


class Det(_OnOperandAndOutput):
    """The determinant; its gradient is the cofactor matrix (exact at singular matrices)."""

    name = "det"

    @staticmethod
    def chain(xp: Any, g: Any, a: Any, out: Any, needs: Any) -> Any:
        return xp.expand_dims(g, (-1, -2)) * xp.cofactor(a, out)


class LogAbsDet(Function):
    """log |det a|; its gradient inv(a)^T is infinite at a singular matrix (an error)."""

    name = "slogdet"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        _, out = np.linalg.slogdet(a)
        ctx.save_for_backward(a)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        (a,) = ctx.saved_tensors
        try:
            ai = xp.inv(a)
        except (ValueError, np.linalg.LinAlgError) as e:
            raise ValueError("slogdet: the gradient of log|det| at a singular matrix is "
                             f"infinite ({e})") from None
        return xp.expand_dims(g, (-1, -2)) * _mT(xp, ai)


def _phi(x: Any, n: int) -> Any:
    """The lower triangle with the diagonal halved (a constant mask, so any namespace)."""
    return x * (np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n))


def lower_part(gs: Any, n: int) -> Any:
    """A symmetric gradient as the gradient of a function that reads only the lower triangle
    (numpy's cholesky and eigh): 2 gs below the diagonal, gs on it, 0 above."""
    return gs * (2 * np.tril(np.ones((n, n)), -1) + np.eye(n))


class Cholesky(_OnOutput):
    """L with a = L L^T, from a's lower triangle (as numpy); the gradient is in that triangle."""

    name = "cholesky"

    @staticmethod
    def chain(xp: Any, g: Any, low: Any) -> Any:
        n = low.shape[-1]
        li = xp.inv(low)
        s = _mT(xp, li) @ _phi(_mT(xp, low) @ g, n) @ li
        return lower_part((s + _mT(xp, s)) * 0.5, n)


class Pinv(_OnOperandAndOutput):
    """The Moore-Penrose pseudo-inverse P; its derivative is the one at constant rank:
    -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)."""

    name = "pinv"

    @classmethod
    def compute(cls, a: Any, rcond: Any = None) -> Any:
        return np.linalg.pinv(a) if rcond is None else np.linalg.pinv(a, rcond=rcond)

    @staticmethod
    def chain(xp: Any, g: Any, a: Any, p: Any, needs: Any) -> Any:
        m, n = a.shape[-2], a.shape[-1]
        pt, gt = _mT(xp, p), _mT(xp, g)
        left = np.eye(m) - a @ p
        right = np.eye(n) - p @ a
        return -(pt @ g @ pt) + left @ gt @ (p @ pt) + (pt @ p) @ gt @ right


# ---- the functions with numpy.linalg's names ----------------------------------------------------
@register(Inv, plain=np.linalg.inv, numpy=(np.linalg.inv,), public=False, cases=calls(
    ("(3, 3)", None, ((3, 3),)), ("(2, 2, 2)", None, ((2, 2, 2),)), domain=wellconditioned))
def inv(a: TensorLike) -> Tensor:
    """The inverse of a (stack of) square matrices."""
    _square("inv", a)
    return Inv.apply(a)


@register(Solve, numpy=(np.linalg.solve,), public=False,
          cases=calls(("(3, 3) (3, 2)", None, ((3, 3), (3, 2))), domain=wellconditioned))
def solve(a: TensorLike, b: TensorLike) -> Tensor:
    """x with a @ x = b; b is a vector when 1-d, else a (stack of) matrices (numpy 2's rule)."""
    _square("solve", a)
    if len(_shape(b)) == 1:
        return squeeze(Solve.apply(a, expand_dims(b, -1)), -1)
    return Solve.apply(a, b)


@register(Det, numpy=(np.linalg.det,), public=False, cases=calls(
    ("(3, 3)", None, ((3, 3),)), ("(2, 2, 2)", None, ((2, 2, 2),)), domain=wellconditioned))
def det(a: TensorLike) -> Tensor:
    """The determinant of a (stack of) square matrices."""
    _square("det", a)
    return Det.apply(a)


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


@register(LogAbsDet, numpy=(np.linalg.slogdet,), public=False,
          cases=calls(("(3, 3)", lambda f, a: f(a).logabsdet, ((3, 3),)),
                      domain=wellconditioned))
def slogdet(a: TensorLike) -> SlogdetResult:
    """(sign, log|det|): the sign is a constant, log|det| is differentiable."""
    _square("slogdet", a)
    data = np.asarray(data_of(a))
    sign = constant(np.asarray(np.linalg.slogdet(data)[0]))
    return SlogdetResult(sign, LogAbsDet.apply(a))


@register(Cholesky, numpy=(np.linalg.cholesky,), public=False,
          cases=calls(("(3, 3) lower", None, ((3, 3),)), domain=wellconditioned))
def cholesky(a: TensorLike, upper: bool = False) -> Tensor:
    """numpy's cholesky: lower L (from a's lower triangle), or upper U = L^T (from a's upper
    triangle) with ``upper=True``."""
    _square("cholesky", a)
    if upper:
        return swapaxes(Cholesky.apply(swapaxes(a, -1, -2)), -1, -2)
    return Cholesky.apply(a)


@register(Pinv, numpy=(np.linalg.pinv,), public=False,
          cases=calls(("(3, 2)", None, ((3, 2),)), domain=wellconditioned))
def pinv(a: TensorLike, rcond: ArrayLike | None = None, hermitian: bool = False,
         **kwargs: object) -> Tensor:
    """The pseudo-inverse (numpy's cutoff ``rcond``); the derivative assumes the rank does not
    change nearby (true away from singular values at the cutoff)."""
    if hermitian or kwargs:
        bad = ["hermitian"] * bool(hermitian) + sorted(kwargs)
        raise TypeError(f"pinv: unsupported argument(s) {', '.join(bad)} on Tensors")
    if len(_shape(a)) < 2:
        raise ValueError(f"pinv: expected a (stack of) matrices, got shape {_shape(a)}")
    return Pinv.apply(a, rcond=rcond)


@register(numpy=(np.linalg.matrix_power,), public=False,
          cases=calls(("(3, 3) ** 3", lambda f, a: f(a, 3), ((3, 3),)),
                      domain=wellconditioned))
def matrix_power(a: TensorLike, n: int) -> Tensor:
    """a to the integer power n by repeated squaring (inv first for n < 0; identity for 0)."""
    _square("matrix_power", a)
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: the exponent must be an integer, got {type(n).__name__}")
    shape = _shape(a)
    if n == 0:  # the identity, in the graph with a zero gradient
        return where(np.ones(shape, dtype=bool), np.broadcast_to(np.eye(shape[-1]), shape), a)
    base = inv(a) if n < 0 else as_tensor(a)  # n = 1: an array comes back as a Tensor too
    result: Tensor | None = None
    bits = bin(abs(int(n)))[2:][::-1]  # least significant first
    for i, bit in enumerate(bits):
        if bit == "1":
            result = base if result is None else matmul(result, base)
        if i < len(bits) - 1:
            base = matmul(base, base)
    assert result is not None  # n != 0 has a 1 bit
    return result


add_to_namespaces("solve", np.linalg.solve, lambda a, b: Solve.apply(a, b))
add_to_namespaces("cofactor", cofactor, cofactor_op)
__all__ = ["cholesky", "det", "inv", "matrix_power", "pinv", "slogdet", "solve"]
