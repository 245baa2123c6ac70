"""Reference network R4: neurons with biases (2 -> h1, h2 -> o1) trained one sample at a
time, the chain rule written out by hand next to the engine's gradients; then a guess of
'female' or 'male' from weight and height.

    python examples/r4_neurons_with_biases.py                  # 1000 epochs, as specified
    python examples/r4_neurons_with_biases.py --kg 70 --cm 180 # your own numbers
    python examples/r4_neurons_with_biases.py --quick          # 200 epochs
    python examples/r4_neurons_with_biases.py --all-rows       # every 10-epoch loss line
"""

from __future__ import annotations

import argparse

from autograd_nn.reference import r4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=r4.EPOCHS, help="default: %(default)s")
    parser.add_argument("--kg", type=float, default=None, help="weight in kilograms")
    parser.add_argument("--cm", type=float, default=None, help="height in centimetres")
    parser.add_argument("--quick", action="store_true", help="200 epochs")
    parser.add_argument("--all-rows", action="store_true",
                        help="print the loss of every 10th epoch (default: a selection)")
    args = parser.parse_args(argv)
    if (args.kg is None) != (args.cm is None):
        parser.error("give both --kg and --cm")
    facts = r4.published_facts()
    print(f"published facts, computed by the engine: forward([2, 3]) = {facts['forward']!r} "
          f"(expected {r4.FACT_FORWARD!r}), mse = {facts['mse']!r} (expected {r4.FACT_MSE!r})\n")
    report = r4.train_side_by_side(epochs=200 if args.quick else args.epochs)
    print(report.format(max_rows=None if args.all_rows else 21))
    if args.kg is not None:
        p = r4.predict_person(report.extra["model"], args.kg, args.cm)
        print(f"\n{args.kg:g} kg, {args.cm:g} cm: P(female) = {p:.3f} -> "
              f"{'female' if p > 0.5 else 'male'}")
    facts_ok = facts["forward"] == r4.FACT_FORWARD and facts["mse"] == r4.FACT_MSE
    return 0 if report.ok and facts_ok and report.max_param_diff <= 1e-12 else 1


if __name__ == "__main__":
    raise SystemExit(main())
