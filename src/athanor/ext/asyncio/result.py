"""Awaitable results: ``AsyncResult`` and its scalar and mapping views.

Each wraps a synchronous result from the engine; methods that may fetch from the database
(a server-side cursor behind ``AsyncConnection.stream()``) run through the greenlet bridge,
so the sync result's logic (uniqueness, filtering, partitions) is used unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from athanor.util.concurrency import greenlet_spawn

_NO_ROW = object()


def _next_or_marker(iterator: Any) -> Any:
    return next(iterator, _NO_ROW)


class _AsyncCommon:
    """What every async result view shares: the wrapped sync result and the fetch methods."""

    __slots__ = ("_iterator", "_real_result")

    def __init__(self, real_result: Any) -> None:
        self._real_result = real_result
        self._iterator: Any = None

    async def all(self) -> list[Any]:
        """Every remaining row (or value); the result is closed afterwards."""
        rows: list[Any] = await greenlet_spawn(self._real_result.all)
        return rows

    async def fetchall(self) -> list[Any]:
        """Same as :meth:`all`."""
        rows: list[Any] = await greenlet_spawn(self._real_result.fetchall)
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to ``size`` further rows (the result's default size when omitted)."""
        if size is None:
            rows: list[Any] = await greenlet_spawn(self._real_result.fetchmany)
        else:
            rows = await greenlet_spawn(self._real_result.fetchmany, size)
        return rows

    async def first(self) -> Any:
        """The first row (or value) or None; the result is closed afterwards."""
        return await greenlet_spawn(self._real_result.first)

    async def one(self) -> Any:
        """Exactly one row, else ``NoResultFound`` / ``MultipleResultsFound``."""
        return await greenlet_spawn(self._real_result.one)

    async def one_or_none(self) -> Any:
        """One row or None; ``MultipleResultsFound`` if there are more."""
        return await greenlet_spawn(self._real_result.one_or_none)

    async def partitions(self, size: int | None = None) -> AsyncIterator[Sequence[Any]]:
        """Yield lists of up to ``size`` rows until the result is exhausted."""
        while True:
            partition = await self.fetchmany(size)
            if not partition:
                return
            yield partition

    async def close(self) -> None:
        """Release the cursor (and a server-side cursor's portal)."""
        await greenlet_spawn(self._real_result.close)

    @property
    def closed(self) -> bool:
        """True once the result was exhausted or closed."""
        return bool(self._real_result.closed)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        iterator = self._iterator
        if iterator is None:
            iterator = self._iterator = iter(self._real_result)
        row = await greenlet_spawn(_next_or_marker, iterator)
        if row is _NO_ROW:
            raise StopAsyncIteration
        return row


class AsyncResult(_AsyncCommon):
    """An awaitable :class:`~athanor.engine.result.Result` (from ``AsyncConnection.stream``)."""

    __slots__ = ()

    def keys(self) -> Any:
        """The column names."""
        return self._real_result.keys()

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> AsyncResult:
        """Drop duplicate rows (by ``strategy(row)`` when given)."""
        self._real_result = self._real_result.unique(strategy)
        return self

    def columns(self, *col_expressions: Any) -> AsyncResult:
        """Keep only the given columns, by name, index or column object."""
        return AsyncResult(self._real_result.columns(*col_expressions))

    def yield_per(self, num: int) -> AsyncResult:
        """Fetch ``num`` rows per round trip."""
        self._real_result = self._real_result.yield_per(num)
        return self

    def scalars(self, index: int | str = 0) -> AsyncScalarResult:
        """A view yielding the values of one column."""
        return AsyncScalarResult(self._real_result.scalars(index))

    def mappings(self) -> AsyncMappingResult:
        """A view yielding dict-like rows."""
        return AsyncMappingResult(self._real_result.mappings())

    def tuples(self) -> AsyncResult:
        """The same result, typed as plain tuples."""
        return self

    @property
    def t(self) -> AsyncResult:
        """Same as :meth:`tuples`."""
        return self

    async def fetchone(self) -> Any:
        """The next row or None."""
        return await greenlet_spawn(self._real_result.fetchone)

    async def scalar(self) -> Any:
        """The first column of the first row, or None; the result is closed afterwards."""
        return await greenlet_spawn(self._real_result.scalar)

    async def scalar_one(self) -> Any:
        """The first column of exactly one row."""
        return await greenlet_spawn(self._real_result.scalar_one)

    async def scalar_one_or_none(self) -> Any:
        """The first column of one row, or None."""
        return await greenlet_spawn(self._real_result.scalar_one_or_none)

    async def freeze(self) -> Any:
        """A :class:`FrozenResult` holding every remaining row, replayable without I/O."""
        return await greenlet_spawn(self._real_result.freeze)


class AsyncScalarResult(_AsyncCommon):
    """Values of one column of an :class:`AsyncResult`."""

    __slots__ = ()

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> AsyncScalarResult:
        """Drop duplicate values."""
        self._real_result = self._real_result.unique(strategy)
        return self

    def yield_per(self, num: int) -> AsyncScalarResult:
        """Fetch ``num`` rows per round trip."""
        self._real_result = self._real_result.yield_per(num)
        return self


class AsyncMappingResult(_AsyncCommon):
    """Dict-like rows of an :class:`AsyncResult`."""

    __slots__ = ()

    def keys(self) -> Any:
        """The column names."""
        return self._real_result.keys()

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> AsyncMappingResult:
        """Drop duplicate rows."""
        self._real_result = self._real_result.unique(strategy)
        return self

    def columns(self, *col_expressions: Any) -> AsyncMappingResult:
        """Keep only the given columns."""
        return AsyncMappingResult(self._real_result.columns(*col_expressions))

    def yield_per(self, num: int) -> AsyncMappingResult:
        """Fetch ``num`` rows per round trip."""
        self._real_result = self._real_result.yield_per(num)
        return self

    async def fetchone(self) -> Any:
        """The next row mapping or None."""
        return await greenlet_spawn(self._real_result.fetchone)
