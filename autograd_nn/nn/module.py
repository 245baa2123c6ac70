"""`Module` (a container of parameters and sub-modules) and `Parameter` (a trainable leaf).

A module registers a `Parameter` or another `Module` when it is assigned as an attribute, the
way PyTorch's ``nn.Module`` does, so ``named_parameters()`` can list them with dotted names
(``"hidden.weight"``). Calling a module runs ``forward`` with the module pushed on the module
scope (``autograd_nn.mode.STATE.scope``), so every op recorded inside knows which modules
made it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import as_flag
from ..mode import LOCAL
from ..tensor import Tensor

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

    from ..types import DTypeLike, TensorLike


class StateDictError(ValueError):
    """A state dict (or a parameter file) does not fit the module; nothing was changed."""


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Parameter(Tensor):
    """A leaf tensor that a `Module` registers as trainable: floating point, requires grad.

    ``Parameter(data)`` copies ``data`` (Python numbers and lists become float64).
    """

    def __init__(self, data: TensorLike, requires_grad: bool = True, dtype: DTypeLike | None = None,
                 name: str | None = None) -> None:
        requires_grad = as_flag("Parameter: requires_grad", requires_grad)
        super().__init__(data, requires_grad=False, dtype=dtype, name=name)
        if self._data.dtype.kind != "f":
            raise TypeError(
                f"Parameter: data must be floating point, got dtype {self._data.dtype}; "
                "convert first, e.g. Parameter(x.astype(np.float64))"
            )
        self._requires_grad = requires_grad

    @property
    def data(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self._data

    @data.setter
    def data(self, value: TensorLike) -> None:
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        if arr.dtype.kind != "f":
            raise TypeError(f"Parameter: data must be floating point, got dtype {arr.dtype}")
        self._data = arr

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models: subclass it, assign parameters and sub-modules in
    ``__init__`` (after ``super().__init__()``), and write ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)

    # ---- registration -----------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params: Any = d.get("_parameters")
        modules: Any = d.get("_modules")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(
                f"cannot assign {type(value).__name__} {name!r} before Module.__init__() "
                f"was called: call super().__init__() first in {type(self).__name__}.__init__"
            )
        if isinstance(value, (Parameter, Module)):
            self._check_name(name)  # "a.b" would shadow sub-module a's b in the state dict
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:  # a registered buffer keeps its slot
            buffers[name] = _as_buffer(type(self).__name__, name, value)
        elif isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        else:
            for store, what, kind in ((params, "parameter", "Parameter"),
                                      (modules, "sub-module", "Module")):
                if store is not None and name in store:  # a registered slot keeps its kind
                    if value is not None:
                        raise TypeError(
                            f"cannot assign {type(value).__name__} as {what} {name!r} of "
                            f"{type(self).__name__}: a {kind} (or None) is expected"
                        )
                    store[name] = None
                    return
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)
        self.__dict__["_parameters"].pop(name, None)
        self.__dict__["_modules"].pop(name, None)
        self.__dict__.get("_buffers", {}).pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: parameters and sub-modules live in the dicts
        d = self.__dict__
        for store in ("_parameters", "_modules", "_buffers"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for store in ("_parameters", "_modules", "_buffers"):
            if store in d and name in d[store]:
                del d[store][name]
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules)
                      | set(self._buffers))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (same as assigning it as an attribute)."""
        self._register("register_parameter", "_parameters", Parameter, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module under ``name`` (same as assigning it as an attribute)."""
        self._register("add_module", "_modules", Module, name, module)

    def _register(self, op: str, store: str, kind: type, name: str, value: object) -> None:
        """``self.<store>[name] = value``, once value is checked to be a ``kind`` or None and
        ``name`` free to use (any other registration under it forgotten)."""
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"{op}({name!r}): expected a {kind.__name__} or None, "
                            f"got {type(value).__name__}")
        self._check_name(name)
        self._forget(name)
        getattr(self, store)[name] = value

    def register_buffer(self, name: str, tensor: TensorLike | None,
                        persistent: bool = True) -> None:
        """Register ``tensor`` (a Tensor or array, kept without grad; None for an empty slot)
        as a buffer: state that is not trained but belongs to the module, such as batch
        norm's running statistics. Persistent buffers are part of ``state_dict`` (and of
        saved ``.npz`` files); assigning the attribute later replaces the buffer."""
        self._check_name(name)
        buf = _as_buffer(type(self).__name__, name, tensor)
        self._forget(name)
        self._buffers[name] = buf
        (self._non_persistent.discard if persistent else self._non_persistent.add)(name)

    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, module by module in registration order."""
        modules = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        for mod_name, mod in modules:
            for name, b in mod._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _state_items(self) -> Iterator[tuple[str, Tensor]]:
        """What ``state_dict`` holds: each module's parameters, then its persistent buffers."""
        for mod_name, mod in self.named_modules(remove_duplicate=False):
            pre = f"{mod_name}." if mod_name else ""
            for name, p in mod._parameters.items():
                if p is not None:
                    yield pre + name, p
            for name, b in mod._buffers.items():
                if b is not None and name not in mod._non_persistent:
                    yield pre + name, b

    @staticmethod
    def _check_name(name: object) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"invalid name {name!r}: a non-empty string without '.' is needed")

    # ---- traversal --------------------------------------------------------------------------
    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs in registration order; a shared parameter once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else iter([(prefix, self)])
        for mod_name, mod in modules:
            for name, p in mod._parameters.items():
                if p is None or (remove_duplicate and id(p) in seen):
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (each shared one once), in registration order."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ('' or ``prefix``) and all below, depth first."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in seen:
                    continue
                seen.add(id(mod))
            yield name, mod
            subs = [(f"{name}.{k}" if name else k, m) for k, m in mod._modules.items()
                    if m is not None]
            stack.extend(reversed(subs))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def apply(self, fn: Callable[[Module], object]) -> Self:
        """Call ``fn(module)`` on every sub-module (children first) and on this one."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- training state ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        """Set the ``training`` flag here and below (Dropout is active only in training)."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Self:
        """Same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget gradients: ``.grad = None`` (PyTorch's default), or zero them in place."""
        set_to_none = as_flag("Module.zero_grad: set_to_none", set_to_none)
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._from_op(np.zeros_like(p.grad._data), None)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Freeze (False) or unfreeze (True) every parameter."""
        requires_grad = as_flag("Module.requires_grad_: requires_grad", requires_grad)
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    # ---- calling ----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:  # each layer has its own signature
        raise NotImplementedError(f"{type(self).__name__} has no forward() method")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        st = LOCAL.mode
        outer = st.scope
        st.scope = outer + (self,)
        try:
            return self.forward(*args, **kwargs)
        finally:
            st.scope = outer

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """{dotted name: copy of the array} of every parameter and persistent buffer (module
        by module: parameters, then buffers); a shared parameter under every name."""
        return {name: t._data.copy() for name, t in self._state_items()}

    def load_state_dict(self, state_dict: Mapping[str, TensorLike], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy arrays into the parameters and persistent buffers, after checking all of them.

        Missing or unexpected keys (when ``strict``), mismatched shapes and values of another
        kind (integer for a floating parameter, floating for an integer buffer such as
        ``num_batches_tracked``) raise `StateDictError` naming every problem, and then nothing
        has been changed. Values are cast to the target's dtype (as PyTorch's ``copy_``).
        Returns the missing and unexpected keys (empty lists when ``strict``).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of name -> array, "
                            f"got {type(state_dict).__name__}")
        own = dict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict:
            problems += [f"missing key {k!r}" for k in missing]
            problems += [f"unexpected key {k!r}" for k in unexpected]
        arrays = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            try:
                arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            except Exception as e:  # noqa: BLE001 - any conversion failure is reported
                problems.append(f"{name!r}: cannot read the value as an array ({e})")
                continue
            if _kind(arr.dtype) != _kind(p.dtype):
                what = "floating point" if p.dtype.kind == "f" else "integer"
                role = "parameter" if isinstance(p, Parameter) else "buffer"
                problems.append(f"{name!r}: dtype {arr.dtype} is not {what} (the {role} is "
                                f"{p.dtype})")
            elif arr.shape != p.shape:
                problems.append(f"{name!r}: shape {arr.shape} does not match the parameter's "
                                f"shape {p.shape}")
            else:
                arrays[name] = arr
        if problems:
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}: "
                + "; ".join(problems) + ". Nothing was loaded."
            )
        for name, arr in arrays.items():
            p = own[name]
            p._data[...] = arr
            p._bump_version()
        return IncompatibleKeys(missing if not strict else [], unexpected if not strict else [])

    # ---- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (layers override it)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"\n  {extra}" if extra else "")
        return head + "\n" + "\n".join(lines) + "\n)"


def _kind(dtype: np.dtype) -> str:
    """'f' for floating, 'i' for integer (signed or not) and bool: what may load into what."""
    return "f" if dtype.kind == "f" else ("i" if dtype.kind in "iub" else dtype.kind)


def _as_buffer(owner: str, name: str, value: TensorLike | None) -> Tensor | None:
    if value is None:
        return None
    if isinstance(value, Parameter):
        raise TypeError(f"{owner}: buffer {name!r} cannot hold a Parameter (register it as a "
                        "parameter instead)")
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise TypeError(f"{owner}: buffer {name!r} must not require grad (detach it)")
        return value
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: buffer {name!r} must be numeric, got dtype {arr.dtype}")
    return Tensor._from_op(arr, None)
