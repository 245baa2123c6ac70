"""The notebooks under docs/notebooks/ run top to bottom in a real Jupyter kernel (nbclient),
fail on any error, and show their graphs as SVG. Stored without outputs."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))
# notebook -> how many cells must display a graph as image/svg+xml
GRAPHS = {"first_gradient_check": 1, "r1_three_layer_sigmoid": 1, "r2_two_layer_xor": 1,
          "r3_study_sleep_score": 1, "r4_neurons_with_biases": 1, "r5_iris_no_biases": 1,
          "mlp_to_cnn": 1}


def mime_types(cell):
    return {m for out in cell.get("outputs", []) for m in out.get("data", {})}


def execute(path, cwd):
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.km = client.create_kernel_manager()
    client.start_new_kernel(env=env)  # the kernel imports this checkout's autograd_nn
    client.start_new_kernel_client()
    try:
        client.execute(cleanup_kc=False)
    finally:
        client._cleanup_kernel()
    return nb


def test_every_notebook_is_listed():
    assert sorted(p.stem for p in NOTEBOOKS) == sorted(GRAPHS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_shows_graphs_as_svg(path, tmp_path):
    nb = execute(path, tmp_path)  # raises CellExecutionError on the first failing cell
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    svg_cells = [c for c in nb.cells if "image/svg+xml" in mime_types(c)]
    assert len(svg_cells) >= GRAPHS[path.stem]
    for cell in svg_cells:
        svg = next(o["data"]["image/svg+xml"] for o in cell.outputs
                   if "image/svg+xml" in o.get("data", {}))
        assert "<svg" in svg and "</svg>" in svg


INTEGRATION = {
    "fit": """import autograd_nn as ag
from autograd_nn import nn, optim
X, y = ag.datasets.make_moons(64, noise=0.1, rng=0)
model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 2, rng=1))
history = ag.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y),
                 epochs=3, rng=0)""",
    "plot": "ag.plot_history(history)",
    "print_graph": """x = ag.Tensor([1.0, 2.0], requires_grad=True, name="x")
total = (x * 3.0).sum()
total.name = "total"
ag.print_graph(total)""",
}


@pytest.fixture(scope="module")
def integration_cells(tmp_path_factory):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in INTEGRATION.values()]
    path = tmp_path_factory.mktemp("nb") / "integration.ipynb"
    nbformat.write(nb, path)
    return dict(zip(INTEGRATION, execute(path, path.parent).cells))


def test_fit_progress_is_the_notebook_widget(integration_cells):
    assert "application/vnd.jupyter.widget-view+json" in mime_types(integration_cells["fit"])


def test_plot_history_draws_inline_once(integration_cells):
    outputs = integration_cells["plot"].outputs
    assert len(outputs) == 1 and outputs[0]["data"]["image/png"]


def _print_graph_returns_text():
    import inspect

    from autograd_nn.viz import print_graph
    return inspect.signature(print_graph).return_annotation in (str, "str")


@pytest.mark.xfail(_print_graph_returns_text(), strict=True,
                   reason="print_graph returns its text, so Jupyter shows the tree a second "
                          "time as the cell's value (the viz work makes it return None)")
def test_print_graph_shows_the_tree_once(integration_cells):
    outputs = integration_cells["print_graph"].outputs
    shown = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs)
    assert shown.count("total") == 1, shown
