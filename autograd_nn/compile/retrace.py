"""A compiled call whose guard fails is traced again: what it did before the guard must not
change what the retrace sees or does.

- Random draws (dropout masks) made before the guard failed are undone: the states of the
  generators the compiled code draws from are saved before it runs and put back before the
  retrace, so the retrace draws the numbers eager mode would.
- The effects of a training step that ran before its forward (``opt.step()``, ``zero_grad()``
  called before any op) are not repeated: they are handed to the next trace (or the next
  compiled version tried), which records them without running them again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .trace import CompileError, Node, Tracer, user_site


def random_sources(nodes: list[Node]) -> list:
    """The ``rng`` arguments of the random draws among ``nodes`` (dropout masks)."""
    return [n.operands[0] for n in nodes if n.opaque]


def save_random_state(rngs: list) -> list[tuple[Any, Any]]:
    """(bit generator, its state) of every generator ``rngs`` draw from (None is numpy's
    global one; an int seed makes a fresh generator each call: nothing to save)."""
    saved: list[tuple[Any, Any]] = []
    for rng in rngs:
        if rng is None:
            bg = np.random.get_bit_generator()  # type: ignore[attr-defined]
        elif isinstance(rng, np.random.Generator):
            bg = rng.bit_generator
        else:
            continue
        if all(bg is not b for b, _ in saved):
            saved.append((bg, bg.state))
    return saved


def restore_random_state(saved: list[tuple[Any, Any]]) -> None:
    for bg, state in saved:
        bg.state = state


def same_effects(performed: list, recorded: list) -> bool:
    """Are the effects a failed call performed those another trace records first?"""
    return len(performed) == len(recorded) and all(
        a[0] is b[0] and a[1] is b[1] for a, b in zip(performed, recorded))


def replaying(tr: Tracer, obj: Any, method: Any) -> bool:
    """True when this effect of the step being traced was already performed by the compiled
    call whose guard failed (it is recorded, not run again)."""
    if not tr.replay:
        return False
    done_obj, done_method = tr.replay.pop(0)[:2]
    if done_obj is obj and done_method is method:
        return True
    raise CompileError(f"{user_site()}a guard failed and the step, traced again, does not begin "
                       "with the opt.step()/zero_grad() calls the compiled step already made: "
                       "ag.compile cannot undo them (call them in the same order on every path)")


def check_replayed(tr: Tracer) -> None:
    """After a retrace: every effect already performed was met again."""
    if tr.replay:
        raise CompileError("compile: a guard failed and the step, traced again, does not make "
                           "the opt.step()/zero_grad() calls the compiled step already made "
                           "before its forward")
