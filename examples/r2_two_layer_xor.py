"""Reference network R2: a 3 -> 4 -> 1 sigmoid network on XOR, uniform initialisation,
hand-derived updates written as additions (dW = -∂L/∂W) next to the engine's gradients.

    python examples/r2_two_layer_xor.py            # 1500 iterations, as specified
    python examples/r2_two_layer_xor.py --quick    # 300 iterations

Prints the three-way gradient table at the first step, the loss and the engine-vs-hand
difference along the run, whether the loss decreased at every iteration, and the predictions.
"""

from __future__ import annotations

import argparse

from autograd_nn.reference import r2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=r2.ITERATIONS,
                        help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=r2.SEED, help="default: %(default)s")
    parser.add_argument("--quick", action="store_true", help="300 iterations")
    args = parser.parse_args(argv)
    report = r2.train_side_by_side(300 if args.quick else args.iterations, seed=args.seed)
    print(report)
    print(f"\nloss decreased at every iteration: {report.extra['monotonic']}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
