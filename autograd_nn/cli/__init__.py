"""The ``autograd-nn`` command (also ``python -m autograd_nn``).

    autograd-nn demo                 train reference network R1 both ways, show the gradients
    autograd-nn gradcheck [OPS...]   check every primitive op to first and second order
    autograd-nn seeds [R1 ... R5]    train the reference networks both ways, one line each
    autograd-nn eps-sweep OP         finite-difference error vs step for one op

Exit codes: 0 success, 1 a check failed, 2 a usage error (unknown op, bad flag).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

NETWORKS = ("R1", "R2", "R3", "R4", "R5")

DESCRIPTION = """\
autograd_nn: reverse-mode automatic differentiation on numpy, with the tools to check that a
backward pass really computes the derivative. Start with `autograd-nn demo`."""

EXAMPLES = """\
examples:
  autograd-nn demo                          # R1: three-way gradient table, graph, loss curve
  autograd-nn demo --out /tmp/r1 --epochs 500
  autograd-nn gradcheck                     # every op, first and second order
  autograd-nn gradcheck matmul sigmoid --seed 3
  autograd-nn seeds R1 R4                   # engine vs hand-derived backprop
  autograd-nn eps-sweep tanh --plot eps.png
  autograd-nn COMMAND --help                # the options of one command"""


def wrap(text: str) -> str:
    """A help paragraph wrapped to 88 columns (the raw formatter keeps the examples' layout)."""
    return textwrap.fill(text, 88)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def network_name(text: str) -> str:
    name = text.upper()
    if name not in NETWORKS:
        raise argparse.ArgumentTypeError(
            f"unknown reference network {text!r}; choose from {', '.join(NETWORKS)}")
    return name


@dataclass(frozen=True)
class Option:
    """One argument of a subcommand: what ``add_argument`` is given."""

    flags: tuple[str, ...]
    settings: dict[str, Any]

    def add_to(self, command: argparse.ArgumentParser) -> None:
        command.add_argument(*self.flags, **self.settings)


def option(*flags: str, **settings: Any) -> Option:
    return Option(flags, settings)


def switch(flag: str, help: str) -> Option:
    """An on/off option (``store_true``)."""
    return option(flag, action="store_true", help=help)


def dtype_option(help: str) -> Option:
    """The ``--dtype`` option: float64 (the default) or float32."""
    return option("--dtype", choices=["float64", "float32"], default="float64", help=help)


SEED = option("--seed", type=int, default=0, help="seed of the inputs (default 0)")


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, its description (wrapped), its examples (the epilog,
    after ``epilog_intro()``), its options, and ``run(args, parser)``: what it does."""

    name: str
    run: Callable[[argparse.Namespace, argparse.ArgumentParser], int]
    help: str
    description: str
    examples: tuple[str, ...]
    options: tuple[Option, ...]
    epilog_intro: Callable[[], str] = lambda: ""

    def add_to(self, sub: Any) -> argparse.ArgumentParser:
        epilog = self.epilog_intro() + "examples:\n" + "\n".join(f"  {e}" for e in self.examples)
        command = sub.add_parser(self.name, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 help=self.help, description=wrap(self.description),
                                 epilog=epilog)
        for o in self.options:
            o.add_to(command)
        command.set_defaults(run=self.run, parser=command)
        return command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograd-nn", description=DESCRIPTION, epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"autograd_nn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_to(sub)
    return parser


def _known_ops_paragraph() -> str:
    from .catalog import known_ops

    return textwrap.fill("known ops: " + " ".join(known_ops()), 88) + "\n\n"


def cmd_demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..reference import r1
    from .helpers import write_graph, write_loss_curve, write_stepper

    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        parser.error(f"cannot create the output folder {str(out)!r}: {e.strerror}")
    if args.html is not None and not args.html.resolve().parent.is_dir():
        parser.error(f"--html: the folder of {str(args.html)!r} does not exist")
    print(f"Reference network R1: 3 -> 4 -> 5 -> 1 sigmoid, no biases, np.random.seed(1), "
          f"{args.epochs} epochs of full-batch gradient descent (lr 0.1).")
    print("Trained twice: with the hand-derived backward pass and with the engine's.\n",
          flush=True)
    report = r1.train_side_by_side(epochs=args.epochs, progress=not args.no_progress)
    print(report)
    print(f"\nbit for bit identical runs (weights and predictions): {report.bitwise_equal}")
    from ..compile.demo import r1_speedup

    print(r1_speedup())  # measured now: docs/compile.md
    from ..reference.r1 import first_step

    step = first_step()  # the step the table above checks, at the initial weights
    written = [write_graph(out, step)]
    if args.html is not None:
        try:
            written.append(write_stepper(args.html, step))
        except OSError as e:
            print(f"autograd-nn demo: cannot write {str(args.html)!r}: {e.strerror}",
                  file=sys.stderr)
            return 2
    written.append(write_loss_curve(list(report.losses), out / "loss.png"))
    print("\nwrote:")
    for path in written:
        if path is not None:
            print(f"  {path}")
    return 0 if report.ok and report.bitwise_equal else 1


# ---- gradcheck ----------------------------------------------------------------------------------
def cmd_gradcheck(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .catalog import CATALOG, known_ops, run_case, unknown_ops
    from .helpers import gradcheck_summary

    names = list(dict.fromkeys(args.ops)) or known_ops()
    bad = unknown_ops(names)
    if bad:
        parser.error(f"unknown op(s) {', '.join(bad)}; known ops: "
                     + " ".join(known_ops()))
    if args.list:
        for name in names:
            print(f"{name}: " + "; ".join(c.label for c in CATALOG[name]))
        return 0
    n_cases = sum(len(CATALOG[n]) for n in names)
    mode = "fast mode (random projections)" if args.fast else "full Jacobians"
    print(f"gradcheck + gradgradcheck of {len(names)} op(s), {n_cases} cases: {args.dtype} "
          f"inputs, seed {args.seed}, {mode}; central differences in float64")
    if args.dtype == "float32":
        print("note: float32 inputs are checked on float64 copies (finite differences in "
              "float32 are too coarse to check gradients)")
    rng = np.random.default_rng(args.seed)
    results = []
    for name in names:
        for case in CATALOG[name]:
            result = run_case(case, rng, np.dtype(args.dtype), args.fast, args.seed)
            results.append(result)
            print(result.line(), flush=True)
    print()
    print(gradcheck_summary(results))
    failed = [r for r in results if not r.passed]
    for r in failed:
        print(f"\n--- {r.case.op} {r.case.label} ---")
        print(r.error or (r.first.report if not r.first else r.second.report))
    return 1 if failed else 0


# ---- seeds --------------------------------------------------------------------------------------
def cmd_seeds(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .helpers import seeds_table, train_network

    names = list(dict.fromkeys(args.networks)) or list(NETWORKS)
    reports = []
    for name in names:
        for report in train_network(name, quick=args.quick):
            reports.append(report)
            if args.verbose:
                print(report, end="\n\n")
            print(f"{report.name}: done, max rel diff {report.max_rel_diff:.1e}", flush=True)
    print()
    print(seeds_table(reports))
    return 0 if all(r.ok for r in reports) else 1


# ---- eps-sweep ----------------------------------------------------------------------------------
def cmd_eps_sweep(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..gradcheck import eps_sweep
    from .catalog import CATALOG, known_ops

    if args.op not in CATALOG:
        parser.error(f"unknown op {args.op!r}; known ops: " + " ".join(known_ops()))
    cases = CATALOG[args.op]
    if not 0 <= args.case < len(cases):
        parser.error(f"{args.op} has cases 0..{len(cases) - 1}, got --case "
                     f"{args.case}")
    case = cases[args.case]
    rng = np.random.default_rng(args.seed)
    inputs, fn = case.inputs(rng), case.function(rng)
    print(f"eps sweep of {case.op} on {case.label} (inputs seeded {args.seed})")
    if len(cases) > 1:
        print("other cases (--case K): " + "; ".join(f"{k}: {c.label}" for k, c in
                                                      enumerate(cases) if k != args.case))
    table = eps_sweep(fn, inputs, dtype=args.dtype)
    print(table)
    best = table.best
    print(f"\nbest step eps={best.eps:.0e}: max abs error {best.max_abs_error:.2e}")
    if args.plot:
        try:
            print(f"wrote {table.plot(args.plot)}")
        except ImportError as e:  # matplotlib is missing
            print(f"autograd-nn eps-sweep: {e}", file=sys.stderr)
            return 1
    return 0


COMMANDS = (
    Command(
        "demo", cmd_demo, "train reference network R1 and show its gradients",
        "Train reference network R1 (3 -> 4 -> 5 -> 1 sigmoid, no biases, "
        "np.random.seed(1)) twice: with the hand-derived backward pass and with the engine's. "
        "Prints the gradient table at the first step (engine, hand-derived, central finite "
        "differences), the loss along the run, whether both runs end bit for bit identical, "
        "and the final predictions; writes the computation graph at the first step, with every "
        "value and gradient dJ/d(tensor) and the δk marked (graph.svg, or graph.dot without "
        "graphviz's `dot`), and the loss curve (loss.png, with matplotlib) to --out; with "
        "--html, a page that steps through that backward pass.",
        ("autograd-nn demo", "autograd-nn demo --out /tmp/r1 --epochs 500 --no-progress",
         "autograd-nn demo --html r1_backward.html"),
        (option("--out", type=Path, default=Path("autograd_nn_demo"), metavar="DIR",
                help="output folder, created if needed (default: ./autograd_nn_demo)"),
         option("--epochs", type=positive_int, default=5000, metavar="N",
                help="training epochs (default: 5000, as R1 specifies)"),
         switch("--no-progress", "no progress bar"),
         option("--html", type=Path, default=None, metavar="PATH",
                help="also write the first step's backward pass as one self-contained "
                "HTML page to step through in a browser (works offline, from file://)"))),
    Command(
        "gradcheck", cmd_gradcheck,
        "check every primitive op (or the named ones) to first and second order",
        "Check the engine's derivatives of each op against central finite "
        "differences in float64: gradcheck (first order) and gradgradcheck (second order) on "
        "several shapes, broadcasting pairs included, with inputs drawn from each op's domain "
        "away from kinks and ties. One line per case, then a summary table; the exit code is 1 "
        "when any case fails.",
        ("autograd-nn gradcheck", "autograd-nn gradcheck matmul divide --seed 7",
         "autograd-nn gradcheck --fast --dtype float32"),
        (option("ops", nargs="*", metavar="OP", help="ops to check (default: all)"),
         dtype_option("dtype of the inputs (default float64; float32 inputs are checked "
                      "on float64 copies, since finite differences need float64)"),
         SEED,
         switch("--fast", "fast mode: random projections uᵀJv instead of full Jacobians"),
         switch("--list", "list the ops and their cases")),
        epilog_intro=_known_ops_paragraph),
    Command(
        "seeds", cmd_seeds, "train reference networks both ways (hand-derived vs engine)",
        "Train each reference network (R1..R5, see the README) with "
        "its hand-derived backward pass and with the engine's, side by side, and print per "
        "network the largest relative engine-vs-hand gradient difference over the run, the "
        "final loss and the result. R5 runs with sigmoid, tanh and ReLU hidden layers.",
        ("autograd-nn seeds", "autograd-nn seeds R1 R4", "autograd-nn seeds R5 --verbose"),
        (option("networks", nargs="*", type=network_name, metavar="NETWORK",
                help="R1 R2 R3 R4 R5 (default: all)"),
         switch("--quick", "a tenth of the specified steps (for a fast look)"),
         switch("--verbose", "print each full report"))),
    Command(
        "eps-sweep", cmd_eps_sweep, "finite-difference error vs step size for one op",
        "The eps experiment: the largest difference between the engine's "
        "Jacobian of OP and central differences, for steps eps = 1e-1 ... 1e-12. Large steps "
        "suffer truncation error (~eps²), tiny ones round-off (~1e-16/eps): the V-shaped curve.",
        ("autograd-nn eps-sweep tanh", "autograd-nn eps-sweep exp --plot eps_exp.png",
         "autograd-nn eps-sweep sigmoid --dtype float32"),
        (option("op", metavar="OP", help="an op name (see `autograd-nn gradcheck --list`)"),
         option("--plot", metavar="FILE", help="save the log-log curve (needs matplotlib)"),
         option("--case", type=int, default=0, metavar="K",
                help="which of the op's cases (shapes) to use (default 0)"),
         SEED,
         dtype_option("dtype of the finite differences (default float64)"))),
)


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args, args.parser))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output was piped into e.g. `head`, which has quit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
