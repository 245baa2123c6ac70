"""Every case of the op catalogue (``autograd-nn gradcheck``'s, all ops) compiled: the value and
the gradients equal eager mode's bit for bit, or ag.compile refuses (never a different answer)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.cli.catalog import CATALOG

REFUSED = {("select", "two conditions")}  # select reads its conditions' .data: refused


def _grads(f, xs):
    for x in xs:
        x.grad = None
    out = f(*xs)
    out.backward()
    return out.numpy().copy(), [None if x.grad is None else x.grad.numpy().copy() for x in xs]


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_op_cases_compile_bit_for_bit(name):
    for case in CATALOG[name]:
        rng = np.random.default_rng(0)
        xs, fn = case.inputs(rng), case.function(rng)
        weights = np.random.default_rng(1).normal(size=np.shape(fn(*xs)))

        def f(*a, fn=fn, weights=weights):
            return (fn(*a) * weights).sum()

        cf = ag.compile(f)
        with np.errstate(all="ignore"):
            if (name, case.label) in REFUSED:
                with pytest.raises(ag.CompileError):
                    cf(*xs)
                continue
            cf(*xs)
            got, got_grads = _grads(cf, xs)
            want, want_grads = _grads(f, xs)
        assert np.array_equal(got, want, equal_nan=True), (case.label, cf.source)
        for g, w in zip(got_grads, want_grads):
            assert (g is None and w is None) or np.array_equal(g, w, equal_nan=True), \
                (case.label, cf.source)
