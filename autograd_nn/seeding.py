"""Where random numbers come from: one seeding story for the whole package.

Everything random in autograd_nn (``nn.init``, ``Linear``'s default initialisation,
``Dropout``, ``BatchIterator`` shuffling, ``train_test_split``, ``make_moons``, ``randn``...)
takes ``rng=``: an int seed (a fresh ``np.random.default_rng(seed)``) or a
``np.random.Generator`` (used as is, so one generator can serve many calls).

Without ``rng`` it draws from **numpy's global generator**, the one ``np.random.seed`` seeds. So
the first line of every tutorial, ``np.random.seed(1)``, makes the rest of the script
reproducible, and `manual_seed` is the same call under PyTorch's name. There is one global
stream, shared with ``np.random.*``: the draws autograd_nn takes advance it, as any other
``np.random`` call does. Unseeded, numpy's global generator starts from fresh entropy (numbers
differ from run to run).

The values are those of ``np.random.Generator`` methods on numpy's global bit generator, not of
the legacy functions: ``np.random.seed(1); nn.init.normal_(w)`` does not give
``np.random.randn(...)``'s numbers. Recipes written as ``W = np.random.randn(3, 4)`` are
reproduced bit for bit with `autograd_nn.nn.init.fill_from_numpy_global`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .types import RngLike


def manual_seed(seed: int) -> None:
    """Seed the generator autograd_nn draws from when no ``rng`` is given.

    That generator is numpy's global one, so this is ``np.random.seed(seed)``: afterwards
    ``nn.Linear(3, 4)`` (and ``np.random.rand()``) give the same numbers on every run.
    ``seed`` is an int in [0, 2**32).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"manual_seed: seed must be in [0, 2**32), got {seed}")
    np.random.seed(int(seed))


def default_generator() -> np.random.Generator:
    """A ``np.random.Generator`` drawing from numpy's global stream (the one
    ``np.random.seed`` / `manual_seed` seed): what ``rng=None`` means everywhere."""
    return np.random.Generator(np.random.get_bit_generator())  # type: ignore[attr-defined]


def as_generator(rng: RngLike | None) -> np.random.Generator:
    """A numpy Generator from a seed (int: a fresh ``default_rng(seed)``), a Generator (used as
    is) or None (`default_generator`, numpy's global stream)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return default_generator()
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy Generator or None, got {type(rng).__name__}")
