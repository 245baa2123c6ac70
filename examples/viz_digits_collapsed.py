"""Render the digits MLP (64 -> 256 -> 128 -> 10, ReLU) with each module collapsed into one
box that shows its parameter shapes and its input/output shapes.

    python examples/viz_digits_collapsed.py                 # writes ./digits_mlp_collapsed.png
    python examples/viz_digits_collapsed.py --expanded      # every op, grouped by module
    python examples/viz_digits_collapsed.py --mnist         # the 784-256-128-10 shape

The batch is the first 32 of the bundled 8x8 digits (pixels scaled to [0, 1]); with
``--mnist`` the inputs are random 784-pixel rows, to show the same picture at MNIST's size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.datasets import load_digits
from autograd_nn.viz import draw_graph, render


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="digits_mlp_collapsed.png", help="output file")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--expanded", action="store_true", help="draw every op (no collapsing)")
    parser.add_argument("--mnist", action="store_true", help="784 inputs instead of 64")
    args = parser.parse_args()

    ag.manual_seed(0)  # the layers' default initialisation draws from numpy's global generator
    X, y = load_digits()
    X, y = X[: args.batch] / 16.0, y[: args.batch]
    if args.mnist:
        X = np.random.default_rng(0).random((len(y), 784))
    model = nn.Sequential(
        nn.Linear(X.shape[1], 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )
    x = ag.Tensor(X, name="pixels")
    loss = nn.functional.cross_entropy(model(x), y)
    loss.name = "loss"
    loss.backward(retain_graph=True)  # keep the graph (and its values) to draw it
    graph = draw_graph(loss, model, collapse=None if args.expanded else True, rankdir="TB")
    print(f"loss = {loss.item():.4f}; {graph.source.count(' -> ')} edges in the picture")
    try:
        out = render(graph, Path(args.out))
    except RuntimeError as err:  # graphviz's `dot` program is missing
        dot_file = Path(args.out).with_suffix(".gv")
        dot_file.write_text(graph.source)
        print(f"{err}\nWrote the DOT source to {dot_file} instead.")
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
