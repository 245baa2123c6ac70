"""Layers: `Linear`, containers (`Sequential`, `ModuleList`), activations, `Dropout`.

Convention: rows are samples and ``Linear.weight`` has shape ``(in_features, out_features)``,
so a layer computes ``x @ weight + bias`` exactly as the hand-derived reference networks write
``X @ W`` (PyTorch stores the transpose, ``(out_features, in_features)``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

import numpy as np

from ..seeding import as_generator
from ..tensor import Tensor
from . import functional as F
from . import init as nn_init
from .module import Module, Parameter

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

    from ..types import DTypeLike, RngLike, TensorLike

    X = TypeVar("X", bound=TensorLike)  # Dropout (and Identity) return their input itself

#: ``Linear(init=...)``: a name of ``init.INITIALISERS`` or ``"default"``, or a callable
#: ``f(weight, rng=...)`` filling the weight in place (what it returns is not used)
InitSpec = str | Callable[..., object]


class Linear(Module):
    """``y = x @ weight + bias`` with ``weight`` of shape ``(in_features, out_features)``.

    ``init`` chooses the weight initialiser: ``"default"`` (PyTorch's: weight and bias uniform
    on ±1/sqrt(in_features)), or one of ``init.INITIALISERS`` (``"xavier_uniform"``,
    ``"glorot_normal"``, ``"he_normal"``, ``"kaiming_uniform"``, ``"normal"``, ``"uniform"``,
    ``"zeros"``, ...) with the bias set to zero, or a callable ``f(weight, rng=...)`` that fills
    the weight in place. ``rng`` is an int seed or a ``np.random.Generator``; without it the
    numbers come from numpy's global generator (``np.random.seed(1)`` or
    ``autograd_nn.manual_seed(1)`` first makes them reproducible).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: InitSpec = "default", rng: RngLike | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        for arg, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"Linear: {arg} must be a positive int, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        gen = as_generator(rng)
        self.weight = Parameter(np.empty((self.in_features, self.out_features), dtype=dtype))
        self.bias = Parameter(np.empty(self.out_features, dtype=dtype)) if bias else None
        self.reset_parameters(init, gen)

    def reset_parameters(self, init: InitSpec = "default", rng: RngLike | None = None) -> None:
        """Initialise weight (and bias) again, as described in the class docstring."""
        gen = as_generator(rng)
        if init == "default":
            bound = 1.0 / np.sqrt(self.in_features)
            nn_init.uniform_(self.weight, -bound, bound, rng=gen)
            if self.bias is not None:
                nn_init.uniform_(self.bias, -bound, bound, rng=gen)
            return
        if callable(init):
            init(self.weight, rng=gen)
        elif isinstance(init, str) and init in nn_init.INITIALISERS:
            nn_init.INITIALISERS[init](self.weight, rng=gen)
        else:
            raise ValueError(
                f"Linear: unknown init {init!r}; use 'default', a callable, or one of "
                f"{sorted(nn_init.INITIALISERS)}"
            )
        if self.bias is not None:
            nn_init.zeros_(self.bias)

    def forward(self, x: TensorLike) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Sequential(Module):
    """Modules applied one after the other; children are named ``"0"``, ``"1"``, ... (or by
    the keys of an ``OrderedDict`` passed as the only argument)."""

    def __init__(self, *modules: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            # an OrderedDict among several modules is refused by add_module (TypeError)
            for i, m in enumerate(modules):  # type: ignore[assignment]
                self.add_module(str(i), m)

    def add_module(self, name: str, module: Module | None) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: element {name!r} is a "
                            f"{type(module).__name__}, not a Module")
        super().add_module(name, module)

    def append(self, module: Module) -> Self:
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int | slice) -> Module:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            if isinstance(self, ModuleList):
                return ModuleList(mods[idx])
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        try:
            return mods[idx]
        except (IndexError, TypeError) as e:
            raise type(e)(f"{type(self).__name__} index {idx!r}: {e} (length {len(mods)})") from e

    def forward(self, x: Any) -> Any:  # whatever the first module takes, the last returns
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(Sequential):
    """A list of sub-modules, registered (so their parameters are found) but not called."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__(*modules)

    def forward(self, *args: object, **kwargs: object) -> NoReturn:
        raise NotImplementedError("ModuleList is a container; iterate over it in forward()")


class Identity(Module):
    def forward(self, x: X) -> X:
        return x


class Flatten(Module):
    """Flatten axes ``start_dim`` to ``end_dim`` (negatives count from the end) into one; the
    default (1, -1) gives (N, ...) -> (N, prod(...))."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: TensorLike) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        nd = max(x.ndim, 1)
        a, b = self.start_dim % nd, self.end_dim % nd
        if not (-nd <= self.start_dim < nd and -nd <= self.end_dim < nd) or a > b:
            raise ValueError(f"Flatten: start_dim={self.start_dim}, end_dim={self.end_dim} "
                             f"do not select axes of input shape {x.shape}")
        return x.reshape(*x.shape[:a], -1, *x.shape[b + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (its product must be the axis' size)."""

    def __init__(self, dim: int, unflattened_size: Iterable[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = int(dim), tuple(int(n) for n in unflattened_size)

    def forward(self, x: TensorLike) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(f"Unflatten: dim {self.dim} is not an axis of shape {x.shape}")
        d = self.dim % x.ndim
        if int(np.prod(self.unflattened_size)) != x.shape[d]:
            raise ValueError(f"Unflatten: sizes {self.unflattened_size} do not multiply to "
                             f"{x.shape[d]}, the size of axis {d} of {x.shape}")
        return x.reshape(*x.shape[:d], *self.unflattened_size, *x.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class _Activation(Module):
    """A layer without parameters that applies one function of `nn.functional` (``function``)
    to its input, with the settings named in ``settings`` as keywords (and in its repr)."""

    function: ClassVar[Callable[..., Tensor]]
    settings: ClassVar[tuple[str, ...]] = ()

    def forward(self, x: TensorLike) -> Tensor:
        return self.function(x, **{name: getattr(self, name) for name in self.settings})

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)}" for name in self.settings)


class Sigmoid(_Activation):
    function = staticmethod(F.sigmoid)


class Tanh(_Activation):
    function = staticmethod(F.tanh)


class ReLU(_Activation):
    function = staticmethod(F.relu)


class Softplus(_Activation):
    function = staticmethod(F.softplus)


class LeakyReLU(_Activation):
    function, settings = staticmethod(F.leaky_relu), ("negative_slope",)

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)


class Softmax(_Activation):
    """Softmax along ``axis`` (``dim`` is accepted as PyTorch's name for it)."""

    function, settings = staticmethod(F.softmax), ("axis",)

    def __init__(self, axis: int = -1, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = int(dim if dim is not None else axis)


class LogSoftmax(Softmax):
    function = staticmethod(F.log_softmax)


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode and scale the rest by
    1/(1-p) (inverted dropout); the identity in eval mode. ``rng`` (int seed or Generator)
    makes the masks reproducible: one generator, created here, serves every call; without it
    the masks come from numpy's global generator (``np.random.seed``)."""

    def __init__(self, p: float = 0.5, rng: RngLike | None = None, *,
                 seed: int | None = None) -> None:
        super().__init__()
        F.check_dropout_p(p)
        self.p = float(p)
        self.rng = as_generator(seed if seed is not None else rng)

    def forward(self, x: X) -> X | Tensor:
        return F.dropout(x, self.p, training=self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
