"""``autograd_nn.linalg``: numpy.linalg's functions on tensors, differentiable to any order
(``np.linalg.inv(t)`` on a tensor dispatches here too)."""

from __future__ import annotations

from .ops.decompositions import EighResult, QRResult, SVDResult, eigh, eigvalsh, qr, svd, svdvals
from .ops.linalg import SlogdetResult, cholesky, det, inv, matrix_power, pinv, slogdet, solve
from .ops.norms import norm

__all__ = [
    "EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "det", "eigh",
    "eigvalsh", "inv", "matrix_power", "norm", "pinv", "qr", "slogdet", "solve", "svd", "svdvals",
]
