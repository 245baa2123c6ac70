"""Value checks eager mode makes on every call (class indices, probabilities, whole-number
targets, converted targets, take's wrapped indices) hold for compiled calls too: a compiled
call whose values fail raises eager mode's error (the check is guarded, the trace raises), and
values converted outside the graph are computed anew at each call, never kept from the trace."""

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim
from autograd_nn.nn import functional as F


def _raises_as_eager(fn, good, bad, error, match):
    """``fn`` eagerly and compiled: the good call works, the bad one raises the same error."""
    compiled = ag.compile(fn)
    for g in (fn, compiled):
        expected = fn(*good)
        assert float(g(*good)) == float(expected)
        with pytest.raises(error, match=match):
            g(*bad)
        assert float(g(*good)) == float(expected)  # and the good call still works after


X = ag.Tensor(np.zeros((2, 3)), requires_grad=True)


@pytest.mark.parametrize("wrap", [np.asarray, ag.Tensor])
def test_cross_entropy_float_class_indices_must_be_whole(wrap):
    _raises_as_eager(F.cross_entropy, (X, wrap(np.array([0.0, 2.0]))),
                     (X, wrap(np.array([0.5, 2.0]))), ValueError, "whole class indices")


@pytest.mark.parametrize("wrap", [np.asarray, ag.Tensor])
def test_cross_entropy_float_class_indices_in_range(wrap):
    _raises_as_eager(F.cross_entropy, (X, wrap(np.array([0.0, 2.0]))),
                     (X, wrap(np.array([-1.0, 2.0]))), ValueError, "out of range")


def test_cross_entropy_float_class_indices_not_finite():
    _raises_as_eager(F.cross_entropy, (X, np.array([0.0, 2.0])), (X, np.array([np.nan, 2.0])),
                     ValueError, "whole class indices")


def test_nll_loss_float_class_indices_must_be_whole():
    _raises_as_eager(F.nll_loss, (X, np.array([1.0, 2.0])), (X, np.array([1.0, 1.5])),
                     ValueError, "whole class indices")


P = ag.Tensor(np.full(3, 0.5), requires_grad=True)


@pytest.mark.parametrize("wrap", [np.asarray, ag.Tensor])
@pytest.mark.parametrize("bad", [1.5, -0.25, np.nan])
def test_bce_targets_must_be_probabilities(wrap, bad):
    _raises_as_eager(F.binary_cross_entropy, (P, wrap(np.array([0.0, 1.0, 0.3]))),
                     (P, wrap(np.array([0.0, bad, 0.3]))), ValueError, "probability in")


def test_bce_inputs_must_be_probabilities():
    t = np.array([0.0, 1.0, 0.3])
    _raises_as_eager(F.binary_cross_entropy, (P, t), (ag.Tensor([0.5, 1.5, 0.5]), t),
                     ValueError, "probability")


def test_bce_target_check_in_a_training_step():
    model = nn.Sequential(nn.Linear(2, 1, rng=0), nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.1)

    @ag.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.binary_cross_entropy(model(x).reshape(-1), y)
        loss.backward()
        opt.step()
        return loss

    x = ag.Tensor(np.ones((2, 2)))
    step(x, np.array([0.0, 1.0]))
    step(x, np.array([0.0, 1.0]))
    before = model[0].weight.numpy().copy()
    with pytest.raises(ValueError, match="probability in"):
        step(x, np.array([0.0, 2.0]))
    assert np.array_equal(model[0].weight.numpy(), before)  # the bad step changed nothing


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "binary_cross_entropy_with_logits"])
def test_integer_array_target_read_at_each_call(loss):
    # the target is converted to the input's dtype: that conversion is followed, not kept
    fn = getattr(F, loss)
    f = ag.compile(fn)
    x = ag.Tensor(np.zeros(3), requires_grad=True)
    f(x, np.array([1, 0, 1]))
    for t in (np.array([0, 1, 1]), np.array([4, 5, 6])):
        assert float(f(x, t)) == float(fn(x, t))
    assert f.trace_count == 1


def test_integer_array_weight_read_at_each_call():
    def fn(x, t, w):
        return F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=w)

    f = ag.compile(fn)
    x = ag.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    t = np.array([1.0, 0.0, 1.0])
    f(x, t, np.array([1, 1, 1]))
    w = np.array([2, 3, 4])
    assert float(f(x, t, w)) == float(fn(x, t, w))


@pytest.mark.parametrize("mode", ["wrap", "clip"])
@pytest.mark.parametrize("wrap", [np.asarray, ag.Tensor])
def test_take_wrapped_or_clipped_indices_follow_the_input(mode, wrap):
    def fn(x, i):
        return (ag.take(x, i, mode=mode) * ag.Tensor([1.0, 10.0])).sum()

    f = ag.compile(fn)
    x = ag.Tensor(np.arange(4.0), requires_grad=True)
    f(x, wrap(np.array([0, 1])))
    i = wrap(np.array([5, -3]))
    y, e = f(x, i), fn(x, i)
    assert float(y) == float(e)
    y.backward()
    xe = ag.Tensor(np.arange(4.0), requires_grad=True)
    fn(xe, i).backward()
    assert np.array_equal(x.grad.numpy(), xe.grad.numpy())


def test_embedding_and_class_index_ranges_still_guarded():
    emb = nn.Embedding(4, 2, rng=0)
    _raises_as_eager(lambda i: emb(i).sum(), (ag.Tensor(np.array([0, 3])),),
                     (ag.Tensor(np.array([0, 4])),), IndexError, r"in \[0, 4\)")
    _raises_as_eager(F.cross_entropy, (X, np.array([0, 2])), (X, np.array([0, 3])),
                     ValueError, "out of range")


def _same_as_eager(fn, first, second):
    """Traced on ``first``, the compiled call on ``second`` equals eager mode's, value and
    gradients of the float tensors that require grad, bit for bit."""
    compiled = ag.compile(fn)
    compiled(*first)
    y, e = compiled(*second), fn(*second)
    assert np.array_equal(y.detach().numpy(), e.detach().numpy(), equal_nan=True)
    leaves = [a for a in second if isinstance(a, ag.Tensor) and a.requires_grad]
    gy = ag.autograd.grad(y, leaves)
    ge = ag.autograd.grad(e, leaves)
    for a, b in zip(gy, ge):
        assert np.array_equal(a.numpy(), b.numpy())
    assert compiled.trace_count == 1


def _t(values, requires_grad=True):
    return ag.Tensor(np.array(values, dtype=float), requires_grad=requires_grad)


def test_clip_with_tensor_bounds_follows_the_values():
    def fn(x, lo, hi):
        return (ag.clip(x, lo, hi) * _t([1.0, 10.0, 100.0], False)).sum()

    _same_as_eager(fn, (_t([1.0, 2.0, 3.0]), _t([1.5, 1.5, 1.5]), _t([2.5, 2.5, 2.5])),
                   (_t([1.0, 2.0, 3.0]), _t([0.5, 3.0, 1.0]), _t([0.7, 4.0, 2.0])))


def test_sort_and_partition_follow_the_values():
    w = _t([1.0, 10.0, 100.0], False)
    _same_as_eager(lambda x: (ag.sort(x) * w).sum(), (_t([1.0, 2.0, 3.0]),),
                   (_t([3.0, 1.0, 2.0]),))
    _same_as_eager(lambda x: (np.partition(x, 1) * w).sum(), (_t([1.0, 2.0, 3.0]),),
                   (_t([3.0, 1.0, 2.0]),))


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_coordinates_follow_the_values(edge_order):
    def fn(f, h):
        return (ag.gradient(f, h, edge_order=edge_order) * _t([1.0, 2.0, 3.0, 4.0], False)).sum()

    f = _t([1.0, 2.0, 4.0, 7.0])
    _same_as_eager(fn, (f, np.array([0.0, 1.0, 2.0, 3.0])), (f, np.array([0.0, 1.0, 3.0, 4.5])))
    _same_as_eager(fn, (f, ag.Tensor(2.0)), (f, ag.Tensor(0.25)))
