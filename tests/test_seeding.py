"""One seeding story: without ``rng`` everything draws from numpy's global generator, so
``np.random.seed(n)`` (or its PyTorch-named twin ``ag.manual_seed(n)``) makes tutorial code
reproducible; an explicit ``rng`` is independent of the global state. The examples print the
same numbers on every run."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.data import BatchIterator, train_test_split
from autograd_nn.datasets import make_moons

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def linear_weights():
    layer = nn.Linear(3, 4)
    return layer.weight.numpy().copy(), layer.bias.numpy().copy()


def test_np_random_seed_makes_default_init_reproducible():
    np.random.seed(1)
    w1, b1 = linear_weights()
    np.random.seed(1)
    w2, b2 = linear_weights()
    np.random.seed(2)
    w3, _ = linear_weights()
    assert np.array_equal(w1, w2) and np.array_equal(b1, b2)
    assert not np.array_equal(w1, w3)


def test_manual_seed_is_np_random_seed():
    ag.manual_seed(7)
    a = linear_weights()[0]
    np.random.seed(7)
    b = linear_weights()[0]
    assert np.array_equal(a, b)
    ag.manual_seed(7)
    x = np.random.rand()
    np.random.seed(7)
    assert x == np.random.rand()


def test_default_draws_continue_the_global_stream():
    # two layers made one after the other get different weights; reseeding replays both
    ag.manual_seed(3)
    first, second = linear_weights()[0], linear_weights()[0]
    ag.manual_seed(3)
    assert not np.array_equal(first, second)
    assert np.array_equal(first, linear_weights()[0]) and np.array_equal(second,
                                                                         linear_weights()[0])


def test_every_default_draw_honours_the_seed():
    def draws():
        x = np.arange(20.0).reshape(10, 2)
        return [
            ag.randn(2, 3).numpy(), ag.rand(4).numpy(),
            nn.init.normal_(ag.zeros(3, 2)).numpy(),
            nn.init.kaiming_uniform_(ag.zeros(3, 2)).numpy(),
            nn.Dropout(0.5)(ag.ones(8)).numpy(),
            nn.functional.dropout(ag.ones(8), 0.5).numpy(),
            next(iter(BatchIterator(x, np.arange(10), batch_size=4, shuffle=True)))[1],
            train_test_split(x, test_size=0.3)[1],
            make_moons(6, noise=0.1)[0],
        ]
    ag.manual_seed(11)
    a = draws()
    ag.manual_seed(11)
    b = draws()
    for u, v in zip(a, b):
        assert np.array_equal(u, v)


def test_explicit_rng_ignores_the_global_state():
    np.random.seed(1)
    a = nn.Linear(3, 4, rng=5).weight.numpy().copy()
    np.random.seed(2)
    np.random.rand(10)
    b = nn.Linear(3, 4, rng=5).weight.numpy().copy()
    assert np.array_equal(a, b)
    state = np.random.get_state()[1].copy()
    nn.Linear(3, 4, rng=np.random.default_rng(0))
    assert np.array_equal(np.random.get_state()[1], state)  # an explicit rng draws nothing global


def test_fill_from_numpy_global_is_the_legacy_recipe():
    np.random.seed(1)
    W1, W2 = np.random.randn(3, 4), np.random.randn(4, 5)
    a, b = ag.zeros(3, 4), ag.zeros(4, 5)
    nn.init.fill_from_numpy_global([a, b], seed=1)
    assert np.array_equal(a.numpy(), W1) and np.array_equal(b.numpy(), W2)


@pytest.mark.parametrize("seed, error", [(1.5, TypeError), (True, TypeError), ("1", TypeError),
                                         (-1, ValueError), (2**32, ValueError)])
def test_manual_seed_bad_seed_is_refused_and_changes_nothing(seed, error):
    np.random.seed(4)
    before = np.random.get_state()[1].copy()
    with pytest.raises(error, match="manual_seed"):
        ag.manual_seed(seed)
    assert np.array_equal(np.random.get_state()[1], before)


def run_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True).stdout


def test_seeded_script_prints_the_same_numbers_in_two_processes():
    code = ("import autograd_nn as ag; from autograd_nn import nn; ag.manual_seed(1); "
            "print(nn.Linear(2, 3).weight.numpy().tolist())")
    assert run_python(code) == run_python(code)


def test_unseeded_script_draws_fresh_numbers_in_each_process():
    code = "from autograd_nn import nn; print(nn.Linear(4, 4).weight.numpy().tolist())"
    assert run_python(code) != run_python(code)


EXAMPLE_ARGS = {
    "r1_three_layer_sigmoid.py": ["--quick"], "r2_two_layer_xor.py": ["--quick"],
    "r3_study_sleep_score.py": ["--quick"], "r4_neurons_with_biases.py": ["--quick"],
    "r5_iris_no_biases.py": ["--quick"], "digits_classifier.py": ["--quick", "--no-progress"],
    "viz_r1_graph.py": [], "viz_r1_replay.py": [], "viz_digits_collapsed.py": [],
    "scipy_optimize.py": [], "compile_r1.py": [],
    "cnn_digits.py": ["--quick", "--no-progress"], "char_rnn.py": ["--quick"],
}


def test_every_example_is_listed():
    assert sorted(EXAMPLE_ARGS) == sorted(p.name for p in EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("script", sorted(EXAMPLE_ARGS))
def test_example_prints_the_same_numbers_on_every_run(script, tmp_path):
    def once():
        done = subprocess.run([sys.executable, str(EXAMPLES / script), *EXAMPLE_ARGS[script]],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 1), done.stderr  # 1: graphviz's dot missing
        return done.stdout
    first = once()
    assert first and once() == first
