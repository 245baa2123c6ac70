"""Structured arguments (pytrees) and has_aux in the function transforms, as JAX has them:
tuples, lists, dicts and namedtuples of tensors, arrays and numbers, nested; None is an empty
subtree. Oracles: float64 central differences of the same function written on numpy arrays,
and ``torch.func`` (which takes the same structures) when PyTorch is installed."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest
from fd_oracle import assert_grads_match, fd_gradients, fd_jacobian

import autograd_nn as ag

try:
    import torch
    from torch import func as tfunc
except ImportError:  # pragma: no cover - the torch comparisons are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
RNG = np.random.default_rng(12)
W0, B0 = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
W1, B1 = RNG.standard_normal((4, 2)), RNG.standard_normal(2)
U0, V0 = RNG.standard_normal(3), RNG.standard_normal(3)
X = RNG.standard_normal((5, 3))
SCALE = 0.7


def params(w0, b0, w1, b1, u, v, scale):
    """A nested structure: a dict holding a list of dicts, a tuple and a number."""
    return {"layers": [{"w": w0, "b": b0}, {"w": w1, "b": b1}], "pair": (u, v), "scale": scale}


def leaves(p):
    (l0, l1), (u, v) = p["layers"], p["pair"]
    return [l0["w"], l0["b"], l1["w"], l1["b"], u, v, p["scale"]]


P0 = params(W0, B0, W1, B1, U0, V0, SCALE)


def loss(p, x, xp):
    """The same function on numpy arrays (xp=np), tensors (xp=ag) and torch tensors."""
    (l0, l1), (u, v) = p["layers"], p["pair"]
    h = xp.tanh(x @ l0["w"] + l0["b"])
    out = h @ l1["w"] + l1["b"]
    return (out**2).sum() * p["scale"] + xp.sin(u * v).sum() * (x @ u).sum()


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def to_torch(tree):
    if isinstance(tree, dict):
        return {k: to_torch(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(to_torch(v) for v in tree)
    return t64(tree)


def data(t):
    return np.asarray(t.data if isinstance(t, ag.Tensor) else t.detach().numpy())


def assert_same_tree(got, want, rtol=1e-10, atol=1e-12):
    """Same containers, same keys, leaves equal (an autograd_nn tree against a torch one)."""
    if isinstance(want, dict):
        assert type(got) is type(want) and list(got) == list(want)
        for k in want:
            assert_same_tree(got[k], want[k], rtol, atol)
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same_tree(g, w, rtol, atol)
    else:
        assert isinstance(got, ag.Tensor)
        np.testing.assert_allclose(data(got), data(want), rtol=rtol, atol=atol)


# ---- gradients in the argument's structure ------------------------------------------------------
def test_grad_of_a_nested_dict_matches_finite_differences():
    g = ag.grad(loss)(P0, X, ag)
    assert isinstance(g, dict) and list(g) == ["layers", "pair", "scale"]
    assert isinstance(g["layers"], list) and isinstance(g["pair"], tuple)
    assert g["scale"].shape == () and g["layers"][0]["w"].shape == (3, 4)
    fd = fd_gradients(lambda *ls: loss(params(*ls), X, np), leaves(P0))
    assert_grads_match([data(t) for t in leaves(g)], fd)


@needs_torch
def test_grad_and_value_and_grad_of_a_nested_dict_match_torch():
    want = tfunc.grad(loss)(to_torch(P0), t64(X), torch)
    assert_same_tree(ag.grad(loss)(P0, X, ag), want)
    value, g = ag.value_and_grad(loss)(P0, X, ag)
    assert_same_tree(g, want)
    np.testing.assert_allclose(data(value), loss(P0, X, np), rtol=1e-14)
    assert not value.requires_grad


@needs_torch
@pytest.mark.parametrize("argnums", [(0, 1), (1, 0), (-3, 1)])
def test_argnums_tuple_over_structured_arguments_matches_torch(argnums):
    def f(p, x, xp):
        return loss(p, x, xp)

    got = ag.grad(f, argnums=argnums)(P0, X, ag)
    want = tfunc.grad(f, argnums=tuple(a % 3 for a in argnums))(to_torch(P0), t64(X), torch)
    assert isinstance(got, tuple) and len(got) == 2
    assert_same_tree(got, want)


def test_leaves_of_every_kind_and_none_as_an_empty_subtree():
    Pair = namedtuple("Pair", "a b")
    outer = ag.Tensor(1.5, requires_grad=True)
    tree = OrderedDict(n=2, arr=np.array([1, 2]), t=ag.Tensor([0.5, -1.0]), nt=Pair(3.0, outer),
                       skip=None, empty=(), deep=[None, {"z": None}])

    def f(p):
        assert p["skip"] is None and p["empty"] == () and p["deep"] == [None, {"z": None}]
        return p["n"] ** 2 * (p["arr"] * p["t"]).sum() + p["nt"].a * p["nt"].b

    g = ag.grad(f)(tree)
    assert type(g) is OrderedDict and list(g) == list(tree)
    assert type(g["nt"]) is Pair and g["skip"] is None and g["empty"] == ()
    assert g["deep"] == [None, {"z": None}]
    # by hand: d/dn = 2n (arr . t) = 4 * (-1.5); d/darr = n^2 t; d/dt = n^2 arr; nt: (b, a)
    assert float(g["n"]) == pytest.approx(-6.0)
    assert g["n"].dtype == np.float64 and g["arr"].dtype == np.float64  # ints become float64
    np.testing.assert_allclose(g["arr"].data, [2.0, -4.0])
    np.testing.assert_allclose(g["t"].data, [4.0, 8.0])
    assert float(g["nt"].a) == 1.5 and float(g["nt"].b) == 3.0
    # the leaf from outside enters through an identity node: its gradient keeps the graph
    assert g["nt"].a.requires_grad
    g["nt"].a.backward()
    assert float(outer.grad) == 1.0
    assert ag.grad(lambda p: 3.0 * ag.Tensor(1.0), argnums=0)(()) == ()


def test_inputs_are_left_untouched():
    t = ag.Tensor([1.0, 2.0])
    tree = {"t": t, "l": [t, 3.0]}
    ag.grad(lambda p: (p["t"] * p["l"][0]).sum() * p["l"][1])(tree)
    assert tree["t"] is t and tree["l"][0] is t and tree["l"][1] == 3.0
    assert not t.requires_grad and t.grad is None


# ---- has_aux ------------------------------------------------------------------------------------
def with_aux(p, x, xp):
    value = loss(p, x, xp)
    aux = {"value": value, "hidden": xp.tanh(x @ p["layers"][0]["w"])}
    return value, aux if xp is torch else {**aux, "note": "text"}  # torch's aux holds tensors


@needs_torch
def test_has_aux_in_grad_and_value_and_grad_matches_torch():
    g, aux = ag.grad(with_aux, has_aux=True)(P0, X, ag)
    tg, taux = tfunc.grad(with_aux, has_aux=True)(to_torch(P0), t64(X), torch)
    assert_same_tree(g, tg)
    assert aux["note"] == "text"  # aux may hold anything
    np.testing.assert_allclose(data(aux["hidden"]), data(taux["hidden"]), rtol=1e-14)
    assert not aux["hidden"].requires_grad
    (value, aux2), g2 = ag.value_and_grad(with_aux, has_aux=True)(P0, X, ag)
    tg2, (tvalue, _) = tfunc.grad_and_value(with_aux, has_aux=True)(to_torch(P0), t64(X), torch)
    assert_same_tree(g2, tg2)
    np.testing.assert_allclose(data(value), data(tvalue), rtol=1e-14)
    assert float(aux2["value"]) == float(value)


@needs_torch
def test_has_aux_under_an_outer_transform_keeps_the_aux_graph():
    # the inner grad differentiates in y; its aux depends on the outer x, which differentiates it
    def inner(y, x, xp):
        value = (xp.sin(x * y) * y).sum()
        return value, {"x_part": (xp.exp(x) * y).sum(), "y_only": (y * y).sum()}

    def outer(x, xp, transform):
        g, aux = transform(inner, has_aux=True)(t64(Y0) if xp is torch else Y0, x, xp)
        return (g * g).sum() + aux["x_part"] * aux["y_only"]

    Y0 = np.array([0.3, -0.5, 1.2])
    x0 = np.array([0.7, 0.1, -0.4])
    got = ag.grad(lambda x: outer(x, ag, ag.grad))(x0)
    want = tfunc.grad(lambda x: outer(x, torch, tfunc.grad))(t64(x0))
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-10)
    fd = fd_gradients(lambda x: outer_np(x, Y0), [x0])[0]
    np.testing.assert_allclose(got.data, fd, rtol=1e-6)


def outer_np(x, y):
    g = np.cos(x * y) * x * y + np.sin(x * y)  # d/dy of sum(sin(x y) y)
    return (g * g).sum() + (np.exp(x) * y).sum() * (y * y).sum()


def test_has_aux_requires_a_pair():
    for bad, words in [(lambda x: x.sum(), "Tensor"), (lambda x: (x.sum(), 1, 2), "tuple of 3")]:
        with pytest.raises(TypeError, match=rf"grad\(has_aux=True\).*pair.*{words}"):
            ag.grad(bad, has_aux=True)(np.ones(2))
    with pytest.raises(TypeError, match=r"got tuple \(pass has_aux=True"):
        ag.grad(lambda x: (x.sum(), 1))(np.ones(2))


# ---- jacobian, hessian, hvp and jvp -------------------------------------------------------------
def small(p, xp):
    """A dict -> dict function of a dict argument with a tuple inside."""
    a, (b, c) = p["a"], p["bc"]
    return {"u": xp.tanh(a * b.sum()) * c, "v": (a * a).sum() * b}


Q0 = {"a": np.array([0.4, -0.9, 1.3]), "bc": (np.array([0.2, 0.5]), 0.8)}


@needs_torch
def test_jacobian_of_structures_matches_torch_jacrev():
    got = ag.jacobian(small)(Q0, ag)
    want = tfunc.jacrev(small)(to_torch(Q0), torch)
    assert got["u"]["bc"][0].shape == (3, 2) and got["v"]["a"].shape == (2, 3)
    assert_same_tree(got, want)


def test_jacobian_of_structures_matches_finite_differences():
    got = ag.jacobian(small)(Q0, ag)
    a, (b, c) = Q0["a"], Q0["bc"]
    np.testing.assert_allclose(
        got["u"]["a"].data, fd_jacobian(lambda a_: small({"a": a_, "bc": (b, c)}, np)["u"], a),
        rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        got["v"]["bc"][0].data,
        fd_jacobian(lambda b_: small({"a": a, "bc": (b_, c)}, np)["v"], b), rtol=1e-6)
    jac_c, aux = ag.jacobian(lambda p, xp: (small(p, xp), 5), has_aux=True)(Q0, ag)
    assert aux == 5 and jac_c["u"]["bc"][1].shape == (3,)


def scalar(p, xp):
    a, (b, c) = p["a"], p["bc"]
    return (xp.sin(a) * a).sum() * b.sum() + xp.exp(b * c).sum() + (a**3).sum() * c


@needs_torch
def test_hessian_of_a_structure_matches_torch():
    got = ag.hessian(scalar)(Q0, ag)
    want = tfunc.hessian(scalar)(to_torch(Q0), torch)
    assert got["a"]["bc"][0].shape == (3, 2) and got["bc"][1]["a"].shape == (3,)
    assert_same_tree(got, want)


@needs_torch
def test_hessian_with_argnums_tuple_and_has_aux_matches_torch():
    def f(x, y, xp):
        return (xp.sin(x * y) * x).sum() + (x**2).sum() * (y**3).sum(), (x * y).sum()

    x0, y0 = np.array([0.3, -0.8, 1.1]), np.array([0.7, 0.2, -0.4])
    got, aux = ag.hessian(f, argnums=(0, 1), has_aux=True)(x0, y0, ag)
    want, taux = tfunc.jacfwd(tfunc.jacrev(f, argnums=(0, 1), has_aux=True), argnums=(0, 1),
                              has_aux=True)(t64(x0), t64(y0), torch)
    assert_same_tree(got, want)
    np.testing.assert_allclose(float(aux), float(taux), rtol=1e-14)


@needs_torch
def test_hvp_of_a_structure_matches_torch():
    vs = {"a": np.array([1.0, -2.0, 0.5]), "bc": (np.array([0.3, 0.9]), -1.5)}
    value, hv = ag.hvp(lambda p: scalar(p, ag), Q0, vs)
    _, want = tfunc.jvp(tfunc.grad(lambda p: scalar(p, torch)), (to_torch(Q0),), (to_torch(vs),))
    assert_same_tree(hv, want)
    np.testing.assert_allclose(float(value), scalar(Q0, np), rtol=1e-14)
    value2, hv2, aux = ag.hvp(lambda p: (scalar(p, ag), "aux"), Q0, vs, has_aux=True)
    assert aux == "aux"
    assert_same_tree(hv2, want)


@needs_torch
def test_jvp_of_a_structure_matches_torch():
    vs = {"a": np.array([1.0, -2.0, 0.5]), "bc": (np.array([0.3, 0.9]), -1.5)}
    value, jv = ag.jvp(lambda p: small(p, ag), Q0, vs)
    tvalue, want = tfunc.jvp(lambda p: small(p, torch), (to_torch(Q0),), (to_torch(vs),))
    assert_same_tree(jv, want)
    assert_same_tree(value, tvalue, rtol=1e-14)
    value, jv, aux = ag.jvp(lambda p, q: (small(p, ag), q), (Q0, 3.0), (vs, 1.0), has_aux=True)
    assert_same_tree(jv, want)
    assert float(aux) == 3.0 and not aux.requires_grad


@needs_torch
def test_nested_transforms_over_structures_match_torch():
    # d/dx of |grad_p loss(p; x)|^2 with p a nested dict: the inner gradient is a dict
    def outer(x, xp, grad):
        g = grad(lambda p: loss(p, x, xp))(P0t if xp is torch else P0)
        (l0, l1), (u, v) = g["layers"], g["pair"]
        return (l0["w"] ** 2).sum() + (l1["b"] * u.sum()).sum() + g["scale"] * (v**2).sum()

    P0t = to_torch(P0)
    got = ag.grad(lambda x: outer(x, ag, ag.grad))(X)
    want = tfunc.grad(lambda x: outer(x, torch, tfunc.grad))(t64(X))
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-9, atol=1e-12)


@needs_torch
def test_hvp_and_jvp_keep_the_graph_of_a_tangent_from_outside():
    # the tangent is the outer variable: d/dx sum(H(y0) x) = H(y0)^T 1
    y0 = np.array([0.3, -0.8, 1.1])

    def f(y, xp):
        return (xp.sin(y) * y.sum()).sum()

    got_h = ag.grad(lambda x: ag.hvp(lambda y: f(y, ag), y0, x)[1].sum())(np.ones(3))
    got_j = ag.grad(lambda x: ag.jvp(lambda y: xp_sin(y), y0, x)[1].sum())(np.ones(3))
    want_h = tfunc.grad(
        lambda x: tfunc.jvp(tfunc.grad(lambda y: f(y, torch)), (t64(y0),), (x,))[1].sum())(
        t64(np.ones(3)))
    np.testing.assert_allclose(got_h.data, want_h.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got_j.data, np.cos(y0), rtol=1e-12)


def xp_sin(y):
    return ag.sin(y)


# ---- errors name the path, and nothing runs -----------------------------------------------------
def test_unsupported_leaves_and_containers_are_refused_naming_the_path():
    called = []

    def f(p, *rest):
        called.append(1)
        return ag.Tensor(0.0)

    cases = [
        ({"w": np.ones(2), "cfg": [1.0, "relu"]}, r"argument 0\['cfg'\]\[1\] is a str"),
        ((np.ones(2), {1, 2}), r"argument 0\[1\] is a set"),
        ({"z": np.array([1j])}, r"argument 0\['z'\] is complex \(complex128\)"),
        ([np.array(["a"])], r"argument 0\[0\] is an array of dtype <U1"),
        ({"o": object()}, r"argument 0\['o'\] is a object.*tuple, list or dict"),
    ]
    for tree, words in cases:
        with pytest.raises(TypeError, match=words):
            ag.grad(f)(tree)
    with pytest.raises(TypeError, match=r"argument 1\.b is a str"):
        ag.grad(f, argnums=(0, 1))(1.0, namedtuple("P", "a b")(1.0, "x"))
    assert not called


def test_tangents_must_match_the_primals_structure_and_shapes():
    p = {"a": np.ones(3), "b": (np.ones(2), 1.0)}
    f = lambda q: q["a"].sum() * q["b"][0].sum() * q["b"][1]  # noqa: E731
    bad = [
        ({"a": np.ones(3)}, ValueError, r"tangents\[0\] is a dict with keys \['a'\] but "
                                        r"primals\[0\] is a dict with keys \['a', 'b'\]"),
        ({"a": np.ones(3), "b": [np.ones(2), 1.0]}, ValueError,
         r"tangents\[0\]\['b'\] is a list of 2 but primals\[0\]\['b'\] is a tuple of 2"),
        ({"a": np.ones(3), "b": (np.ones(3), 1.0)}, ValueError,
         r"tangents\[0\]\['b'\]\[0\] has shape \(3,\) but primals\[0\]\['b'\]\[0\] has shape"),
        ({"a": np.ones(3), "b": (np.ones(2), "x")}, TypeError,
         r"tangents\[0\]\['b'\]\[1\] is a str"),
        ({"a": None, "b": (np.ones(2), 1.0)}, ValueError, r"tangents\[0\]\['a'\] is None"),
    ]
    for tangent, exc, words in bad:
        for transform in (ag.hvp, ag.jvp):
            with pytest.raises(exc, match=words):
                transform(f, p, tangent)
    with pytest.raises(ValueError, match=r"tangents is a tuple of 1 but primals is a tuple of 2"):
        ag.jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))


def test_argnums_naming_an_argument_twice_is_refused():
    with pytest.raises(ValueError, match="argnums .*twice"):
        ag.grad(lambda x, y: x * y, argnums=(0, -2))(1.0, 2.0)


def test_outputs_of_jacobian_and_jvp_must_hold_tensors():
    with pytest.raises(TypeError, match=r"jvp: the function's output\['b'\] is a float"):
        ag.jvp(lambda x: {"a": x, "b": 1.0}, np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="grad: the function must return a Tensor, got dict"):
        ag.grad(lambda x: {"a": x.sum()})(np.ones(2))
