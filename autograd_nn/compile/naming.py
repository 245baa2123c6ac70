"""Names in the generated code: every symbol gets its tensor's name or ``t1``, ``g2``..."""

from __future__ import annotations

import keyword
import re
from itertools import count
from typing import Any

from .symbolic import Recorder, Sym


def _refs(lines: list, rec: Recorder) -> list:
    seen: dict = {}
    stack: list = []
    for line in lines:
        if line and isinstance(line[0], str) and line[0].startswith("#"):
            continue
        stack.extend(line)
        while stack:
            p = stack.pop(0)
            if isinstance(p, Sym) and p.rec is rec:
                seen.setdefault(p, None)
            elif isinstance(p, (tuple, list)):
                stack[:0] = list(p)
    return list(seen)


def _name_all(params: list, *groups: list) -> None:
    """Give every symbol a unique identifier: its hint (a tensor's name) or ``t1``, ``g2``..."""
    used: set = set()
    numbers = count(1)

    def give(s: Sym, exact: bool = False) -> None:
        if s.name is not None:
            return
        base = _identifier(s.hint)
        if base in _GENERIC and not exact:
            base = f"{base}{next(numbers)}"
        if _CONST_NAME.match(base):  # the names of 0-d constants (rewrite.py)
            base = "v_" + base
        while base in used or base in _RESERVED:
            base = f"{base}_{next(numbers)}"
        s.name = base
        used.add(base)

    for s in params:
        give(s, exact=True)
    for group in groups:
        for line in group:
            for s in _syms_in(line):
                give(s)


def _syms_in(line: Any) -> Any:
    """The symbols of a line, last part first (nested tuples and lists too)."""
    stack = list(line)
    while stack:
        p = stack.pop()
        if isinstance(p, Sym):
            yield p
        elif isinstance(p, (tuple, list)):
            stack.extend(p)


def _identifier(hint: str | None) -> str:
    base = re.sub(r"\W", "_", hint or "t")
    if not base or base[0].isdigit() or keyword.iskeyword(base):
        base = "v_" + base
    return base


_GENERIC = ("t", "g", "_b", "_c", "_ctx")  # generated names: t1 (forward), g2 (backward)...
_CONST_NAME = re.compile(r"cm?[0-9]")
_RESERVED = {"np", "xp", "Retrace", "forward", "backward", "None", "True", "False"}
