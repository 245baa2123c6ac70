"""Train a small CNN on the bundled hand-written digits (8x8 images, 1797 samples) with `fit`
and a progress bar, then draw its collapsed module graph (each conv box shows its kernel shape
and stride).

    python examples/cnn_digits.py                 # 15 epochs (about 10-20 s on 2 cores)
    python examples/cnn_digits.py --quick         # 3 epochs: a smoke run
    python examples/cnn_digits.py --graph cnn.png # where the picture goes (default cnn_digits.png)

Network: conv 3x3 (1 -> 16, padding 1) -> batch norm -> ReLU -> conv 3x3 (16 -> 32, padding
1) -> ReLU -> max pool 2x2 -> dropout 0.25 -> flatten -> linear 512 -> 10; cross-entropy,
Adam (lr 3e-3), batch 32, float32. Pixels are scaled to [0, 1]; a stratified 75/25 split
(seed 0) keeps 450 test images aside. Prints the test accuracy and exits non-zero below
98% (below 90% with --quick).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One BLAS thread unless the caller says otherwise: the products here are small, and on a
# busy 2-core machine OpenBLAS's threads spinning against each other made the full run take
# 201 s of wall time instead of 9 s (measured). Must be set before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import autograd_nn as ag  # noqa: E402
from autograd_nn import nn, optim  # noqa: E402
from autograd_nn.data import train_test_split  # noqa: E402
from autograd_nn.datasets import load_digits  # noqa: E402
from autograd_nn.train import accuracy, evaluate, fit  # noqa: E402


def make_cnn(seed: int) -> nn.Module:
    f32 = np.float32
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=seed, dtype=f32), nn.BatchNorm2d(16, dtype=f32),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, rng=seed + 1, dtype=f32), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25, rng=seed), nn.Flatten(),
        nn.Linear(32 * 4 * 4, 10, rng=seed + 2, dtype=f32),
    )


def draw(model: nn.Module, images: np.ndarray, labels: np.ndarray, path: Path) -> None:
    """The collapsed module graph of one small batch's loss."""
    from autograd_nn.viz import draw_graph, render

    model.eval()
    # requires_grad on the images: the graph then starts at them, not at the first op that
    # meets a parameter (the first convolution, with the images as a constant operand)
    x = ag.Tensor(images, requires_grad=True, name="images")
    loss = nn.functional.cross_entropy(model(x), labels)
    loss.name = "loss"
    graph = draw_graph(loss, model, collapse=True, rankdir="TB", show_grad=False)
    try:
        print(f"wrote the collapsed module graph to {render(graph, path)}")
    except RuntimeError as err:  # graphviz's `dot` program is missing
        gv = path.with_suffix(".gv")
        gv.write_text(graph.source)
        print(f"{err}\nwrote the DOT source to {gv} instead")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=15, help="default: %(default)s")
    parser.add_argument("--quick", action="store_true", help="3 epochs")
    parser.add_argument("--seed", type=int, default=0, help="split, init and shuffle seed")
    parser.add_argument("--graph", default="cnn_digits.png", help="picture of the network")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    X, y = load_digits()
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, rng=args.seed, stratify=y)
    model = make_cnn(args.seed)
    print(model)
    epochs = 3 if args.quick else args.epochs
    start = time.perf_counter()
    fit(model, nn.functional.cross_entropy, optim.Adam(model.parameters(), lr=3e-3),
        (X_tr, y_tr), epochs=epochs, batch_size=32, rng=args.seed, metrics=["accuracy"],
        validation_data=(X_te, y_te), progress=not args.no_progress)
    seconds = time.perf_counter() - start
    scores = evaluate(model, nn.functional.cross_entropy, X_te, y_te, {"accuracy": accuracy})
    right = int(round(scores["accuracy"] * len(y_te)))
    print(f"trained {epochs} epochs in {seconds:.1f} s", file=sys.stderr)  # stdout: same every run
    print(f"{epochs} epochs: test loss {scores['loss']:.4f}, test accuracy "
          f"{scores['accuracy']:.4f} ({right}/{len(y_te)} test images right)")
    draw(model, X_te[:8], y_te[:8], Path(args.graph))
    return 0 if scores["accuracy"] >= (0.9 if args.quick else 0.98) else 1


if __name__ == "__main__":
    raise SystemExit(main())
