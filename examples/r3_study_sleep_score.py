"""Reference network R3: a test score from hours studied and slept (2 -> 3 -> 1 sigmoid),
hand-derived updates next to the engine's gradients, and a prediction for new hours scaled
with the *training* maxima.

    python examples/r3_study_sleep_score.py                        # 1000 iterations, (4 h, 8 h)
    python examples/r3_study_sleep_score.py --studied 1 --slept 10 # your own hours
    python examples/r3_study_sleep_score.py --quick                # 200 iterations
"""

from __future__ import annotations

import argparse

from autograd_nn.reference import r3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=r3.ITERATIONS,
                        help="default: %(default)s")
    parser.add_argument("--studied", type=float, default=4.0, help="hours studied (4)")
    parser.add_argument("--slept", type=float, default=8.0, help="hours slept (8)")
    parser.add_argument("--quick", action="store_true", help="200 iterations")
    args = parser.parse_args(argv)
    report = r3.train_side_by_side(200 if args.quick else args.iterations)
    print(report)
    model = report.extra["model"]
    score = r3.predict_score(model, args.studied, args.slept)
    hand = r3.predict_score(report.extra["W_hand"], args.studied, args.slept)
    print(f"\nstudied {args.studied:g} h, slept {args.slept:g} h: predicted score "
          f"{score:.2f} (engine), {hand:.2f} (hand-derived); inputs divided by the training "
          f"maxima {report.extra['x_max'].tolist()}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
