"""Buffer reuse for large arrays: ``out=`` into an array that is dead, or into a buffer the
compiled step owns, instead of a fresh allocation (whose first writes page-fault): W4, on
10^6 float64 arrays, went from 0.96x to 0.65x of hand-written numpy (medians of benchmark runs).

`plan` rewrites the lines of one generated function. Every line a rule made by an elementwise
ufunc (``a * b``, ``np.exp(t)``, ``1.0 / t``...) or by ``a.dot(b)`` is known (`Sym.made`). Such
a line, on arrays of at least `MIN_SIZE` elements, writes its result

- into an operand it made itself that is dead after the line (no later line reads it, it is not
  returned, never went to a line the plan does not know: a view, a call that may keep it, an
  in-place update), of the result's shape and dtype: ``t3 = np.negative(t2, out=t2)``;
- or, heading such a chain of rewrites, into ``_B[k]``: in a training step's steady state (the
  driver) a buffer the step owns (for a chain whose last array is a gradient handed to
  ``.grad``, the previous call's gradient array when nothing else holds it: `driver.py`), and
  ``None`` -- a fresh array -- on every other path.

Values are the same bits (a ufunc computes each element the same wherever it writes it; a
buffer's layout is C order, so a later reduction may add in another order only if eager mode
would have made a non-C array there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .symbolic import Sym, call_args, frozen

MIN_SIZE = 2 ** 15  # elements; below it a fresh small array costs no more than out= (equal at
# 2^16 elements, out= 10% faster at 10^6, measured 2026-12-01)


@dataclass
class Buffers:
    """The ``_B`` slots of one compiled step: (shape, dtype, kind) per slot; kind is
    ``"own"`` (a buffer of the step) or ``("grad", i)`` (recycled from region input i's
    delivered gradient)."""

    slots: list = field(default_factory=list)

    def new(self, value: np.ndarray, kind: Any) -> str:
        self.slots.append((value.shape, value.dtype, kind))
        return f"_B[{len(self.slots) - 1}]"


def _syms(parts: Any) -> list:
    out, stack = [], [parts]
    while stack:
        p = stack.pop()
        if isinstance(p, Sym):
            out.append(p)
        elif isinstance(p, (tuple, list)):
            stack.extend(p)
    return out


def _uses(lines: list) -> tuple[dict, set]:
    """The last line reading each symbol, and the symbols read by lines the plan does not
    know (pinned: never overwritten, never in a buffer of the step)."""
    last: dict = {}
    pinned: set = set()
    for i, line in enumerate(lines):
        if not line or isinstance(line[0], str) and line[0].startswith("#"):
            continue
        out = _assigned(line)
        read = _syms(line[2:] if out is not None else line)
        known = out is not None and out.made is not None
        augmented = (out is None and isinstance(line[0], Sym) and len(line) > 1
                     and isinstance(line[1], str) and line[1].endswith("= ")
                     and line[1].strip() != "=")
        for s in read:
            last[s] = i
            if not known and not (augmented and s is not line[0]):
                pinned.add(s)
    return last, pinned


def _assigned(line: tuple) -> Any:
    """The symbol a line ``s = ...`` assigns, or None (a statement, a comment)."""
    if line and isinstance(line[0], Sym) and len(line) > 1 and line[1] == " = ":
        return line[0]
    return None


def _owned(s: Any) -> bool:
    """Made by an elementwise line or a dot (a fresh array, not a view) and large."""
    return (isinstance(s, Sym) and s.made is not None and s.made[0] is not None
            and type(s.value) is np.ndarray and s.value.base is None and s.size >= MIN_SIZE)


def plan(lines: list, returned: list, bufs: Buffers | None, fates: dict) -> list:
    """``lines`` with results written into dead operands or buffers (see the module doc).
    ``returned``: symbols live at the end. ``bufs``: the step's buffers (None outside a step:
    only dead operands are reused). ``fates``: symbol -> what becomes of it after the call
    (``("grad", i)``: delivered as region input i's gradient; ``"out"``: the result)."""
    last, pinned = _uses(lines)
    live = {id(s) for s in returned}
    chain: dict = {}  # symbol -> its chain (list of line indices; the first one heads it)
    members: dict = {}
    out_lines = list(lines)
    for i, line in enumerate(lines):
        out = _assigned(line)
        if not _owned(out):
            continue
        ufunc, operands = out.made
        victim = None
        if ufunc != "dot":
            victim = next((x for x in operands if _owned(x) and x not in pinned
                           and id(x) not in live and last.get(x) == i and x.shape == out.shape
                           and x.dtype == out.dtype and x in chain), None)
        if victim is not None:
            chain[out] = chain[victim]
            out_lines[i] = _rewrite(out, ufunc, operands, victim)
        else:
            chain[out] = [i]
        members.setdefault(id(chain[out]), []).append(out)
    if bufs is not None:
        _heads(lines, out_lines, chain, members, pinned, bufs, fates)
    return out_lines


def _heads(lines: list, out_lines: list, chain: dict, members: dict, pinned: set,
           bufs: Buffers, fates: dict) -> None:
    """The first line of each chain writes into a buffer of the step where it may."""
    seen = set()
    for c in chain.values():
        if id(c) in seen:
            continue
        seen.add(id(c))
        group = members[id(c)]
        if any(m in pinned or fates.get(m) == "out" for m in group[:-1]):
            continue
        fate = fates.get(group[-1])
        if group[-1] in pinned or fate == "out":
            continue
        head = lines[c[0]][0]
        kind = fate if isinstance(fate, tuple) else "own"
        ufunc, operands = head.made
        out_lines[c[0]] = _rewrite(head, ufunc, operands, bufs.new(head.value, kind))


def _rewrite(out: Sym, ufunc: Any, operands: tuple, into: Any) -> tuple:
    """``out = ufunc(*operands, out=into)`` (``a.dot(b, out=into)``) as line parts."""
    ops = frozen(tuple(operands))
    if ufunc == "dot":
        return (out, " = ", ops[0], ".dot(", ops[1], ", out=", into, ")")
    name = f"np.{ufunc.__name__}"
    return (out, " = ", f"{name}(", *call_args(ops, {}), ", out=", into, ")")


DEL_MIN = 1000  # lines; a longer function drops its dead arrays as it goes (`with_dels`)


def with_dels(lines: list, keep: list, min_lines: int = DEL_MIN) -> list:
    """``lines`` with ``del`` of each array after the line that reads it last, for functions of
    more than ``min_lines`` lines: numpy then reuses the memory of small arrays (on W3's
    10,000-op chain the forward went from 0.46 to 0.38 us an op, best of 7 x 20 calls,
    2026-12-02; an optimizer's update, update.py, always)."""
    if len(lines) <= min_lines:
        return lines
    last: dict = {}
    for i, line in enumerate(lines):
        if line and not (isinstance(line[0], str) and line[0].startswith("#")):
            for sym in _syms(line[2:] if _assigned(line) is not None else line):
                last[sym] = i
    kept = {id(k) for k in keep}
    dead: dict = {}
    for sym, i in last.items():
        if id(sym) not in kept:
            dead.setdefault(i, []).append(sym)
    out: list = []
    for i, line in enumerate(lines):
        out.append(line)
        if i in dead:
            names: list = ["del "]
            for sym in dead[i]:
                names += [sym, ", "]
            out.append(tuple(names[:-1]))
    return out
