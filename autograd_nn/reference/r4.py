"""R4: neurons with biases (2 -> h1, h2 -> o1), trained one sample at a time.

Specification (docs/reference-networks.md, R4):

- a neuron computes ``σ(w·x + b)``; h1 has weights w1, w2 and bias b1, h2 has w3, w4, b2, the
  output o1 has w5, w6 (applied to h1, h2) and b3; each drawn from ``np.random.normal()`` in
  the order w1..w6, b1..b3. The spec gives no seed: ``np.random.seed(1)`` (`SEED`);
- data: weight (lb) - 135 and height (in) - 66, label 1 = female: Alice [-2,-1] -> 1,
  Bob [25,6] -> 0, Charlie [17,4] -> 0, Diana [-15,-6] -> 1;
- stochastic gradient descent one sample at a time in data order, learning rate 0.1, 1000
  epochs; per sample ``∂L/∂ŷ = -2(y - ŷ)`` chained by hand through o1 into h1 and h2; the mean
  squared error over the data set reported every 10 epochs (after the epoch's updates);
- published facts: with every neuron's weights [0, 1] and bias 0 the input [2, 3] gives
  0.7216325609518421; the MSE of y_true [1,0,0,1] against y_pred [0,0,0,0] is 0.5.

The engine's version is a `Neuron` module (``weight`` of shape (2,), a 0-d ``bias``) used three
times in `R4Net`; the per-sample loss is ``F.mse_loss(ŷ, y)``, a mean over one element.

Why this run is not bit for bit: the hand code multiplies its chain-rule factors in its own
order (``lr * ∂L/∂ŷ * ∂ŷ/∂h1 * ∂h1/∂w1``, with ``∂ŷ/∂h1 = w5·σ'(sum_o1)`` and
``∂h1/∂w1 = x0·σ'(sum_h1)``), while reverse mode multiplies the incoming gradient by one local
derivative at a time (``((∂L/∂ŷ · σ'(sum_o1)) · w5) · σ'(sum_h1) · x0``) and the optimizer
applies ``lr`` last. Floating-point products are not associative, so the two gradients differ
by a few units in the last place (~1e-16 relative) and the two trainings drift apart by about
as much; the final parameters agree to ~1e-15 (the tests allow 1e-12).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn, optim
from ..datasets import people_new, people_weight_height, person_features
from ..mode import no_grad
from ..nn import functional as F
from ..ops import stack
from ..tensor import Tensor
from .common import engine_step, sigmoid
from .report import (
    Progress,
    ReferenceReport,
    bitwise_equal,
    format_rows,
    log_rows,
    max_abs_difference,
)

SEED = 1
LEARNING_RATE = 0.1
EPOCHS = 1000
LOG_EVERY = 10
FACT_FORWARD = 0.7216325609518421  # weights [0, 1], bias 0, input [2, 3]
FACT_MSE = 0.5  # y_true [1, 0, 0, 1] vs y_pred [0, 0, 0, 0]
# engine parameter -> the spec's scalar names, in the engine's (registration) order
PARAM_NAMES = {"h1.weight": ("w1", "w2"), "h2.weight": ("w3", "w4"), "o1.weight": ("w5", "w6"),
               "h1.bias": ("b1",), "h2.bias": ("b2",), "o1.bias": ("b3",)}


# ---- hand-derived (plain numpy, as specified) ---------------------------------------------------
def deriv_sigmoid(x: float) -> float:
    """σ'(x) = σ(x)(1 - σ(x))."""
    fx = sigmoid(x)
    return fx * (1 - fx)


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error ``mean((y_true - y_pred)²)``."""
    return float(((np.asarray(y_true) - np.asarray(y_pred)) ** 2).mean())


class HandNetwork:
    """The hand-derived network: nine scalars and the chain rule written out per weight."""

    def __init__(self, seed: int | None = SEED) -> None:
        if seed is not None:
            np.random.seed(seed)
        self.w1, self.w2, self.w3 = np.random.normal(), np.random.normal(), np.random.normal()
        self.w4, self.w5, self.w6 = np.random.normal(), np.random.normal(), np.random.normal()
        self.b1, self.b2, self.b3 = np.random.normal(), np.random.normal(), np.random.normal()

    def feedforward(self, x: np.ndarray) -> float:
        h1 = sigmoid(self.w1 * x[0] + self.w2 * x[1] + self.b1)
        h2 = sigmoid(self.w3 * x[0] + self.w4 * x[1] + self.b2)
        return sigmoid(self.w5 * h1 + self.w6 * h2 + self.b3)

    def params(self) -> dict[str, np.ndarray]:
        """The parameters under the engine's names (see `PARAM_NAMES`)."""
        return {k: np.array([getattr(self, n) for n in names]) if len(names) > 1
                else np.array(getattr(self, names[0])) for k, names in PARAM_NAMES.items()}

    def train_sample(self, x: np.ndarray, y_true: float, lr: float = LEARNING_RATE
                     ) -> dict[str, np.ndarray]:
        """One SGD step on one sample; returns the gradients it used (engine's names)."""
        sum_h1 = self.w1 * x[0] + self.w2 * x[1] + self.b1
        h1 = sigmoid(sum_h1)
        sum_h2 = self.w3 * x[0] + self.w4 * x[1] + self.b2
        h2 = sigmoid(sum_h2)
        sum_o1 = self.w5 * h1 + self.w6 * h2 + self.b3
        y_pred = sigmoid(sum_o1)

        d_L_d_ypred = -2 * (y_true - y_pred)
        # neuron o1
        d_ypred_d_w5 = h1 * deriv_sigmoid(sum_o1)
        d_ypred_d_w6 = h2 * deriv_sigmoid(sum_o1)
        d_ypred_d_b3 = deriv_sigmoid(sum_o1)
        d_ypred_d_h1 = self.w5 * deriv_sigmoid(sum_o1)
        d_ypred_d_h2 = self.w6 * deriv_sigmoid(sum_o1)
        # neuron h1
        d_h1_d_w1 = x[0] * deriv_sigmoid(sum_h1)
        d_h1_d_w2 = x[1] * deriv_sigmoid(sum_h1)
        d_h1_d_b1 = deriv_sigmoid(sum_h1)
        # neuron h2
        d_h2_d_w3 = x[0] * deriv_sigmoid(sum_h2)
        d_h2_d_w4 = x[1] * deriv_sigmoid(sum_h2)
        d_h2_d_b2 = deriv_sigmoid(sum_h2)

        grads = {
            "h1.weight": np.array([d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1,
                                   d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w2]),
            "h2.weight": np.array([d_L_d_ypred * d_ypred_d_h2 * d_h2_d_w3,
                                   d_L_d_ypred * d_ypred_d_h2 * d_h2_d_w4]),
            "o1.weight": np.array([d_L_d_ypred * d_ypred_d_w5, d_L_d_ypred * d_ypred_d_w6]),
            "h1.bias": np.array(d_L_d_ypred * d_ypred_d_h1 * d_h1_d_b1),
            "h2.bias": np.array(d_L_d_ypred * d_ypred_d_h2 * d_h2_d_b2),
            "o1.bias": np.array(d_L_d_ypred * d_ypred_d_b3),
        }
        # update every weight and bias (the products in the hand code's order)
        self.w1 -= lr * d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1
        self.w2 -= lr * d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w2
        self.b1 -= lr * d_L_d_ypred * d_ypred_d_h1 * d_h1_d_b1
        self.w3 -= lr * d_L_d_ypred * d_ypred_d_h2 * d_h2_d_w3
        self.w4 -= lr * d_L_d_ypred * d_ypred_d_h2 * d_h2_d_w4
        self.b2 -= lr * d_L_d_ypred * d_ypred_d_h2 * d_h2_d_b2
        self.w5 -= lr * d_L_d_ypred * d_ypred_d_w5
        self.w6 -= lr * d_L_d_ypred * d_ypred_d_w6
        self.b3 -= lr * d_L_d_ypred * d_ypred_d_b3
        return grads


# ---- the same network from the engine's ops and modules -----------------------------------------
class Neuron(nn.Module):
    """``σ(x @ weight + bias)``: two weights (shape (2,)) and a bias (0-d). ``x`` is one
    sample (shape (2,), giving a 0-d output) or rows of samples (N, 2) -> (N,)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(np.zeros(2))
        self.bias = nn.Parameter(np.zeros(()))

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x @ self.weight + self.bias)


class R4Net(nn.Module):
    """Hidden neurons h1, h2 on the two inputs, output neuron o1 on (h1, h2)."""

    def __init__(self) -> None:
        super().__init__()
        self.h1, self.h2, self.o1 = Neuron(), Neuron(), Neuron()

    def forward(self, x: Any) -> Tensor:
        h = stack([self.h1(x), self.h2(x)], axis=-1)
        return self.o1(h)


def engine_model(seed: int | None = SEED) -> R4Net:
    """`R4Net` with w1..w6 then b1..b3 drawn from ``np.random.normal()`` after
    ``np.random.seed(seed)``, in the hand network's order."""
    model = R4Net()
    order = [model.h1.weight, model.h2.weight, model.o1.weight, model.h1.bias, model.h2.bias,
             model.o1.bias]
    nn.init.fill_from_numpy_global(order, seed=seed)
    return model


def published_facts() -> dict[str, float]:
    """The two facts computed by the engine: the forward pass of [2, 3] with every neuron's
    weights [0, 1] and bias 0, and ``F.mse_loss`` of [0,0,0,0] against [1,0,0,1]."""
    model = R4Net()
    with no_grad():
        for neuron in (model.h1, model.h2, model.o1):
            neuron.weight.data[...] = [0.0, 1.0]
            neuron.bias.data[...] = 0.0
        forward = model(Tensor([2.0, 3.0])).item()
        loss = F.mse_loss(Tensor([0.0, 0.0, 0.0, 0.0]), Tensor([1.0, 0.0, 0.0, 1.0])).item()
    return {"forward": forward, "mse": loss}


def predict(net: R4Net | HandNetwork, x: Any) -> np.ndarray | float:
    """Probability of 'female' for shifted features (lb - 135, in - 66): one row -> float."""
    x = np.asarray(x, dtype=np.float64)
    rows = np.atleast_2d(x)
    if isinstance(net, HandNetwork):
        out = np.array([net.feedforward(r) for r in rows])
    else:
        with no_grad():
            out = net(Tensor(rows)).numpy()
    return float(out[0]) if x.ndim == 1 else out


def predict_person(net: R4Net | HandNetwork, weight_kg: float, height_cm: float) -> float:
    """Probability of 'female' for someone weighing ``weight_kg`` kg and ``height_cm`` cm tall
    (converted to pounds and inches, then shifted by 135 lb and 66 in)."""
    return float(predict(net, person_features(weight_kg, height_cm)))


# ---- side by side -------------------------------------------------------------------------------
def train_side_by_side(epochs: int = EPOCHS, seed: int = SEED, lr: float = LEARNING_RATE,
                       log_every: int = LOG_EVERY, check_fd: bool = True,
                       progress: bool = False) -> ReferenceReport:
    """Train R4 sample by sample with the hand chain rule and with the engine side by side;
    the engine-vs-hand difference is measured at every sample's step."""
    X, y, names = people_weight_height()
    hand = HandNetwork(seed)
    model = engine_model(seed)
    params = dict(model.named_parameters())
    if not bitwise_equal({k: p.numpy() for k, p in params.items()}, hand.params()):
        raise RuntimeError("R4: the engine's and the hand network's initial parameters differ")
    opt = optim.SGD(model.parameters(), lr=lr)
    Xt, yt = Tensor(X), Tensor(y)
    diffs, losses, engine_losses, three_way = [], [], [], None
    bar = Progress(epochs, "R4", progress, unit="epoch")
    try:
        for _ in range(epochs):
            for x, y_true in zip(X, y):
                xt, target = Tensor(x), Tensor(y_true)
                g_hand = hand.train_sample(x, y_true, lr)  # its gradients, then its step

                def sample_loss(xt: Tensor = xt, t: Tensor = target) -> Tensor:
                    return F.mse_loss(model(xt), t)

                # the three-way table at the first sample, before the engine model steps
                _, diff, table = engine_step(opt, sample_loss, params, g_hand,
                                             check_fd and three_way is None)
                if table is not None:
                    three_way = table
                diffs.append(diff)
                opt.step()
            losses.append(mse(y, [hand.feedforward(x) for x in X]))
            with no_grad():
                engine_losses.append(F.mse_loss(model(Xt), yt).item())
            bar.update(losses[-1])
    finally:
        bar.close()
    final_engine = {k: p.numpy() for k, p in params.items()}
    final_hand = hand.params()
    new, new_names = people_new()
    facts = published_facts()
    lines = format_rows(
        [f"{n} {x.astype(int).tolist()} ({'female' if t else 'male'}):"
         for n, x, t in zip(names, X, y)] + [f"{n} {x.astype(int).tolist()} (new):"
                                             for n, x in zip(new_names, new)],
        [f"hand {predict(hand, x):.4f}   engine {predict(model, x):.4f}"
         for x in [*X, *new]])
    p_emily, p_frank = (predict(model, x) for x in new)
    lines.append(f"engine facts: forward([2, 3]) with weights [0, 1], bias 0 = "
                 f"{facts['forward']!r} (published {FACT_FORWARD!r}); "
                 f"mse([1,0,0,1], [0,0,0,0]) = {facts['mse']!r} (published {FACT_MSE!r})")
    lines.append(f"a 60 kg, 165 cm person: P(female) = {predict_person(model, 60, 165):.3f}")
    return ReferenceReport(
        name="R4",
        title="neurons with biases 2 -> (h1, h2) -> o1, trained one sample at a time",
        settings=[f"np.random.seed({seed}); w1..w6, b1..b3 = np.random.normal() in that order",
                  f"per-sample (y - ŷ)², SGD in data order, lr {lr:g}, {epochs} epochs; "
                  "loss = MSE over the data set after each epoch",
                  "engine names: h1.weight = [w1, w2], h2.weight = [w3, w4], "
                  "o1.weight = [w5, w6], h1.bias = b1, h2.bias = b2, o1.bias = b3"],
        step_diffs=np.asarray(diffs), losses=np.asarray(losses),
        engine_losses=np.asarray(engine_losses),
        log=log_rows(diffs, losses, engine_losses, len(X), log_every),
        three_way=three_way,
        result=f"Emily P(female) {p_emily:.3f} -> {'female' if p_emily > 0.5 else 'male'}, "
               f"Frank P(female) {p_frank:.3f} -> {'female' if p_frank > 0.5 else 'male'}",
        result_lines=lines,
        max_param_diff=max_abs_difference(final_engine, final_hand),
        bitwise_equal=False,
        notes=["not bit for bit by construction: the hand code multiplies the chain-rule "
               "factors in a different order than reverse mode does (see the module "
               "docstring); the gradients differ by rounding only."],
        extra={"facts": facts, "hand": hand, "model": model, "W_hand": final_hand,
               "W_engine": final_engine},
    )

