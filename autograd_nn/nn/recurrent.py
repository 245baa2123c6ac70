"""Recurrent layers: the cells `RNNCell`, `LSTMCell`, `GRUCell` (one time step) and `RNN`,
`LSTM`, `GRU` over a whole sequence (layers stacked, optionally both directions).

PyTorch's equations, gate order, argument and parameter names, with one difference:
**weights follow this package's `Linear` layout (in, out)**, the transpose of PyTorch's.
``weight_ih`` is ``(input_size, gates * hidden_size)`` and ``weight_hh`` is
``(hidden_size, gates * hidden_size)``, gates stacked along the columns in PyTorch's order:
LSTM ``(i, f, g, o)``, GRU ``(r, z, n)``, RNN one gate. So ``x @ weight_ih`` is the input's
contribution to every gate at once. `autograd_nn.nn.from_torch_state_dict` transposes a
PyTorch state dict into this layout (and `to_torch_state_dict` back)::

    LSTM:  i, f, g, o = split(x @ W_ih + b_ih + h @ W_hh + b_hh, 4)
           c' = sigmoid(f) * c + sigmoid(i) * tanh(g);   h' = sigmoid(o) * tanh(c')
    GRU:   r = sigmoid(x W_ir + b_ir + h W_hr + b_hr);  z = sigmoid(... z ...)
           n = tanh(x W_in + b_in + r * (h W_hn + b_hn)); h' = (1 - z) * n + z * h
    RNN:   h' = tanh(x @ W_ih + b_ih + h @ W_hh + b_hh)   (or relu)

Every weight and bias starts uniform on +-1/sqrt(hidden_size), as PyTorch's. The time loop
is plain Python over the engine's ops, so backpropagation through time is the ordinary
backward of the unrolled graph.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from ..ops import concatenate, matmul, relu, sigmoid, stack, tanh
from ..seeding import as_generator
from ..tensor import Tensor
from . import functional as F
from . import init as nn_init
from .module import Module, Parameter
from .window_args import is_int

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..types import DTypeLike, RngLike, TensorLike

#: ``hx``: h (RNN, GRU) or the pair (h, c) (LSTM); None starts from zeros
HiddenState: TypeAlias = "TensorLike | tuple[TensorLike | None, TensorLike | None] | None"

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _as_input(op: str, x: TensorLike) -> Tensor:
    t = x if isinstance(x, Tensor) else Tensor._from_op(np.asarray(x), None)
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {t.dtype}")
    return t


def _gate(z: Tensor, k: int, hidden: int) -> Tensor:
    return z[..., k * hidden:(k + 1) * hidden]


def cell_step(kind: str, xw: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor,
              b_hh: Tensor | None, nonlinearity: str = "tanh") -> tuple[Tensor, Tensor | None]:
    """One step given ``xw = x @ W_ih + b_ih``: (h', c') (c' is None but for LSTM)."""
    hw = matmul(h, w_hh)
    if b_hh is not None:
        hw = hw + b_hh
    n = h.shape[-1]
    if kind == "rnn":
        return (tanh if nonlinearity == "tanh" else relu)(xw + hw), None
    if kind == "lstm":
        z = xw + hw
        i, f = sigmoid(_gate(z, 0, n)), sigmoid(_gate(z, 1, n))
        g, o = tanh(_gate(z, 2, n)), sigmoid(_gate(z, 3, n))
        assert c is not None  # an LSTM step always carries its cell state
        c2 = f * c + i * g
        return o * tanh(c2), c2
    r = sigmoid(_gate(xw, 0, n) + _gate(hw, 0, n))
    z = sigmoid(_gate(xw, 1, n) + _gate(hw, 1, n))
    cand = tanh(_gate(xw, 2, n) + r * _gate(hw, 2, n))
    return (1 - z) * cand + z * h, None


def _check_sizes(name: str, input_size: object, hidden_size: object) -> None:
    for arg, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not is_int(v) or v <= 0:
            raise ValueError(f"{name}: {arg} must be a positive int, got {v!r}")


def _reset(module: Module, hidden_size: int, rng: RngLike | None) -> None:
    gen = as_generator(rng)
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        nn_init.uniform_(p, -bound, bound, rng=gen)


class _Cell(Module):
    kind = "rnn"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", rng: RngLike | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        name = type(self).__name__
        _check_sizes(name, input_size, hidden_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{name}: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.bias, self.nonlinearity = bool(bias), nonlinearity
        width = GATES[self.kind] * hidden_size
        self.weight_ih = Parameter(np.empty((input_size, width), dtype=dtype))
        self.weight_hh = Parameter(np.empty((hidden_size, width), dtype=dtype))
        self.bias_ih = Parameter(np.empty(width, dtype=dtype)) if bias else None
        self.bias_hh = Parameter(np.empty(width, dtype=dtype)) if bias else None
        _reset(self, hidden_size, rng)

    def _state(self, x: Tensor, hx: HiddenState) -> tuple[bool, Tensor, Tensor | None]:
        name = type(self).__name__
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input (N, {self.input_size}) or "
                             f"({self.input_size},), got {x.shape}")
        batched = x.ndim == 2
        shape = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        states = hx if isinstance(hx, tuple) else (hx, None)
        h, c = (s if s is None or isinstance(s, Tensor) else Tensor(np.asarray(s))
                for s in states)
        for what, s in (("hidden state", h), ("cell state", c)):
            if s is not None and s.shape != shape:
                raise ValueError(f"{name}: {what} must have shape {shape}, got {s.shape}")
        zeros = np.zeros(shape, dtype=x.dtype)
        return batched, (h if h is not None else Tensor(zeros)), \
            (c if c is not None else Tensor(zeros)) if self.kind == "lstm" else None

    def forward(self, input: TensorLike, hx: HiddenState = None
                ) -> Tensor | tuple[Tensor, Tensor | None]:  # (h', c') for LSTMCell, else h'
        x = _as_input(type(self).__name__, input)
        _, h, c = self._state(x, hx)
        xw = matmul(x, self.weight_ih)
        if self.bias_ih is not None:
            xw = xw + self.bias_ih
        h2, c2 = cell_step(self.kind, xw, h, c, self.weight_hh, self.bias_hh,
                           self.nonlinearity)
        return (h2, c2) if self.kind == "lstm" else h2

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_Cell):
    """``h' = tanh(x @ W_ih + b_ih + h @ W_hh + b_hh)`` (``nonlinearity='relu'`` too);
    ``forward(input, hx=None) -> h'``. Weights in the (in, out) layout (module docstring)."""

    kind = "rnn"


class LSTMCell(_Cell):
    """One LSTM step, gates (i, f, g, o); ``forward(input, (h, c)=None) -> (h', c')``.
    Weights in the (in, out) layout: ``weight_ih`` (input_size, 4 * hidden_size)."""

    kind = "lstm"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 rng: RngLike | None = None, dtype: DTypeLike = np.float64) -> None:
        super().__init__(input_size, hidden_size, bias, "tanh", rng, dtype)


class GRUCell(LSTMCell):
    """One GRU step, gates (r, z, n); ``forward(input, h=None) -> h'``. Weights in the
    (in, out) layout: ``weight_ih`` (input_size, 3 * hidden_size)."""

    kind = "gru"


class _Recurrent(Module):
    kind = "rnn"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False,
                 rng: RngLike | None = None, dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        name = type(self).__name__
        _check_sizes(name, input_size, hidden_size)
        if not is_int(num_layers) or num_layers < 1:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{name}: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        F.check_dropout_p(dropout)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.nonlinearity, self.bias, self.batch_first = nonlinearity, bool(bias), batch_first
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.rng = as_generator(rng)
        width = GATES[self.kind] * hidden_size
        dirs = 2 if bidirectional else 1
        for layer in range(num_layers):
            n_in = input_size if layer == 0 else hidden_size * dirs
            for sfx in self._suffixes():
                tag = f"l{layer}{sfx}"
                setattr(self, f"weight_ih_{tag}", Parameter(np.empty((n_in, width), dtype)))
                setattr(self, f"weight_hh_{tag}",
                        Parameter(np.empty((hidden_size, width), dtype)))
                if bias:
                    setattr(self, f"bias_ih_{tag}", Parameter(np.empty(width, dtype)))
                    setattr(self, f"bias_hh_{tag}", Parameter(np.empty(width, dtype)))
        _reset(self, hidden_size, self.rng)

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def _initial(self, hx: HiddenState, n: int | None, dtype: DTypeLike
                 ) -> tuple[list[Tensor], Sequence[Tensor | None]]:
        """Per (layer, direction): the initial h and c (c only for LSTM), checked."""
        name = type(self).__name__
        count = self.num_layers * len(self._suffixes())
        shape = (count, n, self.hidden_size) if n is not None else (count, self.hidden_size)
        states = hx if isinstance(hx, tuple) else (hx, None)
        if self.kind == "lstm" and hx is not None and not isinstance(hx, tuple):
            raise TypeError(f"{name}: hx must be a tuple (h_0, c_0)")
        out = []
        for what, s in zip(("h_0", "c_0"), states):
            if s is None:
                s = Tensor(np.zeros(shape, dtype=dtype))
            s = s if isinstance(s, Tensor) else Tensor(np.asarray(s))
            if s.shape != shape:
                raise ValueError(f"{name}: {what} must have shape {shape}, got {s.shape}")
            out.append([s[k] for k in range(count)])
        return out[0], out[1] if self.kind == "lstm" else [None] * count

    def _run(self, seq: Tensor, h: Tensor, c: Tensor | None, tag: str
             ) -> tuple[Tensor, Tensor, Tensor | None]:
        """One layer in one direction over ``seq`` (L, [N,] features), in the order given."""
        w_ih, w_hh = getattr(self, f"weight_ih_{tag}"), getattr(self, f"weight_hh_{tag}")
        b_ih = getattr(self, f"bias_ih_{tag}") if self.bias else None
        b_hh = getattr(self, f"bias_hh_{tag}") if self.bias else None
        xw = matmul(seq, w_ih)  # every step's input projection in one product
        if b_ih is not None:
            xw = xw + b_ih
        outs = []
        for t in range(seq.shape[0]):
            h, c = cell_step(self.kind, xw[t], h, c, w_hh, b_hh, self.nonlinearity)
            outs.append(h)
        return stack(outs), h, c

    def forward(self, input: TensorLike, hx: HiddenState = None
                ) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
        name = type(self).__name__
        x = _as_input(name, input)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input (L, N, {self.input_size}) (batch_first: "
                             f"(N, L, ...)) or unbatched (L, {self.input_size}), got {x.shape}")
        batched = x.ndim == 3
        if batched and self.batch_first:
            x = x.swapaxes(0, 1)
        hs, cs = self._initial(hx, x.shape[1] if batched else None, x.dtype)
        seq, h_n, c_n = x, [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                seq = F.dropout(seq, self.dropout, True, self.rng)
            outs = []
            for d, sfx in enumerate(self._suffixes()):
                k = layer * len(self._suffixes()) + d
                o, h, c = self._run(seq if d == 0 else seq[::-1], hs[k], cs[k],
                                    f"l{layer}{sfx}")
                outs.append(o if d == 0 else o[::-1])
                h_n.append(h)
                c_n.append(c)
            seq = outs[0] if len(outs) == 1 else concatenate(outs, axis=-1)
        output = seq.swapaxes(0, 1) if batched and self.batch_first else seq
        hidden = stack(h_n)
        cells = stack(c_n) if self.kind == "lstm" else None  # type: ignore[arg-type]  # LSTM: Tensors
        return output, ((hidden, cells) if cells is not None else hidden)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for flag in ("batch_first", "bidirectional"):
            if getattr(self, flag):
                s += f", {flag}=True"
        return s + (f", dropout={self.dropout}" if self.dropout else "")


class RNN(_Recurrent):
    """Elman RNN over a sequence: ``forward(input, h_0=None) -> (output, h_n)``; input
    (L, N, input_size) or (N, L, ...) with ``batch_first``; output (L, N, D * hidden_size),
    h_n (D * num_layers, N, hidden_size), D = 2 when ``bidirectional``. Parameters
    ``weight_ih_l{k}`` etc. in the (in, out) layout (module docstring)."""

    kind = "rnn"


class LSTM(_Recurrent):
    """LSTM over a sequence: ``forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))``;
    shapes as `RNN`; gates (i, f, g, o); weights in the (in, out) layout."""

    kind = "lstm"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, rng: RngLike | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__(input_size, hidden_size, num_layers, "tanh", bias, batch_first,
                         dropout, bidirectional, rng, dtype)


class GRU(LSTM):
    """GRU over a sequence: ``forward(input, h_0=None) -> (output, h_n)``; shapes as `RNN`;
    gates (r, z, n); weights in the (in, out) layout."""

    kind = "gru"
