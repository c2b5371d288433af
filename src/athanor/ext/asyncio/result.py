"""Awaitable results: ``AsyncResult`` and its scalar and mapping views.

Each wraps a synchronous result from the engine; methods that may fetch from the database
(a server-side cursor behind ``AsyncConnection.stream()``) run through the greenlet bridge,
so the sync result's logic (uniqueness, filtering, partitions) is used unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Generic, Self, TypeAlias, TypeVar, overload

from athanor.engine.row import Row, RowMapping
from athanor.util.concurrency import greenlet_spawn
from athanor.util.typevars import TP, T

_R = TypeVar("_R")
_T1 = TypeVar("_T1")

_NO_ROW = object()


def _next_or_marker(iterator: Any) -> Any:
    return next(iterator, _NO_ROW)


class _AsyncCommon(Generic[_R]):
    """What every async result view shares: the wrapped sync result and the fetch methods."""

    __slots__ = ("_iterator", "_real_result")

    def __init__(self, real_result: Any) -> None:
        self._real_result = real_result
        self._iterator: Any = None

    async def all(self) -> list[_R]:
        """Every remaining row (or value); the result is closed afterwards."""
        rows: list[_R] = await greenlet_spawn(self._real_result.all)
        return rows

    async def fetchall(self) -> list[_R]:
        """Same as :meth:`all`."""
        rows: list[_R] = await greenlet_spawn(self._real_result.fetchall)
        return rows

    async def fetchmany(self, size: int | None = None) -> list[_R]:
        """Up to ``size`` further rows (the result's default size when omitted)."""
        if size is None:
            rows: list[_R] = await greenlet_spawn(self._real_result.fetchmany)
        else:
            rows = await greenlet_spawn(self._real_result.fetchmany, size)
        return rows

    async def first(self) -> _R | None:
        """The first row (or value) or None; the result is closed afterwards."""
        item: _R | None = await greenlet_spawn(self._real_result.first)
        return item

    async def one(self) -> _R:
        """Exactly one row, else ``NoResultFound`` / ``MultipleResultsFound``."""
        item: _R = await greenlet_spawn(self._real_result.one)
        return item

    async def one_or_none(self) -> _R | None:
        """One row or None; ``MultipleResultsFound`` if there are more."""
        item: _R | None = await greenlet_spawn(self._real_result.one_or_none)
        return item

    async def partitions(self, size: int | None = None) -> AsyncIterator[Sequence[_R]]:
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

    def __aiter__(self) -> AsyncIterator[_R]:
        return self

    async def __anext__(self) -> _R:
        iterator = self._iterator
        if iterator is None:
            iterator = self._iterator = iter(self._real_result)
        row: _R = await greenlet_spawn(_next_or_marker, iterator)
        if row is _NO_ROW:
            raise StopAsyncIteration
        return row


class AsyncResult(_AsyncCommon[Row[TP]], Generic[TP]):
    """An awaitable :class:`~athanor.engine.result.Result` (from ``AsyncConnection.stream``);
    ``AsyncResult[tuple[int, str]]`` for type checkers, like ``Result``."""

    __slots__ = ()

    def keys(self) -> Any:
        """The column names."""
        return self._real_result.keys()

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> Self:
        """Drop duplicate rows (by ``strategy(row)`` when given)."""
        self._real_result = self._real_result.unique(strategy)
        return self

    def columns(self, *col_expressions: Any) -> AsyncResult[Any]:
        """Keep only the given columns, by name, index or column object."""
        return AsyncResult(self._real_result.columns(*col_expressions))

    def yield_per(self, num: int) -> Self:
        """Fetch ``num`` rows per round trip."""
        self._real_result = self._real_result.yield_per(num)
        return self

    @overload
    def scalars(
        self: AsyncResult[tuple[_T1, *tuple[Any, ...]]],
    ) -> AsyncScalarResult[_T1]: ...
    @overload
    def scalars(self, index: int | str) -> AsyncScalarResult[Any]: ...
    def scalars(self, index: int | str = 0) -> AsyncScalarResult[Any]:
        """A view yielding the values of one column."""
        return AsyncScalarResult(self._real_result.scalars(index))

    def mappings(self) -> AsyncMappingResult:
        """A view yielding dict-like rows."""
        return AsyncMappingResult(self._real_result.mappings())

    def tuples(self) -> Self:
        """The same result, typed as plain tuples."""
        return self

    @property
    def t(self) -> Self:
        """Same as :meth:`tuples`."""
        return self

    async def fetchone(self) -> Row[TP] | None:
        """The next row or None."""
        row: Row[TP] | None = await greenlet_spawn(self._real_result.fetchone)
        return row

    @overload
    async def scalar(self: AsyncResult[tuple[_T1, *tuple[Any, ...]]]) -> _T1 | None: ...
    @overload
    async def scalar(self) -> Any: ...
    async def scalar(self) -> Any:
        """The first column of the first row, or None; the result is closed afterwards."""
        return await greenlet_spawn(self._real_result.scalar)

    @overload
    async def scalar_one(self: AsyncResult[tuple[_T1, *tuple[Any, ...]]]) -> _T1: ...
    @overload
    async def scalar_one(self) -> Any: ...
    async def scalar_one(self) -> Any:
        """The first column of exactly one row."""
        return await greenlet_spawn(self._real_result.scalar_one)

    @overload
    async def scalar_one_or_none(
        self: AsyncResult[tuple[_T1, *tuple[Any, ...]]],
    ) -> _T1 | None: ...
    @overload
    async def scalar_one_or_none(self) -> Any: ...
    async def scalar_one_or_none(self) -> Any:
        """The first column of one row, or None."""
        return await greenlet_spawn(self._real_result.scalar_one_or_none)

    async def freeze(self) -> Any:
        """A :class:`FrozenResult` holding every remaining row, replayable without I/O."""
        return await greenlet_spawn(self._real_result.freeze)


AsyncTupleResult: TypeAlias = AsyncResult
"""The name type hints use for an async result of plain tuples: an AsyncResult."""


class AsyncScalarResult(_AsyncCommon[T]):
    """Values of one column of an :class:`AsyncResult`."""

    __slots__ = ()

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> Self:
        """Drop duplicate values."""
        self._real_result = self._real_result.unique(strategy)
        return self

    def yield_per(self, num: int) -> Self:
        """Fetch ``num`` rows per round trip."""
        self._real_result = self._real_result.yield_per(num)
        return self


class AsyncMappingResult(_AsyncCommon[RowMapping]):
    """Dict-like rows of an :class:`AsyncResult`."""

    __slots__ = ()

    def keys(self) -> Any:
        """The column names."""
        return self._real_result.keys()

    def unique(self, strategy: Callable[[Any], Any] | None = None) -> Self:
        """Drop duplicate rows."""
        self._real_result = self._real_result.unique(strategy)
        return self

    def columns(self, *col_expressions: Any) -> AsyncMappingResult:
        """Keep only the given columns."""
        return AsyncMappingResult(self._real_result.columns(*col_expressions))

    def yield_per(self, num: int) -> Self:
        """Fetch ``num`` rows per round trip."""
        self._real_result = self._real_result.yield_per(num)
        return self

    async def fetchone(self) -> RowMapping | None:
        """The next row mapping or None."""
        row: RowMapping | None = await greenlet_spawn(self._real_result.fetchone)
        return row
