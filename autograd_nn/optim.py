"""Optimizers: `SGD`, `Adam`, `AdamW`, `RMSprop`, with PyTorch's update equations, parameter
groups, ``zero_grad`` and ``state_dict`` / ``load_state_dict``.

Updates run outside the graph: numpy in place on ``p.data``, then ``p._bump_version()`` so a
graph that saved the old values notices. ``params`` is an iterable of parameters, an iterable
of dicts (parameter groups, each ``{"params": [...], "lr": ..., ...}`` overriding the
defaults), or a `Module` (its ``parameters()``; a convenience PyTorch does not offer).
Parameters whose ``.grad`` is None are skipped.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, overload

import numpy as np

from .errors import as_flag, same_kind
from .mode import enable_grad
from .optim_checks import check_number, checked_state, sections
from .tensor import Tensor

if TYPE_CHECKING:
    from .nn.module import Module

    L = TypeVar("L")  # what step's closure returns (the loss)

#: ``params``: parameters, parameter groups (dicts with a ``"params"`` entry and hyperparameters
#: overriding the defaults) or a Module (its ``parameters()``)
ParamsLike: TypeAlias = "Iterable[Tensor] | Iterable[dict[str, Any]] | Module"


def _sqrt(x: Any) -> Any:
    """``math.sqrt(x)``; for a Python number of a compiled step's generated update
    (`compile.pynum.PyNum`), the same call recorded as a line of that update."""
    record = getattr(type(x), "record_sqrt", None)
    return math.sqrt(x) if record is None else record(x)


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, state dicts."""

    def __init__(self, params: ParamsLike, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if hasattr(params, "parameters") and callable(params.parameters):
            params = params.parameters()
        if isinstance(params, Tensor) or not isinstance(params, Iterable):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of parameters "
                            f"or of dicts, got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate a group's hyperparameters (subclasses)."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group ``{"params": [...], hyperparameter: value, ...}`` (defaults fill in)."""
        name = type(self).__name__
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name} can't optimize a non-leaf Tensor (one made by an op)")
            if p.dtype.kind != "f":
                raise TypeError(f"{name} can only optimize floating tensors, got {p.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter appears twice in one group")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        unknown = set(param_group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"{name}: unknown hyperparameter(s) {sorted(unknown)} in a "
                             f"parameter group; known: {sorted(self.defaults)}")
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``.grad = None`` (default), or zero them in place."""
        set_to_none = as_flag(f"{type(self).__name__}.zero_grad: set_to_none", set_to_none)
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor._from_op(np.zeros_like(p.grad._data), None)

    @overload
    def step(self, closure: None = None) -> None: ...
    @overload
    def step(self, closure: Callable[[], L]) -> L: ...
    def step(self, closure: Callable[[], L] | None = None) -> L | None:
        """One update of every parameter that has a gradient. ``closure`` (optional)
        recomputes and returns the loss first; its value is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        work = self._checked_work()
        for p, g, group in work:
            self._update(p, g, group, self.state.setdefault(p, {}))
            p._bump_version()
        return loss

    def _checked_work(self) -> list[tuple[Tensor, np.ndarray, dict]]:
        """(parameter, gradient, group) of every parameter to update, after checking all of
        them: the groups' hyperparameters (they may have been edited through
        ``param_groups``), writable parameter arrays, gradient shapes and the state entries."""
        name = type(self).__name__
        work, i = [], -1
        for gi, group in enumerate(self.param_groups):
            self._check_keys(f"{name}: parameter group {gi}", group)
            self._check_group(group)
            for p in group["params"]:
                i += 1
                if p.grad is None:
                    continue
                if p.grad.shape != p.shape:
                    raise ValueError(f"{name}: gradient of shape {p.grad.shape} for a parameter "
                                     f"of shape {p.shape}")
                if not p._data.flags.writeable:
                    raise ValueError(f"{name}: parameter {i} (shape {p.shape}) has a read-only "
                                     "array; nothing was updated")
                if p in self.state:
                    self._checked_state(f"{name}: state", f"parameter {i}", p,
                                        self.state[p])
                work.append((p, p.grad._data, group))
        return work

    def _check_keys(self, where: str, group: dict[str, Any]) -> None:
        """A group holds exactly the optimizer's hyperparameters (and ``params``)."""
        keys = set(group) - {"params"}
        unknown, missing = sorted(keys - set(self.defaults)), sorted(set(self.defaults) - keys)
        if unknown or missing:
            raise ValueError(f"{where}: unknown hyperparameter(s) {unknown} and missing "
                             f"{missing}; {type(self).__name__} has {sorted(self.defaults)}")

    # name -> (required, kind) of each per-parameter state entry ("array" or "count")
    _STATE: dict[str, tuple[bool, str]] = {}

    def _checked_state(self, where: str, label: str, p: Tensor, entry: Any) -> dict[str, Any]:
        return checked_state(where, label, p, entry, self._STATE, type(self).__name__)

    def _update(self, p: Tensor, g: np.ndarray, group: dict, state: dict) -> None:
        raise NotImplementedError

    # ---- state dicts ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {name: value}}, "param_groups": [...]}`` with parameters
        replaced by their index in group order, as PyTorch does; arrays are copies."""
        index = {id(p): i for i, p in enumerate(self._all_params())}
        groups = [{**{k: v for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        state = {index[id(p)]: copy.deepcopy(s) for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state, all or nothing: the groups (sizes, parameter
        indices, hyperparameter names, types and values) and every state entry (names, types,
        shapes) are checked before anything changes."""
        name = f"{type(self).__name__}.load_state_dict"
        groups, state = sections(name, state_dict)
        saved_sizes = [len(g["params"]) for g in groups]
        own_sizes = [len(g["params"]) for g in self.param_groups]
        if saved_sizes != own_sizes:
            raise ValueError(f"{name}: the saved parameter groups ({saved_sizes} parameters) "
                             f"do not match this optimizer's ({own_sizes})")
        saved_ids = [i for g in groups for i in g["params"]]
        if len(set(saved_ids)) != len(saved_ids) or any(
                isinstance(i, bool) or not isinstance(i, (int, np.integer)) for i in saved_ids):
            raise ValueError(f"{name}: the groups' 'params' must be distinct int indices, got "
                             f"{saved_ids}")
        by_id = dict(zip(saved_ids, self._all_params()))
        new_groups = []
        for gi, (saved, own) in enumerate(zip(groups, self.param_groups)):
            group = {**{k: copy.deepcopy(v) for k, v in saved.items() if k != "params"},
                     "params": own["params"]}
            self._check_keys(f"{name}: parameter group {gi}", group)
            try:
                self._check_group(group)
            except (TypeError, ValueError) as e:
                raise same_kind(e, f"{name}: parameter group {gi}: {e}") from None
            new_groups.append(group)
        new_state: dict[Tensor, dict[str, Any]] = {}
        for i, entry in state.items():
            if isinstance(i, bool) or i not in by_id:
                raise ValueError(f"{name}: state for unknown parameter {i!r} (the groups "
                                 f"hold {saved_ids})")
            p = by_id[i]
            checked = self._checked_state(f"{name}: state", f"parameter {i!r}", p, entry)
            new_state[p] = {k: v.astype(p.dtype, copy=True) if isinstance(v, np.ndarray)
                            else v for k, v in checked.items()}
        self.param_groups = new_groups
        self.state = new_state

    def _all_params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {g[k]}" for k in sorted(g) if k != "params"]
        return "\n".join(lines + [")"])


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (PyTorch's equations)::

        g = grad + weight_decay * p
        buf = g (first step), else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf        (when momentum != 0)
        p = p - lr * g
    """

    def __init__(self, params: ParamsLike, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay))

    _STATE = {"momentum_buffer": (False, "array")}

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("SGD", "lr", group["lr"], 0.0, low_open=True)
        check_number("SGD", "momentum", group["momentum"], 0.0)
        check_number("SGD", "dampening", group["dampening"], 0.0, 1.0)
        check_number("SGD", "weight_decay", group["weight_decay"], 0.0)
        as_flag("SGD: nesterov", group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0")

    def _update(self, p: Tensor, g: np.ndarray, group: dict, state: dict) -> None:
        momentum, wd = group["momentum"], group["weight_decay"]
        if wd != 0:
            g = g + wd * p._data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p._data -= group["lr"] * g


class Adam(Optimizer):
    """Adam (Kingma & Ba) with PyTorch's equations; ``weight_decay`` adds ``wd * p`` to the
    gradient (L2), ``amsgrad`` uses the running maximum of the second moment::

        t += 1;  g = grad + weight_decay * p
        m = m + (1 - beta1) * (g - m);   v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v) / sqrt(1 - beta2**t) + eps      (v -> max(v_max, v) with amsgrad)
        p = p - lr / (1 - beta1**t) * m / denom
    """

    _decoupled = False
    _STATE = {"step": (True, "count"), "exp_avg": (True, "array"),
              "exp_avg_sq": (True, "array"), "max_exp_avg_sq": (False, "array")}

    def __init__(self, params: ParamsLike, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _check_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        check_number(name, "lr", group["lr"], 0.0, low_open=True)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_number(name, "beta1 (betas[0])", betas[0], 0.0, 1.0, high_open=True)
        check_number(name, "beta2 (betas[1])", betas[1], 0.0, 1.0, high_open=True)
        check_number(name, "eps", group["eps"], 0.0)
        check_number(name, "weight_decay", group["weight_decay"], 0.0)
        as_flag(f"{name}: amsgrad", group["amsgrad"])

    def _update(self, p: Tensor, g: np.ndarray, group: dict, state: dict) -> None:
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p._data)
            state["exp_avg_sq"] = np.zeros_like(p._data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p._data)
        state["step"] += 1
        t = state["step"]
        if wd != 0:
            if self._decoupled:
                p._data *= 1 - lr * wd
            else:
                g = g + wd * p._data
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (g - m)
        v *= beta2
        v += (1 - beta2) * (g * g)
        bias_correction2_sqrt = _sqrt(1 - beta2**t)
        if group["amsgrad"]:
            vmax = state.setdefault("max_exp_avg_sq", np.zeros_like(p._data))
            np.maximum(vmax, v, out=vmax)
            v = vmax
        denom = np.sqrt(v) / bias_correction2_sqrt + group["eps"]
        p._data -= (lr / (1 - beta1**t)) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): before the Adam step,
    ``p = p * (1 - lr * weight_decay)``; the gradient itself is not changed. Default
    ``weight_decay=1e-2`` as in PyTorch."""

    _decoupled = True

    def __init__(self, params: ParamsLike, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)


class RMSprop(Optimizer):
    """RMSprop with PyTorch's equations::

        g = grad + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        avg = sqrt(s - a * a) + eps with a = a + (1 - alpha) * (g - a) if centered,
              else sqrt(s) + eps
        buf = momentum * buf + g / avg;  p = p - lr * buf     (momentum > 0)
        p = p - lr * g / avg                                  (momentum = 0)
    """

    def __init__(self, params: ParamsLike, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    _STATE = {"step": (True, "count"), "square_avg": (True, "array"),
              "grad_avg": (False, "array"), "momentum_buffer": (False, "array")}

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("RMSprop", "lr", group["lr"], 0.0, low_open=True)
        check_number("RMSprop", "alpha", group["alpha"], 0.0, 1.0)
        check_number("RMSprop", "eps", group["eps"], 0.0)
        check_number("RMSprop", "weight_decay", group["weight_decay"], 0.0)
        check_number("RMSprop", "momentum", group["momentum"], 0.0)
        as_flag("RMSprop: centered", group["centered"])

    def _update(self, p: Tensor, g: np.ndarray, group: dict, state: dict) -> None:
        alpha, wd, momentum = group["alpha"], group["weight_decay"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p._data)
        state["step"] += 1
        if wd != 0:
            g = g + wd * p._data
        s = state["square_avg"]
        s *= alpha
        s += (1 - alpha) * (g * g)
        if group["centered"]:
            a = state.setdefault("grad_avg", np.zeros_like(p._data))
            a += (1 - alpha) * (g - a)
            avg = np.sqrt(s - a * a) + group["eps"]
        else:
            avg = np.sqrt(s) + group["eps"]
        if momentum > 0:
            buf = state.setdefault("momentum_buffer", np.zeros_like(p._data))
            buf *= momentum
            buf += g / avg
            p._data -= group["lr"] * buf
        else:
            p._data -= group["lr"] * (g / avg)
