"""Replay R1's backward pass step by step and put the engine's gradients next to the
hand-derived deltas of docs/reference-networks.md:

    δ4 = -(y - ŷ) ⊙ σ'(z4),   δ3 = (δ4 @ W3ᵀ) ⊙ σ'(z3),   δ2 = (δ3 @ W2ᵀ) ⊙ σ'(z2)

    python examples/viz_r1_replay.py                 # the table and the comparison
    python examples/viz_r1_replay.py --steps steps/  # also one PNG per backward step
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from viz_r1_graph import build_r1

from autograd_nn.viz import render, trace_backward


def hand_deltas(X: np.ndarray, y: np.ndarray, W1: np.ndarray, W2: np.ndarray,
                W3: np.ndarray) -> dict[str, np.ndarray]:
    """R1's forward and backward written out in numpy, as the reference derives them."""
    def sigmoid(z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-z))

    a2 = sigmoid(X @ W1)
    a3 = sigmoid(a2 @ W2)
    yhat = sigmoid(a3 @ W3)
    d4 = -(y - yhat) * (yhat * (1 - yhat))  # σ'(z) = σ(z)(1 - σ(z))
    d3 = (d4 @ W3.T) * (a3 * (1 - a3))
    d2 = (d3 @ W2.T) * (a2 * (1 - a2))
    return {"z4": d4, "z3": d3, "z2": d2}


def side_by_side(left: np.ndarray, right: np.ndarray, titles: tuple[str, str]) -> str:
    opts = {"precision": 6, "suppress_small": False, "floatmode": "fixed"}
    a = np.array2string(left, **opts).splitlines()
    b = np.array2string(right, **opts).splitlines()
    width = max(len(s) for s in a + [titles[0]])
    rows = [f"{titles[0].ljust(width)}   {titles[1]}"]
    rows += [f"{s.ljust(width)}   {t}" for s, t in zip(a, b)]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description="R1's backward replay vs the hand derivation")
    parser.add_argument("--steps", metavar="DIR", help="also render one PNG per step into DIR")
    args = parser.parse_args()

    J, params, named = build_r1()
    X, y = named["X"].data, named["y"].data
    W = [params[k].data.copy() for k in ("W1", "W2", "W3")]

    trace = trace_backward(J, params=params)
    print("The engine's backward pass, in the order it processed the tensors:\n")
    print(trace)

    hand = hand_deltas(X, y, *W)
    print("\nWhere the hand-derived deltas live: δk is the gradient of J with respect to zk.")
    for k in (4, 3, 2):
        z = named[f"z{k}"]
        got, want = trace[z], hand[f"z{k}"]
        print(f"\n{side_by_side(want, got, (f'δ{k} (by hand, numpy)', f'dJ/dz{k} (replay)'))}")
        print(f"max |difference| = {np.max(np.abs(got - want)):.1e}, "
              f"bitwise equal: {np.array_equal(got, want)}")
        step = trace.step_of(z)
        print(f"step {step.index}: {step.label} <- {step.op}; it sends "
              + ", ".join(f"{loc.rule} to {name}" for name, loc in zip(step.operands, step.local)
                          if loc is not None))

    if args.steps:
        out = Path(args.steps)
        out.mkdir(parents=True, exist_ok=True)
        for k, pic in enumerate(trace.draw_steps(show_data=False, rankdir="TB"), start=1):
            render(pic, out / f"step_{k:02d}.png")
        print(f"\nwrote {len(trace)} pictures to {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
