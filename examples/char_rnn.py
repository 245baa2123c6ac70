"""A character-level LSTM learns a short verse by backpropagation through time, printing
samples as it learns; then a gradcheck of one BPTT step and the graph of two unrolled steps.

    python examples/char_rnn.py               # 300 iterations (about 10-20 s on 2 cores)
    python examples/char_rnn.py --quick       # 60 iterations
    python examples/char_rnn.py --graph unrolled.png

Model: embedding (16) -> LSTM (64 hidden) -> linear to the characters; each iteration runs
8 windows of 32 characters from random places in the text, predicts every next character
(mean cross-entropy over the 8 x 32 predictions) and takes one Adam step (lr 1e-2,
gradients clipped at norm 5). The backward pass goes back through all 32 steps: BPTT is the
ordinary backward of the unrolled graph. The gradcheck compares that backward with central
differences on a tiny float64 LSTM (3 hidden units) over a 4-character window.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # tiny products: BLAS threads only contend (see cnn_digits)

import numpy as np  # noqa: E402

import autograd_nn as ag  # noqa: E402
from autograd_nn import nn, optim  # noqa: E402
from autograd_nn.nn.recurrent import cell_step  # noqa: E402

TEXT = (
    "twinkle, twinkle, little star,\n"
    "how i wonder what you are!\n"
    "up above the world so high,\n"
    "like a diamond in the sky.\n"
    "twinkle, twinkle, little star,\n"
    "how i wonder what you are!\n"
)


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, embed: int = 16, hidden: int = 64, seed: int = 0,
                 dtype: type = np.float64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed, rng=seed, dtype=dtype)
        self.lstm = nn.LSTM(embed, hidden, rng=seed + 1, dtype=dtype)
        self.head = nn.Linear(hidden, vocab, rng=seed + 2, dtype=dtype)

    def forward(self, codes: np.ndarray, state: tuple | None = None) -> tuple:
        """codes (L, N) -> logits (L, N, vocab) and the final (h, c)."""
        out, state = self.lstm(self.embed(codes), state)
        return self.head(out), state


def sequence_loss(model: CharLSTM, codes: np.ndarray) -> ag.Tensor:
    """Mean cross-entropy of predicting codes[t + 1] from codes[: t + 1], every t."""
    logits, _ = model(codes[:-1])
    vocab = logits.shape[-1]
    return nn.functional.cross_entropy(logits.reshape(-1, vocab), codes[1:].reshape(-1))


def sample(model: CharLSTM, chars: list[str], start: str, n: int, rng: np.random.Generator,
           temperature: float = 0.5) -> str:
    index = {c: i for i, c in enumerate(chars)}
    out, state = start, None
    code = np.array([[index[c]] for c in start])
    with ag.no_grad():
        for _ in range(n):
            logits, state = model(code, state)
            p = ag.softmax(logits[-1, 0] / temperature).numpy()
            k = int(rng.choice(len(chars), p=p / p.sum()))
            out += chars[k]
            code = np.array([[k]])
    return out


def clip_gradients(params: list, max_norm: float) -> float:
    total = float(np.sqrt(sum(float((p.grad.data ** 2).sum()) for p in params
                              if p.grad is not None)))
    if total > max_norm:
        for p in params:
            if p.grad is not None:
                p.grad.data[...] *= max_norm / total
    return total


def train(iterations: int, seed: int) -> tuple[CharLSTM, list[str]]:
    chars = sorted(set(TEXT))
    codes = np.array([chars.index(c) for c in TEXT])
    rng = np.random.default_rng(seed)
    model = CharLSTM(len(chars), seed=seed)
    params = list(model.parameters())
    opt = optim.Adam(params, lr=1e-2)
    window, batch = 32, 8
    for it in range(1, iterations + 1):
        starts = rng.integers(0, len(codes) - window - 1, size=batch)
        chunk = np.stack([codes[s:s + window + 1] for s in starts], axis=1)  # (L + 1, N)
        opt.zero_grad()
        loss = sequence_loss(model, chunk)
        loss.backward()
        clip_gradients(params, 5.0)
        opt.step()
        if it == 1 or it % max(1, iterations // 4) == 0:
            text = sample(model, chars, "tw", 60, np.random.default_rng(it)).replace("\n", "/")
            print(f"iteration {it:4d}  loss {loss.item():.3f}  sample: {text}", flush=True)
    return model, chars


def check_one_bptt_step(seed: int) -> bool:
    """gradcheck: the loss of a 4-character window through a tiny LSTM (3 hidden units),
    written with the functional pieces so every parameter is an input of the check."""
    chars = sorted(set(TEXT))
    codes = np.array([chars.index(c) for c in "twin"])
    tiny = CharLSTM(len(chars), embed=3, hidden=3, seed=seed)
    names = [n for n, _ in tiny.named_parameters()]
    inputs = [ag.Tensor(p.data.copy(), requires_grad=True) for p in tiny.parameters()]

    def window_loss(emb, w_ih, w_hh, b_ih, b_hh, w_out, b_out):
        h = c = ag.zeros(3)
        xw = nn.functional.embedding(codes[:-1], emb) @ w_ih + b_ih
        logits = []
        for t in range(len(codes) - 1):  # the unrolled steps: BPTT goes back through all
            h, c = cell_step("lstm", xw[t], h, c, w_hh, b_hh)
            logits.append(nn.functional.linear(h, w_out, b_out))
        return nn.functional.cross_entropy(ag.stack(logits), codes[1:])

    result = ag.gradcheck(window_loss, inputs, raise_exception=False, seed=seed)
    print(f"gradcheck of one BPTT step ({len(codes) - 1} unrolled steps, parameters "
          f"{', '.join(names)}): {'passed' if result else 'FAILED'}")
    worst = max(p.max_rel_error for p in result.pairs)
    print(f"  largest relative difference engine vs central differences: {worst:.1e}")
    return bool(result)


def draw_two_steps(model: CharLSTM, chars: list[str], path: Path) -> None:
    from autograd_nn.viz import draw_graph, render

    codes = np.array([[chars.index("t")], [chars.index("w")], [chars.index("i")]])
    loss = sequence_loss(model, codes)  # two steps: t -> w, w -> i
    loss.name = "loss"
    graph = draw_graph(loss, model, show_data=False, show_grad=False, rankdir="TB",
                       collapse=["embed", "head"])
    n_ops = graph.source.count('shape="ellipse"')
    try:
        print(f"wrote the graph of two unrolled steps ({n_ops} op nodes) to "
              f"{render(graph, path)}")
    except RuntimeError as err:  # graphviz's `dot` program is missing
        gv = path.with_suffix(".gv")
        gv.write_text(graph.source)
        print(f"{err}\nwrote the DOT source to {gv} instead")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300, help="default: %(default)s")
    parser.add_argument("--quick", action="store_true", help="60 iterations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--graph", default="char_rnn_unrolled.png", help="picture file")
    args = parser.parse_args(argv)
    model, chars = train(60 if args.quick else args.iterations, args.seed)
    ok = check_one_bptt_step(args.seed)
    draw_two_steps(model, chars, Path(args.graph))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
