"""Minimise objectives written in plain numpy style with scipy.optimize.minimize(jac=True),
the gradient from autograd_nn.value_and_grad, and compare with scipy's own finite-difference
run of the same objective on plain arrays. The logistic regression keeps its parameters in a
dict; value_and_grad returns its gradient as a dict too, packed here into scipy's flat vector.

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


def logistic_loss(params, X, y):
    """Mean logistic loss of labels y in {-1, 1} for the weights params["w"] and the bias
    params["b"], plus a small ridge penalty on the weights."""
    z = X @ params["w"] + params["b"]
    return np.mean(np.logaddexp(0.0, -y * z)) + 0.01 * np.sum(np.square(params["w"]))


def as_params(v):
    """scipy's flat vector as the loss's parameter dict (weights, then the bias)."""
    return {"w": v[:-1], "b": v[-1]}


def as_vector(params):
    """A parameter (or gradient) dict as scipy's flat vector."""
    return np.append(params["w"], params["b"])


def least_squares(w, A, b):
    """Half the squared residual norm of A w = b."""
    return 0.5 * np.linalg.norm(A @ w - b) ** 2


def with_gradient(f, *extra, unpack=None):
    """f(x, *extra) as scipy's (value, gradient) pair of a float and an ndarray. With
    ``unpack``, f takes the parameter dict unpack(x) and value_and_grad differentiates it: the
    gradient is a dict of the same keys, packed into a vector with as_vector."""
    vg = ag.value_and_grad(f)

    def fun(x):
        if unpack is None:
            value, grad = vg(x, *extra)
            return float(value), grad.numpy()
        value, grads = vg(unpack(x), *extra)
        return float(value), as_vector(grads).numpy()

    return fun


def compare(name, f, x0, *extra, unpack=None):
    def plain(x):  # the objective on scipy's vector, for its finite differences
        return float(f(x if unpack is None else unpack(x), *extra))

    engine = with_gradient(f, *extra, unpack=unpack)
    exact = minimize(engine, x0, jac=True, method="BFGS")
    numeric = minimize(plain, x0, method="BFGS")  # scipy's fd gradient
    g_engine = engine(x0)[1]
    g_fd = approx_fprime(x0, plain, 1e-7)
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
    exact, _ = compare("logistic regression (200 x 3, weights and bias in a dict)",
                       logistic_loss, np.zeros(4), X, y, unpack=as_params)
    w, b = as_params(exact.x).values()
    print(f"  weights {np.round(w, 3)}, bias {b:.3f}")

    A = rng.standard_normal((30, 4))
    b = rng.standard_normal(30)
    exact, _ = compare("least squares (30 x 4)", least_squares, np.zeros(4), A, b)
    lstsq = np.linalg.lstsq(A, b, rcond=None)[0]
    print(f"  agrees with numpy.linalg.lstsq: {bool(np.allclose(exact.x, lstsq, atol=1e-5))}")


if __name__ == "__main__":
    main()
