"""Pausing the cyclic garbage collector while many long-lived objects are built at once."""

from __future__ import annotations

import gc
from types import TracebackType


class gc_paused:  # noqa: N801 - used like a function: ``with gc_paused():``
    """Run a ``with`` block with the cyclic garbage collector off (as before, afterwards).

    Building many objects that outlive the block (fetched rows, loaded or inserted ORM
    objects) would otherwise trigger several full collections over a growing heap, often
    most of the block's cost; reference counting still frees everything as usual.  A block
    that made many objects hands them straight to the oldest generation (see
    :func:`_promote_young`), so that turning the collector back on does not start with a
    collection over all of them.
    """

    __slots__ = ("_was_enabled",)

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        if self._was_enabled:
            gc.disable()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._was_enabled:
            if gc.get_count()[0] >= _PROMOTE_AT:
                _promote_young()
            gc.enable()


_PROMOTE_AT = 10_000
"""The net new tracked objects from which a paused block promotes them (the collector's own
first threshold is some hundreds: below this, the collection it starts is cheap)."""


def _promote_young() -> None:
    """Move every object the collector tracks to its oldest generation and reset its
    allocation counts, without looking at any object (two list splices).

    The objects a paused block made would otherwise be gone through by the young
    collection its first allocation after the block starts, then by the middle one, only
    to reach the oldest generation anyway; a cycle among them is found by the next full
    collection instead.  Skipped while the application keeps objects frozen (``gc.freeze``),
    which this would let go of.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
