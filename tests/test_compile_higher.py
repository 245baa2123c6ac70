"""Higher derivatives through a compiled node (``create_graph=True``, hessian, hvp, jvp,
gradgradcheck, nested transforms): the same arrays as eager mode, bit for bit, on the random
graphs of strategies_graphs.py and every op; checked against finite differences of the
first-order gradient; dropout's mask is the forward's; in-place changes are caught."""

from __future__ import annotations

import numpy as np
import pytest
from compile_adversarial_helpers import close
from fd_oracle import assert_grads_match, fd_directional
from hypothesis import given
from strategies_graphs import OPS, programs
from test_compile import _as_function, mlp, params

import autograd_nn as ag
from autograd_nn import Tensor
from autograd_nn.nn import functional as F


def _same(a, b):
    if a is None or b is None:
        return a is None and b is None
    a = a.detach().numpy() if isinstance(a, Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, Tensor) else np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def _second_order(fn, xs, vs):
    """(value, first gradients, d<grad, v>/dx): each derivative taken with create_graph."""
    y = fn(*xs)
    gs = ag.autograd.grad(y, xs, create_graph=True, allow_unused=True)
    terms = [(g * v).sum() for g, v in zip(gs, vs) if g is not None and g.requires_grad]
    if not terms:
        return y, gs, [None] * len(xs)
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    hs = ag.autograd.grad(total, xs, allow_unused=True)
    return y, gs, hs


def _outcome(fn, xs, vs):
    try:
        with np.errstate(all="ignore"):
            return _second_order(fn, xs, vs)
    except Exception as e:  # noqa: BLE001 - eager and compiled must fail alike
        return type(e)


def _check_second_order(prog):
    fn = _as_function(prog)
    leaves = [Tensor(prog.inputs[k].copy(), requires_grad=True) for k in sorted(prog.inputs)]
    rng = np.random.default_rng(len(prog.steps))
    vs = [rng.normal(size=x.shape) for x in leaves]
    cf = ag.compile(fn)
    with np.errstate(all="ignore"):
        cf(*leaves)  # traces
    got = _outcome(cf, leaves, vs)
    want = _outcome(fn, leaves, vs)
    if isinstance(want, type):
        assert got is want, (prog, got)
        return
    assert isinstance(got, tuple), (prog, got)
    assert got[0].grad_fn.name == "compiled"
    for a, b in zip([got[0], *got[1], *got[2]], [want[0], *want[1], *want[2]]):
        assert _same(a, b), (prog, cf.source)


@given(programs(max_steps=6))
def test_random_graphs_second_order_as_eager(prog):
    _check_second_order(prog)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_second_order_as_eager(name):
    @given(programs(required=name, max_steps=3))
    def check(prog):
        _check_second_order(prog)

    check()


def _tensors_equal(a, b):
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_tensors_equal(x, y) for x, y in zip(a, b))
    return _same(a, b)


def test_hessian_hvp_jvp_and_nested_grads_as_eager(rng):
    x, W1, b1, W2 = params(rng)
    cf = ag.compile(mlp)
    cf(x, W1, b1, W2)
    v = Tensor(rng.normal(size=W1.shape))
    for transform in (lambda f: ag.hessian(f, argnums=(1, 2))(x, W1, b1, W2),
                      lambda f: ag.hvp(lambda w: f(x, w, b1, W2), (W1,), (v,)),
                      lambda f: ag.jvp(ag.grad(lambda w: f(x, w, b1, W2)), (W1,), (W1 * 0.5,)),
                      lambda f: ag.grad(lambda b: ag.grad(lambda c: f(x, W1, c, W2))(b).sum())(b1)):
        got = transform(cf)
        want = transform(mlp)
        assert _tensors_equal(got, want)
    assert cf.trace_count == 1  # every call ran the compiled node


def test_third_order_as_eager(rng):
    def f(x, w):
        return (ag.tanh(x * w) ** 3).sum() + ag.logsumexp(x @ w.T, axis=0).sum()

    x = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    w = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    cf = ag.compile(f)
    cf(x, w)

    def third(fn):
        (gx,) = ag.autograd.grad(fn(x, w), x, create_graph=True)
        gxw = ag.autograd.grad((gx ** 2).sum(), (x, w), create_graph=True)
        return ag.autograd.grad((gxw[0] * gxw[1]).sum(), (x, w))

    assert _tensors_equal(third(cf), third(f))


def test_hessian_vector_products_match_differences_of_the_gradient(rng):
    """An independent angle: d/dt grad(x + t v) by central differences of the compiled first
    derivative, against the compiled hvp."""
    x, W1, b1, W2 = params(rng)
    cf = ag.compile(mlp)
    cf(x, W1, b1, W2)
    v = [rng.normal(size=W1.shape), rng.normal(size=b1.shape)]

    def gradient(w1, bias):
        a, b = Tensor(w1, requires_grad=True), Tensor(bias, requires_grad=True)
        out = cf(x, a, b, W2)
        out.backward()
        return [a.grad.numpy(), b.grad.numpy()]

    fd = fd_directional(gradient, [W1.numpy(), b1.numpy()], v)
    _, hv = ag.hvp(lambda a, b: cf(x, a, b, W2), (W1, b1), tuple(Tensor(d) for d in v))
    assert_grads_match([h.numpy() for h in hv], fd, rtol=1e-6, atol=1e-8, what="hvp")


def test_gradgradcheck_through_a_compiled_node(rng):
    def f(x, w):
        return ag.sigmoid(x @ w) * ag.exp(-x[:, :1])

    cf = ag.compile(f)
    x = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    w = Tensor(rng.normal(size=(2, 4)), requires_grad=True)
    cf(x, w)
    assert ag.gradcheck(cf, (x, w))
    assert ag.gradgradcheck(cf, (x, w))
    assert cf.trace_count == 1


def test_dropout_second_order_uses_the_forwards_mask():
    def f(x, rng):
        return (ag.tanh(F.dropout(x, 0.5, training=True, rng=rng)) ** 2).sum()

    x = Tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    g1 = np.random.default_rng(7)
    cf = ag.compile(lambda x: f(x, g1))
    cf(x)  # traces: draws once
    eager_rng = np.random.default_rng(7)
    f(x, eager_rng)  # the same draw

    def hess(fn):
        (gx,) = ag.autograd.grad(fn(x), x, create_graph=True)
        return ag.autograd.grad((gx * gx).sum(), x)[0]

    got = hess(cf)
    want = hess(lambda t: f(t, eager_rng))
    assert _same(got, want)
    # the replay drew from a copy: both generators are where eager mode left its own
    assert g1.bit_generator.state == eager_rng.bit_generator.state
    assert not np.array_equal(got.numpy(), hess(cf).numpy())  # a new call, a new mask


def test_dropout_on_numpys_global_generator():
    x = Tensor(np.linspace(-1, 1, 8), requires_grad=True)
    cf = ag.compile(lambda t: (F.dropout(t, 0.3) ** 3).sum())
    cf(x)
    np.random.seed(3)
    (gc,) = ag.autograd.grad(cf(x), x, create_graph=True)
    hc = ag.autograd.grad(gc.sum(), x)[0]
    after_compiled = np.random.random()  # where the global stream is now
    np.random.seed(3)
    (ge,) = ag.autograd.grad((F.dropout(x, 0.3) ** 3).sum(), x, create_graph=True)
    he = ag.autograd.grad(ge.sum(), x)[0]
    assert _same(gc, ge) and _same(hc, he)
    assert np.random.random() == after_compiled


def test_guarded_branches_second_order(rng):
    def f(x):
        if (x.sum() > 0):
            return (x ** 3).sum()
        return (ag.sin(x) * x).sum()

    cf = ag.compile(f)
    for sign in (1.0, -1.0, 1.0):
        x = Tensor(sign * np.abs(rng.normal(size=4)), requires_grad=True)
        assert _tensors_equal(ag.hessian(cf)(x), ag.hessian(f)(x))
    assert cf.trace_count == 2


def test_an_input_changed_in_place_after_the_call_is_caught(rng):
    """Eager mode keeps the intermediate (x + b) ** 2 needs; the replay would read b anew."""
    cf = ag.compile(lambda x, b: ((x + b) ** 2).sum())
    x = Tensor(rng.normal(size=3), requires_grad=True)
    b = Tensor(rng.normal(size=3))
    cf(x, b)
    y = cf(x, b)
    with ag.no_grad():
        b += 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        ag.autograd.grad(y, x, create_graph=True)


def test_a_numpy_array_argument_changed_after_the_call(rng):
    def f(x, a):
        return (ag.exp(x * a) ** 2).sum()

    cf = ag.compile(f)
    x = Tensor(rng.normal(size=3), requires_grad=True)
    a = rng.normal(size=3)
    cf(x, a)
    y_c, y_e = cf(x, a), f(x, a)
    kept = a.copy()
    a[:] = 100.0  # eager mode saved a private copy of the array; so does the compiled node
    (gc,) = ag.autograd.grad(y_c, x, create_graph=True)
    (ge,) = ag.autograd.grad(y_e, x, create_graph=True)
    assert _same(gc, ge)
    assert _same(ag.autograd.grad(gc.sum(), x)[0], ag.autograd.grad(ge.sum(), x)[0])
    a[:] = kept


def test_hooks_on_inputs_run_once_under_create_graph(rng):
    x, W1, b1, W2 = params(rng)
    cf = ag.compile(mlp)
    cf(x, W1, b1, W2)
    seen = []
    W1.register_hook(lambda g: seen.append(1))
    ag.autograd.grad(cf(x, W1, b1, W2), W1, create_graph=True)
    assert seen == [1]


def test_a_module_compiled_second_order(rng):
    model = ag.nn.Sequential(ag.nn.Linear(3, 4, rng=1), ag.nn.Tanh(), ag.nn.Linear(4, 1, rng=2))
    cm = ag.compile(model)
    x = Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    cm(x)

    def penalty(fn):  # a gradient penalty, as WGAN-GP trains with
        (gx,) = ag.autograd.grad(fn(x).sum(), x, create_graph=True)
        loss = ((gx ** 2).sum(axis=1) - 1.0).mean()
        return ag.autograd.grad(loss, list(model.parameters()), allow_unused=True)

    assert _tensors_equal(penalty(cm), penalty(model))


def _hvp_pair(fn, xs, vs):
    _, gs, hs = _second_order(fn, xs, vs)
    return [*gs, *hs]


def test_same_tensor_twice_an_argument_also_captured_and_float32(rng):
    w = Tensor(rng.normal(size=3), requires_grad=True)

    def f(a, b):
        return (ag.sin(a * b) * w).sum() + (a * w * w).sum()

    x = Tensor(rng.normal(size=3), requires_grad=True)
    for args in ((x, x), (x, w), (w, x)):
        cf = ag.compile(f)  # one each: a call (x, w) after a trace (w, x) is another story
        cf(*args)
        vs = [rng.normal(size=3) for _ in (x, w)]
        assert _tensors_equal(_hvp_pair(cf, [*args], vs), _hvp_pair(f, [*args], vs))
    x32 = Tensor(rng.normal(size=3).astype(np.float32), requires_grad=True)
    w32 = Tensor(rng.normal(size=3).astype(np.float32), requires_grad=True)
    g = ag.compile(lambda a, b: (ag.exp(a) * b ** 2).sum())
    g(x32, w32)
    vs = [np.ones(3, np.float32), np.ones(3, np.float32)]
    got = _hvp_pair(g, [x32, w32], vs)
    assert all(t.dtype == np.float32 for t in got)
    assert _tensors_equal(got, _hvp_pair(lambda a, b: (ag.exp(a) * b ** 2).sum(),
                                         [x32, w32], vs))


def test_view_outputs_and_a_compiled_node_used_twice(rng):
    cv = ag.compile(lambda t: ag.tanh(t)[:, 1:])
    x = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    cv(x)

    def f(fn):
        y = fn(x)
        return (y * fn(x * 2.0) ** 2).sum()

    vs = [rng.normal(size=x.shape)]
    got = _hvp_pair(lambda t: f(cv), [x], vs)
    want = _hvp_pair(lambda t: f(lambda s: ag.tanh(s)[:, 1:]), [x], vs)
    # two compiled nodes: the recorded gradient graph is built in another order (each node's
    # region when the pass reaches it), so the second pass may add in another order
    for a, b in zip(got, want):
        close(a.detach().numpy(), b.detach().numpy())
    assert cv.trace_count == 1


def test_batch_norm_in_training_second_order_updates_the_statistics_once(rng):
    import copy

    model = ag.nn.Sequential(ag.nn.Linear(3, 4, rng=1), ag.nn.BatchNorm1d(4),
                             ag.nn.Tanh(), ag.nn.Linear(4, 1, rng=2))
    twin = copy.deepcopy(model)
    cm = ag.compile(model)
    for _ in range(3):
        x = Tensor(rng.normal(size=(6, 3)), requires_grad=True)
        results = []
        for m in (cm, twin):
            (gx,) = ag.autograd.grad(m(x).sum(), x, create_graph=True)
            results.append(ag.autograd.grad((gx ** 2).sum(), x))
        assert _tensors_equal(results[0], results[1])
        s1, s2 = model.state_dict(), twin.state_dict()
        assert all(np.array_equal(s1[k], s2[k]) for k in s1)  # the replay wrote nothing
    assert cm.trace_count == 1


def test_an_output_reading_a_buffer_it_changes_second_order_as_eager():
    def make():
        total = Tensor(np.zeros(2))

        def f(x):
            u = (x + total).sum()  # reads it before the change (add saves nothing), and after
            with ag.no_grad():
                total.add_(x.detach())
                total[0] = total[0] * 2.0
            return (ag.sin(x) * x * total).sum() + u * u

        return f, total

    (fc, tc), (fe, te) = make(), make()
    cf = ag.compile(fc)
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    for _ in range(4):
        got, want = [], []
        for fn, out in ((cf, got), (fe, want)):
            y = fn(x)
            (g,) = ag.autograd.grad(y, x, create_graph=True)
            out += [y, g, ag.autograd.grad((g * g).sum(), x)[0]]
        assert _tensors_equal(got, want) and _same(tc, te)
    assert cf.trace_count == 1
    y = cf(x)
    cf(x)  # changes the buffer y's graph read: as eager mode, the create_graph pass refuses
    with pytest.raises(RuntimeError, match="modified in place"):
        ag.autograd.grad(y, x, create_graph=True)


def test_a_random_draw_the_output_does_not_use_still_moves_the_generator():
    def f(x, g):
        F.dropout(x, 0.5, rng=g)  # drawn, unused: eager mode's generator moves anyway
        return (F.dropout(x, 0.5, rng=g) ** 3).sum()

    x = Tensor(np.linspace(0.5, 2.0, 10), requires_grad=True)
    gc, ge = np.random.default_rng(11), np.random.default_rng(11)
    cf = ag.compile(lambda t: f(t, gc))
    for _ in range(3):
        (hc,) = ag.autograd.grad(ag.autograd.grad(cf(x), x, create_graph=True)[0].sum(), x)
        (he,) = ag.autograd.grad(ag.autograd.grad(f(x, ge), x, create_graph=True)[0].sum(), x)
        assert _same(hc, he)
        assert gc.bit_generator.state == ge.bit_generator.state
