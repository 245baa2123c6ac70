"""Tensor basics and dtype rules: float32 end to end, integer/bool tensors that cannot require
grad, Python data as float64, numpy operands on either side, attributes, repr, creation."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag

F32 = np.float32


def f32_leaf(shape=(2, 3), lo=0.5, hi=1.5, seed=0) -> ag.Tensor:
    x = np.random.default_rng(seed).uniform(lo, hi, shape).astype(F32)
    return ag.Tensor(x, requires_grad=True)


# ---- float32 end to end ----------------------------------------------------------------------
FLOAT32_EXPRS = {
    "scalar*x": lambda x: 2.0 * x, "x*scalar": lambda x: x * 2.0, "int*x": lambda x: 3 * x,
    "x+scalar": lambda x: x + 1.0, "scalar+x": lambda x: 1.0 + x,
    "x-scalar": lambda x: x - 1.0, "scalar-x": lambda x: 1.0 - x,
    "x/scalar": lambda x: x / 3.0, "scalar/x": lambda x: 3.0 / x,
    "x**2": lambda x: x**2, "x**0.5": lambda x: x**0.5, "x**int": lambda x: x**3,
    "scalar**x": lambda x: 2.0**x, "-x": lambda x: -x,
    "x**x": lambda x: x**x, "x*x": lambda x: x * x, "x/x.sum": lambda x: x / x.sum(),
    "exp": ag.exp, "log": ag.log, "sqrt": ag.sqrt, "abs": ag.abs, "sin": ag.sin, "cos": ag.cos,
    "tanh": ag.tanh, "sigmoid": ag.sigmoid, "relu": ag.relu, "softplus": ag.softplus,
    "leaky_relu": lambda x: ag.leaky_relu(x, 0.2), "clip": lambda x: ag.clip(x, 0.7, 1.2),
    "maximum": lambda x: ag.maximum(x, 1.0), "minimum": lambda x: ag.minimum(1.0, x),
    "where": lambda x: ag.where(x.data > 1.0, x, 0.0),
    "matmul": lambda x: x @ x.T, "sum": lambda x: x.sum(axis=0), "mean": ag.mean,
    "max": lambda x: x.max(axis=1), "min": ag.min, "prod": lambda x: x.prod(axis=0),
    "var": ag.var, "std": lambda x: ag.std(x, axis=1, ddof=1),
    "logsumexp": lambda x: ag.logsumexp(x, axis=1), "softmax": ag.softmax,
    "log_softmax": lambda x: ag.log_softmax(x, axis=0),
    "getitem": lambda x: x[[0, 0], 1:], "reshape": lambda x: x.reshape(-1),
    "concatenate": lambda x: ag.concatenate([x, x]), "stack": lambda x: ag.stack([x, x], 1),
    "broadcast_to": lambda x: ag.broadcast_to(x, (4, 2, 3)), "np.exp": np.exp,
}


@pytest.mark.parametrize("name", sorted(FLOAT32_EXPRS))
def test_float32_results_and_grads_stay_float32(name):
    x = f32_leaf()
    y = FLOAT32_EXPRS[name](x)
    assert y.dtype == F32, f"{name}: result promoted to {y.dtype}"
    y.sum().backward()
    assert x.grad.dtype == F32, f"{name}: gradient promoted to {x.grad.dtype}"


def test_float32_second_order_stays_float32():
    x = f32_leaf()
    (g,) = ag.autograd.grad((ag.tanh(x) * 2.0).sum(), x, create_graph=True)
    assert g.dtype == F32
    (h,) = ag.autograd.grad((g * g).sum(), x)
    assert h.dtype == F32
    assert ag.hessian(lambda t: (t**3).sum())(f32_leaf((3,))).dtype == F32


def test_float32_values_match_float64_closely():
    x32 = f32_leaf()
    x64 = ag.Tensor(x32.data.astype(np.float64), requires_grad=True)
    for t in (x32, x64):
        (ag.softmax(t * 3.0, axis=1) * ag.log(t)).sum().backward()
    np.testing.assert_allclose(x32.grad.data, x64.grad.data, rtol=1e-5, atol=1e-6)


def test_astype_moves_between_float_dtypes_and_grad_comes_back_in_the_input_dtype():
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == F32 and y.requires_grad
    (y * 2.0).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    i = x.astype(np.int64)  # not differentiable: outside the graph
    assert i.dtype == np.int64 and not i.requires_grad


# ---- integer and bool tensors -------------------------------------------------------------------
@pytest.mark.parametrize("data,dtype", [
    (np.array([1, 2], dtype=np.int64), "int64"), (np.array([1, 2], dtype=np.int32), "int32"),
    (np.array([True, False]), "bool"), (np.array([1], dtype=np.uint8), "uint8"),
])
def test_integer_and_bool_tensors_exist_but_cannot_require_grad(data, dtype):
    t = ag.Tensor(data)
    assert t.dtype == np.dtype(dtype) and not t.requires_grad
    with pytest.raises(TypeError, match=dtype):
        ag.Tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match=dtype):
        t.requires_grad = True
    assert not t.requires_grad


def test_creation_functions_refuse_grad_on_integer_dtypes():
    with pytest.raises(TypeError, match="int32"):
        ag.zeros(2, dtype=np.int32, requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        ag.arange(3, requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        ag.Tensor([1, 2], dtype=np.int64, requires_grad=True)


def test_integer_tensor_ops_and_mixing_with_float_tensors():
    i = ag.Tensor(np.array([1, 2, 3]))
    assert (i + i).dtype == np.int64 and not (i + i).requires_grad
    x = ag.Tensor([0.5, 1.5, 2.5], requires_grad=True)
    y = i * x
    assert y.dtype == np.float64 and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0])


# ---- Python data is float64 --------------------------------------------------------------------
@pytest.mark.parametrize("data", [3, 2.5, [1, 2, 3], [[1.5, 2], [3, 4]], (1, 2), [[]]])
def test_python_numbers_and_lists_become_float64(data):
    t = ag.Tensor(data)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, np.array(data, dtype=np.float64))
    assert ag.tensor(data).dtype == np.float64


def test_numpy_arrays_keep_their_dtype_and_are_copied():
    a = np.array([1.0, 2.0], dtype=F32)
    t = ag.Tensor(a)
    assert t.dtype == F32
    a[0] = 100.0
    assert t.data[0] == 1.0
    assert ag.Tensor(a, dtype=np.float64).dtype == np.float64


def test_float64_python_scalars_do_not_promote_float32_but_float64_arrays_do():
    x = f32_leaf((2,))
    assert (x * 2.0).dtype == F32
    assert (x + np.ones(2)).dtype == np.float64  # numpy's rule for two arrays


# ---- numpy operands on either side ---------------------------------------------------------------
@pytest.mark.parametrize("name,f,df", [
    ("a*t", lambda a, t: a * t, lambda a, x: a),
    ("a+t", lambda a, t: a + t, lambda a, x: np.ones_like(x)),
    ("a-t", lambda a, t: a - t, lambda a, x: -np.ones_like(x)),
    ("a/t", lambda a, t: a / t, lambda a, x: -a / x**2),
    ("a**t", lambda a, t: a**t, lambda a, x: a**x * np.log(a)),
    ("t**a", lambda a, t: t**a, lambda a, x: a * x ** (a - 1)),
    ("np.multiply", lambda a, t: np.multiply(a, t), lambda a, x: a),
    ("np.float64*t", lambda a, t: np.float64(2.0) * t, lambda a, x: np.full_like(x, 2.0)),
])
def test_numpy_operands_give_tensors(name, f, df):
    a = np.array([1.5, 2.0, 3.0])
    x = np.array([0.5, 1.0, 2.0])
    t = ag.Tensor(x, requires_grad=True)
    y = f(a, t)
    assert isinstance(y, ag.Tensor) and y.requires_grad, f"{name} gave {type(y).__name__}"
    y.sum().backward()
    np.testing.assert_allclose(t.grad.data, df(a, x), rtol=1e-14)


def test_ndarray_matmul_tensor_gives_a_tensor():
    a = np.arange(6.0).reshape(2, 3)
    t = ag.Tensor(np.ones((3, 4)), requires_grad=True)
    y = a @ t
    assert isinstance(y, ag.Tensor) and y.shape == (2, 4)
    y.sum().backward()
    np.testing.assert_allclose(t.grad.data, np.repeat(a.sum(axis=0)[:, None], 4, axis=1))
    assert isinstance(np.matmul(a, t), ag.Tensor)
    assert isinstance(np.dot(a, t), ag.Tensor)


def test_numpy_functions_route_to_ops():
    t = ag.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = np.sum(np.exp(t), axis=0)
    assert isinstance(y, ag.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(t.grad.data, np.exp(t.data))
    assert isinstance(np.mean(t), ag.Tensor)
    np.testing.assert_array_equal(np.asarray(t.detach()), t.data)


# ---- attributes and repr ------------------------------------------------------------------------
def test_attributes():
    t = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float64
    assert t.T.shape == (3, 2) and t.T.requires_grad
    assert t.is_leaf and t.grad is None and t.grad_fn is None
    assert t.numpy() is t.data
    assert np.asarray(t.detach()) is t.data  # np.asarray(t) itself is refused: t requires grad
    assert ag.Tensor(4.5).item() == 4.5
    assert len(t) == 2
    rows = list(t)
    assert len(rows) == 2 and rows[1].requires_grad
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0, 5.0])


def test_repr_shows_values_dtype_and_graph_state():
    x = ag.Tensor([1.5, -2.0], requires_grad=True)
    r = repr(x)
    assert "1.5" in r and "-2." in r and "float64" in r and "requires_grad=True" in r
    y = x * 2.0
    assert "grad_fn=<multiply>" in repr(y)
    assert "requires_grad" not in repr(ag.Tensor([1.0]))
    assert "float32" in repr(ag.Tensor(np.ones(2, dtype=F32)))


# ---- creation ----------------------------------------------------------------------------------
def test_creation_helpers():
    assert ag.zeros(2, 3).shape == (2, 3) and ag.zeros((2, 3)).data.sum() == 0
    assert ag.ones(4).dtype == np.float64 and ag.ones(4).data.sum() == 4
    z = ag.zeros(3, requires_grad=True)
    assert z.requires_grad and z.is_leaf
    t = ag.Tensor(np.ones((2, 2), dtype=F32))
    assert ag.zeros_like(t).dtype == F32 and ag.ones_like(t).shape == (2, 2)
    np.testing.assert_array_equal(ag.full((2,), 7.0).data, [7.0, 7.0])
    np.testing.assert_array_equal(ag.arange(3).data, [0, 1, 2])
    np.testing.assert_array_equal(ag.arange(1.0, 2.0, 0.5).data, [1.0, 1.5])
    np.testing.assert_array_equal(ag.linspace(0, 1, 3).data, [0, 0.5, 1])
    np.testing.assert_array_equal(ag.eye(2).data, np.eye(2))
    with pytest.raises(ValueError, match="non-negative"):
        ag.zeros(-1)


def test_random_creation_is_reproducible_from_seed_or_generator():
    a, b = ag.randn(3, 2, rng=5), ag.randn(3, 2, rng=5)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.shape == (3, 2) and a.dtype == np.float64
    np.testing.assert_array_equal(a.data, np.random.default_rng(5).standard_normal((3, 2)))
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    np.testing.assert_array_equal(ag.rand(4, rng=g1).data, ag.rand(4, rng=g2).data)
    u = ag.rand(1000, rng=1)
    assert (u.data >= 0).all() and (u.data < 1).all()
    assert ag.randn(2, rng=1, dtype=F32, requires_grad=True).dtype == F32
    with pytest.raises(TypeError, match="rng"):
        ag.randn(2, rng="seed")
