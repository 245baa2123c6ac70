"""autograd_nn.train: fit (with and without tqdm), evaluate, accuracy, plot_history."""

import sys

import numpy as np
import pytest

from autograd_nn import data, datasets, nn, optim
from autograd_nn.nn import functional as F
from autograd_nn.train import MissingDependencyError, accuracy, evaluate, fit, plot_history


def moons_problem(seed=0):
    X, y = datasets.make_moons(200, noise=0.1, rng=seed)
    model = nn.Sequential(nn.Linear(2, 16, rng=seed), nn.Tanh(), nn.Linear(16, 2, rng=seed + 1))
    return X, y, model, optim.Adam(model.parameters(), lr=0.05)


def test_fit_learns_and_records_history():
    X, y, model, opt = moons_problem()
    Xtr, Xva, ytr, yva = data.train_test_split(X, y, test_size=0.25, rng=0, stratify=y)
    h = fit(model, nn.CrossEntropyLoss(), opt, (Xtr, ytr), epochs=30, batch_size=32, rng=0,
            metrics=["accuracy"], validation_data=(Xva, yva), progress=False)
    assert list(h) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(v) == 30 for v in h.values())
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert h["accuracy"][-1] > 0.85 and h["val_accuracy"][-1] > 0.85
    # the recorded validation numbers are what evaluate() gives for the final model
    final = evaluate(model, nn.CrossEntropyLoss(), Xva, yva, metrics=["accuracy"])
    assert final["loss"] == pytest.approx(h["val_loss"][-1], rel=1e-12)
    assert final["accuracy"] == h["val_accuracy"][-1]


def test_fit_is_deterministic_with_seeds():
    runs = []
    for _ in range(2):
        X, y, model, opt = moons_problem(seed=3)
        runs.append(fit(model, F.cross_entropy, opt, (X, y), epochs=3, rng=5, progress=False))
    assert runs[0] == runs[1]


def test_epoch_loss_is_the_batch_size_weighted_mean():
    X = np.arange(10, dtype=np.float64).reshape(5, 2)
    y = np.ones((5, 1))
    model = nn.Linear(2, 1, rng=0)
    W, b = model.weight.data.copy(), model.bias.data.copy()
    # lr tiny, so the weights barely move: the epoch loss is that of the initial model
    h = fit(model, F.mse_loss, optim.SGD(model, lr=1e-300), (X, y), epochs=1, batch_size=2,
            shuffle=False, progress=False)
    per_sample = ((X @ W + b - y) ** 2).ravel()
    expected = (2 * per_sample[:2].mean() + 2 * per_sample[2:4].mean() + per_sample[4]) / 5
    assert h["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_callback_sees_epochs_and_can_stop():
    X, y, model, opt = moons_problem()
    seen = []

    def callback(epoch, history):
        seen.append((epoch, len(history["loss"])))
        return epoch < 3

    h = fit(model, F.cross_entropy, opt, (X, y), epochs=10, callback=callback, progress=False)
    assert seen == [(1, 1), (2, 2), (3, 3)] and len(h["loss"]) == 3


def test_fit_accepts_a_batch_iterator_and_restores_the_mode():
    X, y, model, opt = moons_problem()
    model.eval()
    batches = data.BatchIterator(X, y, batch_size=50, shuffle=True, rng=1)
    h = fit(model, F.cross_entropy, opt, batches, epochs=2, progress=False)
    assert len(h["loss"]) == 2 and not model.training
    gen = ((X[i:i + 50], y[i:i + 50]) for i in range(0, 200, 50))
    with pytest.raises(ValueError, match="one-shot iterator"):
        fit(model, F.cross_entropy, opt, gen, epochs=2, progress=False)


def test_fit_argument_errors():
    X, y, model, opt = moons_problem()
    with pytest.raises(TypeError, match="single-element Tensor"):
        fit(model, lambda out, t: F.cross_entropy(out, t, reduction="none"), opt, (X, y),
            progress=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, F.cross_entropy, opt, (X, y), epochs=-1)
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        fit(model, F.cross_entropy, opt, (X, y), metrics=["f1"])


def test_progress_without_tqdm_prints_plain_lines(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` now fails
    X, y, model, opt = moons_problem()
    fit(model, F.cross_entropy, opt, (X, y), epochs=20, metrics=["accuracy"])
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert [ln.split()[1] for ln in lines] == ["1/20", "2/20", "4/20", "6/20", "8/20",
                                               "10/20", "12/20", "14/20", "16/20", "18/20",
                                               "20/20"]
    assert "loss" in lines[-1] and "accuracy" in lines[-1] and err == ""


def test_progress_with_tqdm_draws_a_bar(capsys):
    pytest.importorskip("tqdm")
    X, y, model, opt = moons_problem()
    fit(model, F.cross_entropy, opt, (X, y), epochs=3)
    out, err = capsys.readouterr()
    assert out == "" and "3/3" in err and "loss=" in err


def test_progress_interval_and_quiet(capsys):
    X, y, model, opt = moons_problem()
    fit(model, F.cross_entropy, opt, (X, y), epochs=4, progress=2)
    out, _ = capsys.readouterr()
    assert [ln.split()[1] for ln in out.strip().splitlines()] == ["1/4", "2/4", "4/4"]
    fit(model, F.cross_entropy, opt, (X, y), epochs=2, progress=False)
    assert capsys.readouterr() == ("", "")


def test_accuracy():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 0.0, 0.0]])
    assert accuracy(logits, np.array([0, 1, 1, 0])) == 0.75
    assert accuracy(logits, np.eye(3)[[0, 1, 2, 2]]) == 0.75
    assert accuracy(logits, np.array([[0], [1], [2], [0]])) == 1.0
    probs = np.array([[0.9], [0.2], [0.6], [0.4]])
    assert accuracy(probs, np.array([[1], [0], [0], [0]])) == 0.75
    assert accuracy(np.array([1.5, -0.5]), np.array([1, 0]), threshold=0.0) == 1.0
    with pytest.raises(ValueError, match="do not fit"):
        accuracy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match="do not fit"):
        accuracy(probs, np.array([1, 0]))


def test_evaluate_uses_eval_mode_and_no_graph():
    X, y, _, _ = moons_problem()
    model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Dropout(0.5, rng=0), nn.Linear(8, 2, rng=1))
    a = evaluate(model, F.cross_entropy, X, y, metrics="accuracy", batch_size=64)
    b = evaluate(model, F.cross_entropy, X, y, metrics="accuracy")
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-12) and a["accuracy"] == b["accuracy"]
    assert model.training  # restored
    assert all(p.grad is None for p in model.parameters())


def test_plot_history_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    history = {"loss": [1.0, 0.5, 0.25], "accuracy": [0.5, 0.7, 0.9],
               "val_loss": [1.1, 0.6, 0.4], "val_accuracy": [0.4, 0.6, 0.8]}
    fig = plot_history(history, tmp_path / "history.png", title="run")
    with open(tmp_path / "history.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 2 and fig.get_suptitle() == "run"
    assert [line.get_label() for line in fig.axes[0].lines] == ["train", "validation"]
    only_loss = plot_history(history, tmp_path / "loss.png", metrics=["loss"])
    assert (tmp_path / "loss.png").stat().st_size > 1000 and len(only_loss.axes) == 1
    with pytest.raises(ValueError, match="no series \\['f1'\\]"):
        plot_history(history, tmp_path / "x.png", metrics=["f1"])
    with pytest.raises(ValueError, match="non-empty"):
        plot_history({}, tmp_path / "x.png")


def test_plot_history_returns_a_figure_that_draws_itself_inline(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    fig = plot_history({"loss": [1.0, 0.5, 0.25]})  # no path: nothing is written
    assert isinstance(fig, Figure) and list(tmp_path.iterdir()) == []
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"  # what Jupyter shows (image/png)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss"]
    assert list(fig.axes[0].lines[0].get_ydata()) == [1.0, 0.5, 0.25]
    arrays = plot_history({"loss": np.array([2.0, 1.0]), "val_loss": np.array([3.0, 2.0])})
    assert [line.get_label() for line in arrays.axes[0].lines] == ["train", "validation"]


def test_plot_history_without_matplotlib_says_what_to_install(monkeypatch, tmp_path):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends",
                 "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'autograd_nn\[plot\]'") \
            as info:
        plot_history({"loss": [1.0, 0.5]}, tmp_path / "h.png")
    assert isinstance(info.value, ImportError) and "matplotlib" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not (tmp_path / "h.png").exists()
