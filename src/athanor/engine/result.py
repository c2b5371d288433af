"""Results of executing a statement: :class:`Result`, :class:`CursorResult` and their views.

A result reads raw driver tuples from a *source* (a DBAPI cursor, any iterator, or a
producer of chunks) and turns them into items through a short pipeline of C-level callables
applied with ``map``: the :class:`~athanor.engine.row.Row` class (when no column needs type
conversion this is the only step, so rows are built without a Python-level loop per column),
a column picker for :meth:`Result.columns`, ``itemgetter`` for :meth:`Result.scalars`,
:class:`~athanor.engine.row.RowMapping` for :meth:`Result.mappings`.

A result and the views made from it (``scalars()``, ``mappings()``, ``columns()``) share one
source, so fetching from any of them advances all of them and closing one closes all.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice
from operator import attrgetter, itemgetter, length_hint
from typing import Any, Final, Generic, NoReturn, Self, TypeAlias, TypeVar, overload

from athanor import exc
from athanor.engine.row import (
    AMBIGUOUS,
    RMKeyView,
    Row,
    RowMapping,
    ambiguous_column_error,
    no_such_column_error,
    row_class,
)
from athanor.sql.compiler import database_generates
from athanor.sql.elements import BindParameter
from athanor.util.gc_pause import gc_paused
from athanor.util.typevars import TP, T

__all__ = [
    "ChunkedIteratorResult",
    "CursorResult",
    "FrozenResult",
    "MappingResult",
    "Result",
    "ResultMetaData",
    "ScalarResult",
    "TupleResult",
]

RawRow = Sequence[Any]
Processor = Callable[[Any], Any]

_CHUNK_SIZE: Final = 2000
"""Rows fetched per driver call when iterating or fetching everything (unless yield_per)."""

_OPEN: Final = 0
_EXHAUSTED: Final = 1
_CLOSED: Final = 2

_GC_PAUSE_ROWS: Final = 100
"""Converting more rows than this at once pauses the cyclic GC (fewer allocate too little for
a collection to matter, and pausing costs more than converting one row)."""

_NO_BATCH: Final[list[Any]] = []
"""The (always empty) batch of a source that has not fetched a batch yet."""
_NO_PENDING: Final[Iterator[Any]] = iter(())

_NO_ITEM: Final = object()
"""Returned by :meth:`_ResultBase._next_item` when there are no more rows."""


def _closed_error() -> exc.ResourceClosedError:
    return exc.ResourceClosedError("This result is closed; no more rows can be fetched from it")


def _no_rows_error() -> exc.ResourceClosedError:
    return exc.ResourceClosedError(
        "This result does not return rows (the statement produced none, e.g. an UPDATE "
        "without RETURNING); it was closed as soon as it was created"
    )


class ResultMetaData:
    """The shape of a result: column keys, key objects, type processors and the Row class.

    Building one costs a few microseconds; an engine can build it once per compiled statement
    and pass it to :class:`CursorResult` as ``metadata=`` to skip even that.  Equal shapes
    share one :class:`~athanor.engine.row.Row` subclass (see
    :func:`~athanor.engine.row.row_class`).
    """

    __slots__ = ("by_shape", "key_objects", "keys", "make_row", "processors", "row_class")

    keys: tuple[str, ...]
    key_objects: tuple[tuple[object, ...], ...]
    processors: tuple[Processor | None, ...] | None
    """One converter (or None) per column; None overall when no column needs converting."""
    row_class: type[Row]
    make_row: Callable[[RawRow], Row]
    """Raw driver tuple -> Row, applying the processors."""

    def __init__(
        self,
        keys: Sequence[str],
        processors: Sequence[Processor | None] | None = None,
        key_objects: Sequence[Sequence[object]] | None = None,
        by_shape: bool = True,
    ) -> None:
        self.keys = tuple(keys)
        self.key_objects = tuple(tuple(objs) for objs in key_objects) if key_objects else ()
        self.by_shape = by_shape
        self.row_class = row_class(self.keys, self.key_objects, by_shape)
        if processors is not None and any(p is not None for p in processors):
            self.processors = tuple(processors)
            self.make_row = _processing_row_maker(self.row_class, self.processors)
        else:
            self.processors = None
            self.make_row = self.row_class

    def index_for(self, key: object) -> int:
        """The position of the column named by ``key`` (position, key string or key object)."""
        if isinstance(key, int):
            if -len(self.keys) <= key < len(self.keys):
                return key % len(self.keys)
            raise IndexError(f"Column index {key} out of range for {len(self.keys)} columns")
        keymap = self.row_class._keymap
        if key not in keymap:
            raise no_such_column_error(key)
        index = keymap[key]
        if index is AMBIGUOUS:
            raise ambiguous_column_error(key)
        return index

    def processor(self, index: int) -> Processor | None:
        """The converter of column ``index``, or None."""
        return None if self.processors is None else self.processors[index]

    def reduced(self, indexes: Sequence[int]) -> ResultMetaData:
        """The shape of the columns at ``indexes`` only, in that order."""
        return ResultMetaData(
            [self.keys[i] for i in indexes],
            None if self.processors is None else [self.processors[i] for i in indexes],
            [self.key_objects[i] for i in indexes] if self.key_objects else None,
            self.by_shape,
        )

    def rekeyed(self, keys: Sequence[str]) -> ResultMetaData:
        """The same columns under other keys."""
        return ResultMetaData(keys, self.processors, self.key_objects, self.by_shape)

    def without_processors(self) -> ResultMetaData:
        """The same shape for rows whose values are already converted."""
        if self.processors is None:
            return self
        return ResultMetaData(self.keys, None, self.key_objects, self.by_shape)

    def key_view(self) -> RMKeyView:
        """The keys as a set-like view that also answers ``column in keys``."""
        return RMKeyView(self.keys, self.row_class._keymap)


def _processing_row_maker(
    cls: type[Row], processors: Sequence[Processor | None]
) -> Callable[[RawRow], Row]:
    converted = tuple((i, p) for i, p in enumerate(processors) if p is not None)

    def make_row(raw: RawRow) -> Row:
        values = list(raw)
        for index, process in converted:
            values[index] = process(values[index])
        return cls(values)

    return make_row


def _tuple_getter(indexes: Sequence[int]) -> Callable[[RawRow], tuple[Any, ...]]:
    """A callable picking ``indexes`` out of a raw row, always returning a tuple."""
    if len(indexes) == 1:
        (index,) = indexes

        def pick_one(raw: RawRow) -> tuple[Any, ...]:
            return (raw[index],)

        return pick_one
    return itemgetter(*indexes)


# --- sources: where raw rows come from ---------------------------------------------------


class _RowSource:
    """The raw rows behind a result and its views, with the open/exhausted/closed state.

    Rows fetched in a batch but not yet handed out wait in ``pending`` (an iterator over
    ``batch``); every way of fetching takes from it first, so iteration, ``fetchone`` and
    ``fetchmany`` can be mixed freely.  Subclasses implement :meth:`_fetch`.
    """

    __slots__ = (
        "_on_close",
        "_row_logger",
        "batch",
        "origin",
        "pending",
        "state",
        "uniquing",
        "yield_per",
    )

    def __init__(
        self,
        origin: Any,
        on_close: Callable[[], object] | None,
        row_logger: Callable[[Any], object] | None,
        yield_per: int | None,
    ) -> None:
        self.origin = origin
        """The cursor, iterator or chunk producer the rows come from."""
        self.batch: list[RawRow] = _NO_BATCH
        self.pending: Iterator[RawRow] = _NO_PENDING
        self.state = _OPEN
        self.yield_per = yield_per
        self.uniquing = False
        """Whether ``unique()`` was called on the result or a view of it."""
        self._on_close = on_close
        self._row_logger = row_logger

    def _fetch(self, size: int) -> Sequence[RawRow]:
        """Up to about ``size`` more rows (more is allowed); empty when there are no more."""
        raise NotImplementedError

    def default_size(self) -> int:
        """How many rows ``fetchmany()`` returns when no size is given."""
        return self.yield_per or sys.maxsize

    def _hold(self, rows: Sequence[RawRow]) -> None:
        self.batch = rows if isinstance(rows, list) else list(rows)
        self.pending = iter(self.batch)

    def _check_open(self) -> None:
        if self.state == _CLOSED:
            raise _closed_error()

    def _fresh(self, size: int) -> Sequence[RawRow]:
        rows = self._fetch(size)
        if not rows:
            self.exhaust()
        elif self._row_logger is not None:
            for row in rows:
                self._row_logger(row)
        return rows

    def one(self) -> RawRow | None:
        """The next raw row, or None when there are no more."""
        row = next(self.pending, None)
        if row is not None:
            return row
        if self.state != _OPEN:
            if self.state == _CLOSED:
                raise _closed_error()
            return None
        return self._next_fresh()

    def _next_fresh(self) -> RawRow | None:
        """The next row from the underlying source, fetched with a batch that is held back."""
        fresh = self._fresh(self.yield_per or _CHUNK_SIZE)
        if not fresh:
            return None
        self._hold(fresh)
        return next(self.pending)

    def many(self, size: int) -> list[RawRow]:
        """Up to ``size`` raw rows."""
        self._check_open()
        rows = list(islice(self.pending, size))
        while len(rows) < size and self.state == _OPEN:
            wanted = size - len(rows)
            fresh = self._fresh(max(wanted, self.yield_per or 0))
            if len(fresh) <= wanted:
                rows.extend(fresh)
            else:
                self._hold(fresh)
                rows.extend(islice(self.pending, wanted))
        return rows

    def chunk(self) -> Iterator[RawRow] | None:
        """An iterator over the next rows for iteration (shared, so positions stay exact)."""
        if length_hint(self.pending):
            return self.pending
        self._check_open()
        if self.state == _EXHAUSTED:
            return None
        fresh = self._fresh(self.yield_per or _CHUNK_SIZE)
        if not fresh:
            return None
        self._hold(fresh)
        return self.pending

    def rest(self) -> Iterator[Sequence[RawRow]]:
        """All remaining raw rows, in batches."""
        self._check_open()
        held = list(self.pending)
        if held:
            yield held
        size = self.yield_per or _CHUNK_SIZE
        while self.state == _OPEN:
            fresh = self._fresh(size)
            if fresh:
                yield fresh

    def next_batch(self) -> Sequence[RawRow]:
        """The next batch of :meth:`rest` (the rows held back, else one fetch); empty at the
        end.  A plain call rather than a generator, for consumers that convert each batch."""
        if length_hint(self.pending):
            return list(self.pending)
        if self.state != _OPEN:
            self._check_open()
            return ()
        return self._fresh(self.yield_per or _CHUNK_SIZE)

    def take_all(self) -> list[RawRow]:
        """Every remaining raw row, at once; the source is exhausted (released) afterwards."""
        held: list[RawRow] = []
        rows = self.next_batch()
        while rows:
            held += rows
            rows = self.next_batch()
        return held

    def buffer_all(self) -> None:
        """Fetch every remaining row now (held in ``pending``) and release the source, so
        that later fetches do no I/O.  The cyclic GC is paused meanwhile (see gc_paused)."""
        if self.state != _OPEN:
            return  # released already: what is left is held (or the source is closed)
        with gc_paused():
            self._hold(self.take_all())

    def exhaust(self) -> None:
        """All rows were read: release the source (``fetch*`` now return nothing)."""
        if self.state == _OPEN:
            self.state = _EXHAUSTED
        self._release()

    def close(self) -> None:
        """Discard unread rows and release the source; later fetches raise."""
        # A source that is no longer open was released when it stopped being so.
        released = self.state != _OPEN
        self.state = _CLOSED
        self.batch.clear()
        self.pending = _NO_PENDING
        if not released:
            self._release()

    def _release(self) -> None:
        on_close = self._on_close
        if on_close is not None:
            self._on_close = None
            on_close()


class _CursorSource(_RowSource):
    """Rows from a DBAPI cursor (client-side buffered, or server-side with ``fetchmany``)."""

    __slots__ = ()

    def _fetch(self, size: int) -> Sequence[RawRow]:
        rows: Sequence[RawRow] = self.origin.fetchmany(size)
        return rows

    def _next_fresh(self) -> RawRow | None:
        row: RawRow | None = self.origin.fetchone()
        if row is None:
            self.exhaust()
        elif self._row_logger is not None:
            self._row_logger(row)
        return row

    def default_size(self) -> int:
        return self.yield_per or int(getattr(self.origin, "arraysize", 1))

    def take_all(self) -> list[RawRow]:
        """One ``fetchall()`` rather than a loop of batches."""
        if length_hint(self.pending) or self.state != _OPEN:
            return super().take_all()
        rows: list[RawRow] = self.origin.fetchall()
        if self._row_logger is not None:
            for row in rows:
                self._row_logger(row)
        self.exhaust()
        return rows

    def next_batch(self) -> Sequence[RawRow]:
        """As for any source; a batch shorter than asked for is the last one, so the cursor
        is released with it rather than after one more (empty) fetch."""
        if length_hint(self.pending) or self.state != _OPEN:
            return super().next_batch()
        size = self.yield_per or _CHUNK_SIZE
        rows = self._fresh(size)
        if len(rows) < size and self.state == _OPEN:
            self.exhaust()
        return rows


class _FetchedSource(_RowSource):
    """Rows fetched all at once when the statement ran: held in ``pending`` from the start,
    with nothing left to release.  ``fetchmany()`` without a size still gives ``size`` rows
    (the cursor's ``arraysize``)."""

    __slots__ = ("_size",)

    def __init__(self, rows: Sequence[RawRow], size: int) -> None:
        # _RowSource.__init__ inlined: this runs once per statement.
        self.origin = None
        self.batch = rows if type(rows) is list else list(rows)  # (PyMySQL gives a tuple)
        self.pending = iter(rows)
        self.state = _EXHAUSTED
        self.yield_per = None
        self.uniquing = False
        self._on_close = None
        self._row_logger = None
        self._size = size

    def default_size(self) -> int:
        return self.yield_per or self._size


class _ServerCursorSource(_CursorSource):
    """Rows from a server-side cursor: each fetch is a round trip, so even single rows are
    fetched a batch (``yield_per`` rows) at a time."""

    __slots__ = ()

    _next_fresh = _RowSource._next_fresh
    next_batch = _RowSource.next_batch
    take_all = _RowSource.take_all


class _IteratorCursor:
    """An iterator of rows behind the fetch methods of a cursor, for :class:`_CursorSource`."""

    __slots__ = ("_rows",)

    arraysize: Final = sys.maxsize
    """``fetchmany()`` without a size gives every remaining row."""

    def __init__(self, rows: Iterable[RawRow]) -> None:
        self._rows = iter(rows)

    def fetchone(self) -> RawRow | None:
        return next(self._rows, None)

    def fetchmany(self, size: int) -> list[RawRow]:
        return list(islice(self._rows, size))

    def fetchall(self) -> list[RawRow]:
        return list(self._rows)


def _no_more_chunks(yield_per: int | None) -> Iterator[Sequence[RawRow]]:
    """The producer of a released chunk source: nothing more."""
    return iter(())


class _ChunkSource(_RowSource):
    """Rows from a producer of lists of rows, started with the ``yield_per`` in effect."""

    __slots__ = ("_chunks",)

    _chunks: Iterator[Sequence[RawRow]]

    def _fetch(self, size: int) -> Sequence[RawRow]:
        if not hasattr(self, "_chunks"):
            self._chunks = self.origin(self.yield_per)
        for rows in self._chunks:
            if rows:
                return list(rows)  # a copy: closing the result clears its batch
        return ()

    def _release(self) -> None:
        """Also drop the producer: it usually refers back to the result (the ORM's loading
        closures do), and without this every result would be a reference cycle left to the
        cyclic garbage collector instead of being freed as soon as it is dropped."""
        super()._release()
        self.origin = _no_more_chunks
        if hasattr(self, "_chunks"):
            del self._chunks


def _nothing_converted(rows: Sequence[RawRow]) -> list[RawRow]:
    """The conversion of a released converting source: nothing."""
    return []


class _ConvertingSource(_RowSource):
    """The rows of another source (``origin``: a source, or anything with its ``next_batch``,
    ``many``, ``take_all`` and ``state``), each batch turned into result rows by ``convert``
    (the ORM makes objects so).

    Batches are ``yield_per`` rows when that is set, else what the origin fetches at once."""

    __slots__ = ("_convert",)

    def __init__(
        self,
        origin: Any,
        convert: Callable[[Sequence[RawRow]], list[RawRow]],
        on_close: Callable[[], object] | None,
        yield_per: int | None,
    ) -> None:
        # _RowSource.__init__ inlined: this runs once per ORM statement.
        self.origin = origin
        self.batch = _NO_BATCH
        self.pending = _NO_PENDING
        self.state = _OPEN
        self.yield_per = yield_per
        self.uniquing = False
        self._on_close = on_close
        self._row_logger = None
        self._convert = convert

    def _fetch(self, size: int) -> Sequence[RawRow]:
        origin = self.origin
        while True:
            yield_per = self.yield_per
            rows = origin.many(yield_per) if yield_per else origin.next_batch()
            if not rows:
                return ()
            converted = self._convert(rows)
            if origin.state != _OPEN:
                self.exhaust()  # that was the last batch: no need to ask again
                return converted
            if converted:
                return converted

    def buffer_all(self) -> None:
        """Without ``yield_per``, every row of the origin converted as one batch (what
        fetching them all would convert, in fewer steps)."""
        if self.yield_per or self.state != _OPEN or length_hint(self.pending):
            super().buffer_all()
            return
        rows = self.origin.take_all()
        if len(rows) > _GC_PAUSE_ROWS:
            with gc_paused():
                converted = self._convert(rows)
        else:
            converted = self._convert(rows) if rows else []
        self.state = _EXHAUSTED
        self._release()
        self.batch = converted
        self.pending = iter(converted)

    def _release(self) -> None:
        """Also drop ``convert``: it usually refers back to the result (see _ChunkSource)."""
        super()._release()
        self._convert = _nothing_converted


class _NoRowsSource(_RowSource):
    """The source of a result whose statement returns no rows: every fetch raises.  Made
    closed: the result has already run its ``on_close``."""

    __slots__ = ()

    def __init__(self) -> None:
        # _RowSource.__init__ inlined: this runs once per row-less statement.
        self.origin = None
        self.batch = _NO_BATCH
        self.pending = _NO_PENDING
        self.state = _CLOSED
        self.yield_per = None
        self.uniquing = False
        self._on_close = None
        self._row_logger = None

    def _check_open(self) -> NoReturn:
        raise _no_rows_error()

    def one(self) -> NoReturn:
        raise _no_rows_error()

    def close(self) -> None:
        self.state = _CLOSED
        self._release()


# --- results -------------------------------------------------------------------------------


_R = TypeVar("_R")
"""The item type of a result or view: ``Row[...]``, a scalar, ``RowMapping``."""
_T1 = TypeVar("_T1")


class _ResultBase(Generic[_R]):
    """Fetching, iteration, uniqueness and closing, shared by results and their views.

    Items are produced from raw rows by ``_stages`` (applied in order); when ``unique()`` is
    on, items whose key was already seen are skipped.
    """

    __slots__ = ("_seen", "_source", "_stages", "_unique_key")

    _source: _RowSource
    _stages: tuple[Callable[[Any], Any], ...]
    _unique_key: Callable[[Any], Hashable] | None
    _seen: set[Hashable]

    def _default_unique_key(self, item: Any) -> Hashable:
        return item  # type: ignore[no-any-return]

    def _convert(self, rows: Iterable[RawRow]) -> Iterator[Any]:
        items: Iterator[Any] = iter(rows)
        for stage in self._stages:
            items = map(stage, items)
        if self._unique_key is not None:
            items = filter(self._first_seen, items)
        return items

    def _first_seen(self, item: Any) -> bool:
        assert self._unique_key is not None
        key = self._unique_key(item)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _next_item(self) -> Any:
        source = self._source
        while True:
            # A row already fetched is taken without a call into the source, and so is the
            # end of an exhausted one.
            item: Any = next(source.pending, None)
            if item is None:
                if source.state == _EXHAUSTED:
                    return _NO_ITEM
                item = source.one()
                if item is None:
                    return _NO_ITEM
            for stage in self._stages:
                item = stage(item)
            if self._unique_key is None or self._first_seen(item):
                return item

    def _next_chunk(self) -> Iterator[Any] | None:
        rows = self._source.chunk()
        return None if rows is None else self._convert(rows)

    def _many_items(self, size: int) -> list[Any]:
        items = list(self._convert(self._source.many(size)))
        while self._unique_key is not None and len(items) < size:
            more = self._source.many(size - len(items))
            if not more:
                break
            items.extend(self._convert(more))
        return items

    def _all_items(self) -> list[Any]:
        items: list[Any] = []
        with gc_paused():  # rows are tuples the cyclic GC tracks
            for rows in self._source.rest():
                items.extend(self._convert(rows))
        return items

    def __iter__(self) -> Iterator[_R]:
        return chain.from_iterable(iter(self._next_chunk, None))

    def __next__(self) -> _R:
        item: _R = self._next_item()
        if item is _NO_ITEM:
            raise StopIteration
        return item

    def fetchall(self) -> list[_R]:
        """All remaining rows."""
        return self._all_items()

    def all(self) -> list[_R]:
        """All remaining rows (the same as :meth:`fetchall`)."""
        return self._all_items()

    def fetchmany(self, size: int | None = None) -> list[_R]:
        """Up to ``size`` more rows (default: ``yield_per``, else the cursor's arraysize)."""
        return self._many_items(self._source.default_size() if size is None else size)

    def partitions(self, size: int | None = None) -> Iterator[list[_R]]:
        """Lists of up to ``size`` rows (default: ``yield_per``) until the result is empty."""
        size = size or self._source.yield_per or _CHUNK_SIZE
        while True:
            part = self._many_items(size)
            if not part:
                return
            yield part

    def first(self) -> _R | None:
        """The first row (None if there is none); the result is closed afterwards."""
        try:
            item = self._next_item()
        finally:
            self.close()
        return None if item is _NO_ITEM else item

    def _only_item(self, required: bool) -> Any:
        source = self._source
        if source.state == _EXHAUSTED and self._unique_key is None:
            # Every row left is held already (fetched as the statement ran, or buffered):
            # the first two tell, with no fetch to make.
            pending = source.pending
            item = next(pending, None)
            more = item is not None and next(pending, None) is not None
            self.close()
            if item is None:
                if required:
                    raise exc.NoResultFound("Expected exactly one row, but the result is empty")
                return None
            if more:
                raise exc.MultipleResultsFound(
                    "Expected at most one row, but the result has more than one"
                )
            for stage in self._stages:
                item = stage(item)
            return item
        try:
            item = self._next_item()
            if item is _NO_ITEM:
                if required:
                    raise exc.NoResultFound("Expected exactly one row, but the result is empty")
                return None
            if self._next_item() is not _NO_ITEM:
                raise exc.MultipleResultsFound(
                    "Expected at most one row, but the result has more than one"
                )
            return item
        finally:
            self.close()

    def one(self) -> _R:
        """The only row; NoResultFound if none, MultipleResultsFound if several. Closes."""
        item: _R = self._only_item(required=True)
        return item

    def one_or_none(self) -> _R | None:
        """The only row or None; MultipleResultsFound if several. Closes the result."""
        item: _R | None = self._only_item(required=False)
        return item

    def unique(self, strategy: Callable[[Any], Hashable] | None = None) -> Self:
        """Skip rows equal to (or, with ``strategy``, having the same key as) one seen before."""
        self._unique_key = strategy or self._default_unique_key
        self._seen = set()
        self._source.uniquing = True
        return self

    def yield_per(self, num: int) -> Self:
        """Fetch ``num`` rows per driver call from now on (and make partitions that big)."""
        self._source.yield_per = num
        return self

    def close(self) -> None:
        """Discard remaining rows and release the cursor; further fetching raises."""
        self._source.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` (or first/one/scalar...) closed the result."""
        return self._source.state == _CLOSED

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Result(_ResultBase[Row[TP]], Generic[TP]):
    """Rows of a statement, as :class:`~athanor.engine.row.Row` objects.

    For type checkers ``Result[tuple[int, str]]`` gives ``Row[tuple[int, str]]`` rows
    (``conn.execute(select(id_col, name_col))`` is typed so where the columns are).

    ``Result(keys_or_metadata, rows)`` wraps any iterable of tuples; ``on_close`` is called
    once, when the rows are exhausted or the result is closed.
    """

    __slots__ = ("_indexes", "_metadata")

    _metadata: ResultMetaData
    _indexes: tuple[int, ...] | None
    """Positions in the raw row of this result's columns, after :meth:`columns`."""

    def __init__(
        self,
        metadata: ResultMetaData | Sequence[str],
        rows: Iterable[RawRow] = (),
        *,
        on_close: Callable[[], object] | None = None,
        row_logger: Callable[[Any], object] | None = None,
        yield_per: int | None = None,
    ) -> None:
        self._setup(
            _as_metadata(metadata),
            _CursorSource(_IteratorCursor(rows), on_close, row_logger, yield_per),
        )

    def _setup(self, metadata: ResultMetaData, source: _RowSource) -> None:
        self._metadata = metadata
        self._source = source
        self._stages = (metadata.make_row,)
        self._indexes = None
        self._unique_key = None

    def _rekey(self, keys: Sequence[str]) -> None:
        """Give the columns of this result, not read from yet, other keys (when as many)."""
        metadata = self._metadata
        if len(keys) == len(metadata.keys) and tuple(keys) != metadata.keys:
            self._metadata = metadata.rekeyed(keys)
            self._stages = (self._metadata.make_row,)

    def keys(self) -> RMKeyView:
        """The column keys (``"name" in result.keys()`` also accepts column objects)."""
        return self._metadata.key_view()

    def fetchone(self) -> Row[TP] | None:
        """The next row, or None when there are no more."""
        item = self._next_item()
        return None if item is _NO_ITEM else item

    @overload
    def scalar(self: Result[tuple[_T1, *tuple[Any, ...]]]) -> _T1 | None: ...
    @overload
    def scalar(self) -> Any: ...
    def scalar(self) -> Any:
        """The first column of the first row (None if no row); closes the result."""
        return self.scalars(0).first()

    @overload
    def scalar_one(self: Result[tuple[_T1, *tuple[Any, ...]]]) -> _T1: ...
    @overload
    def scalar_one(self) -> Any: ...
    def scalar_one(self) -> Any:
        """The first column of the only row; raises like :meth:`one`."""
        return self.scalars(0).one()

    @overload
    def scalar_one_or_none(self: Result[tuple[_T1, *tuple[Any, ...]]]) -> _T1 | None: ...
    @overload
    def scalar_one_or_none(self) -> Any: ...
    def scalar_one_or_none(self) -> Any:
        """The first column of the only row, or None; raises like :meth:`one_or_none`."""
        return self.scalars(0).one_or_none()

    @overload
    def scalars(self: Result[tuple[_T1, *tuple[Any, ...]]]) -> ScalarResult[_T1]: ...
    @overload
    def scalars(self, index: object) -> ScalarResult[Any]: ...
    def scalars(self, index: object = 0) -> ScalarResult[Any]:
        """A view giving one column (by position, key or column object) instead of rows."""
        return ScalarResult(self, index)

    def mappings(self) -> MappingResult:
        """A view giving :class:`~athanor.engine.row.RowMapping` dict-likes instead of rows."""
        return MappingResult(self)

    def columns(self, *keys: object) -> Self:
        """A result (sharing this one's rows) with only these columns, in this order."""
        positions = [self._metadata.index_for(key) for key in keys]
        reduced = copy.copy(self)
        reduced._metadata = self._metadata.reduced(positions)
        raw = positions if self._indexes is None else [self._indexes[i] for i in positions]
        reduced._indexes = tuple(raw)
        reduced._stages = (_tuple_getter(raw), reduced._metadata.make_row)
        if self._unique_key is not None:
            reduced._seen = set()
        return reduced

    def _raw_index(self, index: int) -> int:
        return index if self._indexes is None else self._indexes[index]

    def tuples(self) -> Self:
        """This result, typed as producing plain tuples (rows already are tuples)."""
        return self

    @property
    def t(self) -> Self:
        """The same as :meth:`tuples`."""
        return self

    def freeze(self) -> FrozenResult:
        """Fetch the remaining rows into a :class:`FrozenResult` that can replay them."""
        return FrozenResult(self)

    def _converted_shape(self) -> ResultMetaData:
        """The shape of this result's rows (after :meth:`columns`) once converted."""
        metadata = self._metadata
        if self._indexes is not None:
            metadata = metadata.reduced(self._indexes)
        return metadata.without_processors()

    def merge(self, *others: Result[Any]) -> Result[TP]:
        """A result giving this result's rows, then those of each of ``others`` in turn.

        Every result must have as many columns as this one, whose keys the merged rows
        carry; closing the merged result closes them all.
        """
        shape = self._converted_shape()
        for other in others:
            if len(other.keys()) != len(shape.keys):
                raise exc.ArgumentError(
                    f"merge() needs results with the same columns; this one has "
                    f"{len(shape.keys)} ({', '.join(shape.keys)}), another has "
                    f"{len(other.keys())} ({', '.join(other.keys())})"
                )
        results = (self, *others)
        rows = (tuple(row) for row in chain.from_iterable(results))
        return Result(shape, rows, on_close=_closing(results))

    def splice_horizontally(self, other: Result[Any]) -> Result[Any]:
        """A result whose rows are this result's rows with the columns of ``other``'s row at
        the same position appended (as many rows as the shorter one has).  Closing it closes
        both."""
        left, right = self._converted_shape(), other._converted_shape()
        shape = ResultMetaData(
            left.keys + right.keys,
            None,
            [*_key_objects(left), *_key_objects(right)],
            left.by_shape and right.by_shape,
        )
        rows = (tuple(mine) + tuple(theirs) for mine, theirs in zip(self, other, strict=False))
        return Result(shape, rows, on_close=_closing((self, other)))


def _closing(results: Sequence[Result[Any]]) -> Callable[[], None]:
    """A function closing each of ``results``."""

    def close_all() -> None:
        for result in results:
            result.close()

    return close_all


def _key_objects(metadata: ResultMetaData) -> Sequence[Sequence[object]]:
    return metadata.key_objects or [()] * len(metadata.keys)


TupleResult: TypeAlias = Result
"""The name type hints use for a result of plain tuples (``result.tuples()``): a Result."""


def _as_metadata(metadata: ResultMetaData | Sequence[str]) -> ResultMetaData:
    return metadata if isinstance(metadata, ResultMetaData) else ResultMetaData(metadata)


_NO_ROWS_METADATA: Final = ResultMetaData(())
_NO_ROWS_STAGES: Final = (_NO_ROWS_METADATA.make_row,)


class CursorResult(Result[TP]):
    """The result of executing a statement on a DBAPI cursor.

    Rows are fetched from ``cursor`` in batches (``yield_per`` rows per call when given).
    With ``is_server_side`` the cursor stays open until the rows are exhausted or the result
    is closed.  ``on_close`` is called exactly once at that moment: the engine closes the
    cursor and releases the connection there; the result itself never closes the cursor.
    ``row_logger`` gets each raw row as it is fetched.  With ``returns_rows=False`` (an
    UPDATE, DDL, ...) ``on_close`` runs at once and fetching raises ResourceClosedError;
    ``rowcount``, ``lastrowid`` and ``inserted_primary_key`` still work.
    """

    __slots__ = (
        "_inserted_primary_key",
        "context",
        "is_server_side",
        "lastrowid",
        "returns_rows",
        "rowcount",
    )

    def __init__(
        self,
        cursor: Any,
        *,
        keys: Sequence[str] = (),
        processors: Sequence[Processor | None] | None = None,
        key_objects: Sequence[Sequence[object]] | None = None,
        metadata: ResultMetaData | None = None,
        rowcount: int = -1,
        lastrowid: Any = None,
        inserted_primary_key: tuple[Any, ...] | None = None,
        returns_rows: bool = True,
        on_close: Callable[[], object] | None = None,
        row_logger: Callable[[Any], object] | None = None,
        yield_per: int | None = None,
        is_server_side: bool = False,
        context: Any = None,
    ) -> None:
        self.context = context
        """The :class:`~athanor.engine.context.ExecutionContext` of the execution (or None)."""
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self._inserted_primary_key = inserted_primary_key
        self.returns_rows = returns_rows
        self.is_server_side = is_server_side
        if not returns_rows:
            if on_close is not None:
                on_close()
            self._setup(_NO_ROWS_METADATA, _NoRowsSource())
            return
        if metadata is None:
            metadata = ResultMetaData(keys, processors, key_objects)
        # _setup() inlined: this runs once per executed statement.
        self._metadata = metadata
        source = _ServerCursorSource if is_server_side else _CursorSource
        self._source = source(cursor, on_close, row_logger, yield_per)
        self._stages = (metadata.make_row,)
        self._indexes = None
        self._unique_key = None

    @classmethod
    def fetched(
        cls,
        metadata: ResultMetaData,
        rows: Sequence[RawRow],
        rowcount: int,
        arraysize: int,
        context: Any,
    ) -> CursorResult[Any]:
        """The result of a statement whose rows were all fetched as it ran (the engine does
        so for a few rows, then reuses the cursor at once); reading it does no I/O."""
        result: CursorResult[Any] = cls.__new__(cls)
        # __init__ inlined: this runs once per executed statement.
        result.context = context
        result.rowcount = rowcount
        result.lastrowid = None
        result._inserted_primary_key = None
        result.returns_rows = True
        result.is_server_side = False
        result._metadata = metadata
        result._source = _FetchedSource(rows, arraysize)
        result._stages = (metadata.make_row,)
        result._indexes = None
        result._unique_key = None
        return result

    @classmethod
    def rowless(
        cls,
        rowcount: int,
        lastrowid: Any,
        inserted_primary_key: tuple[Any, ...] | None,
        context: Any,
    ) -> CursorResult[Any]:
        """The result of a statement that returns no rows (an INSERT without RETURNING, an
        UPDATE, DDL...), whose cursor the engine has already released."""
        result: CursorResult[Any] = cls.__new__(cls)
        # __init__ inlined: this runs once per executed statement.
        result.context = context
        result.rowcount = rowcount
        result.lastrowid = lastrowid
        result._inserted_primary_key = inserted_primary_key
        result.returns_rows = False
        result.is_server_side = False
        result._metadata = _NO_ROWS_METADATA
        result._source = _NoRowsSource()
        result._stages = _NO_ROWS_STAGES
        result._indexes = None
        result._unique_key = None
        return result

    @property
    def is_insert(self) -> bool:
        """True when the engine reported this as a single-row INSERT with a primary key."""
        return self._inserted_primary_key is not None

    @property
    def inserted_primary_key(self) -> tuple[Any, ...]:
        """The primary key of the row a single-row INSERT created: a :class:`Row` named by
        the table's primary key columns (``result.inserted_primary_key.id``)."""
        key = self._inserted_primary_key
        if key is None:
            raise exc.InvalidRequestError(
                "inserted_primary_key is only available after executing a single-row insert() "
                "construct"
            )
        table = getattr(getattr(self.context, "compiled", None), "statement", None)
        table = getattr(table, "table", None)
        columns = getattr(table, "primary_key", ())
        if isinstance(key, Row) or len(columns) != len(key):
            return key
        return row_class([c.key for c in columns], [[c] for c in columns])(key)

    @property
    def inserted_primary_key_rows(self) -> list[tuple[Any, ...] | None]:
        """The primary key of each row an INSERT created, one per parameter set.

        Keys come from RETURNING when the statement fetched them (``return_defaults()``, or a
        ``returning()`` that includes them), else from the parameters; a key that is not known
        (an autoincrement value of an executemany without RETURNING) is None.
        """
        context = self.context
        if context is None or not context.isinsert:
            raise exc.InvalidRequestError(
                "inserted_primary_key_rows is only available after executing an insert() construct"
            )
        rows: list[tuple[Any, ...] | None] = context.inserted_primary_key_rows
        return rows

    @property
    def returned_defaults_rows(self) -> list[Row | None] | None:
        """The values ``return_defaults()`` fetched, one Row per parameter set (None when the
        statement did not use ``return_defaults()`` or the database has no RETURNING for it)."""
        context = self.context
        if context is None:
            return None
        rows: list[Row | None] | None = context.returned_default_rows
        return rows

    @property
    def returned_defaults(self) -> Row | None:
        """The ``return_defaults()`` values of a single-row INSERT or UPDATE, as one Row."""
        rows = self.returned_defaults_rows
        return rows[0] if rows else None

    def keys(self) -> RMKeyView:
        """The column keys; raises ResourceClosedError when the statement returns no rows."""
        if not self.returns_rows:
            raise _no_rows_error()
        return super().keys()

    @property
    def cursor(self) -> Any:
        """The DBAPI cursor rows are still read from, or None once it is released (the
        engine releases it when the rows are read, and at once for a statement that
        returns none or whose rows it fetched as the statement ran)."""
        source = self._source
        if type(source) in (_CursorSource, _ServerCursorSource) and source.state == _OPEN:
            return source.origin
        return None

    def supports_sane_rowcount(self) -> bool:
        """Whether ``rowcount`` counts the rows an UPDATE or DELETE matched."""
        return bool(self._dialect().supports_sane_rowcount)

    def supports_sane_multi_rowcount(self) -> bool:
        """Whether ``rowcount`` of an executemany UPDATE or DELETE counts every matched row."""
        return bool(self._dialect().supports_sane_multi_rowcount)

    def _dialect(self) -> Any:
        """The dialect the statement ran on (the default one's capabilities without one)."""
        if self.context is None:
            from athanor.engine.default import DefaultDialect

            return DefaultDialect
        return self.context.dialect

    def _dml(self, method: str, kinds: tuple[str, ...]) -> Any:
        """The compiled INSERT (or UPDATE, where ``kinds`` allows) this result came from."""
        compiled = None if self.context is None else self.context.compiled
        if compiled is None or not any(getattr(compiled, f"is{kind}") for kind in kinds):
            names = " or ".join(f"{kind}()" for kind in kinds)
            raise exc.InvalidRequestError(
                f"{method} is only available after executing an {names} construct"
            )
        return compiled

    def last_inserted_params(self) -> dict[str, Any] | list[dict[str, Any]]:
        """The parameters of the INSERT: one mapping, or one per parameter set of an
        executemany, each with the values of the column defaults computed in Python (see
        :meth:`prefetch_cols`)."""
        return self._given_params("last_inserted_params()", ("insert",))

    def last_updated_params(self) -> dict[str, Any] | list[dict[str, Any]]:
        """The parameters of the UPDATE: one mapping, or one per parameter set of an
        executemany; a single UPDATE's also has the values of its ``onupdate`` defaults
        computed in Python."""
        return self._given_params("last_updated_params()", ("update",))

    def _given_params(
        self, method: str, kinds: tuple[str, ...]
    ) -> dict[str, Any] | list[dict[str, Any]]:
        self._dml(method, kinds)
        assert self.context is not None
        given: Sequence[Mapping[str, Any]] = self.context.compiled_parameters or ({},)
        # The statement's own values (``.values(x=5)``); not a bind the parameters fill in
        # (``bindparam("b_x")``, given under its own name) nor a SQL expression.
        own = {
            key: value.value
            for key, value in (self.context.invoked_statement._values or {}).items()
            if isinstance(value, BindParameter) and not value.required
        }
        sets = [{**own, **params} for params in given]
        compiled = self.context.compiled
        assert compiled is not None
        if self.context.executemany:
            steps = getattr(self.context, "_many_steps", None)
            if steps is None:
                return sets
            defaulted = compiled.defaulted_rows(given, steps)
            return [_with_defaults(p, found) for p, found in zip(sets, defaulted, strict=True)]
        return _with_defaults(sets[0], compiled.defaulted_values(self.context.parameters))

    def prefetch_cols(self) -> list[Any]:
        """The columns of the INSERT or UPDATE whose values were computed in Python (a
        ``default`` / ``onupdate`` value or function) because the statement did not give
        them."""
        return self._defaulted_columns("prefetch_cols()", server=False)

    def postfetch_cols(self) -> list[Any]:
        """The columns of the INSERT or UPDATE the database filled in (a server default or a
        SQL expression default) that were not read back with RETURNING."""
        return self._defaulted_columns("postfetch_cols()", server=True)

    def _defaulted_columns(self, method: str, server: bool) -> list[Any]:
        compiled = self._dml(method, ("insert", "update"))
        assert self.context is not None
        kind = "insert" if compiled.isinsert else "update"
        statement = self.context.invoked_statement
        given = set(statement._values or ()).union(*self.context.compiled_parameters)
        returned = set(compiled.returned_defaults_keys)
        found = []
        for column in statement.table.c:
            if column.key in given or (server and column.key in returned):
                continue
            generated = database_generates(column, kind)
            default = getattr(column, "default" if kind == "insert" else "onupdate", None)
            if generated if server else (not generated and default is not None):
                found.append(column)
        return found

    @overload
    def scalars(self: CursorResult[tuple[_T1, *tuple[Any, ...]]]) -> ScalarResult[_T1]: ...
    @overload
    def scalars(self, index: object) -> ScalarResult[Any]: ...
    def scalars(self, index: object = 0) -> ScalarResult[Any]:
        """A view giving one column; raises ResourceClosedError when there are no rows."""
        if not self.returns_rows:
            raise _no_rows_error()
        return ScalarResult(self, index)


class ChunkedIteratorResult(Result[TP]):
    """A result over rows produced in lists by ``chunks(yield_per)``.

    ``chunks`` is called on the first fetch with the ``yield_per`` then in effect, so a
    producer (such as an ORM loader) can size its batches to what the caller asked for.
    """

    __slots__ = ()

    def __init__(
        self,
        metadata: ResultMetaData | Sequence[str],
        chunks: Callable[[int | None], Iterator[Sequence[RawRow]]],
        *,
        on_close: Callable[[], object] | None = None,
        row_logger: Callable[[Any], object] | None = None,
        yield_per: int | None = None,
    ) -> None:
        self._setup(_as_metadata(metadata), _ChunkSource(chunks, on_close, row_logger, yield_per))

    @classmethod
    def converting(
        cls,
        metadata: ResultMetaData,
        rows: Any,
        convert: Callable[[Sequence[RawRow]], list[RawRow]],
        *,
        on_close: Callable[[], object] | None = None,
        yield_per: int | None = None,
    ) -> ChunkedIteratorResult[Any]:
        """A result over the batches of the row source ``rows`` (see ``_RowSource.next_batch``),
        each turned into result rows by ``convert``: the chunks of :meth:`__init__` without a
        generator per result."""
        result: ChunkedIteratorResult[Any] = cls.__new__(cls)
        # _setup() inlined: this runs once per ORM statement.
        result._metadata = metadata
        result._source = _ConvertingSource(rows, convert, on_close, yield_per)
        result._stages = (metadata.make_row,)
        result._indexes = None
        result._unique_key = None
        return result

    @classmethod
    def made_now(
        cls, metadata: ResultMetaData, rows: Any, make: Callable[[Sequence[RawRow]], list[Any]]
    ) -> ChunkedIteratorResult[Any] | None:
        """A result of one-value rows, the values ``make`` gives for all of ``rows`` (a row
        source) at once, when the statement ran fetching every row (else None): for a
        ``make`` whose work may as well be done before the first fetch."""
        if type(rows) is not _FetchedSource:
            return None
        return cls.of_values(metadata, make(rows.batch))

    @classmethod
    def of_values(cls, metadata: ResultMetaData, values: list[Any]) -> ChunkedIteratorResult[Any]:
        """A result of one-value rows holding ``values`` (nothing left to fetch)."""
        result: ChunkedIteratorResult[Any] = cls.__new__(cls)
        result._metadata = metadata
        result._source = _FetchedSource(list(zip(values)), sys.maxsize)
        result._stages = (metadata.make_row,)
        result._indexes = None
        result._unique_key = None
        return result


class ScalarResult(_ResultBase[T]):
    """A view of a result giving one column's values instead of rows."""

    __slots__ = ()

    @staticmethod
    def of_value(value: Any) -> ScalarResult[Any]:
        """A result holding the one value ``value`` (not None: None ends a result's values;
        nothing left to fetch), with no result of rows behind it."""
        result = _OneValueResult.__new__(_OneValueResult)
        result._value = value
        return result

    def __init__(self, result: Result[Any], index: object = 0) -> None:
        metadata = result._metadata
        if type(index) is int and index == 0 and result._indexes is None and metadata.keys:
            # The common ``scalars()``: the first column of an unreduced result.
            position = 0
            getter: Callable[[Any], Any] = _first_item
        else:
            position = metadata.index_for(index)
            getter = itemgetter(result._raw_index(position))
        process = None if metadata.processors is None else metadata.processors[position]
        self._source = result._source
        self._stages = (getter,) if process is None else (getter, process)
        self._unique_key = None
        if result._unique_key is not None:
            self.unique()


_SOURCED: Final = object()
"""``_OneValueResult._value`` once the value moved into a row source."""

_TAKEN: Final = object()
"""``_OneValueResult._value`` once ``one()``, ``one_or_none()`` or ``first()`` handed the
value over, closing the result."""


class _OneValueResult(ScalarResult[Any]):
    """What :meth:`ScalarResult.of_value` makes: ``one()``, ``one_or_none()`` and ``first()``
    hand the value over with no row source (what a select by primary key is read with);
    any other use makes the source on first need, holding the value or, once it was
    taken, closed."""

    __slots__ = ("_value",)

    _value: Any

    def __getattr__(self, name: str) -> Any:
        # Called only for an attribute not set: the result's state, still to be made.
        value = self._value
        if value is _SOURCED or name not in _SOURCE_SLOTS:
            raise AttributeError(name)
        self._value = _SOURCED
        source = _FetchedSource([] if value is _TAKEN else [value], sys.maxsize)
        if value is _TAKEN:
            source.state = _CLOSED
        self._source = source
        self._stages = ()
        self._unique_key = None
        return getattr(self, name)

    def one(self) -> Any:
        value = self._value
        if value is _SOURCED or value is _TAKEN:
            return super().one()
        self._value = _TAKEN
        return value

    def one_or_none(self) -> Any:
        value = self._value
        if value is _SOURCED or value is _TAKEN:
            return super().one_or_none()
        self._value = _TAKEN
        return value

    def first(self) -> Any:
        value = self._value
        if value is _SOURCED or value is _TAKEN:
            return super().first()
        self._value = _TAKEN
        return value


_SOURCE_SLOTS: Final = frozenset({"_source", "_stages", "_unique_key"})

_first_item: Final = itemgetter(0)

_row_of_mapping: Final = attrgetter("_row")


class MappingResult(_ResultBase[RowMapping]):
    """A view of a result giving :class:`~athanor.engine.row.RowMapping` objects."""

    __slots__ = ("_result",)

    def __init__(self, result: Result[Any]) -> None:
        self._result = result
        self._source = result._source
        self._stages = (*result._stages, RowMapping)
        self._unique_key = None
        if result._unique_key is not None:
            self.unique()

    def _default_unique_key(self, item: Any) -> Hashable:
        return _row_of_mapping(item)  # type: ignore[no-any-return]

    def keys(self) -> RMKeyView:
        """The column keys."""
        return self._result.keys()

    def fetchone(self) -> RowMapping | None:
        """The next row as a mapping, or None when there are no more."""
        item = self._next_item()
        return None if item is _NO_ITEM else item

    def columns(self, *keys: object) -> MappingResult:
        """A mapping view with only these columns."""
        reduced = MappingResult(self._result.columns(*keys))
        if self._unique_key is not None:
            reduced.unique(self._unique_key)
        return reduced


class FrozenResult:
    """The rows of a result, fetched and kept, that can be replayed any number of times.

    Calling it gives a new :class:`Result` over the same rows; ``data`` holds the rows.
    """

    __slots__ = ("data", "metadata")

    def __init__(self, result: Result[Any]) -> None:
        self.metadata = result._metadata.without_processors()
        self.data: list[Row[Any]] = result.fetchall()

    def with_new_rows(self, rows: Sequence[RawRow]) -> FrozenResult:
        """A frozen result of the same shape with other rows (already converted)."""
        frozen = copy.copy(self)
        frozen.data = list(map(self.metadata.row_class, rows))
        return frozen

    def __call__(self) -> Result[Any]:
        return Result(self.metadata, self.data)


def _with_defaults(given: dict[str, Any], defaulted: dict[str, Any]) -> dict[str, Any]:
    """A parameter set followed by the default values of the columns it did not give."""
    for key, value in defaulted.items():
        if key not in given:
            given[key] = value
    return given
