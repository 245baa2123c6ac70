"""In-place writes the version counter must see (issue 10): numpy calls that write into a Tensor
through the interop (``out=``, ``ufunc.at``, np.copyto/put/place/putmask/put_along_axis/
fill_diagonal, nan_to_num(copy=False)) bump its version, so backward refuses a gradient computed
from the old values; inside a graph they are refused, as the in-place methods are."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag

MASK = np.array([True, False, True])

WRITES = {
    "np.copyto": lambda w: np.copyto(w, 0.5),
    "np.copyto(dst=)": lambda w: np.copyto(dst=w, src=np.array([0.5, 0.5, 0.5])),
    "np.add.at": lambda w: np.add.at(w, [0, 0], 5.0),
    "np.multiply.at": lambda w: np.multiply.at(w, [1], 3.0),
    "np.put": lambda w: np.put(w, [0], 5.0),
    "np.place": lambda w: np.place(w, MASK, 5.0),
    "np.putmask": lambda w: np.putmask(w, MASK, 5.0),
    "np.put_along_axis": lambda w: np.put_along_axis(w, np.array([2]), 5.0, axis=0),
    "np.nan_to_num(copy=False)": lambda w: np.nan_to_num(w, copy=False),
    "ufunc out=": lambda w: np.exp(w, out=w),
    "ufunc out= from arrays": lambda w: np.add(np.ones(3), 1.0, out=w),
    "ufunc.reduce out=": lambda w: np.add.reduce(np.ones((2, 3)), axis=0, out=w),
    "ufunc.accumulate out=": lambda w: np.add.accumulate(w, out=w),
    "np.cumsum out=": lambda w: np.cumsum(w, out=w),
    "np.matmul out=": lambda w: np.matmul(np.eye(3) * 2.0, w, out=w),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_numpy_write_into_a_saved_tensor_is_caught_by_backward(write):
    x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = ag.Tensor([1.0, -2.0, 4.0], name="w")
    loss = (x * w).sum()  # multiply saves w
    write(w)
    assert w.version == 1
    with pytest.raises(RuntimeError, match="multiply: its operand 1 'w'.*modified in place"):
        loss.backward()


def test_fill_diagonal_bumps_the_version_of_a_saved_matrix():
    x = ag.Tensor(np.ones((2, 2)), requires_grad=True)
    w = ag.Tensor(np.arange(4.0).reshape(2, 2))
    loss = (x @ w).sum()
    np.fill_diagonal(w, 9.0)
    assert w.version == 1
    with pytest.raises(RuntimeError, match="matmul: its operand 1.*modified in place"):
        loss.backward()


def test_numpy_writes_return_what_numpy_returns():
    w = ag.Tensor([1.0, 2.0, 3.0])
    assert np.exp(w, out=w) is w
    assert np.cumsum(w, out=w) is w
    assert np.nan_to_num(w, copy=False) is w
    assert np.copyto(w, 1.0) is None and np.add.at(w, [0], 1.0) is None
    np.testing.assert_array_equal(w.data, [2.0, 1.0, 1.0])
    assert w.version == 5


@pytest.mark.parametrize("write", [
    lambda w, x: np.copyto(w, x),
    lambda w, x: np.add.at(w, [0], x[0]),
    lambda w, x: np.multiply(x, 2.0, out=w),
    lambda w, x: np.add.at(x, [0], 1.0),
    lambda w, x: np.copyto(x, w),
    lambda w, x: np.put(x, [0], 1.0),
], ids=["copyto from x", "add.at of x", "out= of x", "add.at into x", "copyto into x", "put x"])
def test_numpy_writes_involving_a_tensor_that_requires_grad_are_refused(write):
    x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = ag.Tensor([7.0, 8.0, 9.0])
    with pytest.raises(RuntimeError, match="in place.*requires grad.*no_grad"):
        write(w, x)
    np.testing.assert_array_equal(w.data, [7.0, 8.0, 9.0])
    np.testing.assert_array_equal(x.data, [1.0, 2.0, 3.0])
    assert w.version == 0 and x.version == 0
    with ag.no_grad():  # an optimizer-style update is fine, and counted
        np.add.at(x, [0], 1.0)
    assert x.version == 1 and x.data[0] == 2.0


# A plain ndarray operand has no version counter: an op that saves it keeps its own copy, so a
# later write into the caller's array (a reused batch buffer) cannot change the gradient.
# Expected values are the derivatives of the forward that was computed (by hand).
@pytest.mark.parametrize("op, expected", [
    (lambda x, a: (x * a).sum(), [3.0, 4.0]),
    (lambda x, a: (x / a).sum(), [1 / 3, 1 / 4]),
    (lambda x, a: (x.reshape(1, 2) @ a.reshape(2, 1)).sum(), [3.0, 4.0]),
    (lambda x, a: ag.maximum(x, a).sum(), [0.0, 0.0]),
    (lambda x, a: ag.einsum("i,i->", x, a), [3.0, 4.0]),
    (lambda x, a: ag.where(a > 3.5, x * a, x).sum(), [1.0, 4.0]),
    (lambda x, a: (x ** a).sum(), [3.0 * 1.0 ** 2, 4.0 * 2.0 ** 3]),
], ids=["multiply", "divide", "matmul", "maximum", "einsum", "where", "power"])
def test_a_numpy_operand_written_after_the_forward_leaves_the_gradient_right(op, expected):
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    y = op(x, a)
    a[...] = 0.0  # the caller reuses its buffer before backward
    y.backward()
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)
    np.testing.assert_array_equal(a, [0.0, 0.0])  # the caller's array is the caller's
