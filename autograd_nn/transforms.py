"""Function transforms: grad, value_and_grad, jacobian, hessian, hvp and jvp.

Each takes a function of Tensors and differentiates with respect to fresh variables: an argument
that is not part of a graph becomes a new leaf; one that is (because the transform runs inside
another one, as in ``jacobian(grad(f))``) enters through an identity node, so the inner derivative
holds every other use of it fixed. Whenever the function's result reaches a tensor that requires
grad from outside the transform (an argument of an enclosing transform, a closure, a global
parameter), the derivative is computed with ``create_graph=True`` and keeps that graph, so every
enclosing transform (and ``backward``) sees it.

Arguments may be pytrees (see ``pytree``): tuples, lists and dicts of tensors, arrays and
numbers, nested, with ``None`` as an empty subtree; derivatives come back in the argument's
structure (and, for ``jacobian`` and ``jvp``, in the output's). With ``has_aux=True`` the
function returns ``(output, aux)`` and ``aux`` is passed through, as in JAX.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from . import autograd, pytree
from .mode import enable_grad, is_grad_enabled
from .ops import reshape, stack
from .tensor import Tensor

if TYPE_CHECKING:
    from .types import TensorLike

Argnums = int | tuple[int, ...]


def _argnums(argnums: Argnums, n: int, name: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if i >= n or i < -n:
            raise ValueError(f"{name}: argnums {argnums} but the function got {n} arguments")
    if len({i % n for i in nums}) != len(nums):
        raise ValueError(f"{name}: argnums {argnums} names an argument twice")
    return nums


def _variable(a: TensorLike) -> Tensor:
    """A fresh variable for one leaf: a new leaf, or an identity node on a tensor of a graph."""
    if isinstance(a, Tensor) and a.requires_grad and is_grad_enabled():
        return reshape(a, a.shape)  # identity node: a fresh variable still tied to a
    data = a.data if isinstance(a, Tensor) else a
    x = Tensor._from_op(np.array(data, dtype=None if np.asarray(data).dtype.kind == "f"
                                 else np.float64), None)
    x.requires_grad = True
    return x


def _leaves(args: tuple, argnums: Argnums,
            name: str) -> tuple[list, list[Tensor], list[pytree.TreeDef]]:
    """The arguments with the differentiated ones rebuilt on fresh variables, those variables
    (flat, in order) and the structure of each differentiated argument."""
    nums = _argnums(argnums, len(args), name)
    trees = [pytree.flatten(args[i], name, f"argument {i}") for i in nums]  # all checked first
    args_ = list(args)
    xs: list[Tensor] = []
    for i, (leaves, spec) in zip(nums, trees):
        fresh = [_variable(a) for a in leaves]
        args_[i] = pytree.unflatten(spec, fresh)
        xs.extend(fresh)
    return args_, xs, [spec for _, spec in trees]


def _structured(argnums: Argnums, specs: list[pytree.TreeDef], flat: list) -> Any:
    """Flat per-variable results as the differentiated arguments' structures (one argument's
    for an int ``argnums``, a tuple of them otherwise)."""
    trees, k = [], 0
    for spec in specs:
        trees.append(pytree.unflatten(spec, flat[k:k + spec.num_leaves]))
        k += spec.num_leaves
    return trees[0] if isinstance(argnums, int) else tuple(trees)


def _reaches_outside(out: Tensor, own: list[Tensor]) -> bool:
    """True when grad mode is on and ``out``'s graph reaches a tensor that requires grad other
    than the transform's own variables ``own`` (then the derivative must keep its graph)."""
    if not is_grad_enabled() or not out.requires_grad:
        return False
    mine = {id(x) for x in own if x.grad_fn is None}  # identity nodes lead outside
    seen: set = set()
    stack = [out]
    while stack:
        t = stack.pop()
        if id(t) in mine or id(t) in seen:
            continue
        seen.add(id(t))
        fn = t.grad_fn
        if fn is None:
            if t.requires_grad:
                return True
            continue
        stack.extend(p for p in fn.inputs if isinstance(p, Tensor) and p.requires_grad)
    return False


@contextmanager
def _variables(xs: list[Tensor]) -> Iterator[None]:
    """Retire the transform's fresh leaves when it returns: a graph the result keeps may still
    mention them, but no enclosing transform must mistake them for its own inputs."""
    try:
        yield
    finally:
        for x in xs:
            if x.grad_fn is None:
                x._requires_grad = False


def _call(f: Callable[..., object], args: list, name: str, has_aux: bool) -> tuple[Any, Any]:
    """``f(*args)`` split into (output, aux); aux is None without ``has_aux``."""
    with enable_grad():
        result = f(*args)
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise TypeError(f"{name}(has_aux=True): the function must return a pair "
                        f"(output, aux), got {got}")
    return result


def _scalar(out: object, name: str) -> Tensor:
    if not isinstance(out, Tensor):
        hint = " (pass has_aux=True if it returns (output, aux))" if isinstance(out, tuple) else ""
        raise TypeError(f"{name}: the function must return a Tensor, got {type(out).__name__}"
                        + hint)
    if out.size != 1:
        raise ValueError(f"{name}: the function must return a single element, got shape "
                         f"{out.shape}; use jacobian for vector outputs")
    return out


def _tensor_leaf(x: object) -> str | None:
    if isinstance(x, Tensor):
        return None
    return (f"is a {type(x).__name__}; the function must return a Tensor (or a tuple, list or "
            "dict of Tensors)")


def _outputs(result: object, name: str) -> tuple[list[Tensor], pytree.TreeDef]:
    return pytree.flatten(result, name, "the function's output", _tensor_leaf)


def _returned(tree: Any, xs: list[Tensor]) -> Any:
    """The value (or aux) as returned: each tensor keeps its graph if that reaches outside the
    transform, and is detached otherwise."""
    return pytree.map_tensors(lambda t: t if _reaches_outside(t, xs) else t.detach(), tree)


def _grads(outs: Tensor | list[Tensor], xs: list[Tensor], create_graph: bool,
           seeds: Any = None, retain: bool = False) -> list[Tensor]:
    """d(outs . seeds)/d xs, zeros where a variable is not reached."""
    outs = [outs] if isinstance(outs, Tensor) else outs
    seeds = [seeds] * len(outs) if seeds is None or not isinstance(seeds, list) else seeds
    live = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
    found: tuple = (None,) * len(xs)
    if live and xs:
        found = autograd.grad([o for o, _ in live], xs, grad_outputs=[s for _, s in live],
                            retain_graph=retain or create_graph, create_graph=create_graph,
                            allow_unused=True)
    return [Tensor._from_op(np.zeros_like(x.data), None) if g is None else g
            for x, g in zip(xs, found)]


def value_and_grad(f: Callable[..., object], argnums: Argnums = 0,
                   has_aux: bool = False) -> Callable[..., tuple[Any, Any]]:
    """``value_and_grad(f)(*args) -> (f(*args), df/dargs[argnums])`` for scalar-valued f; with
    ``has_aux`` f returns ``(value, aux)`` and the result is ``((value, aux), gradient)``."""

    def wrapped(*args: Any) -> tuple[Any, Any]:
        args_, xs, specs = _leaves(args, argnums, "grad")
        with _variables(xs):
            out, aux = _call(f, args_, "grad", has_aux)
            out = _scalar(out, "grad")
            gs = _grads(out, xs, _reaches_outside(out, xs))
            value = _returned((out, aux) if has_aux else out, xs)
        return value, _structured(argnums, specs, gs)

    return wrapped


def grad(f: Callable[..., object], argnums: Argnums = 0,
         has_aux: bool = False) -> Callable[..., Any]:
    """``grad(f)(*args)``: the gradient of scalar-valued ``f`` with respect to ``args[argnums]``
    (``(gradient, aux)`` with ``has_aux``)."""
    vg = value_and_grad(f, argnums, has_aux)

    def wrapped(*args: Any) -> Any:
        value, g = vg(*args)
        return (g, value[1]) if has_aux else g

    return wrapped


def _jacobian_rows(out: Tensor, xs: list[Tensor], keep_graph: bool) -> list[Tensor]:
    """d out / d x for each variable x, shaped ``out.shape + x.shape`` (one reverse pass per
    element of out)."""
    rows: list[list[Tensor]] = [[] for _ in xs]
    for k in range(out.size):
        seed = np.zeros(out.shape, dtype=out.dtype)
        seed.flat[k] = 1
        for r, g in zip(rows, _grads(out, xs, keep_graph, seeds=seed, retain=True)):
            r.append(g)
    result = []
    for x, r in zip(xs, rows):
        shape = out.shape + x.shape
        if not r:
            result.append(Tensor._from_op(np.zeros(shape, dtype=x.dtype), None))
        elif keep_graph:
            result.append(reshape(stack(r), shape))
        else:
            result.append(Tensor._from_op(np.stack([g.data for g in r]).reshape(shape), None))
    return result


def jacobian(f: Callable[..., object], argnums: Argnums = 0,
             has_aux: bool = False) -> Callable[..., Any]:
    """``jacobian(f)(*args)``: d f / d args[argnums], shaped ``f's shape + the argument's shape``
    for each output tensor and argument leaf (the output's structure outside, the argument's
    inside, as JAX's jacrev); ``(jacobian, aux)`` with ``has_aux``."""

    def wrapped(*args: Any) -> Any:
        args_, xs, specs = _leaves(args, argnums, "jacobian")
        with _variables(xs):
            result, aux = _call(f, args_, "jacobian", has_aux)
            outs, out_spec = _outputs(result, "jacobian")
            keep_graph = any(_reaches_outside(o, xs) for o in outs)
            blocks = [_structured(argnums, specs, _jacobian_rows(o, xs, keep_graph))
                      for o in outs]
            aux = _returned(aux, xs)
        jac = pytree.unflatten(out_spec, blocks)
        return (jac, aux) if has_aux else jac

    return wrapped


def hessian(f: Callable[..., object], argnums: Argnums = 0,
            has_aux: bool = False) -> Callable[..., Any]:
    """``hessian(f)(*args)``: second derivatives of scalar ``f``, shaped ``x.shape + x.shape``
    for an array argument; for structured arguments or an argnums tuple, nested as
    ``H[i][j] = d^2 f / d x_i d x_j`` (as JAX's hessian)."""
    return jacobian(grad(f, argnums, has_aux), argnums, has_aux)


def _pairs(primals: Any, tangents: Any, name: str) -> tuple[tuple, list, bool]:
    """The primals as positional arguments, the tangents' leaves (in the primals' structure,
    each of its primal's shape) and whether a single primal was given."""
    single = not isinstance(primals, (tuple, list))
    ps = (primals,) if single else tuple(primals)
    ts = (tangents,) if single or not isinstance(tangents, (tuple, list)) else tuple(tangents)
    leaves, spec = pytree.flatten(ps, name, "primals")
    vs = pytree.flatten_like(spec, ts, name, "tangents", "primals")
    for p, v, path in zip(leaves, vs, pytree.leaf_paths(spec, "")):
        if np.shape(p) != np.shape(v):
            raise ValueError(f"{name}: tangents{path} has shape {np.shape(v)} but primals{path} "
                             f"has shape {np.shape(p)}; they must match")
    return ps, vs, single


def _dot(gs: list[Tensor], vs: list) -> Tensor:
    """sum_i <gs[i], vs[i]>, recorded (it is differentiated once more)."""
    dot = Tensor._from_op(np.zeros(()), None)
    for i, (g, v) in enumerate(zip(gs, vs)):
        term = (g * v).sum()
        dot = term if i == 0 else dot + term
    return dot


def _fresh_zeros(like: Tensor) -> Tensor:
    u = Tensor._from_op(np.zeros_like(like.data), None)
    u.requires_grad = True
    return u


def hvp(f: Callable[..., object], primals: Any, tangents: Any,
        has_aux: bool = False) -> tuple[Any, ...]:
    """Hessian-vector product of scalar ``f`` at ``primals`` along ``tangents``, by double
    backward: returns ``(f(primals), H @ v)``, ``H @ v`` in the primals' structure (a tuple
    when primals is a tuple of arguments); ``(f(primals), H @ v, aux)`` with ``has_aux``."""
    ps, vs, single = _pairs(primals, tangents, "hvp")
    nums: Argnums = 0 if single else tuple(range(len(ps)))
    args_, xs, specs = _leaves(ps, nums, "hvp")
    with _variables(xs):
        out, aux = _call(f, args_, "hvp", has_aux)
        out = _scalar(out, "hvp")
        dot = _dot(_grads(out, xs, create_graph=True), vs)
        hv = _grads(dot, xs, _reaches_outside(out, xs) or _reaches_outside(dot, xs))
        value, aux = _returned((out, aux), xs)
    hv = _structured(nums, specs, hv)
    return (value, hv, aux) if has_aux else (value, hv)


def jvp(f: Callable[..., object], primals: Any, tangents: Any,
        has_aux: bool = False) -> tuple[Any, ...]:
    """Jacobian-vector product (forward-mode derivative) of ``f`` at ``primals`` along
    ``tangents``, by the double-backward trick: returns ``(f(primals), J @ v)``, both in the
    output's structure; ``(f(primals), J @ v, aux)`` with ``has_aux``."""
    ps, vs, _ = _pairs(primals, tangents, "jvp")
    args_, xs, _ = _leaves(ps, tuple(range(len(ps))), "jvp")
    with _variables(xs):
        result, aux = _call(f, args_, "jvp", has_aux)
        outs, out_spec = _outputs(result, "jvp")
        us = [_fresh_zeros(o) for o in outs]
        with _variables(us):
            dot = _dot(_grads(outs, xs, create_graph=True, seeds=us), vs)
            keep = any(_reaches_outside(o, xs) for o in outs) or _reaches_outside(dot, xs + us)
            jvs = _grads(dot, us, keep)
        value, aux = _returned((result, aux), xs)
    jv = pytree.unflatten(out_spec, jvs)
    return (value, jv, aux) if has_aux else (value, jv)
