"""Train a small classifier (64 -> 64 -> 10 MLP, ReLU, cross-entropy, Adam) on the bundled
hand-written digits (8x8 images, 1797 samples) with `fit` and a progress bar.

    python examples/digits_classifier.py            # 30 epochs
    python examples/digits_classifier.py --quick    # 8 epochs
    python examples/digits_classifier.py --plot digits_history.png

Pixels are scaled to [0, 1]; a stratified 75/25 split (seed 0) keeps 450 test images aside.
Prints the test accuracy (above 0.9 expected) and exits non-zero below it.
"""

from __future__ import annotations

import argparse

import autograd_nn as ag
from autograd_nn import nn, optim
from autograd_nn.data import train_test_split
from autograd_nn.datasets import load_digits
from autograd_nn.train import accuracy, evaluate, fit, plot_history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30, help="default: %(default)s")
    parser.add_argument("--quick", action="store_true", help="8 epochs")
    parser.add_argument("--seed", type=int, default=0, help="split, init and shuffle seed")
    parser.add_argument("--plot", metavar="PNG", help="save the loss/accuracy curves here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    X, y = load_digits()
    X = X / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, rng=args.seed, stratify=y)
    model = nn.Sequential(nn.Linear(64, 64, rng=args.seed), nn.ReLU(),
                          nn.Linear(64, 10, rng=args.seed + 1))
    loss_fn = nn.functional.cross_entropy
    history = fit(model, loss_fn, optim.Adam(model.parameters(), lr=1e-2), (X_tr, y_tr),
                  epochs=8 if args.quick else args.epochs, batch_size=64, rng=args.seed,
                  metrics=["accuracy"], validation_data=(X_te, y_te),
                  progress=not args.no_progress)
    scores = evaluate(model, loss_fn, X_te, y_te, {"accuracy": accuracy})
    with ag.no_grad():
        wrong = int((model(ag.Tensor(X_te)).numpy().argmax(axis=1) != y_te).sum())
    print(f"training loss {history['loss'][-1]:.4f}, training accuracy "
          f"{history['accuracy'][-1]:.4f}")
    print(f"test loss {scores['loss']:.4f}, test accuracy {scores['accuracy']:.4f} "
          f"({len(y_te) - wrong}/{len(y_te)} test images right)")
    if args.plot:
        plot_history(history, args.plot, title="digits MLP")
        print(f"wrote {args.plot}")
    return 0 if scores["accuracy"] > 0.9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
