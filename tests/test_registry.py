"""The op registry: everything an op needs is derived from its one registration."""

import ast
from pathlib import Path

import numpy as np

import autograd_nn as ag
from autograd_nn import nn, registry
from autograd_nn.cli import catalog

PACKAGE = Path(ag.__file__).parent


def test_tensor_methods_file_is_generated_from_the_registry():
    assert nn  # the layers' registrations too
    text = (PACKAGE / "tensor_methods.py").read_text()
    assert text == registry.method_source(), "run: python -m autograd_nn.ops"


def test_backward_namespaces_have_the_same_names():
    assert vars(registry.PLAIN).keys() == vars(registry.RECORDED).keys()
    names = {"exp", "where", "sum", "matmul", "broadcast_to", "index_add"}
    assert names <= vars(registry.PLAIN).keys()


def test_every_public_op_is_a_top_level_function_and_has_its_methods():
    for op in registry.OPS.values():
        if op.public:
            assert getattr(ag, op.name) is op.function, op.name
        for method, impl in op.methods:
            assert getattr(ag.Tensor, method) is impl, method


def test_numpy_routes_reach_the_registered_function():
    x = ag.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for numpy_fn, expected in [(np.exp, "exp"), (np.sum, "sum"), (np.transpose, "transpose")]:
        assert numpy_fn in registry.numpy_routes()
        assert numpy_fn(x).grad_fn.name == expected


def test_numpy_arguments_are_matched_by_name_not_position():
    x = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = np.sum(x, 0, None, None, True)  # numpy's order: axis, dtype, out, keepdims
    assert y.shape == (1, 3)
    v = np.var(x, 1, None, None, 1)  # ddof=1 by position
    assert np.allclose(v.data, np.var(x.data, 1, ddof=1))


def test_a_registered_function_gets_its_cli_cases_by_default():
    assert [c.label for c in catalog.CATALOG["exp"]] == ["()", "(5,)", "(2, 3)", "(2, 1, 3)"]
    assert catalog.KIND["var"] == "composite" and catalog.KIND["exp"] == "primitive"


def _module_level_imports(path: Path) -> set[str]:
    """The autograd_nn modules a file imports at module level (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            mod = f"{base}.{node.module}" if node.module else base
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
    return found


def test_imports_flow_one_way():
    """The node contract imports no Tensor and nothing above it; the ops import no tensor or
    engine; the tensor imports no engine."""
    above = {
        "mode.py": {"function", "tensor", "passes", "engine", "ops", "autograd"},
        "registry.py": {"function", "tensor", "passes", "engine", "ops", "autograd"},
        "function.py": {"tensor", "passes", "engine", "ops", "autograd", "transforms"},
        "tensor.py": {"passes", "engine", "autograd", "transforms", "nn"},
        "tensor_inplace.py": {"tensor", "passes", "engine", "autograd", "transforms", "nn"},
        "passes.py": {"engine", "autograd", "transforms", "nn"},
        "engine.py": {"autograd", "transforms", "nn"},
    }
    for f in ["arithmetic.py", "elementwise.py", "reduce.py", "shape.py", "interop.py"]:
        above[f"ops/{f}"] = {"tensor", "passes", "engine", "autograd", "transforms", "nn"}
    for name, forbidden in above.items():
        imported = _module_level_imports(PACKAGE / name)
        bad = {m for m in imported for f in forbidden if m == f"autograd_nn.{f}"}
        assert not bad, f"{name} imports {bad}"
