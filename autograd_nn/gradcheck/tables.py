"""Named gradients side by side: `compare_gradients` (two sets) and `check_three_way`
(engine, hand-derived and finite differences), each returning a printable, bool-like table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from ..tensor import Tensor
from .analytical import Analytical, forward
from .numerical import check_eps, scalar_gradient
from .problem import Problem, _floating_or_none
from .trust import input_verdicts, low_precision_outputs, mutated_inputs, output_drift

if TYPE_CHECKING:
    from ..types import TensorLike

#: named gradients: a dict ``name -> array/Tensor``, a sequence of them, or one of them
Gradients: TypeAlias = "Mapping[str, TensorLike] | Sequence[TensorLike] | TensorLike"


def format_table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    """Aligned text columns: the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [max(len(r[c]) for r in [headers, *rows]) for c in range(len(headers))]
    lines = []
    for r in [headers, *rows]:
        cells = [r[c].ljust(widths[c]) if c < left else r[c].rjust(widths[c])
                 for c in range(len(headers))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _float64(x: ArrayLike | Tensor) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)


def _array(x: ArrayLike | Tensor | None) -> np.ndarray | None:
    return None if x is None else _float64(x)


def difference(a: np.ndarray, ref: np.ndarray, rtol: float, atol: float,
               finite: bool = False) -> tuple[float, float, bool]:
    """(max |a - ref|, max |a - ref| / max(|a|, |ref|, atol), all within atol + rtol*|ref|);
    with ``finite`` (a finite-difference side) an infinite value is never within."""
    with np.errstate(all="ignore"):
        err = np.where(a == ref, 0.0, np.nan_to_num(np.abs(a - ref), nan=np.inf))
        rel = err / np.maximum(np.maximum(np.abs(a), np.abs(ref)), max(atol, 1e-300))
        ok = bool(np.all(err <= atol + rtol * np.abs(ref)))
        if finite:
            ok = ok and bool(np.all(np.isfinite(a)) and np.all(np.isfinite(ref)))
    return float(np.max(err, initial=0.0)), float(np.max(rel, initial=0.0)), ok


def _e(x: float | None) -> str:
    return "-" if x is None else f"{x:.2e}"


@dataclass
class GradientRow:
    name: str
    shape: tuple
    max_abs_diff: float
    max_rel_diff: float
    ok: bool
    note: str = ""


class _Rows:
    """Rows with a ``name`` and an ``ok``: truthy when every row is ok; ``table[name]``."""

    rows: list
    _what = "row"

    def __bool__(self) -> bool:
        return all(r.ok for r in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Any]:  # the subclass's rows
        return iter(self.rows)

    def __getitem__(self, name: str) -> Any:  # the subclass's row
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no {self._what} named {name!r}; names: {[r.name for r in self.rows]}")


class GradientTable(_Rows):
    """Per name: max abs and rel difference and an ok flag. Truthy when every row is ok."""

    _what = "gradient"

    def __init__(self, rows: list[GradientRow], labels: tuple[str, str], rtol: float,
                 atol: float) -> None:
        self.rows, self.labels, self.rtol, self.atol = rows, labels, rtol, atol

    def __str__(self) -> str:
        a, b = self.labels
        head = (f"{a} vs {b}: ok when |{a} - {b}| <= atol + rtol*|{b}| "
                f"(rtol={self.rtol:g}, atol={self.atol:g})")
        rows = [[r.name, str(r.shape), _e(r.max_abs_diff), _e(r.max_rel_diff),
                 "yes" if r.ok else "NO", r.note] for r in self.rows]
        table = format_table(["name", "shape", f"max |{a}-{b}|", "max rel", "ok", ""], rows, 2)
        bad = sum(not r.ok for r in self.rows)
        tail = (f"all {len(self.rows)} agree" if not bad
                else f"{bad} of {len(self.rows)} DISAGREE")
        return f"{head}\n{table}\n{tail}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from ..reprs import html_table

        a, b = self.labels
        rows = [[r.name, str(r.shape), _e(r.max_abs_diff), _e(r.max_rel_diff),
                 "yes" if r.ok else "NO", r.note] for r in self.rows]
        text = str(self).splitlines()
        return html_table(["name", "shape", f"max |{a}-{b}|", "max rel", "ok", ""], rows,
                          text[0], [text[-1]], bad=[i for i, r in enumerate(self.rows)
                                                    if not r.ok])


def _named(x: Any, names: list[str] | None, keys: list[str] | None, what: str) -> dict:
    if isinstance(x, Mapping):
        return dict(x)
    seq = [x] if isinstance(x, (Tensor, np.ndarray)) else list(x)
    labels = names or keys or ([f"#{i}" for i in range(len(seq))] if len(seq) > 1 else ["grad"])
    if len(labels) != len(seq):
        raise ValueError(f"compare_gradients: {what} has {len(seq)} gradients but "
                         f"{len(labels)} names")
    return dict(zip(labels, seq))


def compare_gradients(a: Gradients, b: Gradients, names: list[str] | None = None,
                      rtol: float = 1e-7, atol: float = 1e-12,
                      labels: tuple[str, str] = ("a", "b")) -> GradientTable:
    """Compare two sets of named gradients (``b`` is the reference), e.g. engine vs hand.

    ``a`` and ``b`` are dicts ``name -> array/Tensor`` or sequences (named by ``names``, or
    by the other argument's keys). ``names`` also selects and orders the rows. The defaults
    suit two analytical float64 gradients; loosen them for float32 or finite differences.
    """
    da = _named(a, names, list(b) if isinstance(b, Mapping) else None, "a")
    db = _named(b, names, list(da), "b")
    order = list(names) if names is not None else list(da)
    missing = [n for n in order if n not in da or n not in db]
    extra = [] if names is not None else [n for n in db if n not in da]
    if missing or extra:
        raise ValueError(f"compare_gradients: names missing from one side: {missing + extra}; "
                         f"a has {list(da)}, b has {list(db)}")
    rows = []
    for n in order:
        x, y = _array(da[n]), _array(db[n])
        if x is None or y is None:
            both = x is None and y is None
            rows.append(GradientRow(n, () if y is None else y.shape, 0.0 if both else np.inf,
                                    0.0 if both else np.inf, both,
                                    "" if both else f"{labels[0] if x is None else labels[1]} "
                                    "is None"))
        elif x.shape != y.shape:
            rows.append(GradientRow(n, y.shape, np.inf, np.inf, False,
                                    f"shape {x.shape} vs {y.shape}"))
        else:
            rows.append(GradientRow(n, y.shape, *difference(x, y, rtol, atol)))
    return GradientTable(rows, labels, rtol, atol)


@dataclass
class ThreeWayRow:
    name: str
    shape: tuple
    engine_hand_abs: float
    engine_hand_rel: float
    engine_fd_abs: float
    engine_fd_rel: float
    hand_fd_abs: float
    hand_fd_rel: float
    ok: bool


class ThreeWayTable(_Rows):
    """Engine vs hand-derived vs finite differences, one row per parameter; truthy when all
    three agree for every parameter. ``engine``, ``hand``, ``numerical`` hold the gradients."""

    _what = "parameter"

    def __init__(self, rows: list[ThreeWayRow], engine: dict, hand: dict, numerical: dict,
                 tolerances: dict, cannot_vouch: list[str] | None = None) -> None:
        self.rows, self.engine, self.hand, self.numerical = rows, engine, hand, numerical
        self.tolerances = tolerances
        self.cannot_vouch = list(cannot_vouch or [])  # reasons it fails whatever the rows say

    def __bool__(self) -> bool:
        return not self.cannot_vouch and super().__bool__()

    def __str__(self) -> str:
        t = self.tolerances
        head = (f"gradients: engine vs hand-derived vs central differences (eps={t['eps']:g})\n"
                f"ok when |engine-hand| <= {t['atol']:g} + {t['rtol']:g}*|hand| and each vs "
                f"finite differences <= {t['fd_atol']:g} + {t['fd_rtol']:g}*|fd|")
        rows = [[r.name, str(r.shape), _e(r.engine_hand_abs), _e(r.engine_hand_rel),
                 _e(r.engine_fd_abs), _e(r.engine_fd_rel), _e(r.hand_fd_abs),
                 _e(r.hand_fd_rel), "yes" if r.ok else "NO"] for r in self.rows]
        table = format_table(["name", "shape", "max|engine-hand|", "rel", "max|engine-fd|",
                              "rel", "max|hand-fd|", "rel", "ok"], rows, 2)
        bad = sum(not r.ok for r in self.rows)
        tail = (f"all {len(self.rows)} parameters agree" if not bad
                else f"{bad} of {len(self.rows)} parameters DISAGREE")
        tail += "".join(f"\ncannot vouch: {r}" for r in self.cannot_vouch)
        return f"{head}\n{table}\n{tail}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from ..reprs import html_table

        rows = [[r.name, str(r.shape), _e(r.engine_hand_abs), _e(r.engine_hand_rel),
                 _e(r.engine_fd_abs), _e(r.engine_fd_rel), _e(r.hand_fd_abs), _e(r.hand_fd_rel),
                 "yes" if r.ok else "NO"] for r in self.rows]
        text = str(self).splitlines()
        head = ["name", "shape", "max |engine-hand|", "rel", "max |engine-fd|", "rel",
                "max |hand-fd|", "rel", "ok"]
        return html_table(head, rows, text[0], [text[1], text[-1]],
                          bad=[i for i, r in enumerate(self.rows) if not r.ok])


def _engine_and_fd(loss_fn: Callable, params: dict, eps: float, need_engine: bool,
                   need_fd: bool, allow_unused: bool) -> tuple[dict, dict, list]:
    """The engine's and the central-difference gradients of ``loss_fn`` (the gradcheck
    contract: arguments as float64 copies, or no arguments and live Tensors perturbed in
    place), and the reasons the check cannot vouch for it."""
    names = list(params)
    problem = Problem(loss_fn, params, "check_three_way", every_input=True)
    grads: dict = {}
    fd: dict = {}
    with problem.restoring():
        outs, args = forward(problem, sites=False)
        loss = outs[0]
        if len(outs) != 1 or not isinstance(loss, Tensor) or loss.size != 1:
            raise ValueError("check_three_way: loss_fn must return a single-element Tensor, "
                             f"got {type(loss).__name__} {getattr(loss, 'shape', '')}")
        y0 = [_floating_or_none(o) for o in outs]
        ana = Analytical(problem, outs, {i: args[i] for i in problem.diff})
        drift = (mutated_inputs(problem, args) or low_precision_outputs(problem, outs)
                 or output_drift(problem, y0, 0.0, "twice"))
        reasons = [drift] if drift else []
        if not reasons:
            more, _ = input_verdicts(problem, ana, y0, 0, allow_unused)
            reasons += more
        if need_engine:
            g = ana.vjp(0, np.ones(1)) if ana.in_graph(0) else {i: np.zeros(problem.base[
                i].size) for i in problem.diff}
            grads = {n: g[i].reshape(problem.base[i].shape) for i, n in enumerate(names)}
        if need_fd:
            for i, n in enumerate(names):
                fd[n] = (np.full(problem.base[i].shape, np.nan) if drift else
                         scalar_gradient(problem, i, eps))
    return grads, fd, reasons


def check_three_way(loss_fn: Callable[..., Tensor] | None,
                    params: Mapping[str, TensorLike] | Iterable[tuple[str, TensorLike]],
                    hand: Mapping[str, TensorLike], *,
                    engine: Mapping[str, TensorLike] | None = None,
                    numerical: Mapping[str, TensorLike] | None = None, eps: float = 1e-6,
                    rtol: float = 1e-7, atol: float = 1e-12, fd_rtol: float = 1e-4,
                    fd_atol: float = 1e-5, allow_unused: bool = False) -> ThreeWayTable:
    """Engine vs hand-derived vs central-difference gradients of a scalar loss, per parameter.

    ``loss_fn`` follows `gradcheck`'s contract: it either takes the parameters as positional
    arguments, in the order of ``params`` (a dict ``name -> Tensor/array``), and runs on
    float64 copies of them; or takes no arguments (a closure over the live parameter Tensors,
    e.g. a model's), in which case each parameter's ``.data`` is swapped for a float64 copy
    during the check and the original array and ``.grad`` put back afterwards (bit for bit,
    so no version bump), also when loss_fn raises. ``hand`` maps the names to hand-derived
    gradients. The table is falsy, with the reason in ``table.cannot_vouch``, when loss_fn is
    not deterministic or does not depend on a parameter at all (unless ``allow_unused=True``).
    Pass ``engine=`` or ``numerical=`` dicts to use gradients computed elsewhere instead of
    computing them. ``rtol/atol`` judge engine vs hand (two analytical
    gradients), ``fd_rtol/fd_atol`` anything vs finite differences.
    """
    eps = check_eps(eps, "check_three_way")
    params = dict(params)  # a Mapping, or name/value pairs such as net.named_parameters()
    names = list(params)
    missing = [n for n in names if n not in hand]
    if missing:
        raise ValueError(f"check_three_way: hand-derived gradients missing for {missing}")
    need_engine, need_fd = engine is None, numerical is None
    given = {"hand": hand, "engine": engine or {}, "numerical": numerical or {}}
    nones = [f"{side}[{n!r}]" for side, grads in given.items() for n in names
             if n in grads and grads[n] is None]
    if nones:
        raise TypeError(f"check_three_way: gradients must be arrays, got None for {nones}")
    if need_engine or need_fd:
        if loss_fn is None:
            raise ValueError("check_three_way: give loss_fn, or both engine= and numerical=")
        got_e, got_fd, reasons = _engine_and_fd(loss_fn, dict(params), eps, need_engine,
                                                need_fd, allow_unused)
    else:
        got_e, got_fd, reasons = {}, {}, []
    eng = {n: _float64(engine[n]) for n in names} if engine is not None else got_e
    num = {n: _float64(numerical[n]) for n in names} if numerical is not None else got_fd
    hnd = {n: _float64(hand[n]) for n in names}
    rows = []
    inf = np.inf
    for n in names:
        e, h, d = eng[n], hnd[n], num[n]
        if not (e.shape == h.shape == d.shape):
            rows.append(ThreeWayRow(n, e.shape, inf, inf, inf, inf, inf, inf, False))
            continue
        eh = difference(e, h, rtol, atol)
        ef = difference(e, d, fd_rtol, fd_atol, finite=True)
        hf = difference(h, d, fd_rtol, fd_atol, finite=True)
        rows.append(ThreeWayRow(n, e.shape, eh[0], eh[1], ef[0], ef[1], hf[0], hf[1],
                                eh[2] and ef[2] and hf[2]))
    tol = dict(eps=eps, rtol=rtol, atol=atol, fd_rtol=fd_rtol, fd_atol=fd_atol)
    return ThreeWayTable(rows, eng, hnd, num, tol, reasons)
