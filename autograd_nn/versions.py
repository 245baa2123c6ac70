"""Version counters: how the engine notices that an array saved for backward changed in place.

Every in-place change made through the API (``x += 1`` under ``no_grad``, ``x[0] = 2``, an
optimizer step) bumps the tensor's `VersionCounter`, which views of the same data share, and
ticks the process-wide `MUTATIONS` clock. A node remembers the clock when it is recorded; the
engine compares its saved arrays' counters only when the clock has moved since.
"""

from __future__ import annotations


class MutationClock:
    """Counts the in-place changes made through the API (any tensor, any thread); only
    `VersionCounter.bump` moves it."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0


MUTATIONS = MutationClock()


class VersionCounter:
    """How many times a tensor's data was changed in place, and the clock at the last change.

    Shared by a tensor and the views of its data (``detach()``, ``reshape``, ``x[1:]``)."""

    __slots__ = ("version", "changed_at")

    def __init__(self) -> None:
        self.version = 0
        self.changed_at = 0

    def bump(self) -> None:
        """One more in-place change: count it here and on the clock."""
        self.version += 1
        MUTATIONS.now += 1
        self.changed_at = MUTATIONS.now
