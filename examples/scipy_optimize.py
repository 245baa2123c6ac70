"""Minimise objectives written in plain numpy style with scipy.optimize.minimize(jac=True),
the gradient from autograd_nn.value_and_grad, and compare with scipy's own finite-difference
run of the same objective on plain arrays.

    pip install scipy          # or: pip install -e ".[scipy]"
    python examples/scipy_optimize.py
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import approx_fprime, minimize

import autograd_nn as ag


def rosenbrock(x):
    """The n-dimensional Rosenbrock function, written with numpy calls (they dispatch on
    tensors, so the same function runs on arrays and on tensors)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def logistic_loss(w, X, y):
    """Mean logistic loss of labels y in {-1, 1} plus a small ridge penalty."""
    return np.mean(np.logaddexp(0.0, -y * (X @ w))) + 0.01 * np.sum(np.square(w))


def least_squares(w, A, b):
    """Half the squared residual norm of A w = b."""
    return 0.5 * np.linalg.norm(A @ w - b) ** 2


def with_gradient(f, *extra):
    """f(x, *extra) as scipy's (value, gradient) pair of a float and an ndarray."""
    vg = ag.value_and_grad(f)

    def fun(x):
        value, grad = vg(x, *extra)
        return float(value), grad.numpy()

    return fun


def compare(name, f, x0, *extra):
    exact = minimize(with_gradient(f, *extra), x0, jac=True, method="BFGS")
    numeric = minimize(lambda x: float(f(x, *extra)), x0, method="BFGS")  # scipy's fd gradient
    g_engine = with_gradient(f, *extra)(x0)[1]
    g_fd = approx_fprime(x0, lambda x: float(f(x, *extra)), 1e-7)
    print(f"{name}:")
    print(f"  engine gradient vs scipy finite differences at x0: max abs difference "
          f"{np.max(np.abs(g_engine - g_fd)):.1e}")
    print(f"  minimize(jac=True, engine gradient): f = {exact.fun:.6e} in {exact.nit} "
          f"iterations, {exact.nfev} evaluations")
    print(f"  minimize(finite differences):        f = {numeric.fun:.6e} in {numeric.nit} "
          f"iterations, {numeric.nfev} evaluations")
    gap = np.max(np.abs(exact.x - numeric.x))
    print(f"  largest difference between the two minimisers: {gap:.1e}")
    return exact, numeric


def main():
    rng = np.random.default_rng(0)
    exact, _ = compare("rosenbrock (5-d)", rosenbrock, np.full(5, -1.0))
    print(f"  reaches the minimum at (1, ..., 1): {bool(np.allclose(exact.x, 1.0, atol=1e-5))}")

    X = rng.standard_normal((200, 3))
    y = np.sign(X @ np.array([1.5, -2.0, 0.5]) + 0.3 * rng.standard_normal(200))
    compare("logistic regression (200 x 3)", logistic_loss, np.zeros(3), X, y)

    A = rng.standard_normal((30, 4))
    b = rng.standard_normal(30)
    exact, _ = compare("least squares (30 x 4)", least_squares, np.zeros(4), A, b)
    lstsq = np.linalg.lstsq(A, b, rcond=None)[0]
    print(f"  agrees with numpy.linalg.lstsq: {bool(np.allclose(exact.x, lstsq, atol=1e-5))}")


if __name__ == "__main__":
    main()
