"""LATERAL subqueries, table-valued functions and column_valued(), per dialect and per database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import exc
from athanor.dialects import mysql, postgresql, sqlite
from athanor.engine import Engine, create_engine
from athanor.sql import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    column,
    func,
    insert,
    lateral,
    select,
    text,
    true,
)
from backends import Backend

PG = postgresql.dialect()
SQLITE = sqlite.dialect()
MYSQL = mysql.dialect()
MARIADB = mysql.dialect()
MARIADB.is_mariadb = True
MYSQL.is_mariadb = False

metadata = MetaData()
authors = Table(
    "lt_authors", metadata, Column("id", Integer, primary_key=True), Column("name", String(20))
)
books = Table(
    "lt_books",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("author_id", Integer),
    Column("title", String(20)),
)


def latest_book() -> Any:
    return (
        select(books.c.title)
        .where(books.c.author_id == authors.c.id)
        .order_by(books.c.id.desc())
        .limit(1)
        .lateral("latest")
    )


def test_lateral_correlates_to_the_tables_beside_it() -> None:
    latest = latest_book()
    stmt = select(authors.c.name, latest.c.title).select_from(authors.join(latest, true()))
    assert str(stmt.compile(dialect=PG)) == (
        "SELECT lt_authors.name, latest.title FROM lt_authors JOIN LATERAL (SELECT lt_books.title "
        "FROM lt_books WHERE lt_books.author_id = lt_authors.id ORDER BY lt_books.id DESC "
        "LIMIT %(limit_1)s) AS latest ON true"
    )
    assert "JOIN LATERAL (SELECT" in str(stmt.compile(dialect=MYSQL))
    assert lateral(select(books.c.id), "x").name == "x"
    with pytest.raises(exc.ArgumentError, match="select"):
        lateral(books)


@pytest.mark.parametrize(("dialect", "database"), [(SQLITE, "SQLite"), (MARIADB, "MariaDB")])
def test_lateral_refused_where_the_database_has_none(dialect: Any, database: str) -> None:
    latest = latest_book()
    with pytest.raises(exc.CompileError, match=f"{database} has no LATERAL"):
        select(authors.c.name, latest.c.title).compile(dialect=dialect)


def test_table_valued_and_column_valued_compile() -> None:
    each = func.json_each(text("'[1, 2]'")).table_valued("value", "key")
    assert str(select(each.c.value).compile(dialect=SQLITE)) == (
        "SELECT anon_1.value FROM json_each('[1, 2]') AS anon_1"
    )
    series = (
        func.generate_series(1, 3)
        .table_valued(column("value", Integer), with_ordinality="n")
        .render_derived()
    )
    assert str(select(series.c.value, series.c.n).compile(dialect=PG)) == (
        "SELECT anon_1.value, anon_1.n FROM generate_series(%(param_1)s, %(param_2)s) "
        "WITH ORDINALITY AS anon_1(value, n)"
    )
    typed = func.f().table_valued(column("a", Integer)).render_derived("t", with_types=True)
    assert str(select(typed.c.a).compile(dialect=PG)) == "SELECT t.a FROM f() AS t(a INTEGER)"
    values = func.generate_series(1, 3).column_valued("v")
    assert str(select(values).compile(dialect=PG)) == (
        "SELECT v AS v FROM generate_series(%(param_1)s, %(param_2)s) AS v"
    )


def test_table_valued_shapes_have_their_own_cache_keys() -> None:
    base = func.generate_series(1, 3)
    keys = {
        select(base.table_valued("a").c.a)._generate_cache_key()[0],
        select(base.table_valued("b").c.b)._generate_cache_key()[0],
        select(base.table_valued("a").render_derived().c.a)._generate_cache_key()[0],
        select(base.table_valued("a", with_ordinality="n").c.a)._generate_cache_key()[0],
    }
    assert len(keys) == 4


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(insert(authors), [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}])
        conn.execute(
            insert(books),
            [
                {"id": 1, "author_id": 1, "title": "first"},
                {"id": 2, "author_id": 1, "title": "second"},
                {"id": 3, "author_id": 2, "title": "only"},
            ],
        )
    yield eng
    eng.dispose()


def test_lateral_on_each_database(engine: Engine, backend: Backend) -> None:
    latest = latest_book()
    stmt = (
        select(authors.c.name, latest.c.title)
        .select_from(authors.join(latest, true()))
        .order_by(authors.c.id)
    )
    with engine.connect() as conn:
        if backend.name != "postgresql":  # SQLite and MariaDB have no LATERAL
            with pytest.raises(exc.CompileError, match="has no LATERAL"):
                conn.execute(stmt)
            return
        assert conn.execute(stmt).all() == [("ann", "second"), ("bob", "only")]


def test_table_valued_function_on_each_database(engine: Engine, backend: Backend) -> None:
    if backend.name == "postgresql":
        rows = func.json_array_elements_text(text('\'["a", "b"]\'::json')).table_valued("value")
        stmt = select(rows.c.value).order_by(rows.c.value)
    elif backend.name == "sqlite":
        rows = func.json_each(text('\'["a", "b"]\'')).table_valued("value")
        stmt = select(rows.c.value).order_by(rows.c.value)
    else:  # MariaDB: JSON_TABLE, its column list given as SQL text
        rows = func.json_table(
            text('\'["a", "b"]\''), text("'$[*]' COLUMNS (value VARCHAR(5) PATH '$')")
        ).table_valued("value")
        stmt = select(rows.c.value).order_by(rows.c.value)
    with engine.connect() as conn:
        assert conn.scalars(stmt).all() == ["a", "b"]


def test_column_valued_on_postgresql(engine: Engine, backend: Backend) -> None:
    if backend.name != "postgresql":
        # SQLite and MariaDB cannot select a FROM alias as a value: the database says so.
        values = func.json_each(text("'[1]'")).column_valued("v")
        with engine.connect() as conn, pytest.raises(exc.DBAPIError):
            conn.execute(select(values))
        return
    values = func.generate_series(text("1"), text("3")).column_valued("v")
    with engine.connect() as conn:
        assert conn.scalars(select(values).where(values > 1)).all() == [2, 3]


def test_a_function_alias_without_columns_selects_its_value() -> None:
    """``select(func.f().alias("x"))`` selects the function's value (as ``.column`` does),
    rather than an empty column list."""
    series = func.generate_series(1, 3).alias("x")
    assert list(series.c.keys()) == ["x"]
    assert str(select(series).compile(dialect=PG)) == (
        "SELECT x AS x FROM generate_series(%(param_1)s, %(param_2)s) AS x"
    )
    anonymous = select(func.f().alias())
    assert str(anonymous) == "SELECT anon_1 AS f FROM f() AS anon_1"
    assert list(anonymous.selected_columns.keys()) == ["f"]


def test_scalar_table_valued_selects_a_field_of_the_returned_row() -> None:
    field = func.json_each(text("'{}'")).scalar_table_valued("key", String)
    assert str(select(field).compile(dialect=PG)) == "SELECT (json_each('{}')).key AS key"
    assert isinstance(field.type, String)


def test_function_alias_and_row_field_on_postgresql(engine: Engine, backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("set-returning functions in FROM and row fields are PostgreSQL's")
    series = func.generate_series(text("1"), text("3")).alias("x")
    keys = func.json_each(text('\'{"a": 1, "b": 2}\'::json')).scalar_table_valued("key")
    with engine.connect() as conn:
        result = conn.execute(select(series))
        assert list(result.keys()) == ["x"] and result.scalars().all() == [1, 2, 3]
        assert conn.scalars(select(keys).order_by(keys)).all() == ["a", "b"]
