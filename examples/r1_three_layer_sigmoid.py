"""Reference network R1: a 3 -> 4 -> 5 -> 1 sigmoid network without biases, trained from
np.random.seed(1) twice, with the hand-derived backward pass and with the engine's.

    python examples/r1_three_layer_sigmoid.py            # 5000 epochs, as specified
    python examples/r1_three_layer_sigmoid.py --quick    # 500 epochs

Prints the three-way gradient table at the first step (engine, hand-derived, central
differences), the loss and the engine-vs-hand difference along the run, whether both runs end
with bit-for-bit identical weights and predictions, and the final predictions.
"""

from __future__ import annotations

import argparse

from autograd_nn.reference import r1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=r1.EPOCHS, help="default: %(default)s")
    parser.add_argument("--quick", action="store_true", help="500 epochs")
    args = parser.parse_args(argv)
    report = r1.train_side_by_side(epochs=500 if args.quick else args.epochs)
    print(report)
    print(f"\nbit for bit identical (weights and predictions): {report.bitwise_equal}")
    return 0 if report.ok and report.bitwise_equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
