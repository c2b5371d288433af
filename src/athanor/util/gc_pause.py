"""Pausing the cyclic garbage collector while many long-lived objects are built at once."""

from __future__ import annotations

import gc
from types import TracebackType


class gc_paused:  # noqa: N801 - used like a function: ``with gc_paused():``
    """Run a ``with`` block with the cyclic garbage collector off (as before, afterwards).

    Building many objects that outlive the block (fetched rows, loaded or inserted ORM
    objects) would otherwise trigger several full collections over a growing heap, often
    most of the block's cost; reference counting still frees everything as usual.
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
            gc.enable()
