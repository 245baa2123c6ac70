"""numpy's joining calls on tensors (issue 12, item 8): where numpy dispatches (the tensors are
passed themselves, or sit in the sequence np.stack/np.concatenate/np.block take) the graph is
built; where it does not (a list of tensors given to np.mean, np.array, np.r_ ...) the refusal
says what to call instead, and what it says is checked to give the true gradient.

Oracles: float64 central differences of the same expression on plain arrays, and PyTorch's
cat/stack/hstack/vstack/dstack/column_stack when PyTorch is installed."""

from __future__ import annotations

import numpy as np
import pytest
from fd_oracle import assert_grads_match, fd_gradients

import autograd_nn as ag

try:
    import torch
except ImportError:  # pragma: no cover - the torch comparisons are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
RNG = np.random.default_rng(8)
A0, B0, C0 = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3)), RNG.standard_normal(3)
WEIGHTS = {}


def weighted(y):
    """A fixed random weighting of y's entries (so every entry's gradient differs)."""
    w = WEIGHTS.setdefault(np.shape(y), RNG.standard_normal(np.shape(y)))
    return (y * w).sum() if isinstance(y, ag.Tensor) else float(np.sum(np.asarray(y) * w))


# each builds from (a, b, c) with numpy's own function; the same code runs on arrays
DISPATCHED = {
    "np.stack": lambda a, b, c: np.stack([a, b], axis=1),
    "np.stack tuple mixed": lambda a, b, c: np.stack((a, np.ones((2, 3)), b)),
    "np.concatenate": lambda a, b, c: np.concatenate([a, b], axis=-1),
    "np.concatenate axis=None": lambda a, b, c: np.concatenate((a, c), axis=None),
    "np.append": lambda a, b, c: np.append(a, c),
    "np.append axis": lambda a, b, c: np.append(a, b, axis=0),
    "np.block 2-d": lambda a, b, c: np.block([[a, b], [c, c]]),
    "np.block scalars and arrays": lambda a, b, c: np.block([[a, np.zeros((2, 1))],
                                                            [c[None], 2.0]]),
    "np.vstack": lambda a, b, c: np.vstack([a, c, b]),
    "np.hstack": lambda a, b, c: np.hstack((a, b)),
    "np.dstack": lambda a, b, c: np.dstack([a, b]),
    "np.column_stack": lambda a, b, c: np.column_stack([c, c * 2.0]),
    "np.mean of np.stack": lambda a, b, c: np.mean(np.stack([a, b]), axis=0),
    "np.sum of np.concatenate": lambda a, b, c: np.sum(np.concatenate([a, b]), axis=1),
    "np.prod of np.stack": lambda a, b, c: np.prod(np.stack([a, b]), axis=0),
}


def leaves():
    return [ag.Tensor(v, requires_grad=True) for v in (A0, B0, C0)]


@pytest.mark.parametrize("build", DISPATCHED.values(), ids=DISPATCHED.keys())
def test_numpy_joining_calls_build_the_graph(build):
    a, b, c = leaves()
    y = build(a, b, c)
    assert isinstance(y, ag.Tensor) and y.requires_grad
    np.testing.assert_allclose(y.data, build(A0, B0, C0), rtol=1e-15)
    weighted(y).backward()
    got = [t.grad.data if t.grad is not None else np.zeros(t.shape) for t in (a, b, c)]
    assert_grads_match(got, fd_gradients(lambda *xs: weighted(build(*xs)), [A0, B0, C0]))


TORCH_NAMES = {"np.stack": "stack", "np.concatenate": "cat", "np.vstack": "vstack",
               "np.hstack": "hstack", "np.dstack": "dstack", "np.column_stack": "column_stack"}


@needs_torch
@pytest.mark.parametrize("name", TORCH_NAMES)
def test_numpy_joining_calls_match_torch(name):
    a, b, _ = leaves()
    axis = {"np.stack": 1, "np.concatenate": -1}.get(name)
    kw = {} if axis is None else {"axis": axis}
    y = getattr(np, name[3:])([a, b * b], **kw)
    weighted(y).backward()
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (A0, B0))
    tkw = {} if axis is None else {"dim": axis}
    ty = getattr(torch, TORCH_NAMES[name])([ta, tb * tb], **tkw)
    (ty * torch.tensor(WEIGHTS[tuple(ty.shape)])).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-14)


def test_block_second_derivative_matches_finite_differences():
    def f(x, xp):
        m = xp.block([[x[:2] * x[2], x[1:2] ** 2], [xp.sin(x[:2]), 1.0]])
        return (m * m * m).sum()

    x0 = np.array([0.3, -0.7, 1.2])
    h = ag.hessian(lambda x: f(x, np))(x0)
    fd = np.stack([fd_gradients(lambda x: f(x, np), [x0 + e])[0]
                   - fd_gradients(lambda x: f(x, np), [x0 - e])[0]
                   for e in np.eye(3) * 1e-4]) / 2e-4
    np.testing.assert_allclose(h.data, fd, rtol=1e-4, atol=1e-6)


# ---- where numpy does not dispatch: refused, and the message's advice is right -----------------
# (the refused call, the call the message advises, the words of that advice in the message)
ADVICE = [
    (lambda a, b: np.mean([a, b]), lambda a, b: np.mean(ag.stack([a, b])), "np.mean(ag.stack"),
    (lambda a, b: np.sum((a, b), axis=0), lambda a, b: np.sum(ag.stack((a, b)), axis=0),
     "ag.stack"),
    (lambda a, b: np.prod([a, b]), lambda a, b: np.prod(ag.stack([a, b])), "ag.stack"),
    (lambda a, b: np.max([a, b]), lambda a, b: np.max(np.stack([a, b])), "np.stack"),
    (lambda a, b: np.linalg.norm([a, b]), lambda a, b: np.linalg.norm(np.stack([a, b])),
     "np.stack"),
    (lambda a, b: np.cumsum([a, b]), lambda a, b: np.cumsum(ag.stack([a, b])), "ag.stack"),
    (lambda a, b: np.array([a, b]), lambda a, b: ag.stack([a, b]), "ag.stack"),
    (lambda a, b: np.r_[a, b], lambda a, b: ag.concatenate([a, b]), "np.r_ -> ag.concatenate"),
    (lambda a, b: np.c_[a, b], lambda a, b: ag.column_stack([a, b]), "np.c_ -> ag.column_stack"),
    (lambda a, b: np.append([a], [b]), lambda a, b: np.append(a, b), "np.append(a, b)"),
    (lambda a, b: np.concatenate([[a], [b]]), lambda a, b: ag.stack([a, b]), "ag.stack"),
]


@pytest.mark.parametrize("refused, advised, words", ADVICE)
def test_the_refusal_advises_a_call_that_gives_the_true_gradient(refused, advised, words):
    a, b = (ag.Tensor(v, requires_grad=True) for v in (C0, C0[::-1] * 2.0))
    with pytest.raises(TypeError, match="requires grad") as info:
        refused(a, b)
    assert words in str(info.value) and "detach" in str(info.value)
    assert a.grad is None and b.grad is None
    y = advised(a, b)
    np.testing.assert_allclose(y.data, refused(C0, C0[::-1] * 2.0), rtol=1e-15)
    weighted(y).backward()
    fd = fd_gradients(lambda u, v: weighted(refused(u, v)), [C0, C0[::-1] * 2.0])
    assert_grads_match([a.grad.data, b.grad.data], fd)


# ---- numpy's arguments and errors ---------------------------------------------------------------
def test_unsupported_numpy_arguments_are_named():
    a, b, _ = leaves()
    for call, words in [
        (lambda: np.stack([a, b], dtype=np.float32), "stack: the argument dtype="),
        (lambda: np.concatenate([a, b], casting="unsafe"), "concatenate: the argument casting="),
        (lambda: ag.concatenate([a, b], None, np.zeros(12)), "concatenate: the argument out="),
        (lambda: np.vstack([a, b], dtype=np.float32), "vstack: the argument dtype="),
        (lambda: np.hstack([a, b], casting="no"), "hstack: the argument casting="),
    ]:
        with pytest.raises(TypeError, match=words):
            call()
    np.testing.assert_array_equal(np.concatenate([a, b], casting="same_kind").data,
                                  np.concatenate([A0, B0]))  # numpy's default is accepted


def test_block_errors_as_numpy():
    a, b, c = leaves()
    with pytest.raises(TypeError, match=r"block: arrays\[1\] is a tuple; only lists"):
        np.block([a, (b, c)])
    with pytest.raises(ValueError, match=r"block: list depths are mismatched: arrays\[0\] "
                                         r"nests lists 1 deep but arrays\[1\] 0 deep"):
        np.block([[a], b])
    with pytest.raises(ValueError, match=r"block: the list at arrays\[0\]\[1\] cannot be empty"):
        np.block([[a, []]])
    for bad in ([[A0], B0], [[A0, []]]):  # numpy refuses the same
        with pytest.raises(ValueError):
            np.block(bad)
    d = ag.block(a)  # no list: a copy of the array, still in the graph
    assert d.shape == (2, 3) and d.requires_grad and d is not a
