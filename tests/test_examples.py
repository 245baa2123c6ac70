"""The reference-network and digits examples run as written (`python examples/<name>.py`)
and print what they promise. Each runs at its full, specified length (a few seconds each)."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(script, *args, cwd):
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def largest_difference(out):
    m = re.search(r"largest relative difference engine vs hand over all (\d+) steps: (\S+)", out)
    assert m, out
    return int(m.group(1)), float(m.group(2))


def test_r1_example(tmp_path):
    code, out, err = run("r1_three_layer_sigmoid.py", cwd=tmp_path)
    assert code == 0, out + err
    assert largest_difference(out) == (5000, 0.0)
    assert "bit for bit identical (weights and predictions): True" in out
    assert "all 3 parameters agree" in out and "read as 0/1: [0, 1, 1, 0]" in out


def test_r2_example(tmp_path):
    code, out, err = run("r2_two_layer_xor.py", cwd=tmp_path)
    assert code == 0, out + err
    assert largest_difference(out) == (1500, 0.0)
    assert "loss decreased at every iteration: True" in out


def test_r3_example_with_own_hours(tmp_path):
    code, out, err = run("r3_study_sleep_score.py", "--studied", "1", "--slept", "10",
                         cwd=tmp_path)
    assert code == 0, out + err
    assert largest_difference(out)[1] < 1e-10
    assert "4 h studied, 8 h slept: scaled with the training maxima [3.0, 9.0]" in out
    assert re.search(r"studied 1 h, slept 10 h: predicted score \d+\.\d\d", out)


def test_r4_example_with_kilograms_and_centimetres(tmp_path):
    code, out, err = run("r4_neurons_with_biases.py", "--kg", "54", "--cm", "160", cwd=tmp_path)
    assert code == 0, out + err
    steps, diff = largest_difference(out)
    assert steps == 4000 and diff < 1e-10
    assert "forward([2, 3]) = 0.7216325609518421" in out and "mse = 0.5" in out
    assert re.search(r"Emily P\(female\) 0\.\d+ -> female, Frank P\(female\) 0\.\d+ -> male",
                     out)
    assert re.search(r"54 kg, 160 cm: P\(female\) = 0\.\d+ -> (female|male)", out)


def test_r4_example_needs_both_units(tmp_path):
    code, _, err = run("r4_neurons_with_biases.py", "--kg", "54", cwd=tmp_path)
    assert code == 2 and "give both --kg and --cm" in err


def test_r5_example_all_activations(tmp_path):
    code, out, err = run("r5_iris_no_biases.py", cwd=tmp_path)
    assert code == 0, out + err
    for activation in ("sigmoid", "tanh", "relu"):
        line = next(s for s in out.splitlines()
                    if s.strip().startswith(f"R5-{activation}: max |engine-hand| rel"))
        assert "0.0e+00 over 1000 steps" in line
        assert re.search(r"test accuracy \d\.\d{3}", line)


def test_digits_example_reaches_90_percent(tmp_path):
    code, out, err = run("digits_classifier.py", "--plot", "h.png", cwd=tmp_path)
    assert code == 0, out + err
    acc = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert acc > 0.9
    assert "fit" in err or "epoch" in out  # the progress bar (tqdm on stderr) or plain lines
