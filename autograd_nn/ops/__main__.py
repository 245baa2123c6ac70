"""``python -m autograd_nn.ops``: write tensor_methods.py from the op registry (run it after
registering an op with Tensor methods or operators; tests/test_registry.py checks it is done)."""

from pathlib import Path

from .. import nn, registry

assert nn  # every registration, the layers' included
target = Path(registry.__file__).with_name("tensor_methods.py")
target.write_text(registry.method_source())
print(f"wrote {target}")
