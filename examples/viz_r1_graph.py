"""Render reference network R1 (3 -> 4 -> 5 -> 1, sigmoid, no biases) at its first training
step with the value and the gradient dJ/d(tensor) of every tensor, to a PNG: the picture
`autograd-nn demo` draws (``autograd_nn.reference.r1.first_step_graph``), and the README's.

    python examples/viz_r1_graph.py                  # writes ./r1_graph.png
    python examples/viz_r1_graph.py --out docs/img/r1_graph.png
    python examples/viz_r1_graph.py --ops --rankdir LR   # R1 written out from primitive ops

The gradients of the intermediate tensors (z2 ... yhat) come from `trace_backward`, which runs
the engine's backward pass and keeps every gradient it computed; `J.backward()` alone would
keep only the leaves' (W1, W2, W3).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd_nn as ag
from autograd_nn.reference import r1
from autograd_nn.viz import draw_graph, render, trace_backward


def build_r1() -> tuple[ag.Tensor, dict[str, ag.Tensor], dict[str, ag.Tensor]]:
    """R1 from primitive ops, initialised as in docs/reference-networks.md: the cost J, the
    parameters {"W1", "W2", "W3"} and the named tensors {"X", "y", "z2", ..., "yhat"}."""
    X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    np.random.seed(1)
    W1 = ag.Tensor(np.random.randn(3, 4), requires_grad=True)
    W2 = ag.Tensor(np.random.randn(4, 5), requires_grad=True)
    W3 = ag.Tensor(np.random.randn(5, 1), requires_grad=True)
    X, y = ag.Tensor(X, name="X"), ag.Tensor(y, name="y")
    z2 = X @ W1
    a2 = ag.sigmoid(z2)
    z3 = a2 @ W2
    a3 = ag.sigmoid(z3)
    z4 = a3 @ W3
    yhat = ag.sigmoid(z4)
    J = 0.5 * ((y - yhat) ** 2).sum()
    named = {"X": X, "y": y, "z2": z2, "a2": a2, "z3": z3, "a3": a3, "z4": z4, "yhat": yhat}
    for name, t in named.items():
        t.name = name
    J.name = "J"
    return J, {"W1": W1, "W2": W2, "W3": W3}, named


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="r1_graph.png", help="output file (./r1_graph.png)")
    parser.add_argument("--format", default=None, help="png, svg or pdf (default: from --out)")
    parser.add_argument("--rankdir", default="TB", choices=["LR", "TB", "RL", "BT"])
    parser.add_argument("--ops", action="store_true",
                        help="R1 built from primitive ops here instead of the demo's modules")
    args = parser.parse_args()

    if args.ops:
        J, params, _ = build_r1()
        trace = trace_backward(J, params=params)  # runs backward: W1..W3 get their .grad too
        graph = draw_graph(J, params, grads=trace, rankdir=args.rankdir, legend=True)
    else:
        step = r1.first_step()
        J, graph = step["J"], r1.first_step_graph(step, rankdir=args.rankdir)
    print(f"J = {J.item():.6f}; the graph has {graph.source.count(' -> ')} edges")
    try:
        out = render(graph, Path(args.out), format=args.format)
    except RuntimeError as err:  # graphviz's `dot` program is missing
        dot_file = Path(args.out).with_suffix(".gv")
        dot_file.write_text(graph.source)
        print(f"{err}\nWrote the DOT source to {dot_file} instead.")
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
