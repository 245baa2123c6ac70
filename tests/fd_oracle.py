"""The tests' own finite-difference oracle (float64 central differences).

It shares no code with autograd_nn: it perturbs plain numpy arrays and calls plain Python
functions (numpy reference expressions, or whatever callable a test hands it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

EPS = 1e-6


def fd_gradients(f: Callable[..., float], arrays: Sequence, eps: float = EPS) -> list[np.ndarray]:
    """d f / d arrays[k] for scalar ``f(*arrays)``, by central differences, element by element."""
    xs = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in xs:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            orig = a[idx]
            a[idx] = orig + eps
            up = float(f(*xs))
            a[idx] = orig - eps
            down = float(f(*xs))
            a[idx] = orig
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def fd_directional(f: Callable[..., Sequence], arrays: Sequence, directions: Sequence,
                   eps: float = 1e-5) -> list[np.ndarray]:
    """The derivative of a list-valued ``f(*arrays)`` along ``directions`` (one per array):
    ``(f(x + eps v) - f(x - eps v)) / (2 eps)``, entry by entry."""
    xs = [np.asarray(a, dtype=np.float64) for a in arrays]
    up = f(*[x + eps * v for x, v in zip(xs, directions)])
    down = f(*[x - eps * v for x, v in zip(xs, directions)])
    return [(np.asarray(u, dtype=np.float64) - np.asarray(d, dtype=np.float64)) / (2 * eps)
            for u, d in zip(up, down)]


def fd_jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                eps: float = EPS) -> np.ndarray:
    """Jacobian of array-valued ``f`` at ``x``, shaped ``f(x).shape + x.shape``."""
    x = np.array(x, dtype=np.float64)
    out_shape = np.shape(f(x))
    jac = np.zeros(out_shape + x.shape)
    for idx in np.ndindex(x.shape):
        orig = x[idx]
        x[idx] = orig + eps
        up = np.asarray(f(x), dtype=np.float64)
        x[idx] = orig - eps
        down = np.asarray(f(x), dtype=np.float64)
        x[idx] = orig
        jac[(Ellipsis,) + idx] = (up - down) / (2 * eps)
    return jac


def assert_grads_match(engine: Sequence, oracle: Sequence, rtol: float = 1e-6,
                       atol: float = 1e-7, what: str = "gradient") -> None:
    """Assert gradients agree (engine vs oracle), one pair per operand, with a clear report."""
    assert len(engine) == len(oracle), f"{what}: {len(engine)} gradients vs {len(oracle)}"
    for k, (e, o) in enumerate(zip(engine, oracle)):
        e = np.asarray(e, dtype=np.float64)
        o = np.asarray(o, dtype=np.float64)
        assert e.shape == o.shape, f"{what} of operand {k}: shape {e.shape}, expected {o.shape}"
        err = np.abs(e - o)
        bad = err > atol + rtol * np.abs(o)
        assert not bad.any(), (
            f"{what} of operand {k} differs from finite differences at {int(bad.sum())} of "
            f"{bad.size} entries; max abs error {err.max():.3g}\nengine:\n{e}\noracle:\n{o}"
        )
