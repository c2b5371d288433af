"""Enum columns with create_constraint=True refuse unknown strings on every database (native
types or a CHECK constraint); without it a non-native enum is a plain VARCHAR."""

from __future__ import annotations

import enum

import pytest

import athanor as sa
from athanor import exc
from athanor.schema import CreateTable


class Mood(enum.Enum):
    happy = 1
    sad = 2


def make_table(create_constraint: bool = True, native_enum: bool = True) -> sa.Table:
    mood = sa.Enum(Mood, create_constraint=create_constraint, native_enum=native_enum)
    return sa.Table(
        "moods",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mood", mood),
    )


def test_sqlite_ddl_has_a_check_constraint() -> None:
    from athanor.dialects import sqlite

    ddl = str(CreateTable(make_table()).compile(dialect=sqlite.dialect()))
    assert "CHECK" in ddl
    assert "'happy'" in ddl and "'sad'" in ddl


def test_no_check_constraint_unless_asked() -> None:
    from athanor.dialects import mysql, sqlite

    default = sa.Table("plain", sa.MetaData(), sa.Column("mood", sa.Enum("a", "b")))
    assert default.c.mood.type.create_constraint is False
    assert "CHECK" not in str(CreateTable(default).compile(dialect=sqlite.dialect()))
    non_native = sa.Enum("a", "b", native_enum=False)
    other = sa.Table("plain2", sa.MetaData(), sa.Column("mood", non_native))
    assert "CHECK" not in str(CreateTable(other).compile(dialect=mysql.dialect()))


def test_without_the_constraint_the_database_takes_other_strings(backend) -> None:
    engine = sa.create_engine(backend.url)
    table = make_table(create_constraint=False, native_enum=False)
    table.metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO moods (id, mood) VALUES (2, 'angry')"))
            assert conn.scalar(sa.text("SELECT mood FROM moods")) == "angry"
    finally:
        table.metadata.drop_all(engine)
        engine.dispose()


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
