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
          "r3_study_sleep_score": 1, "r4_neurons_with_biases": 1, "r5_iris_no_biases": 1}


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
