"""Result over plain iterators and chunk producers, and mixed fetch patterns (hypothesis)."""

from __future__ import annotations

import gc
import sqlite3
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from athanor import exc
from athanor.engine.result import (
    ChunkedIteratorResult,
    CursorResult,
    Result,
    ResultMetaData,
)

ROWS = [(1, "a"), (2, "b"), (3, "c")]


def test_result_over_an_iterator() -> None:
    closed: list[bool] = []
    result = Result(["id", "name"], iter(ROWS), on_close=lambda: closed.append(True))
    assert result.keys() == ["id", "name"]
    row = result.fetchone()
    assert row is not None
    assert row.name == "a"
    assert closed == []
    assert result.fetchmany() == ROWS[1:]
    assert result.fetchone() is None
    assert closed == [True]


def test_result_with_prebuilt_metadata_and_processors() -> None:
    metadata = ResultMetaData(["id", "name"], [None, str.upper])
    assert Result(metadata, ROWS).all() == [(1, "A"), (2, "B"), (3, "C")]
    assert Result(metadata, ROWS).scalars(1).all() == ["A", "B", "C"]
    assert metadata.without_processors().processors is None
    assert ResultMetaData(["id"], [None]).processors is None


def test_cursor_result_accepts_metadata_built_once() -> None:
    metadata = ResultMetaData(["x", "y"])
    connection = sqlite3.connect(":memory:")
    for value in (1, 2):
        cursor = connection.execute("SELECT ?, ? * 10", (value, value))
        row = CursorResult(cursor, metadata=metadata).one()
        assert (row.x, row.y) == (value, value * 10)
        assert type(row) is metadata.row_class
    connection.close()


def test_chunked_iterator_result_starts_chunks_with_yield_per() -> None:
    asked: list[int | None] = []

    def chunks(size: int | None) -> Iterator[Sequence[tuple[int, str]]]:
        asked.append(size)
        yield ROWS[:2]
        yield []
        yield ROWS[2:]

    closed: list[bool] = []
    result = ChunkedIteratorResult(["id", "name"], chunks, on_close=lambda: closed.append(True))
    result.yield_per(2)
    assert asked == []
    assert result.fetchone() == ROWS[0]
    assert asked == [2]
    assert list(result.partitions()) == [[ROWS[1], ROWS[2]]]
    assert closed == [True]


@pytest.mark.parametrize("finish", ["all", "one", "close"])
def test_chunked_result_referred_to_by_its_producer_is_freed_without_the_collector(
    finish: str,
) -> None:
    # The ORM's producers refer back to their result; a consumed or closed result must not
    # be left in a reference cycle for the cyclic collector.
    class Marker:
        """Reachable only through the producer, so it dies with the result."""

    def make() -> tuple[ChunkedIteratorResult, weakref.ref[Marker]]:
        marker = Marker()

        def chunks(size: int | None) -> Iterator[Sequence[tuple[int, str]]]:
            assert result is not None and marker is not None
            yield ROWS[:1]

        result = ChunkedIteratorResult(["id", "name"], chunks)
        return result, weakref.ref(marker)

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        result, ref = make()
        if finish == "all":
            assert result.all() == ROWS[:1]
        elif finish == "one":
            assert result.one() == ROWS[0]
        else:
            assert result.fetchone() == ROWS[0]
            result.close()
        del result
        assert ref() is None
    finally:
        if was_enabled:
            gc.enable()


def test_chunked_iterator_result_scalars_and_logging() -> None:
    logged: list[Any] = []
    result = ChunkedIteratorResult(
        ["id", "name"], lambda size: iter([ROWS, ROWS]), row_logger=logged.append
    )
    assert result.scalars().unique().all() == [1, 2, 3]
    assert logged == ROWS + ROWS


def test_generic_result_closes_and_rejects_fetches() -> None:
    result = Result(["id", "name"], ROWS)
    result.close()
    with pytest.raises(exc.ResourceClosedError):
        result.fetchone()
    with pytest.raises(exc.ResourceClosedError):
        next(result)


def test_unknown_and_ambiguous_keys() -> None:
    result = Result(["a", "b", "a"], [(1, 2, 3)])
    with pytest.raises(exc.InvalidRequestError, match="'a'"):
        result.scalars("a")
    with pytest.raises(exc.NoSuchColumnError, match="'zz'"):
        result.columns("zz")
    assert result.columns(2, "b").one() == (3, 2)


# One step of a random fetch pattern: (operation, argument).
steps = st.lists(
    st.tuples(
        st.sampled_from(["fetchone", "fetchmany", "iterate", "next", "scalars", "mappings"]),
        st.integers(0, 4),
    ),
    max_size=12,
)


def make_result(kind: str, data: list[tuple[int, int]], calls: list[bool], chunk: int) -> Result:
    def on_close() -> None:
        calls.append(True)

    if kind == "iterator":
        return Result(["a", "b"], iter(data), on_close=on_close, yield_per=chunk)
    if kind == "chunks":
        pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
        return ChunkedIteratorResult(["a", "b"], lambda size: iter(pieces), on_close=on_close)
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (a INTEGER, b INTEGER)")
    connection.executemany("INSERT INTO t VALUES (?, ?)", data)
    cursor = connection.execute("SELECT a, b FROM t ORDER BY a")
    return CursorResult(cursor, keys=["a", "b"], on_close=on_close, yield_per=chunk)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["iterator", "chunks", "cursor"]),
    st.integers(0, 12),
    st.integers(1, 5),
    steps,
)
def test_any_mix_of_fetches_returns_each_row_once_in_order(
    kind: str, size: int, chunk: int, pattern: list[tuple[str, int]]
) -> None:
    data = [(i, i * i) for i in range(size)]
    calls: list[bool] = []
    result = make_result(kind, data, calls, chunk)
    got: list[tuple[int, int]] = []
    for operation, argument in pattern:
        if operation == "fetchone":
            row = result.fetchone()
            if row is not None:
                got.append(row)
        elif operation == "fetchmany":
            got.extend(result.fetchmany(argument))
        elif operation == "iterate":
            iterator = iter(result)
            got.extend(row for _, row in zip(range(argument), iterator, strict=False))
        elif operation == "next":
            following = next(result, None)
            if following is not None:
                got.append(following)
        elif operation == "scalars":
            got.extend((a, a * a) for a in result.scalars().fetchmany(argument))
        else:
            got.extend(tuple(m.values()) for m in result.mappings().fetchmany(argument))
    got.extend(result.all())
    assert got == data
    assert calls == [True]
    assert result.all() == []
    assert calls == [True]
