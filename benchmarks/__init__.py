"""Benchmarks for autograd_nn: workloads, each written three ways (the engine, hand-written numpy
backprop as the baseline, PyTorch when importable), and the runner that checks, times and compares
them (``python -m benchmarks --help``).

Nothing here is imported by the package or by its tests except the smoke test.
"""
