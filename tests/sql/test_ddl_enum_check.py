"""Enum columns refuse unknown strings on every database: native types or a CHECK constraint."""

from __future__ import annotations

import enum

import pytest

import athanor as sa
from athanor import exc
from athanor.schema import CreateTable


class Mood(enum.Enum):
    happy = 1
    sad = 2


def make_table() -> sa.Table:
    return sa.Table(
        "moods",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mood", sa.Enum(Mood)),
    )


def test_sqlite_ddl_has_a_check_constraint() -> None:
    from athanor.dialects import sqlite

    ddl = str(CreateTable(make_table()).compile(dialect=sqlite.dialect()))
    assert "CHECK" in ddl
    assert "'happy'" in ddl and "'sad'" in ddl


def test_unknown_value_is_rejected_by_the_database(backend) -> None:
    engine = sa.create_engine(backend.url)
    table = make_table()
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(table).values(id=1, mood=Mood.happy))
    with engine.connect() as conn:
        assert conn.execute(sa.select(table.c.mood)).scalar_one() is Mood.happy
        with pytest.raises(exc.DBAPIError):
            conn.execute(sa.text("INSERT INTO moods (id, mood) VALUES (2, 'angry')"))
    table.metadata.drop_all(engine)
    engine.dispose()
