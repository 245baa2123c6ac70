"""The layer ops of the ``autograd-nn gradcheck`` catalogue (merged into `catalog.CATALOG`):
the window and correlation primitives, and every layer functional as a composite. Shapes are
small, so the full Jacobians (and gradgradcheck's) stay quick; max pooling draws values
without ties and the conv/pool cases go through tanh, so their second derivatives are not all
zero."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..domains import STD, Case, Domain, distinct
from ..nn import functional as F
from ..ops import tanh
from ..ops import windows as wn


def add_layer_cases(add: Callable[..., None], case: Any, std: Any, distinct: Any) -> None:
    """Register the layer ops with ``add(op, cases, kind)``; ``case`` builds one OpCase."""
    g = ((2, 2), (1, 1), (1, 1))
    add("pad_constant", [case("pad_constant", "(2, 3, 2) widths ((0, 0), (1, 2), (-1, 1))",
                              lambda x: wn.pad_constant(x, ((0, 0), (1, 2), (-1, 1)), 0.5),
                              ((2, 3, 2),), (std,))])
    add("unfold_windows", [case("unfold_windows", "(1, 4, 3, 2) kernel 2x2",
                                lambda x: tanh(wn.unfold_windows(x, *g)), ((1, 4, 3, 2),),
                                (std,))])
    add("fold_windows", [case("fold_windows", "(1, 3, 2, 2, 2, 2) -> (1, 4, 3, 2)",
                              lambda x: tanh(wn.fold_windows(x, (4, 3), *g)),
                              ((1, 3, 2, 2, 2, 2),), (std,))])
    add("correlate", [case("correlate", "(1, 4, 3, 2) x (8, 3) kernel 2x2",
                           lambda x, w: tanh(wn.correlate(x, w, *g)), ((1, 4, 3, 2), (8, 3)),
                           (std, std))])
    add("correlate_input_grad", [case(
        "correlate_input_grad", "(1, 3, 2, 3) x (8, 3) -> (1, 4, 3, 2)",
        lambda y, w: tanh(wn.correlate_input_grad(y, w, (4, 3), *g)), ((1, 3, 2, 3), (8, 3)),
        (std, std))])
    add("correlate_weight_grad", [case(
        "correlate_weight_grad", "(1, 4, 3, 2), (1, 3, 2, 3) -> (8, 3)",
        lambda x, y: tanh(wn.correlate_weight_grad(x, y, *g)), ((1, 4, 3, 2), (1, 3, 2, 3)),
        (std, std))])
    composites = [
        ("conv1d", "(1, 2, 5) * (3, 2, 2) stride 2 padding 1",
         lambda x, w: tanh(F.conv1d(x, w, stride=2, padding=1)), ((1, 2, 5), (3, 2, 2)), None),
        ("conv2d", "(1, 2, 4, 3) * (2, 2, 2, 2) padding 1 dilation (1, 2)",
         lambda x, w: tanh(F.conv2d(x, w, padding=1, dilation=(1, 2))),
         ((1, 2, 4, 3), (2, 2, 2, 2)), None),
        ("conv2d", "(1, 4, 3, 3) * (2, 2, 2, 2) groups 2 stride 2",
         lambda x, w: tanh(F.conv2d(x, w, stride=2, groups=2)), ((1, 4, 3, 3), (2, 2, 2, 2)),
         None),
        ("conv_transpose2d", "(1, 2, 2, 2) * (2, 2, 2, 2) stride 2 output_padding 1",
         lambda x, w: tanh(F.conv_transpose2d(x, w, stride=2, output_padding=1)),
         ((1, 2, 2, 2), (2, 2, 2, 2)), None),
        ("max_pool2d", "(1, 2, 4, 4) kernel 2 (values without ties)",
         lambda x: F.max_pool2d(x, 2) ** 2, ((1, 2, 4, 4),), distinct),
        ("avg_pool2d", "(1, 2, 4, 3) kernel 3 stride 2 padding 1 ceil_mode",
         lambda x: tanh(F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)), ((1, 2, 4, 3),), None),
        ("adaptive_avg_pool2d", "(1, 2, 5, 3) -> (2, 2)",
         lambda x: tanh(F.adaptive_avg_pool2d(x, 2)), ((1, 2, 5, 3),), None),
        ("batch_norm", "(4, 2, 2) training, affine",
         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         ((4, 2, 2), (2,), (2,)), None),
        ("layer_norm", "(2, 3, 2) over (3, 2)", lambda x: F.layer_norm(x, (3, 2)),
         ((2, 3, 2),), None),
        ("group_norm", "(2, 4, 2) 2 groups", lambda x: F.group_norm(x, 2), ((2, 4, 2),), None),
        ("embedding", "(5, 2)[[1, 4, 1]]",
         lambda w: tanh(F.embedding(np.array([1, 4, 1]), w)), ((5, 2),), None),
    ]
    grouped: dict[str, list] = {}
    for op, label, fn, shapes, dom in composites:
        domains = tuple(dom or std for _ in shapes)
        grouped.setdefault(op, []).append(case(op, label, fn, shapes, domains))
    for op, cases in grouped.items():
        add(op, cases, "composite")


CASES: dict[str, list[Case]] = {}
KIND: dict[str, str] = {}


def _add(op: str, cases: list[Case], kind: str = "primitive") -> None:
    CASES.setdefault(op, []).extend(cases)
    KIND[op] = kind


def _case(op: str, label: str, fn: Callable[..., Any], shapes: tuple[tuple[int, ...], ...],
          domains: tuple[Domain, ...], constants: Any = None) -> Case:
    return Case(label, fn, shapes, domains, constants)


add_layer_cases(_add, _case, STD, distinct())
