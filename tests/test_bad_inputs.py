"""The catalog of bad inputs: one case per mistake a user can plausibly make. Each case asserts
the error type, the words of the message (op, shapes, dtype, argument...) and that nothing
changed: tensors (data, version, .grad, requires_grad), modules (parameters, grads, training
flag), optimizers (state and hyperparameters), files.

A case is a function returning ``(watched objects, action)``, registered with the expected
error and words. Known defects are kept as ``xfail(strict=True)`` cases naming the culprit.

The last part checks the documented NaN semantics: where numpy warns and returns NaN/inf
(log(-1), sqrt(-1), 0/0, 1/0), the engine does the same, and ``detect_anomaly()`` turns it
into an `AnomalyError`.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim
from autograd_nn import train as ag_train
from autograd_nn.data import BatchIterator
from autograd_nn.nn import functional as F

CASES: list = []


def case(exc: type | tuple, *words: str, xfail: str | None = None) -> Callable:
    """Register a case: ``exc`` expected, every one of ``words`` in the message."""
    def register(fn: Callable) -> Callable:
        marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
        CASES.append(pytest.param(fn, exc, words, id=fn.__name__, marks=marks))
        return fn
    return register


def leaf(shape=(2, 3), seed=0, dtype=np.float64) -> ag.Tensor:
    data = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    return ag.Tensor(data, requires_grad=True)


def with_grad(t: ag.Tensor) -> ag.Tensor:
    t.grad = ag.Tensor(np.full(t.shape, 0.5, dtype=t.dtype))
    return t


def model() -> nn.Module:
    m = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    for p in m.parameters():
        with_grad(p)
    return m


def stepped(opt_cls=optim.Adam, **kw) -> tuple[nn.Module, Any]:
    """A model and an optimizer that has taken one step (so it has state)."""
    m = model()
    opt = opt_cls(m.parameters(), **({"lr": 0.1} | kw))
    opt.step()
    for p in m.parameters():
        with_grad(p)
    return m, opt


# ---- snapshots ----------------------------------------------------------------------------------
def snapshot(obj: Any) -> Any:
    if isinstance(obj, ag.Tensor):
        return ("tensor", obj.data.copy(), obj.dtype, obj.version, obj.requires_grad,
                obj.grad_fn, None if obj.grad is None else obj.grad.data.copy())
    if isinstance(obj, nn.Module):
        return ("module", obj.training, [(n, snapshot(p)) for n, p in obj.named_parameters()])
    if isinstance(obj, optim.Optimizer):
        return ("optimizer", copy.deepcopy(obj.state_dict()))
    if isinstance(obj, (str, os.PathLike)):
        with open(obj, "rb") as f:
            return ("file", f.read())
    raise TypeError(f"cannot snapshot {type(obj).__name__}")


def same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and \
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a is b or a == b


@pytest.mark.parametrize("build, exc, words", CASES)
def test_bad_input_raises_a_clear_error_and_changes_nothing(build, exc, words):
    watched, action = build()
    before = [snapshot(w) for w in watched]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(exc) as e:
            action()
    msg = str(e.value)
    missing = [w for w in words if w not in msg]
    assert not missing, f"{missing} not in the message: {msg!r}"
    for w, b in zip(watched, before):
        assert same(snapshot(w), b), f"{type(w).__name__} changed by a failed call"


def test_the_catalog_has_at_least_forty_cases():
    assert len(CASES) >= 40


# ==== shapes of binary ops and matmul ============================================================
def _binary(name: str, fn: Callable) -> None:
    def build():
        a, b = with_grad(leaf((2, 3))), leaf((4, 5), seed=1)
        return [a, b], lambda: fn(a, b)
    build.__name__ = f"{name}_incompatible_shapes"
    case(ValueError, name, "(2, 3)", "(4, 5)")(build)


for _name, _fn in [
    ("add", lambda a, b: a + b), ("subtract", lambda a, b: a - b),
    ("multiply", lambda a, b: a * b), ("divide", lambda a, b: a / b),
    ("power", lambda a, b: a**b), ("maximum", ag.maximum), ("minimum", ag.minimum),
    ("where", lambda a, b: ag.where(np.ones((2, 3), bool), a, b)),
    ("matmul", lambda a, b: a @ b),
]:
    _binary(_name, _fn)


@case(ValueError, "matmul", "(3,)", "(4,)")
def matmul_vectors_of_different_length():
    a, b = leaf((3,)), leaf((4,), seed=1)
    return [a, b], lambda: ag.matmul(a, b)


@case(ValueError, "matmul", "(2, 2, 3)", "(3, 3, 4)")
def matmul_batch_axes_that_do_not_broadcast():
    a, b = leaf((2, 2, 3)), leaf((3, 3, 4), seed=1)
    return [a, b], lambda: a @ b


@case(ValueError, "matmul", "()", "(2, 3)", "dimensions")
def matmul_with_a_0d_operand():
    a, b = ag.Tensor(2.0, requires_grad=True), leaf((2, 3))
    return [a, b], lambda: a @ b


@case(ValueError, "matmul", "(2, 3)", "()", "dimensions")
def matmul_with_a_0d_operand_on_the_right():
    a = leaf((2, 3))
    return [a], lambda: a @ ag.Tensor(3.0)


@case(ValueError, "add_", "(3,)")
def in_place_add_with_a_shape_that_does_not_fit():
    t = ag.Tensor(np.ones(3))
    return [t], lambda: t.add_(np.ones((2, 3)))


@case(ValueError, "copy_", "(3,)", "(4,)")
def copy_from_a_wrong_shape():
    t = ag.Tensor(np.ones(3))
    return [t], lambda: t.copy_(np.ones(4))


# ==== axes ========================================================================================
for _name, _fn in [
    ("sum", lambda x: x.sum(axis=2)), ("mean", lambda x: x.mean(axis=-3)),
    ("max", lambda x: x.max(axis=5)), ("prod", lambda x: ag.prod(x, axis=2)),
    ("logsumexp", lambda x: ag.logsumexp(x, axis=2)), ("softmax", lambda x: ag.softmax(x, 2)),
    ("log_softmax", lambda x: ag.log_softmax(x, -3)),
    ("concatenate", lambda x: ag.concatenate([x, x], axis=2)),
    ("stack", lambda x: ag.stack([x, x], axis=4)), ("squeeze", lambda x: x.squeeze(3)),
    ("expand_dims", lambda x: ag.expand_dims(x, 4)), ("swapaxes", lambda x: x.swapaxes(0, 2)),
    ("split", lambda x: ag.split(x, 3, axis=2)),
]:
    def _build(fn=_fn):
        x = with_grad(leaf())
        return [x], lambda: fn(x)
    _build.__name__ = f"{_name}_axis_out_of_range"
    case(np.exceptions.AxisError, _name, "out of bounds", "axis")(_build)


@case(ValueError, "sum", "repeated axis")
def sum_over_a_repeated_axis():
    x = leaf()
    return [x], lambda: x.sum(axis=(1, -1))


def test_softmax_over_a_tuple_of_axes_normalises_jointly():
    """Once a silent wrong number (only the first axis was used); now numpy/scipy semantics."""
    x = leaf()
    e = np.exp(x.data - x.data.max())
    np.testing.assert_allclose(ag.softmax(x, axis=(0, 1)).data, e / e.sum(), rtol=1e-14)
    np.testing.assert_allclose(ag.log_softmax(x, axis=(0, 1)).data, np.log(e / e.sum()),
                               rtol=1e-13)


# ==== shapes ======================================================================================
@case(ValueError, "reshape", "size 6", "(4,)")
def reshape_to_an_incompatible_size():
    x = leaf()
    return [x], lambda: x.reshape(4)


@case(ValueError, "squeeze", "axis 0", "(2, 3)", "not 1")
def squeeze_an_axis_that_is_not_1():
    x = leaf()
    return [x], lambda: x.squeeze(0)


@case(ValueError, "transpose", "(0, 1, 2)", "permutation")
def transpose_with_too_many_axes():
    x = leaf()
    return [x], lambda: x.transpose(0, 1, 2)


@case(ValueError, "transpose", "repeated axis")
def transpose_with_a_repeated_axis():
    x = leaf()
    return [x], lambda: x.transpose(0, 0)


@case(ValueError, "split", "2 sections", "size 3")
def split_into_unequal_sections():
    x = leaf()
    return [x], lambda: ag.split(x, 2, axis=1)


@case(ValueError, "stack", "same shape", "(2, 3)", "(3, 2)")
def stack_of_different_shapes():
    a, b = leaf((2, 3)), leaf((3, 2), seed=1)
    return [a, b], lambda: ag.stack([a, b])


@case(ValueError, "concatenate", "dimension 1", "size 3", "size 2")
def concatenate_with_mismatched_other_axes():
    a, b = leaf((2, 3)), leaf((2, 2), seed=1)
    return [a, b], lambda: ag.concatenate([a, b], axis=0)


@case(ValueError, "broadcast_to", "(2, 3)", "(3,3)")
def broadcast_to_an_incompatible_shape():
    x = leaf()
    return [x], lambda: ag.broadcast_to(x, (3, 3))


@case(IndexError, "getitem", "index 5", "size 2")
def index_out_of_range():
    x = leaf()
    return [x], lambda: x[5]


@case(IndexError, "getitem", "boolean index", "size of axis is 2")
def boolean_mask_of_the_wrong_length():
    x = leaf()
    return [x], lambda: x[np.ones(5, bool)]


# ==== reductions without an identity ==============================================================
@case(ValueError, "max", "zero-size", "(0, 3)")
def max_of_an_empty_tensor():
    x = ag.Tensor(np.zeros((0, 3)), requires_grad=True)
    return [x], lambda: ag.max(x)


@case(ValueError, "min", "zero-size", "(0,)")
def min_of_an_empty_tensor():
    x = ag.Tensor(np.zeros(0), requires_grad=True)
    return [x], lambda: x.min()


@case(ValueError, "mean", "empty", "(0,)")
def mean_of_an_empty_tensor():
    x = ag.Tensor(np.zeros(0), requires_grad=True)
    return [x], lambda: x.mean()


@case(ValueError, "var", "ddof=2", "2 elements")
def var_with_ddof_equal_to_n():
    x = leaf()
    return [x], lambda: ag.var(x, axis=0, ddof=2)


@case(ValueError, "std", "ddof=1", "1 elements")
def std_of_one_element_with_ddof_1():
    x = leaf((1,))
    return [x], lambda: x.std(ddof=1)


@case(ValueError, "clip", "a_min", "a_max")
def clip_with_neither_bound():
    x = leaf()
    return [x], lambda: ag.clip(x)


# ==== dtypes and operands ========================================================================
@case(TypeError, "int64", "floating")
def integer_data_with_requires_grad():
    return [], lambda: ag.Tensor(np.arange(3), requires_grad=True)


@case(TypeError, "bool", "floating")
def bool_data_with_requires_grad():
    return [], lambda: ag.Tensor(np.ones(3, bool), requires_grad=True)


@case(TypeError, "object")
def object_data():
    return [], lambda: ag.Tensor(np.array([1, "a"], dtype=object))


@case(TypeError, "<U3")
def string_data():
    return [], lambda: ag.Tensor("abc")


@case(TypeError, "complex128")
def complex_data():
    return [], lambda: ag.Tensor(np.array([1 + 2j]))


@case(TypeError, "inhomogeneous")
def ragged_nested_list():
    return [], lambda: ag.Tensor([[1.0, 2.0], [3.0]])


@case(TypeError, "add", "str")
def string_operand():
    x = with_grad(leaf())
    return [x], lambda: x + "1.0"


@case(TypeError, "multiply", "object")
def object_array_operand():
    x = leaf()
    return [x], lambda: x * np.array([object()] * 3)


@case(TypeError, "add", "NoneType")
def none_operand():
    x = leaf()
    return [x], lambda: x + None


@case(TypeError, "stack()")
def list_of_tensors_as_operand():
    x = leaf()
    return [x], lambda: x + [x, x]


@case(TypeError, "stack() or concatenate()")
def tensor_from_a_list_of_tensors_that_require_grad():
    x = leaf()
    return [x], lambda: ag.Tensor([x, x])


@case(TypeError, "astype", "<U")
def astype_to_str():
    x = leaf()
    return [x], lambda: x.astype(str)


@case(TypeError, "add_", "int64")
def in_place_add_of_a_float_into_an_integer_tensor():
    t = ag.Tensor(np.arange(3), dtype=np.int64)
    return [t], lambda: t.add_(0.5)


@case(TypeError, "int64")
def assigning_integer_data_to_a_tensor_that_requires_grad():
    x = leaf()
    return [x], lambda: setattr(x, "data", np.arange(6).reshape(2, 3))


# ==== backward ====================================================================================
@case(RuntimeError, "(2, 3)", "not a single element", "grad=")
def backward_of_a_non_scalar_without_a_gradient():
    x = with_grad(leaf())
    y = x * 2.0
    return [x], lambda: y.backward()


@case(ValueError, "(3,)", "(2, 3)", "shape")
def backward_with_a_gradient_of_the_wrong_shape():
    x = with_grad(leaf())
    y = x * 2.0
    return [x], lambda: y.backward(np.ones(3))


@case(TypeError, "float32", "float64", "dtype")
def backward_with_a_gradient_of_the_wrong_dtype():
    x = with_grad(leaf())
    y = x * 2.0
    return [x], lambda: y.backward(np.ones((2, 3), np.float32))


@case(TypeError, "int64", "float64")
def backward_with_an_integer_gradient_array():
    x = with_grad(leaf())
    y = x * 2.0
    return [x], lambda: y.backward(np.ones((2, 3), np.int64))


@case(RuntimeError, "retain_graph", "second time", "sum")
def backward_twice_without_retain_graph():
    x = leaf()
    y = (x * x).sum()
    y.backward()
    with_grad(x)
    return [x], lambda: y.backward()


@case(RuntimeError, "does not require grad")
def backward_on_a_tensor_without_grad():
    x = ag.Tensor(np.ones(3))
    return [x], lambda: (x * 2).sum().backward()


@case(RuntimeError, "does not require grad", "no_grad")
def backward_on_a_result_computed_under_no_grad():
    x = with_grad(leaf())
    with ag.no_grad():
        y = (x * 2).sum()
    return [x], lambda: y.backward()


@case(RuntimeError, "multiply", "operand 1", "modified in place")
def backward_after_an_in_place_change_of_a_saved_tensor():
    x, w = with_grad(leaf((3,))), ag.Tensor(np.ones(3))
    y = (x * w).sum()
    w.add_(1.0)
    return [x], lambda: y.backward()


@case(RuntimeError, "in-place add_", "requires grad", "no_grad")
def in_place_op_on_a_leaf_that_requires_grad():
    x = with_grad(leaf())
    return [x], lambda: x.add_(1.0)


@case(RuntimeError, "in-place item assignment", "requires grad")
def item_assignment_on_a_leaf_that_requires_grad():
    x = with_grad(leaf())
    return [x], lambda: x.__setitem__(0, 1.0)


@case(RuntimeError, "in-place +=", "requires grad")
def augmented_assignment_on_a_leaf_that_requires_grad():
    x = with_grad(leaf())

    def act():
        y = x
        y += 1.0
    return [x], act


@case(RuntimeError, "leaf", "detach")
def requires_grad_changed_on_a_non_leaf():
    x = leaf()
    y = x * 2
    return [x, y], lambda: setattr(y, "requires_grad", False)


@case(RuntimeError, "hook", "(2,)", "(3,)")
def hook_returning_a_wrong_shape():
    x = with_grad(leaf((3,)))
    a = x * 2.0
    a.register_hook(lambda g: g[:2])
    return [x], lambda: a.sum().backward()


@case(RuntimeError, "register_hook", "does not require grad")
def hook_on_a_tensor_without_grad():
    x = ag.Tensor(np.ones(3))
    return [x], lambda: x.register_hook(lambda g: g)


@case(ValueError, "grad of shape (1,)", "shape (3,)", "must match")
def assigning_a_grad_of_the_wrong_shape():
    x = with_grad(leaf((3,)))
    return [x], lambda: setattr(x, "grad", ag.Tensor(np.ones(1)))


@case(ValueError, "float32", "float64", "must match")
def assigning_a_grad_of_the_wrong_dtype():
    x = with_grad(leaf((3,)))
    return [x], lambda: setattr(x, "grad", ag.Tensor(np.ones(3, np.float32)))


# ==== custom Functions ============================================================================
class _Double(ag.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2.0


class _TwoGrads(_Double):
    @staticmethod
    def backward(ctx, g):
        return g, g


class _WrongShape(_Double):
    @staticmethod
    def backward(ctx, g):
        return np.ones(5)


class _ReturnsText(ag.Function):
    @staticmethod
    def forward(ctx, x):
        return "text"

    @staticmethod
    def backward(ctx, g):
        return g


def _apply_and_backward(fn_cls):
    x = with_grad(leaf((3,)))
    y = fn_cls.apply(x).sum()
    return [x], lambda: y.backward()


@case(RuntimeError, "_TwoGrads.backward", "2 gradients", "1 operand")
def function_backward_returning_too_many_gradients():
    return _apply_and_backward(_TwoGrads)


@case(RuntimeError, "_WrongShape.backward", "(5,)", "(3,)")
def function_backward_returning_a_wrong_shape():
    return _apply_and_backward(_WrongShape)


@case(NotImplementedError, "_Double", "backward")
def function_without_backward():
    return _apply_and_backward(_Double)


@case(TypeError, "_ReturnsText", "<U4")
def function_forward_returning_text():
    x = leaf((3,))
    return [x], lambda: _ReturnsText.apply(x)


# ==== transforms and autograd.grad ================================================================
@case(ValueError, "grad", "single element", "(3,)", "jacobian")
def grad_of_a_non_scalar_function():
    return [], lambda: ag.grad(lambda x: x * 2)(np.ones(3))


@case(TypeError, "grad", "must return a Tensor", "float")
def grad_of_a_function_returning_a_float():
    return [], lambda: ag.grad(lambda x: float(x.data.sum()))(np.ones(3))


@case(TypeError, "jacobian", "output[1]", "str", "must return a Tensor")
def jacobian_of_a_function_returning_a_list_holding_text():
    return [], lambda: ag.jacobian(lambda x: [x, "x"])(np.ones(3))


@case(ValueError, "single element", "(3,)")
def hessian_of_a_non_scalar_function():
    return [], lambda: ag.hessian(lambda x: x * 2)(np.ones(3))


@case(ValueError, "argnums 2", "1 arguments")
def grad_with_argnums_out_of_range():
    return [], lambda: ag.grad(lambda x: x.sum(), argnums=2)(np.ones(3))


@case(ValueError, "hvp", "(2,)", "(3,)")
def hvp_with_a_tangent_of_the_wrong_shape():
    return [], lambda: ag.hvp(lambda x: (x * x).sum(), np.ones(3), np.ones(2))


@case(ValueError, "input 0", "allow_unused")
def autograd_grad_of_an_unrelated_input():
    x, z = leaf((3,)), leaf((3,), seed=1)
    y = (x * 2).sum()
    return [x, z], lambda: ag.autograd.grad(y, [z])


@case(ValueError, "1 outputs", "2 grad_outputs")
def autograd_grad_with_too_many_grad_outputs():
    x = leaf((3,))
    y = (x * 2).sum()
    return [x], lambda: ag.autograd.grad([y], [x], grad_outputs=[None, None])


@case(TypeError, "grad", "Tensor", "float")
def autograd_grad_of_a_python_number():
    x = leaf((3,))
    return [x], lambda: ag.autograd.grad(3.0, [x])


@case(ValueError, "gradcheck", "eps", "positive")
def gradcheck_with_a_zero_step():
    x = leaf((3,))
    return [x], lambda: ag.gradcheck(lambda t: (t * t).sum(), [x], eps=0)


@case(ValueError, "numerical_grad", "single-element", "(3,)", "numerical_jacobian")
def numerical_grad_of_a_non_scalar_function():
    return [], lambda: ag.numerical_grad(lambda t: t * 2, [np.ones(3)])


@case(ag.GradcheckError, "FAILED", "not a Tensor that requires grad")
def gradcheck_of_a_function_that_detaches_its_output():
    x = leaf((3,))
    return [x], lambda: ag.gradcheck(lambda t: ag.Tensor((t * t).sum().data), [x])


# ==== anomaly mode ===============================================================================
@case(ag.AnomalyError, "multiply produced NaN", "operand(s) [0] already held", "(3,)")
def nan_input_under_anomaly_mode():
    x = ag.Tensor([1.0, np.nan, 2.0], requires_grad=True)

    def act():
        with ag.detect_anomaly():
            ag.tanh(x * 2.0)
    return [x], act


@case(ag.AnomalyError, "add produced inf", "operand(s) [1] already held")
def inf_input_under_anomaly_mode():
    x = with_grad(leaf((3,)))

    def act():
        with ag.detect_anomaly():
            x + np.array([0.0, np.inf, 0.0])
    return [x], act


# ==== nn: modules, state dicts, files =============================================================
@case(ValueError, "matmul", "(4, 5)", "(3, 4)")
def linear_layer_fed_the_wrong_number_of_features():
    m = model()
    return [m], lambda: m(ag.Tensor(np.ones((4, 5))))


@case(ValueError, "Linear", "in_features", "0")
def linear_with_zero_features():
    return [], lambda: nn.Linear(0, 2)


@case(ValueError, "missing key", "'2.bias'", "Nothing was loaded")
def load_state_dict_with_a_missing_key():
    m = model()
    sd = {k: v + 1 for k, v in m.state_dict().items() if k != "2.bias"}
    return [m], lambda: m.load_state_dict(sd)


@case(ValueError, "unexpected key", "'extra'")
def load_state_dict_with_an_extra_key():
    m = model()
    sd = {**{k: v + 1 for k, v in m.state_dict().items()}, "extra": np.zeros(1)}
    return [m], lambda: m.load_state_dict(sd)


@case(ValueError, "'0.weight'", "(4, 3)", "(3, 4)")
def load_state_dict_with_a_transposed_weight():
    m = model()
    sd = {k: v + 1 for k, v in m.state_dict().items()}
    sd["0.weight"] = sd["0.weight"].T.copy()
    return [m], lambda: m.load_state_dict(sd)


@case(ValueError, "'2.bias'", "int64", "not floating point")
def load_state_dict_with_integer_values():
    m = model()
    sd = {k: v + 1 for k, v in m.state_dict().items()}
    sd["2.bias"] = np.zeros(2, dtype=np.int64)
    return [m], lambda: m.load_state_dict(sd)


def _saved_file(tmp: str, edit: Callable[[dict], dict] | None = None,
                damage: Callable[[bytes], bytes] | None = None) -> str:
    path = os.path.join(tmp, "model.npz")
    sd = {k: v + 1 for k, v in model().state_dict().items()}
    nn.save(edit(sd) if edit else sd, path)
    if damage:
        with open(path, "rb") as f:
            raw = f.read()
        with open(path, "wb") as f:
            f.write(damage(raw))
    return path


@pytest.fixture(autouse=True)
def _tmpdir(tmp_path, monkeypatch):
    monkeypatch.setenv("CATALOG_TMP", str(tmp_path))


def _tmp() -> str:
    return os.environ["CATALOG_TMP"]


@case(nn.SerializationError, "model.npz", "truncated or corrupted")
def load_of_a_truncated_file():
    m = model()
    path = _saved_file(_tmp(), damage=lambda raw: raw[: len(raw) // 2])
    return [m, path], lambda: nn.load(path, m)


@case(nn.SerializationError, "model.npz")
def load_of_a_corrupted_file():
    m = model()
    path = _saved_file(_tmp(), damage=lambda raw: raw[:40] + bytes(200) + raw[240:])
    return [m, path], lambda: nn.load(path, m)


@case(nn.SerializationError, "model.npz", "not")
def load_of_a_text_file():
    m = model()
    path = os.path.join(_tmp(), "model.npz")
    with open(path, "w") as f:
        f.write("weights: 1 2 3\n")
    return [m, path], lambda: nn.load(path, m)


@case(nn.SerializationError, "'0.weight'", "(2, 2)")
def load_of_a_file_with_a_wrong_shape():
    m = model()
    path = _saved_file(_tmp(), edit=lambda sd: {**sd, "0.weight": np.zeros((2, 2))})
    return [m, path], lambda: nn.load(path, m)


@case(nn.SerializationError, "'0.bias'", "int32")
def load_of_a_file_with_a_wrong_dtype():
    m = model()
    path = _saved_file(_tmp(), edit=lambda sd: {**sd, "0.bias": np.zeros(4, np.int32)})
    return [m, path], lambda: nn.load(path, m)


@case(FileNotFoundError, "nowhere.npz", "no such file")
def load_of_a_missing_file():
    m = model()
    return [m], lambda: nn.load(os.path.join(_tmp(), "nowhere.npz"), m)


@case(ValueError, "dropout", "[0, 1]", "1.5")
def dropout_probability_above_one():
    return [], lambda: nn.Dropout(1.5)


@case(TypeError, "Sequential", "'0'", "not a Module")
def sequential_of_a_plain_function():
    return [], lambda: nn.Sequential(lambda x: x)


@case(AttributeError, "super().__init__()", "'w'")
def module_without_super_init():
    class Net(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(2))
    return [], Net


@case(TypeError, "'weight'", "ndarray", "Parameter")
def assigning_an_array_over_a_parameter():
    m = model()
    return [m], lambda: setattr(m[0], "weight", np.ones((3, 4)))


@case(TypeError, "Parameter", "int64", "floating")
def integer_parameter():
    return [], lambda: nn.Parameter(np.arange(3))


# ==== losses ======================================================================================
@case(ValueError, "mse_loss", "unknown reduction", "'avg'")
def unknown_loss_reduction():
    x = with_grad(leaf())
    return [x], lambda: F.mse_loss(x, np.zeros((2, 3)), reduction="avg")


@case(ValueError, "CrossEntropyLoss", "unknown reduction", "'total'")
def unknown_reduction_in_a_loss_module():
    return [], lambda: nn.CrossEntropyLoss(reduction="total")


@case(ValueError, "mse_loss", "(4, 1)", "(4,)", "reshape")
def mse_between_column_and_flat_vector():
    x = leaf((4, 1))
    return [x], lambda: F.mse_loss(x, np.zeros(4))


@case(ValueError, "cross_entropy", "class index 3", "3 classes")
def cross_entropy_label_out_of_range():
    x = with_grad(leaf((4, 3)))
    return [x], lambda: F.cross_entropy(x, np.array([0, 1, 2, 3]))


@case(ValueError, "cross_entropy", "class index -1", "3 classes")
def cross_entropy_negative_label():
    x = leaf((4, 3))
    return [x], lambda: F.cross_entropy(x, np.array([0, -1, 2, 1]))


@case(ValueError, "cross_entropy", "whole class indices")
def cross_entropy_fractional_float_labels():
    x = leaf((4, 3))
    return [x], lambda: F.cross_entropy(x, np.array([0.5, 1.0, 2.0, 1.0]))


@case(ValueError, "cross_entropy", "(4, 1)", "ravel")
def cross_entropy_labels_as_a_column():
    x = leaf((4, 3))
    return [x], lambda: F.cross_entropy(x, np.array([[0], [1], [2], [1]]))


@case(ValueError, "binary_cross_entropy", "probability", "with_logits")
def binary_cross_entropy_given_logits():
    x = leaf((3,))
    return [x], lambda: F.binary_cross_entropy(x * 3.0, np.array([0.0, 1.0, 1.0]))


@case(TypeError, "mse_loss", "int64", "floating")
def loss_on_integer_predictions():
    return [], lambda: F.mse_loss(ag.Tensor(np.arange(3)), np.zeros(3))


# ==== optimizers ==================================================================================
for _lr in (0, -1, float("nan"), "0.1", None):
    def _build(lr=_lr):
        m = model()
        return [m], lambda: optim.SGD(m.parameters(), lr=lr)
    _build.__name__ = f"sgd_with_lr_{_lr!r}"
    case(ValueError, "SGD", "invalid lr", repr(_lr))(_build)


@case(ValueError, "Adam", "beta2", "1.0")
def adam_with_beta2_of_one():
    m = model()
    return [m], lambda: optim.Adam(m.parameters(), betas=(0.9, 1.0))


@case(ValueError, "SGD", "nesterov", "momentum")
def nesterov_without_momentum():
    m = model()
    return [m], lambda: optim.SGD(m.parameters(), lr=0.1, nesterov=True)


@case(ValueError, "SGD", "empty parameter list")
def optimizer_without_parameters():
    return [], lambda: optim.SGD([], lr=0.1)


@case(ValueError, "non-leaf")
def optimizer_over_a_non_leaf():
    x = leaf()
    return [x], lambda: optim.SGD([x * 2], lr=0.1)


@case(ValueError, "unknown hyperparameter", "'lrr'")
def parameter_group_with_a_misspelt_hyperparameter():
    m = model()
    return [m], lambda: optim.SGD([{"params": m.parameters(), "lrr": 0.1}], lr=0.1)


@case(ValueError, "Adam.load_state_dict", "do not match")
def optimizer_state_dict_from_another_model():
    m, opt = stepped()
    other = optim.Adam([nn.Parameter(np.zeros(2))], lr=0.1)
    return [m, opt], lambda: opt.load_state_dict(other.state_dict())


@case(ValueError, "SGD", "gradient of shape (5,)", "(2,)")
def optimizer_step_with_a_gradient_of_the_wrong_shape():
    m, opt = stepped(optim.SGD, momentum=0.9)
    m[2].bias.grad.data = np.ones(5)  # .grad = ... is checked; its .data can still be replaced
    return [m, opt], lambda: opt.step()  # the last parameter is bad: no other may move


# ==== data and training ==========================================================================
@case(ValueError, "batch_size", "positive int", "0")
def batch_size_zero():
    return [], lambda: BatchIterator(np.zeros((4, 3)), batch_size=0)


@case(ValueError, "batch_size", "positive int", "-2")
def negative_batch_size():
    return [], lambda: BatchIterator(np.zeros((4, 3)), batch_size=-2)


@case(ValueError, "different numbers of samples", "[4, 5]")
def inputs_and_labels_of_different_lengths():
    return [], lambda: BatchIterator(np.zeros((4, 3)), np.zeros(5), batch_size=2)


@case(ValueError, "fit", "epochs", "-1")
def fit_with_negative_epochs():
    m, opt = stepped()
    return [m, opt], lambda: ag_train.fit(m, F.mse_loss, opt, (np.zeros((4, 3)),
                                                               np.zeros((4, 2))), epochs=-1)


@case(ValueError, "batch_size", "0")
def fit_with_batch_size_zero():
    m, opt = stepped()
    for p in m.parameters():
        p.grad = None
    return [m, opt], lambda: ag_train.fit(m, F.mse_loss, opt, (np.zeros((4, 3)),
                                                               np.zeros((4, 2))),
                                          batch_size=0, progress=False)


@case(TypeError, "fit", "single-element Tensor", "(4, 2)")
def fit_with_a_loss_that_is_not_reduced():
    m, opt = stepped()
    for p in m.parameters():
        p.grad = None  # fit clears gradients at the start of every step
    return [m, opt], lambda: ag_train.fit(
        m, lambda o, y: F.mse_loss(o, y, reduction="none"), opt,
        (np.zeros((4, 3)), np.zeros((4, 2))), progress=False)


@case(ValueError, "unknown metric", "'f1'")
def fit_with_an_unknown_metric():
    m, opt = stepped()
    return [m, opt], lambda: ag_train.fit(m, F.mse_loss, opt, (np.zeros((4, 3)),
                                                               np.zeros((4, 2))),
                                          metrics=["f1"], progress=False)


@case(ValueError, "accuracy", "(5,)", "(4, 3)")
def accuracy_of_outputs_and_labels_that_do_not_fit():
    return [], lambda: ag_train.accuracy(np.zeros((4, 3)), np.zeros(5))


@case(ValueError, "one_hot", "label 3", "3 classes")
def one_hot_label_out_of_range():
    from autograd_nn.data import one_hot
    return [], lambda: one_hot(np.array([0, 3]), 3)


@case(ValueError, "train_test_split", "test_size", "1.5")
def train_test_split_with_a_fraction_above_one():
    from autograd_nn.data import train_test_split
    return [], lambda: train_test_split(np.zeros((4, 3)), np.zeros(4), test_size=1.5)


@case(TypeError, "rng", "str")
def random_tensor_with_a_string_seed():
    return [], lambda: ag.randn(2, 3, rng="seed")


# ==== NaN semantics: numpy's, unless detect_anomaly() is on =====================================
NUMPY_NAN_CASES = {
    "log(-1)": (lambda x: ag.log(x), -1.0, np.nan, "invalid value"),
    "sqrt(-1)": (lambda x: ag.sqrt(x), -1.0, np.nan, "invalid value"),
    "0/0": (lambda x: x / np.array([0.0, 1.0]), 0.0, np.nan, "invalid value"),
    "(-1)**0.5": (lambda x: x**0.5, -1.0, np.nan, "invalid value"),
    "log(0)": (lambda x: ag.log(x), 0.0, -np.inf, "divide by zero"),
    "1/0": (lambda x: x / np.array([0.0, 1.0]), 1.0, np.inf, "divide by zero"),
}


@pytest.mark.parametrize("name", sorted(NUMPY_NAN_CASES))
def test_outside_anomaly_mode_nan_and_inf_follow_numpy(name):
    fn, value, want, warning = NUMPY_NAN_CASES[name]
    x = ag.Tensor([value, 4.0], requires_grad=True)
    with np.errstate(all="warn"), pytest.warns(RuntimeWarning, match=warning):
        y = fn(x)
    with np.errstate(all="ignore"):
        ref = fn(np.array([value, 4.0]))  # numpy's own answer
    np.testing.assert_array_equal(y.data, ref)
    assert np.isnan(y.data[0]) if np.isnan(want) else y.data[0] == want


@pytest.mark.parametrize("name", sorted(NUMPY_NAN_CASES))
def test_anomaly_mode_turns_them_into_errors(name):
    fn, value, want, _ = NUMPY_NAN_CASES[name]
    x = ag.Tensor([value, 4.0], requires_grad=True)
    with np.errstate(all="ignore"), ag.detect_anomaly(), \
            pytest.raises(ag.AnomalyError, match="NaN" if np.isnan(want) else "inf"):
        fn(x)
    np.testing.assert_array_equal(x.data, [value, 4.0])
