"""Bad input gets a clear error naming what was wrong (op, shapes, dtype, axis), never a wrong
number, and changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag


def x23() -> ag.Tensor:
    return ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)


def message(exc_type, fn, *args) -> str:
    """The message of the exception ``fn(*args)`` raises (failing if it raises nothing)."""
    with pytest.raises(exc_type) as e:
        fn(*args)
    return str(e.value)


# ---- incompatible shapes name the op and both shapes --------------------------------------------
@pytest.mark.parametrize("op,fn,other", [
    ("add", lambda x, y: x + y, (4,)),
    ("subtract", lambda x, y: x - y, (3, 2)),
    ("multiply", ag.multiply, (4, 1, 2)),
    ("divide", lambda x, y: x / y, (2,)),
    ("power", lambda x, y: x**y, (2,)),
    ("maximum", ag.maximum, (4,)),
    ("minimum", ag.minimum, (3, 3)),
    ("matmul", lambda x, y: x @ y, (4, 5)),
    ("matmul", ag.matmul, (4,)),
    ("where", lambda x, y: ag.where(np.ones((2, 3), bool), x, y), (4,)),
    ("concatenate", lambda x, y: ag.concatenate([x, y]), (2, 4)),
])
def test_incompatible_shapes_name_the_op_and_both_shapes(op, fn, other):
    x = x23()
    for y in (ag.Tensor(np.ones(other), requires_grad=True), np.ones(other)):
        msg = message(ValueError, fn, x, y)
        assert op in msg and "(2, 3)" in msg and str(other) in msg, msg


def test_other_shape_errors_name_the_op_and_shape():
    x = x23()
    for op, fn in [("reshape", lambda: x.reshape(4, 2)),
                   ("broadcast_to", lambda: ag.broadcast_to(x, (3, 3))),
                   ("squeeze", lambda: ag.squeeze(x, 0)),
                   ("transpose", lambda: x.transpose(0, 0)),
                   ("stack", lambda: ag.stack([x, ag.Tensor(np.ones((3, 2)))])),
                   ("split", lambda: ag.split(x, 2, axis=1))]:
        msg = message(ValueError, fn)
        assert op in msg and ("(2, 3)" in msg or "size 3" in msg), msg


def test_index_out_of_range_names_getitem_and_shape():
    msg = message(IndexError, lambda: x23()[5])
    assert "getitem" in msg and "(2, 3)" in msg


# ---- axis out of range names the op -------------------------------------------------------------
AXIS_OPS = {
    "sum": lambda x: ag.sum(x, axis=2), "mean": lambda x: x.mean(axis=-3),
    "max": lambda x: ag.max(x, axis=(0, 5)), "min": lambda x: x.min(axis=3),
    "prod": lambda x: ag.prod(x, axis=2), "var": lambda x: ag.var(x, axis=2),
    "std": lambda x: x.std(axis=-4), "logsumexp": lambda x: ag.logsumexp(x, axis=2),
    "softmax": lambda x: ag.softmax(x, axis=2), "log_softmax": lambda x: ag.log_softmax(x, -3),
    "swapaxes": lambda x: ag.swapaxes(x, 0, 2), "squeeze": lambda x: ag.squeeze(x, 4),
    "expand_dims": lambda x: ag.expand_dims(x, 4), "stack": lambda x: ag.stack([x, x], axis=4),
    "split": lambda x: ag.split(x, 2, axis=3), "concatenate": lambda x: ag.concatenate([x], 2),
    "transpose": lambda x: ag.transpose(x, (0, 2)),
}


@pytest.mark.parametrize("op", sorted(AXIS_OPS))
def test_axis_out_of_range_names_the_op(op):
    msg = message(np.exceptions.AxisError, lambda: AXIS_OPS[op](x23()))
    assert msg.startswith(f"{op}:") and "out of bounds" in msg, msg


def test_repeated_axis_names_the_op():
    for op, fn in [("sum", lambda x: ag.sum(x, axis=(0, 0))),
                   ("var", lambda x: ag.var(x, axis=(1, -1)))]:
        assert op in message(ValueError, fn, x23())


def test_var_without_degrees_of_freedom():
    msg = message(ValueError, lambda: ag.var(ag.Tensor([1.0]), ddof=1))
    assert "var" in msg and "ddof=1" in msg


# ---- unsupported dtypes raise TypeError naming the dtype ----------------------------------------
@pytest.mark.parametrize("bad,dtype", [
    (np.array(["a", "b", "c"]), "<U1"),
    (np.array([object(), 1, 2], dtype=object), "object"),
    (np.array([1j, 1, 1]), "complex128"),
])
def test_ops_on_object_str_complex_arrays_name_the_dtype(bad, dtype):
    x = x23()
    for op, fn in [("multiply", lambda: x * bad), ("add", lambda: bad + x),
                   ("exp", lambda: ag.exp(bad)), ("sum", lambda: ag.sum(bad)),
                   ("maximum", lambda: ag.maximum(x, bad))]:
        msg = message(TypeError, fn)
        assert op in msg and dtype in msg, msg
    assert x.grad is None


@pytest.mark.parametrize("data,dtype", [
    (np.array(["a"]), "<U1"), (["a", "b"], "<U1"),
    (np.array([None, 1], dtype=object), "object"), (np.array([1 + 2j]), "complex128"),
])
def test_tensors_of_unsupported_dtype_name_it(data, dtype):
    msg = message(TypeError, lambda: ag.Tensor(data))
    assert dtype in msg


def test_requires_grad_on_integer_data_names_the_dtype():
    assert "int64" in message(TypeError, lambda: ag.Tensor(np.arange(3), requires_grad=True))
    assert "bool" in message(TypeError, lambda: ag.Tensor(np.ones(2, bool), requires_grad=True))


def test_list_of_tensors_is_not_silently_converted():
    x = ag.Tensor([1.0], requires_grad=True)
    assert "stack" in message(TypeError, lambda: ag.Tensor([x, x]))


# ---- backward's bad arguments -------------------------------------------------------------------
def test_backward_argument_errors_leave_the_graph_usable():
    x = x23()
    y = ag.exp(x)
    msg = message(RuntimeError, lambda: y.backward())
    assert "(2, 3)" in msg and "gradient" in msg
    msg = message(ValueError, lambda: y.backward(np.ones((3,))))
    assert "(3,)" in msg and "(2, 3)" in msg
    msg = message(TypeError, lambda: y.backward(np.ones((2, 3), dtype=np.float32)))
    assert "float32" in msg and "float64" in msg
    assert x.grad is None
    y.backward(np.ones((2, 3)))
    np.testing.assert_allclose(x.grad.data, np.exp(x.data))


def test_backward_without_graph_says_so():
    msg = message(RuntimeError, lambda: ag.Tensor([1.0, 2.0]).sum().backward())
    assert "does not require grad" in msg
    with ag.no_grad():
        y = x23().sum()
    assert "does not require grad" in message(RuntimeError, y.backward)


def test_failed_op_changes_nothing():
    x = x23()
    before = x.data.copy()
    with pytest.raises(ValueError):
        x + np.ones(4)
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None and x.is_leaf and x.requires_grad
