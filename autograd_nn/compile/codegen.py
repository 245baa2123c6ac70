"""From a trace to straight-line code: each recorded op's own rules, run on symbols.

The forward of every recorded op is its Function's ``forward`` run on `Sym` operands; its
backward is its ``backward`` run with ``ctx.xp`` the recording namespace, in the order the
engine would run them (the same consumer counting and ready stack as ``engine.run_backward``),
with broadcasting undone by the engine's own ``reduce_to`` and gradients added where a value
feeds several ops. So the emitted lines are the numpy calls the eager pass makes, in its order.
An op whose rule reads a value while interpreted is emitted as a call of that rule.
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import numpy as np

from ..engine import reduce_to
from ..registry import PLAIN
from .buffers import Buffers, plan, with_dels
from .interpret import interpretable
from .naming import _GENERIC, _name_all, _refs
from .recording_xp import RecordingXP
from .runtime import make_ctx, rollback, run_backward, run_forward, run_forward_converting
from .symbolic import (
    Constants,
    Recorder,
    Sym,
    call_args,
    frozen,
    literal,
    render_part,
    values,
)
from .trace import Node, Retrace, Var, vars_in

XP = RecordingXP(PLAIN)
_CTX_OWN = ("xp", "inputs", "kwargs")
_programs = count()


@dataclass
class Program:
    """The compiled forward and backward of one trace, and their source."""

    source: str
    forward: Any  # forward(*region arrays) -> (output, saved)
    backward: Any  # backward(*saved, grad) -> one gradient (or None) per region input
    region: list  # the Vars the compiled node takes, in order
    n_ops: int
    fallbacks: list  # ops emitted as calls of their rules (their rules read a value)
    has_grad: list  # per region input: does the backward give it a gradient
    buffers: list  # the ``_B`` slots of a training step (buffers.py): (shape, dtype, kind)
    written: list = field(default_factory=list)  # region inputs the forward changes in place


def generate(nodes: list[Node], out: Var, region: list[Var], title: str,
             step: bool = False) -> Program:
    """The program of a trace. ``step``: the backward of a training step, whose seed is
    always ones (a folded constant: ``backward(*saved)`` takes no gradient)."""
    gen = _Generator(region)
    gen.step = step
    live = _live(nodes, out)
    last_guard = max((i for i, n in enumerate(live) if n.guards), default=-1)
    for i, node in enumerate(live):
        if node.writes and i < last_guard:
            gen.keep_for_rollback(node.out)
        gen.env[node.out] = gen.forward_of(node)
        for v, value in node.guards:
            undo = ("_rollback(", tuple(gen.rollback), ", ") if gen.rollback else ("Retrace(",)
            gen.fwd.statement("if bool(", gen.env[v], f") is not {bool(value)!r}: raise ",
                              *undo, f"{node.label!r})")
    grads = gen.backward_of(live, out) if out.requires_grad else {}
    return gen.finish(out, grads, title, len(live))


def _count_consumers(out: Var, node_of: Any) -> dict:
    """For every value a gradient will reach, how many edges bring one (the engine's phase 1)."""
    deps: dict = {}
    stack = [out]
    while stack:
        n = node_of(stack.pop())
        if n is None:
            continue
        for p, need in zip(n.operands, n.needs):
            if need:
                if p in deps:
                    deps[p] += 1
                else:
                    deps[p] = 1
                    stack.append(p)
    return deps


def _live(nodes: list[Node], out: Var) -> list[Node]:
    """The nodes the output (or a guard) depends on, in recording order."""
    wanted = {id(out)}
    keep = []
    for node in reversed(nodes):  # every random draw too: it moves its generator
        if id(node.out) in wanted or node.guards or node.writes or node.opaque:
            keep.append(node)
            for o in list(node.operands) + vars_in(node.kwargs):
                if isinstance(o, Var):
                    wanted.add(id(o))
    return keep[::-1]


class _Generator:
    def __init__(self, region: list[Var]) -> None:
        self.consts = Constants()
        self.fwd = Recorder(self.consts)
        self.bwd = Recorder(self.consts)
        self.fwd.activate()
        self.env: dict[Var, Any] = {}
        self.params = []
        for v in region:
            value = np.array(v.value, copy=True) if isinstance(v.value, np.ndarray) else v.value
            s = Sym(self.fwd, value, hint=v.name or "x")
            self.env[v] = s
            self.params.append(s)
        self.region = region
        self.ctxs: dict[int, tuple] = {}
        self.fallbacks: list[str] = []
        self.step = False
        self.written: list[int] = []
        self.rollback: list[Sym] = []  # written array, its copy, ...: put back if a guard fails

    def keep_for_rollback(self, v: Var) -> None:
        """Copy a region array before its first write that a guard follows (inplace.py)."""
        target = self.env[v]
        if not any(target is r for r in self.rollback[::2]):
            self.rollback += [target, target.copy()]

    def sub(self, x: Any) -> Any:
        if isinstance(x, Var):
            return self.env[x]
        if isinstance(x, (tuple, list)):
            return type(x)(self.sub(e) for e in x)
        if isinstance(x, dict):
            return {k: self.sub(v) for k, v in x.items()}
        return x

    # ---- forward ----------------------------------------------------------------------------
    def forward_of(self, node: Node) -> Sym:
        ops, kw = self.sub(node.operands), self.sub(node.kwargs)
        fwd = self.fwd
        if node.writes:  # a write into a region array: the same call, on that array
            self.written.append(self.region.index(node.out))
            return node.fn(*ops, **kw)
        if node.cls is None:
            if node.opaque:  # a random draw: the same call, every time (not repeated here)
                value = np.array(node.out.value, copy=True)
                out = fwd.expr(value, (f"{self.consts.ref(node.fn, '_' + node.label)}(",
                                       *call_args(ops, kw), ")"))
            else:
                out = node.fn(*ops, **kw)
                out = out if isinstance(out, Sym) else fwd.constant_sym(np.asarray(out))
            out = self._as_array(out)
        else:
            out = self._forward_rule(node, ops, kw)
        out.hint = node.out.name or out.hint
        return out

    def _forward_rule(self, node: Node, ops: list, kw: dict) -> Sym:
        cls, fwd = node.cls, self.fwd
        ctx = object.__new__(cls)
        ctx.saved_tensors = ()
        mark = fwd.mark()
        try:
            out = interpretable(cls.forward)(ctx, *ops, **kw)
            if not isinstance(out, Sym):
                raise TypeError("the forward made no symbol")
        except Exception:  # the rule read a value: emit a call of the rule itself
            fwd.undo(mark)
            return self._forward_call(node, ops, kw)
        raw, out = out, self._as_array(out)
        if raw is not out:
            ctx.saved_tensors = tuple(out if s is raw else s for s in ctx.saved_tensors)
        self.ctxs[id(node)] = ("rule", ctx)
        return out

    def _forward_call(self, node: Node, ops: list, kw: dict) -> Sym:
        self.fallbacks.append(node.label)
        lists = any(isinstance(o, (list, tuple)) for o in ops)  # numpy converts them, as apply
        ctx, value = (run_forward_converting if lists else run_forward)(
            node.cls, *values(ops), **values(kw))
        ctx_sym = Sym(self.fwd, ctx, hint=f"ctx_{node.label}")
        out = Sym(self.fwd, value)
        run = "_run_forward_converting" if lists else "_run_forward"
        self.fwd.statement(ctx_sym, ", ", out, f" = {run}({self.consts.ref(node.cls)}, ",
                           *call_args(ops, kw), ")")
        self.ctxs[id(node)] = ("call", ctx_sym)
        return out

    def _as_array(self, s: Sym) -> Sym:
        if isinstance(s.value, np.ndarray):
            return s
        return self.fwd.expr(np.asarray(s.value), ("np.asarray(", s, ")"))

    # ---- backward: the engine's walk, on symbols ----------------------------------------------
    def backward_of(self, live: list[Node], out: Var) -> dict:
        """Gradients of the region's inputs, emitted in the engine's order (see module doc)."""
        ids = {id(n) for n in live}

        def node_of(v: Any) -> Node | None:
            n = v.node if isinstance(v, Var) and v.requires_grad else None
            return n if n is not None and n.needs is not None and id(n) in ids else None

        deps = _count_consumers(out, node_of)
        self.bwd.activate()
        value = np.ones(np.shape(out.value), np.asarray(out.value).dtype)
        self.seed = Sym(self.bwd, value, hint="g_" + (out.name or "out"))
        self.seed.const = self.step
        grads: dict = {out: self.seed}
        ready, found, owned = [out], {}, set[int]()
        while ready:
            t = ready.pop()
            g = grads.pop(t)
            self._name_grad(g, t)
            n = node_of(t)
            needs = None if n is None else n.needs  # node_of gives only nodes with needs
            if n is None or needs is None:
                found[t] = g
                continue
            for p, need, gi in zip(n.operands, needs, self._rule_grads(n, needs, g)):
                if not need:
                    continue
                if gi is not None:
                    self._add_into(grads, owned, p, self._fit(gi, p, n))
                k = deps[p] - 1
                if k:
                    deps[p] = k
                elif p in grads:
                    ready.append(p)
        return found

    def _name_grad(self, g: Sym, t: Var) -> None:
        fh = self.env[t].hint if t in self.env else "t"
        if g.hint in _GENERIC and g.rec is self.bwd:
            g.hint = "g" if fh in _GENERIC else "g_" + fh

    def _add_into(self, grads: dict, owned: set, p: Var, gi: Sym) -> None:
        """The engine's gradient store: the first gradient is kept, later ones are added (in
        place into an array the store itself made)."""
        if p not in grads:
            grads[p] = gi
            return
        prev = grads[p]
        if id(prev) in owned:
            prev.value += gi.value
            self.bwd.statement(prev, " += ", gi)
        else:
            acc = self.bwd.expr(prev.value + gi.value, (prev, " + ", gi))
            if not acc.const:  # a folded sum (of two folded gradients) is never added into
                owned.add(id(acc))
            grads[p] = acc

    def _fit(self, gi: Any, p: Var, n: Node) -> Sym:
        if not isinstance(gi, Sym):
            gi = self.bwd.constant_sym(np.asarray(gi))
        elif not isinstance(gi.value, np.ndarray):
            gi = self.bwd.expr(np.asarray(gi.value), ("np.asarray(", gi, ")"))
        data = np.asarray(p.value)
        if gi.shape != data.shape:
            gi = reduce_to(gi, data.shape, XP, n.label, "?")
        if gi.dtype != data.dtype:
            gi = gi.astype(data.dtype)
        return gi

    def _rule_grads(self, n: Node, needs: tuple[bool, ...], g: Sym) -> tuple:
        kind, ctx = self.ctxs[id(n)]
        bwd = self.bwd
        bwd.comment(*_describe(n, self.env))
        if kind == "rule":
            ctx.needs_input_grad = needs
            ctx.xp = XP
            mark = bwd.mark()
            try:
                out = interpretable(n.cls.backward)(ctx, g)
                out = _as_tuple(out)
                if len(out) != len(needs):
                    raise TypeError("wrong number of gradients")
                return out
            except Exception:
                bwd.undo(mark)
            saved = ctx.saved_tensors
            attrs = {k: v for k, v in vars(ctx).items() if k not in _CTX_OWN}
            real = make_ctx(n.cls, needs, values(saved), **values(attrs))
            ctx_sym = bwd.expr(real, (f"_make_ctx({self.consts.ref(n.cls)}, {needs!r}, ",
                                      *call_args((saved,), attrs), ")"), hint="_ctx")
        else:
            ctx_sym = ctx
            ctx_sym.value.needs_input_grad = needs
        self.fallbacks.append(n.label + ".backward")
        result = run_backward(ctx_sym.value, needs, g.value)
        b = bwd.expr(result, ("_run_backward(", ctx_sym, f", {needs!r}, ", g, ")"), hint="_b")
        return tuple(None if r is None else bwd.expr(r, (b, f"[{i}]"))
                     for i, r in enumerate(result))

    # ---- the source -------------------------------------------------------------------------
    def _fresh(self, rec: Recorder, s: Sym) -> Sym:
        """``s``, or a copy where what the function returns would otherwise be an input's
        array, a constant, or (outside a step) a forward array the backward may keep."""
        if not isinstance(s, Sym):
            return s
        kept = rec is self.bwd and s.rec is self.fwd and not self.step
        if s.const or kept or any(s is p for p in self.params):
            new = Sym(rec, np.array(s.value), hint=s.hint)
            rec.lines.append((new, " = np.array(", *frozen((s,)), ")"))
            return new
        return s

    def finish(self, out: Var, grads: dict, title: str, n_ops: int) -> Program:
        out_sym = self.env[out]
        seed = [self.seed] if hasattr(self, "seed") and not self.step else []
        out_sym = self._fresh(self.fwd, out_sym)
        results = [None if r is None else self._fresh(self.bwd, r)
                   for r in (grads.get(v) for v in self.region)]
        saved = _refs(self.bwd.lines, self.fwd)  # after _fresh: its copies read forward arrays
        _name_all(self.params + seed, self.fwd.lines, self.bwd.lines, [[out_sym]])
        fwd_lines, bwd_lines, bufs = self._plan_buffers(out_sym, saved, results)
        extra = ["_B=_NOBUF"] if bufs.slots else []
        c = self.consts
        text = lambda parts: "".join(render_part(p, c) for p in parts)  # noqa: E731
        src = [f"# {title}",
               f"def forward({', '.join([p.ident for p in self.params] + extra)}):"]
        src += ["    " + text(line) for line in fwd_lines]
        src.append(f"    return {out_sym.ident}, ({''.join(s.ident + ', ' for s in saved)})")
        if out.requires_grad:
            src.append("")
            params = [s.ident for s in saved + seed] + extra
            src.append(f"def backward({', '.join(params)}{',' * (len(params) == 1)}):")
            src += _marked_empty(["    " + text(line) for line in bwd_lines])
            rets = ", ".join("None" if r is None else r.ident for r in results)
            src.append(f"    return ({rets}{',' if len(results) == 1 else ''})")
        source = "\n".join(src) + "\n"
        filename = f"<compiled {next(_programs)}: {title}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        ns = {**c.namespace, "xp": PLAIN, "Retrace": Retrace, "_rollback": rollback,
              "_run_forward": run_forward,
              "_run_forward_converting": run_forward_converting, "_run_backward": run_backward,
              "_make_ctx": make_ctx,
              "_NOBUF": [None] * len(bufs.slots)}
        exec(compile(source, filename, "exec"), ns)  # noqa: S102
        has_grad = [v in grads for v in self.region]
        return Program(source, ns["forward"], ns.get("backward"), self.region, n_ops,
                       self.fallbacks, has_grad, bufs.slots, self.written)

    def _plan_buffers(self, out_sym: Sym, saved: list, results: list) -> tuple:
        """The forward's and backward's lines with buffer reuse (`buffers.py`); the buffers
        of a training step (none outside one)."""
        bufs = Buffers()
        fates: dict = {out_sym: "out"}
        for i, r in enumerate(results):
            if r is not None:  # a forward array handed out as a gradient stays fresh
                fates.setdefault(r, "out" if r.rec is self.fwd else ("grad", i))
        step_bufs = bufs if self.step else None
        fwd = plan(self.fwd.lines, [out_sym, *saved], step_bufs, fates)
        bwd = plan(self.bwd.lines, [r for r in results if r is not None], step_bufs, fates)
        fwd = with_dels(fwd, [out_sym, *saved, *self.params])
        bwd = with_dels(bwd, [*results, *saved, *self.params])
        return fwd, bwd, bufs


def _marked_empty(lines: list[str]) -> list[str]:
    """A backward block with no line of its own (its gradient passes through unchanged, or
    is a constant folded away) says so."""
    out = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else "    #"
        empty = line.startswith("    # ") and nxt.startswith("    #")
        out.append(line + "  (nothing to compute)" if empty else line)
    return out


def _describe(n: Node, env: dict) -> list:
    """``z1 = add(t2, b1)`` as parts of a comment line (names are given later)."""
    def show(o: Any) -> Any:
        if isinstance(o, Var):
            return env.get(o, "?")
        return "..." if isinstance(o, np.ndarray) else repr(o)

    parts: list = [env[n.out], f" = {n.label}("]
    args = [show(o) for o in n.operands]
    for k, v in n.kwargs.items():
        text = None if vars_in(v) else literal(v)
        if v is not None and v is not False:
            args.append(f"{k}={text}" if text is not None and len(text) < 40 else f"{k}=...")
    for i, a in enumerate(args):
        parts += [", "] * (i > 0) + [a]
    return parts + [")"]


def _as_tuple(out: Any) -> tuple:
    if type(out) is tuple:
        return out
    return tuple(out) if isinstance(out, list) else (out,)
