"""The `autograd-nn` command end to end: demo, gradcheck, seeds, eps-sweep, help and errors."""

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import cli, registry
from autograd_nn.cli import catalog as cli_ops

try:
    import matplotlib  # noqa: F401

    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False
HAVE_DOT = shutil.which("dot") is not None


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def usage_error(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        cli.main(list(argv))
    out = capsys.readouterr()
    return exc.value.code, out.out + out.err


# ---- demo ---------------------------------------------------------------------------------------
def test_demo_trains_r1_prints_the_three_way_table_and_writes_the_files(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--epochs", "40", "--out", str(tmp_path / "d"),
                       "--no-progress")
    assert code == 0, out
    assert "engine vs hand-derived vs central differences" in out
    for name in ("W1    (3, 4)", "W2    (4, 5)", "W3    (5, 1)", "all 3 parameters agree"):
        assert name in out
    assert "result: predictions" in out and "identical bit for bit" in out
    graph = tmp_path / "d" / ("graph.svg" if HAVE_DOT else "graph.dot")
    assert graph.exists() and str(graph) in out
    if HAVE_DOT:
        text = " ".join(t.text or "" for t in ET.parse(graph).iter())
        # the names of the gradient table (W1, not hidden1.weight), dJ/dz headings
        assert "W1" in text and "hidden1.weight" not in text and "grad = dJ/dz4" in text
    png = tmp_path / "d" / "loss.png"
    assert png.exists() == HAVE_MPL
    if HAVE_MPL:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and str(png) in out


def test_demo_without_dot_writes_the_dot_source_and_one_install_line(capsys, tmp_path,
                                                                      monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out, _ = run(capsys, "demo", "--epochs", "5", "--out", str(tmp_path), "--no-progress")
    assert code == 0
    assert not (tmp_path / "graph.svg").exists()
    assert "matmul" in (tmp_path / "graph.dot").read_text()
    hints = [line for line in out.splitlines() if "apt-get install graphviz" in line]
    assert len(hints) == 1 and "graph.dot" in hints[0]


def test_demo_without_matplotlib_and_tqdm_still_runs(capsys, tmp_path, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg", "tqdm"):
        monkeypatch.setitem(sys.modules, name, None)
    code, out, _ = run(capsys, "demo", "--epochs", "20", "--out", str(tmp_path))
    assert code == 0
    assert "matplotlib is not installed" in out and not (tmp_path / "loss.png").exists()
    assert "R1: epoch 20/20" in out  # plain progress lines instead of a tqdm bar


def test_demo_default_output_folder_is_created_in_the_current_directory(capsys, tmp_path,
                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "demo", "--epochs", "3", "--no-progress")
    assert code == 0 and (tmp_path / "autograd_nn_demo").is_dir()
    assert "autograd_nn_demo" in out


def test_demo_rejects_a_bad_epoch_count(capsys):
    code, text = usage_error(capsys, "demo", "--epochs", "0")
    assert code == 2 and "expected a positive integer" in text


# ---- gradcheck ----------------------------------------------------------------------------------
def test_gradcheck_named_ops_pass_with_one_line_per_case_and_a_summary(capsys):
    code, out, _ = run(capsys, "gradcheck", "add", "sigmoid", "matmul", "--seed", "2")
    assert code == 0
    n = sum(len(cli_ops.CATALOG[op]) for op in ("add", "sigmoid", "matmul"))
    lines = [line for line in out.splitlines() if line.startswith("PASS")]
    assert len(lines) == n
    assert any("(2, 1, 3) + (4, 1)" in line for line in lines)  # a broadcasting pair
    assert all("1st max rel err" in line and "2nd max rel err" in line for line in lines)
    assert f"all {n} cases passed" in out and "summary:" in out


def test_gradcheck_unknown_op_is_a_usage_error_listing_the_known_ops(capsys):
    code, text = usage_error(capsys, "gradcheck", "add", "frobnicate")
    assert code == 2
    assert "unknown op(s) frobnicate" in text and "sigmoid" in text and "matmul" in text


def test_gradcheck_bad_dtype_is_a_usage_error(capsys):
    code, text = usage_error(capsys, "gradcheck", "--dtype", "float16")
    assert code == 2 and "float16" in text


class WrongSigmoid(ag.Function):
    """σ with a backward that is 0.1% off."""

    @staticmethod
    def forward(ctx, x):
        out = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return g * s * (1 - s) * 1.001


def test_gradcheck_exits_1_and_reports_a_wrong_backward(capsys, monkeypatch):
    case = cli_ops.OpCase("wrong_sigmoid", "(2, 3)", WrongSigmoid.apply, ((2, 3),),
                          (cli_ops.STD,))
    monkeypatch.setitem(cli_ops.CATALOG, "wrong_sigmoid", [case])
    code, out, _ = run(capsys, "gradcheck", "wrong_sigmoid", "exp")
    assert code == 1
    assert "FAIL  wrong_sigmoid" in out and "1 of 5 cases FAILED" in out
    assert "gradcheck FAILED" in out and "worst at" in out


def test_gradcheck_list(capsys):
    code, out, _ = run(capsys, "gradcheck", "--list", "where", "getitem")
    assert code == 0
    assert out.startswith("where: where(cond, (2, 3), (2, 3))") and "getitem: (2, 3, 4)[1]" in out


def test_gradcheck_float32_and_fast_mode(capsys):
    code, out, _ = run(capsys, "gradcheck", "tanh", "--dtype", "float32", "--fast")
    assert code == 0 and "float64 copies" in out and "fast mode" in out


def test_catalog_covers_every_primitive_of_the_op_package():
    names = {op.primitive.name for op in registry.OPS.values() if op.primitive is not None}
    assert len(names) > 30
    internal = {"index_add", "exclusive_prod"}  # helpers of getitem's and prod's backward
    assert names - internal <= set(cli_ops.CATALOG)


# ---- seeds and eps-sweep ------------------------------------------------------------------------
def test_seeds_on_one_network(capsys):
    code, out, _ = run(capsys, "seeds", "r3")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("R3 "))
    assert "1000" in row and "0.0e+00" in row and "predicted score" in row
    assert not any(line.startswith(("R1", "R2", "R4", "R5")) for line in out.splitlines())


def test_seeds_unknown_network_is_a_usage_error(capsys):
    code, text = usage_error(capsys, "seeds", "R9")
    assert code == 2 and "unknown reference network 'R9'" in text


def test_eps_sweep_prints_the_v_curve_and_saves_the_plot(capsys, tmp_path):
    plot = tmp_path / "eps.png"
    args = ["eps-sweep", "tanh", "--case", "2"] + (["--plot", str(plot)] if HAVE_MPL else [])
    code, out, _ = run(capsys, *args)
    assert code == 0 and "<- best" in out and "(2, 3)" in out
    errors = [float(line.split()[1]) for line in out.splitlines() if line[:3] in ("1e-", "1e+")]
    assert len(errors) == 12 and min(errors) < 1e-8 and errors[0] > 1e-5 and errors[-1] > 1e-8
    if HAVE_MPL:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eps_sweep_plot_without_matplotlib_prints_the_table_and_exits_1(capsys, tmp_path,
                                                                       monkeypatch):
    for name in ("matplotlib", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)
    code, out, err = run(capsys, "eps-sweep", "exp", "--plot", str(tmp_path / "e.png"))
    assert code == 1 and "<- best" in out and "needs matplotlib" in err
    assert not (tmp_path / "e.png").exists()


def test_eps_sweep_unknown_op_and_case(capsys):
    assert usage_error(capsys, "eps-sweep", "nope")[0] == 2
    code, text = usage_error(capsys, "eps-sweep", "tanh", "--case", "99")
    assert code == 2 and "tanh has cases 0..3" in text


# ---- help ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [[], ["demo"], ["gradcheck"], ["seeds"], ["eps-sweep"]])
def test_help_everywhere(capsys, command):
    code, text = usage_error(capsys, *command, "--help")
    assert code == 0 and "examples:" in text and "usage: autograd-nn" in text


def test_no_command_is_a_usage_error(capsys):
    assert usage_error(capsys)[0] == 2


def test_python_dash_m_help():
    done = subprocess.run([sys.executable, "-m", "autograd_nn", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    for command in ("demo", "gradcheck", "seeds", "eps-sweep"):
        assert command in done.stdout
