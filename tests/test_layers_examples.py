"""The layer examples run as written (`python examples/<name>.py --quick`, a few seconds each;
the full runs are documented in docs/layers.md), and `autograd-nn gradcheck` covers the layer
ops."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd):
    done = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_cnn_digits_quick(tmp_path):
    code, out, err = run(str(ROOT / "examples" / "cnn_digits.py"), "--quick", "--graph",
                         "cnn.svg", cwd=tmp_path)
    assert code == 0, out + err
    acc = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert acc >= 0.9
    assert "fit" in err  # the progress bar (tqdm, on stderr)
    svg = (tmp_path / "cnn.svg").read_text()
    assert "Conv2d" in svg and "kernel 3x3, stride 1, padding 1" in svg
    assert "max 2x2, stride 2" in svg


def test_char_rnn_quick(tmp_path):
    code, out, err = run(str(ROOT / "examples" / "char_rnn.py"), "--quick", "--graph",
                         "two.svg", cwd=tmp_path)
    assert code == 0, out + err
    losses = [float(v) for v in re.findall(r"loss (\d+\.\d+)  sample:", out)]
    assert len(losses) >= 2 and losses[-1] < losses[0] / 2
    assert "gradcheck of one BPTT step" in out and "passed" in out
    svg = (tmp_path / "two.svg").read_text()
    assert svg.count(">sigmoid<") == 6  # three sigmoid gates per step, two steps


def test_cli_gradcheck_covers_the_layer_ops():
    ops = ["pad_constant", "unfold_windows", "fold_windows", "correlate", "correlate_input_grad",
           "correlate_weight_grad", "conv1d", "conv2d", "conv_transpose2d", "max_pool2d",
           "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "layer_norm", "group_norm",
           "embedding"]
    code, out, err = run("-m", "autograd_nn", "gradcheck", *ops, cwd=ROOT)
    assert code == 0, out + err
    assert re.search(r"all \d+ cases passed \(first and second order\)", out)
    for op in ops:
        assert f"PASS  {op}" in out, op
