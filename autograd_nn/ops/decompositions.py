"""Matrix decompositions with several outputs: eigh, svd and qr. Each is one primitive whose
output packs its factors along the second-to-last axis (the engine's nodes have one output);
the public functions slice the factors out, so the gradients of all of them reach the one
backward rule. Conventions at repeated eigenvalues / singular values are in docs/numpy.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NamedTuple, overload

import numpy as np

from ..domains import calls, wellconditioned
from ..function import Function, data_of
from ..registry import register
from .linalg import _mT, _square, lower_part
from .shape import _shape, getitem, swapaxes

if TYPE_CHECKING:
    from ..tensor import Tensor
    from ..types import TensorLike


def _pair_inverse(xp: Any, d: Any) -> Any:
    """1 / d off ties, 0 where d == 0 (the diagonal and repeated values)."""
    tie = np.asarray(data_of(d)) == 0
    return xp.where(tie, 0, 1 / xp.where(tie, 1, d))


def _diag_embed(xp: Any, v: Any) -> Any:
    return xp.expand_dims(v, -2) * np.eye(v.shape[-1])


class _Packed(Function):
    """A decomposition whose factors are packed along axis -2 into one output array, saved for
    backward: ``factors(ctx, a, **options)`` gives the blocks (keeping on ctx what unpacking
    needs), ``chain(ctx, xp, g, out)`` the operand's gradient from the packed gradient g."""

    @classmethod
    def forward(cls, ctx: Any, a: Any, **options: Any) -> Any:
        out = np.concatenate(cls.factors(ctx, a, **options), axis=-2)
        ctx.save_for_backward(out)
        return out

    @classmethod
    def backward(cls, ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return cls.chain(ctx, ctx.xp, g, out)

    @staticmethod
    def factors(ctx: Any, a: Any, **options: Any) -> list[Any]:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def chain(ctx: Any, xp: Any, g: Any, out: Any) -> Any:  # pragma: no cover
        raise NotImplementedError


class Eigh(_Packed):
    """Eigenvalues w and orthonormal eigenvectors V of a symmetric matrix, packed as
    [w; V] (..., n + 1, n). Gradient: V (diag(gw) + F * (V^T gV)) V^T with
    F_ij = 1 / (w_j - w_i), 0 for i == j and for repeated eigenvalues."""

    name = "eigh"

    @staticmethod
    def factors(ctx: Any, a: Any, UPLO: str = "L") -> list[Any]:  # type: ignore[override]
        w, v = np.linalg.eigh(a, UPLO=UPLO)  # type: ignore[call-overload]
        ctx.uplo = UPLO
        return [w[..., None, :], v]

    @staticmethod
    def chain(ctx: Any, xp: Any, g: Any, out: Any) -> Any:
        w, v = out[..., 0, :], out[..., 1:, :]
        gw, gv = g[..., 0, :], g[..., 1:, :]
        f = _pair_inverse(xp, xp.expand_dims(w, -2) - xp.expand_dims(w, -1))
        inner = _diag_embed(xp, gw) + f * (_mT(xp, v) @ gv)
        x = v @ inner @ _mT(xp, v)
        grad = lower_part((x + _mT(xp, x)) * 0.5, w.shape[-1])
        return grad if ctx.uplo == "L" else _mT(xp, grad)


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


@register(Eigh, numpy=(np.linalg.eigh,), public=False, cases=calls(
    ("(3, 3) eigenvalues and vectors",
     lambda f, a: f(a).eigenvalues + f(a).eigenvectors[0], ((3, 3),)), domain=wellconditioned))
def eigh(a: TensorLike, UPLO: str = "L") -> EighResult:
    """Eigen-decomposition of a symmetric matrix from its lower (``UPLO='L'``) or upper
    triangle, as numpy; the gradient lives in that triangle."""
    _square("eigh", a)
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    packed = Eigh.apply(a, UPLO=UPLO)
    return EighResult(getitem(packed, (Ellipsis, 0, slice(None))),
                      getitem(packed, (Ellipsis, slice(1, None), slice(None))))


@register(numpy=(np.linalg.eigvalsh,), public=False, checked=False)
def eigvalsh(a: TensorLike, UPLO: str = "L") -> Tensor:
    """The eigenvalues of a symmetric matrix (ascending)."""
    return eigh(a, UPLO).eigenvalues


class Svd(_Packed):
    """The reduced SVD a = U diag(s) Vh, packed as [U; s; V] (..., m + 1 + n, k). Gradient
    (Townsend 2016) with F_ij = 1 / (s_j^2 - s_i^2), 0 on the diagonal and for repeated
    singular values, and 1 / s taken as 0 where s = 0."""

    name = "svd"

    @staticmethod
    def factors(ctx: Any, a: Any) -> list[Any]:  # type: ignore[override]
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        ctx.m = u.shape[-2]
        return [u, s[..., None, :], np.swapaxes(vh, -1, -2)]

    @staticmethod
    def chain(ctx: Any, xp: Any, g: Any, out: Any) -> Any:
        m = ctx.m
        u, s, v = out[..., :m, :], out[..., m, :], out[..., m + 1:, :]
        gu, gs, gv = g[..., :m, :], g[..., m, :], g[..., m + 1:, :]
        s_row, s_col = xp.expand_dims(s, -2), xp.expand_dims(s, -1)
        f = _pair_inverse(xp, s_row * s_row - s_col * s_col)
        ut_gu, vt_gv = _mT(xp, u) @ gu, _mT(xp, v) @ gv
        j = f * (ut_gu - _mT(xp, ut_gu))
        k = f * (vt_gv - _mT(xp, vt_gv))
        inner = j * s_row + _diag_embed(xp, gs) + s_col * k
        grad = u @ inner @ _mT(xp, v)
        n, rank = v.shape[-2], s.shape[-1]
        if m > rank or n > rank:  # the parts of gU, gV outside the spans of U, V
            s_inv = _pair_inverse(xp, s)
            if m > rank:
                grad = grad + (gu - u @ ut_gu) * xp.expand_dims(s_inv, -2) @ _mT(xp, v)
            if n > rank:
                grad = grad + u @ (_mT(xp, gv - v @ vt_gv) * xp.expand_dims(s_inv, -1))
        return grad


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


@overload
def svd(a: TensorLike, full_matrices: bool = ..., compute_uv: Literal[True] = ...,
        hermitian: bool = ...) -> SVDResult: ...
@overload
def svd(a: TensorLike, full_matrices: bool, compute_uv: Literal[False],
        hermitian: bool = ...) -> Tensor: ...
@overload
def svd(a: TensorLike, full_matrices: bool = ..., *, compute_uv: Literal[False],
        hermitian: bool = ...) -> Tensor: ...
@overload
def svd(a: TensorLike, full_matrices: bool = ..., compute_uv: bool = ...,
        hermitian: bool = ...) -> SVDResult | Tensor: ...
@register(Svd, numpy=(np.linalg.svd,), public=False, cases=calls(
    ("(4, 2) reduced", lambda f, a: f(a, full_matrices=False).U[0]
     + f(a, full_matrices=False).S, ((4, 2),)), domain=wellconditioned))
def svd(a: TensorLike, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> SVDResult | Tensor:
    """numpy's svd. ``full_matrices=True`` is the reduced SVD for square matrices; for others
    the completed bases are not unique (no gradient exists): pass ``full_matrices=False``."""
    shape = _shape(a)
    if len(shape) < 2:
        raise ValueError(f"svd: expected a (stack of) matrices, got shape {tuple(shape)}")
    if hermitian:
        raise TypeError("svd: hermitian=True is not supported on Tensors (use eigh)")
    m, n = shape[-2], shape[-1]
    if compute_uv and full_matrices and m != n:
        raise ValueError(f"svd: full_matrices=True of a {m} x {n} matrix has no gradient (the "
                         "completed bases are not unique); pass full_matrices=False")
    packed = Svd.apply(a)
    s = getitem(packed, (Ellipsis, m, slice(None)))
    if not compute_uv:
        return s
    u = getitem(packed, (Ellipsis, slice(None, m), slice(None)))
    vh = swapaxes(getitem(packed, (Ellipsis, slice(m + 1, None), slice(None))), -1, -2)
    return SVDResult(u, s, vh)


@register(numpy=(np.linalg.svdvals,), public=False, checked=False)
def svdvals(x: TensorLike) -> Tensor:
    """The singular values (descending)."""
    return svd(x, compute_uv=False)


class Qr(_Packed):
    """The reduced QR a = Q R of an m x n matrix with m >= n, packed as [Q; R] (..., m + n, n).
    Gradient: (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q."""

    name = "qr"

    @staticmethod
    def factors(ctx: Any, a: Any) -> list[Any]:  # type: ignore[override]
        q, r = np.linalg.qr(a, mode="reduced")
        ctx.m = q.shape[-2]
        return [q, r]

    @staticmethod
    def chain(ctx: Any, xp: Any, g: Any, out: Any) -> Any:
        m = ctx.m
        q, r = out[..., :m, :], out[..., m:, :]
        gq, gr = g[..., :m, :], g[..., m:, :]
        mm = r @ _mT(xp, gr) - _mT(xp, gq) @ q
        n = r.shape[-1]
        low = mm * np.tril(np.ones((n, n)), -1)
        copied = low + _mT(xp, low) + mm * np.eye(n)
        return (gq + q @ copied) @ _mT(xp, xp.inv(r))


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


@register(Qr, numpy=(np.linalg.qr,), public=False, cases=calls(
    ("(4, 3)", lambda f, a: f(a).Q[0] + f(a).R[1], ((4, 3),)), domain=wellconditioned))
def qr(a: TensorLike, mode: str = "reduced") -> QRResult | Tensor:
    """numpy's qr for m >= n (modes 'reduced', 'r', and 'complete' of a square matrix); the
    gradient needs R invertible (a of full column rank)."""
    shape = _shape(a)
    if len(shape) < 2:
        raise ValueError(f"qr: expected a (stack of) matrices, got shape {tuple(shape)}")
    m, n = shape[-2], shape[-1]
    if mode not in ("reduced", "r", "complete"):
        raise ValueError(f"qr: mode={mode!r} is not supported on Tensors (reduced, r, complete)")
    if m < n or (mode == "complete" and m != n):
        raise ValueError(f"qr: a {m} x {n} matrix with mode={mode!r} is not supported on "
                         "Tensors (its gradient needs m >= n, and 'complete' a square matrix)")
    packed = Qr.apply(a)
    r = getitem(packed, (Ellipsis, slice(m, None), slice(None)))
    if mode == "r":
        return r
    return QRResult(getitem(packed, (Ellipsis, slice(None, m), slice(None))), r)


__all__ = ["eigh", "eigvalsh", "qr", "svd", "svdvals"]
