"""Results of a few rows fetched as the statement runs: the same rows and behaviour as results
read from the cursor, and the cursor free for the next statement at once.

A compiled statement's first execution reads the cursor's description (its result is read
from the cursor); later executions of the same shape know the shape, and a result of a few
rows is taken at once: in one ``fetchall()`` when the driver reports their count, else (SQLite,
whose ``rowcount`` is -1 for a SELECT) in one ``fetchmany()`` of one row more than a few, the
rows read then being the first of a result read from the cursor when it gives that many.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import athanor
from athanor import Column, Integer, MetaData, String, Table, select
from athanor.engine.result import CursorResult

metadata = MetaData()
people = Table(
    "fetched_people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
)
ROWS = [(1, "ada"), (2, "bob"), (3, "cy")]


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = athanor.create_engine(backend.url)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(people.insert(), [{"id": i, "name": n} for i, n in ROWS])
    yield eng
    metadata.drop_all(eng)
    eng.dispose()


def fetched(result: CursorResult) -> bool:
    """Whether the result's rows were all taken as the statement ran."""
    return type(result._source).__name__ == "_FetchedSource"


def reads(result: CursorResult) -> list[Any]:
    """What a mix of fetch calls gives, and the result's state along the way."""
    return [
        result.keys(),
        result.rowcount,
        result.fetchone(),
        result.fetchmany(),
        result.closed,
        result.all(),
        result.fetchone(),
        result.closed,
    ]


STATEMENTS: dict[str, Callable[[], Any]] = {
    "rows": lambda: select(people).order_by(people.c.id),
    "one row": lambda: select(people.c.name).where(people.c.id == 2),
    "no rows": lambda: select(people).where(people.c.id == 99),
}


@pytest.mark.parametrize("shape", list(STATEMENTS))
def test_fetched_results_read_as_cursor_results(engine: Any, backend: Any, shape: str) -> None:
    statement = STATEMENTS[shape]
    with engine.connect() as conn:
        first = conn.execute(statement())
        second = conn.execute(statement())
        assert not fetched(first)  # the shape was not known yet
        assert fetched(second)
        assert reads(second) == reads(first)
        assert second.context.compiled is first.context.compiled


def test_cursor_is_free_before_the_rows_are_read(engine: Any, backend: Any) -> None:
    with engine.connect() as conn:
        conn.execute(select(people)).all()
        results = [conn.execute(select(people).where(people.c.id == i)) for i in (1, 2, 3)]
        assert conn._spare_cursor is not None
        assert [r.one() for r in results] == ROWS


def test_views_and_closing_of_a_fetched_result(engine: Any) -> None:
    with engine.connect() as conn:
        for _ in range(2):
            scalars = conn.execute(select(people.c.name).order_by(people.c.id)).scalars()
            assert scalars.first() == "ada"
            with pytest.raises(athanor.exc.ResourceClosedError):
                scalars.all()
            ids = select(people.c.id).where(people.c.id > 1).order_by(people.c.id)
            assert conn.execute(ids).scalars().all() == [2, 3]
            mappings = conn.execute(select(people).order_by(people.c.id)).mappings()
            assert mappings.fetchmany(2) == [{"id": 1, "name": "ada"}, {"id": 2, "name": "bob"}]
            mappings.close()
            with pytest.raises(athanor.exc.ResourceClosedError):
                mappings.all()
            frozen = conn.execute(select(people).order_by(people.c.id)).freeze()
            assert frozen().all() == ROWS


def test_many_rows_yield_per_and_logged_rows_are_read_from_the_cursor(
    engine: Any, backend: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with engine.begin() as conn:
        conn.execute(people.insert(), [{"id": i, "name": f"n{i}"} for i in range(10, 1010)])
    with engine.connect() as conn:
        for _ in range(2):
            many = conn.execute(select(people).order_by(people.c.id))
            assert not fetched(many)
            assert len(many.all()) == 1003
        # Past the rows read at once (101 for a driver that does not count them), the
        # rest come from the cursor, in order, whichever way they are fetched.
        ids = select(people.c.id).order_by(people.c.id)
        conn.execute(ids).all()
        mixed = conn.execute(ids)
        assert mixed.fetchone() == (1,)
        assert [r[0] for r in mixed.fetchmany(150)] == [2, 3, *range(10, 158)]
        assert [r[0] for r in mixed] == list(range(158, 1010))
        assert mixed.fetchone() is None
        statement = select(people).where(people.c.id < 4).order_by(people.c.id)
        conn.execute(statement).all()
        per_batch = conn.execute(statement, execution_options={"yield_per": 2})
        assert not fetched(per_batch)
        assert list(per_batch.partitions()) == [ROWS[:2], ROWS[2:]]
    logging_engine = athanor.create_engine(backend.url, echo="debug")
    try:
        with (
            caplog.at_level(logging.DEBUG, logger="athanor.engine"),
            logging_engine.connect() as conn,
        ):
            conn.execute(statement).all()
            caplog.clear()
            result = conn.execute(statement)
            assert not fetched(result)
            assert not any(r.getMessage().startswith("Row") for r in caplog.records)
            assert result.all() == ROWS
            assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("Row")] == [
                f"Row {row!r}" for row in ROWS
            ]
    finally:
        logging_engine.dispose()


def test_one_and_one_or_none_of_rows_at_hand(engine: Any) -> None:
    """one() / one_or_none() / scalar_one() read the rows held without fetching, with the
    same answers and errors (and the result closed after) as when they fetch."""
    by_id = select(people.c.name).where(people.c.id == 2)
    several = select(people.c.name).where(people.c.id > 1)
    missing = select(people.c.name).where(people.c.id == 99)
    with engine.connect() as conn:
        for _ in range(2):
            result = conn.execute(by_id)
            assert result.one() == ("bob",)
            assert result.closed
            assert conn.execute(by_id).scalar_one() == "bob"
            assert conn.execute(by_id).scalars().one_or_none() == "bob"
            assert conn.execute(missing).one_or_none() is None
            with pytest.raises(athanor.exc.NoResultFound):
                conn.execute(missing).scalars().one()
            result = conn.execute(several)
            with pytest.raises(athanor.exc.MultipleResultsFound):
                result.one()
            assert result.closed
            with pytest.raises(athanor.exc.MultipleResultsFound):
                conn.execute(several).scalar_one_or_none()
            partly_read = conn.execute(several.order_by(people.c.id))
            assert partly_read.fetchone() == ("bob",)
            assert partly_read.one() == ("cy",)
            unique = conn.execute(select(people.c.id * 0).where(people.c.id > 1)).unique()
            assert unique.scalar_one() == 0
