"""What differs between a plain and a ``create_graph`` backward pass, chosen once per pass
(`PlainPass`, `RecordedPass`), and the gradient stores that sum the arrivals at each tensor
(`GradientStore` owns the copy-on-write rule). `engine.run_backward` drives them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import numpy as np

from .function import Function
from .registry import PLAIN, RECORDED
from .tensor import Tensor

Grad = np.ndarray | Tensor  # an ndarray in a plain pass, a Tensor under create_graph
G = TypeVar("G", np.ndarray, Tensor)  # the gradients of one pass: all ndarrays, or all Tensors
#: what a rule may return for one operand: a gradient (any broadcastable shape, any real dtype),
#: a numpy or Python number, or None (no gradient)
RuleGrad = np.ndarray | Tensor | np.generic | float | None
RuleGrads = RuleGrad | tuple[RuleGrad, ...] | list[RuleGrad]  # what a rule returns
Tracer = Callable[[Tensor, Grad, Function | None, tuple[Grad | None, ...]], object]


# ---- the gradient store: sums, and who may be written ----------------------------------------
class Store(Protocol[G]):
    """What the loop needs of a gradient store: the sums so far (it pops complete ones and puts
    first arrivals straight in), adding a later arrival, and delivering into ``.grad``."""

    sums: dict[Tensor, G]

    def add(self, t: Tensor, g: G) -> None: ...

    def deliver(self, t: Tensor, g: G) -> None: ...


class GradientStore:
    """The sum of the gradients that arrived at each tensor so far, as ndarrays.

    Copy-on-write: an array a rule returned may be a saved array, a view of one, another
    tensor's gradient or a seed the caller holds, so it is never written. The first sum of two
    gradients allocates an array the store owns; later arrivals are added into it in place.
    Arrays handed out as ``.grad`` are copied when something else may hold them."""

    __slots__ = ("sums", "owned", "handed_out")

    def __init__(self, roots: Sequence[Tensor], seeds: Sequence[np.ndarray]) -> None:
        self.sums: dict[Tensor, np.ndarray] = {}  # the loop pops complete sums straight from here
        self.owned: set[Tensor] = set()  # tensors whose sum is an array this store allocated
        self.handed_out = set(map(id, seeds))  # ids of arrays visible outside this pass
        for root, seed in zip(roots, seeds):
            self.add(root, seed)

    def add(self, t: Tensor, g: np.ndarray) -> None:
        prev = self.sums.get(t)
        if prev is None:
            self.sums[t] = g
        elif t in self.owned:
            np.add(prev, g, out=prev)
        else:
            self.sums[t] = np.asarray(prev + g)
            self.owned.add(t)

    def deliver(self, t: Tensor, g: np.ndarray) -> None:
        """Add ``g`` into ``t.grad`` (a leaf, or a non-leaf that retains its grad)."""
        old = t._grad
        if old is None:
            if g.base is not None or id(g) in self.handed_out:
                g = g.copy()
            self.handed_out.add(id(g))
            t._grad = Tensor._from_op(g, None)
        elif old.grad_fn is not None:  # a gradient with a graph, from a create_graph pass
            t._grad = old + g
        else:
            t._grad = Tensor._from_op(np.asarray(old._data + g), None)


class RecordedGradientStore:
    """The gradient sums of a ``create_graph`` pass: Tensors, added by a recorded ``+``."""

    __slots__ = ("sums",)

    def __init__(self, roots: Sequence[Tensor], seeds: Sequence[Tensor]) -> None:
        self.sums: dict[Tensor, Tensor] = {}
        for root, seed in zip(roots, seeds):
            self.add(root, seed)

    def add(self, t: Tensor, g: Tensor) -> None:
        prev = self.sums.get(t)
        self.sums[t] = g if prev is None else prev + g

    def deliver(self, t: Tensor, g: Tensor) -> None:
        t._grad = g if t._grad is None else t._grad + g


# ---- plain or create_graph: chosen once per pass ---------------------------------------------
class Pass(Generic[G]):
    """What differs between a plain and a ``create_graph`` pass, chosen once: the kind of
    gradient (``G``), the store and the namespace rules get. (A recorded pass also runs under
    `enable_grad`: engine.run_backward enters it.)"""

    __slots__ = ("anomaly", "direct")
    recorded: ClassVar[bool]  # rules get a GraphCtx, and every gradient goes through _fit
    xp: ClassVar[SimpleNamespace]

    def __init__(self, anomaly: bool) -> None:
        self.anomaly = anomaly  # detect_anomaly() was on when the pass started
        self.direct = not (anomaly or self.recorded)  # rules get the node, nothing is checked

    def store(self, roots: Sequence[Tensor], seeds: Sequence[G]) -> Store[G]:
        raise NotImplementedError

    def as_grad(self, gi: RuleGrad) -> G:
        """A rule's (not None) gradient as this pass keeps gradients."""
        raise NotImplementedError

    def to_hook(self, g: G) -> Tensor:
        raise NotImplementedError

    def from_hook(self, r: Tensor, t: Tensor) -> G:
        raise NotImplementedError


class PlainPass(Pass[np.ndarray]):
    """A first-order pass: gradients are ndarrays, rules get the node itself (``ctx.xp`` is
    numpy), nothing is recorded."""

    __slots__ = ()
    recorded = False
    xp = PLAIN

    def store(self, roots: Sequence[Tensor], seeds: Sequence[np.ndarray]) -> GradientStore:
        return GradientStore(roots, seeds)

    def as_grad(self, gi: RuleGrad) -> np.ndarray:
        return gi._data if isinstance(gi, Tensor) else np.asarray(gi)

    def to_hook(self, g: np.ndarray) -> Tensor:
        return Tensor._from_op(g, None)

    def from_hook(self, r: Tensor, t: Tensor) -> np.ndarray:
        return r._data.astype(t.dtype, copy=False)


class RecordedPass(Pass[Tensor]):
    """``create_graph=True``: gradients are Tensors and every rule's ops are recorded (rules get
    a `GraphCtx`, ``ctx.xp`` the differentiable functions), so gradients can be differentiated."""

    __slots__ = ()
    recorded = True
    xp = RECORDED

    def store(self, roots: Sequence[Tensor], seeds: Sequence[Tensor]) -> RecordedGradientStore:
        return RecordedGradientStore(roots, seeds)

    def as_grad(self, gi: RuleGrad) -> Tensor:
        return gi if isinstance(gi, Tensor) else Tensor._from_op(np.asarray(gi), None)

    def to_hook(self, g: Tensor) -> Tensor:
        return g

    def from_hook(self, r: Tensor, t: Tensor) -> Tensor:
        return r


class GraphCtx:
    """What a backward rule sees under ``create_graph=True``: saved operands and output as
    Tensors, ``xp`` the differentiable namespace; everything else is read from the node."""

    xp = RECORDED

    def __init__(self, node: Function, out: Tensor) -> None:
        self._node = node
        tensors = [a for a in node.inputs if isinstance(a, Tensor)]
        self.saved_tensors = tuple(_lift(s, tensors, out) for s in node.saved_tensors or ())

    def __getattr__(self, attr: str) -> Any:  # an op's own attributes (ctx.axes): any type
        return getattr(self._node, attr)


def _lift(s: object, tensors: list[Tensor], out: Tensor) -> object:
    """A saved array as the Tensor whose data it is (an operand or the output), else as is."""
    if isinstance(s, np.ndarray):
        if s is out._data:
            return out
        for t in tensors:
            if s is t._data:
                return t
    return s
