"""Reference network R5: Iris with a 5 -> 4 -> 3 network without biases (a constant input
instead), sigmoid output, MSE cost, full batch, lr 3; hidden layer sigmoid, tanh or ReLU.

    python examples/r5_iris_no_biases.py                       # all three activations
    python examples/r5_iris_no_biases.py --activation tanh
    python examples/r5_iris_no_biases.py --quick               # 200 iterations each

For each activation: the three-way gradient table at the first step, the cost and the
engine-vs-hand difference along the run, the training cost and the test accuracy.
"""

from __future__ import annotations

import argparse

from autograd_nn.reference import r5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activation", choices=[*r5.ACTIVATIONS, "all"], default="all",
                        help="hidden activation (default: all three, one after the other)")
    parser.add_argument("--iterations", type=int, default=r5.ITERATIONS,
                        help="default: %(default)s")
    parser.add_argument("--quick", action="store_true", help="200 iterations")
    args = parser.parse_args(argv)
    acts = r5.ACTIVATIONS if args.activation == "all" else (args.activation,)
    reports = [r5.train_side_by_side(a, 200 if args.quick else args.iterations) for a in acts]
    for report in reports:
        print(report, end="\n\n")
    print("summary:")
    for report in reports:
        print(f"  {report.summary()}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
