"""Date-time literals (``literal_binds``) find the rows stored with the same values, and a
DELETE whose criteria name other tables either runs or says why it can't (SQLite)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from athanor import exc
from athanor.dialects import sqlite
from athanor.engine import Engine, create_engine
from athanor.sql import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    Time,
    delete,
    insert,
    select,
    text,
)
from backends import Backend

metadata = MetaData()
moments = Table(
    "lt_moments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime),
    Column("clock", Time),
)
marks = Table("lt_marks", metadata, Column("moment_id", Integer, primary_key=True))


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.mark.parametrize(
    ("at", "clock"),
    [
        (dt.datetime(2024, 1, 2, 3, 4, 5), dt.time(6, 7, 8)),
        (dt.datetime(2024, 1, 2, 3, 4, 5, 678901), dt.time(6, 7, 8, 90)),
    ],
)
def test_literal_date_times_match_stored_values(
    engine: Engine, at: dt.datetime, clock: dt.time
) -> None:
    with engine.begin() as conn:
        conn.execute(insert(moments), [{"id": 1, "at": at, "clock": clock}])
        for column, value in ((moments.c.at, at), (moments.c.clock, clock)):
            query = select(moments.c.id).where(column == value)
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            assert conn.execute(text(sql)).scalars().all() == [1], sql


def test_sqlite_delete_naming_other_tables_is_refused() -> None:
    stmt = delete(moments).where(moments.c.id == marks.c.moment_id)
    with pytest.raises(exc.CompileError, match="names lt_marks; test the other tables"):
        stmt.compile(dialect=sqlite.dialect())


def test_delete_with_other_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(moments), [{"id": i} for i in (1, 2, 3)])
        conn.execute(insert(marks), [{"moment_id": 2}])
        joined = delete(moments).where(moments.c.id == marks.c.moment_id)
        if engine.dialect.name == "sqlite":
            with pytest.raises(exc.CompileError, match="SQLite's DELETE reads only"):
                conn.execute(joined)
            conn.execute(delete(moments).where(moments.c.id.in_(select(marks.c.moment_id))))
        else:
            assert conn.execute(joined).rowcount == 1
        left = conn.execute(select(moments.c.id).order_by(moments.c.id)).scalars().all()
    assert left == [1, 3]
