"""A multi-row INSERT without RETURNING sends one array per column through psycopg
(``INSERT ... SELECT * FROM unnest(...)``) and stores exactly what the VALUES batches store."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import athanor as sa
from athanor import event, exc
from athanor.dialects.postgresql import insert as pg_insert
from athanor.dialects.postgresql.asyncpg import AsyncpgDialect
from athanor.dialects.postgresql.compiler import PostgreSQLCompiler
from athanor.dialects.postgresql.psycopg import PsycopgDialect
from athanor.engine import Connection
from athanor.ext.asyncio import create_async_engine
from athanor.sql.compiler import SQLCompiler
from backends import Backend

pytestmark = pytest.mark.backends("postgresql")


class Mood(enum.Enum):
    CALM = "calm"
    BUSY = "busy"


class Tags(sa.TypeDecorator):
    """A user type binding a list of words as one string."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else " ".join(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.split(" ")


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
_OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))

COLUMNS: list[tuple[str, Any, st.SearchStrategy[Any]]] = [
    ("integer", sa.Integer, st.integers(-(2**31), 2**31 - 1)),
    ("bigint", sa.BigInteger, st.integers(-(2**63), 2**63 - 1)),
    ("smallint", sa.SmallInteger, st.integers(-(2**15), 2**15 - 1)),
    ("string", sa.String(40), _TEXT.filter(lambda s: len(s) <= 40)),
    ("text", sa.Text, _TEXT),
    ("boolean", sa.Boolean, st.booleans()),
    ("float", sa.Float, st.floats(allow_nan=False)),
    ("double", sa.Double, st.floats(allow_nan=False)),
    ("numeric", sa.Numeric(14, 4), st.decimals("-9999999999.9999", "9999999999.9999", places=4)),
    ("date", sa.Date, st.dates()),
    ("datetime", sa.DateTime, st.datetimes(dt.datetime(1, 1, 2))),
    (
        "datetime_tz",
        sa.DateTime(timezone=True),
        st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1), timezones=_OFFSETS),
    ),
    ("time", sa.Time, st.times()),
    ("interval", sa.Interval, st.timedeltas(dt.timedelta(days=-9999), dt.timedelta(days=9999))),
    ("binary", sa.LargeBinary, st.binary(max_size=50)),
    ("uuid", sa.Uuid, st.uuids()),
    # Types sent as VALUES rows whatever the values: the batch falls back as a whole.
    ("json", sa.JSON, st.dictionaries(st.text("ab", max_size=2), st.integers(), max_size=2)),
    ("enum", sa.Enum(Mood, name="mood"), st.sampled_from(Mood)),
    ("tags", Tags(60), st.lists(st.text("xyz", min_size=1, max_size=3), min_size=1, max_size=4)),
    ("int_array", sa.ARRAY(sa.Integer), st.lists(st.integers(-5, 5) | st.none(), max_size=3)),
]
ARRAY_SENT = {
    "integer",
    "bigint",
    "smallint",
    "string",
    "text",
    "boolean",
    "float",
    "double",
    "numeric",
    "date",
    "datetime",
    "datetime_tz",
    "time",
    "interval",
    "binary",
    "uuid",
    "tags",  # (a user type binding strings)
}


def _table(metadata: sa.MetaData, name: str) -> sa.Table:
    """A table with a column of each type, a Python-side and a server-side default."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        *[sa.Column(n, type_) for n, type_, _ in COLUMNS],
        sa.Column("stamp", sa.String(10), default="py"),
        sa.Column("server", sa.String(10), server_default="srv"),
    )


@st.composite
def _batches(draw: st.DrawFn) -> tuple[list[str], list[dict[str, Any]]]:
    """Some columns (always the same ones for every row), and 2-5 rows of values or NULLs."""
    columns = draw(
        st.lists(st.sampled_from([n for n, _, _ in COLUMNS]), min_size=1, max_size=5, unique=True)
    )
    strategies = {n: s for n, _, s in COLUMNS}
    rows = draw(
        st.lists(
            st.fixed_dictionaries({n: strategies[n] | st.none() for n in columns}),
            min_size=2,
            max_size=5,
        )
    )
    return columns, [{"seq": n, **row} for n, row in enumerate(rows)]


@contextmanager
def _sent_statements(conn: Connection) -> Iterator[list[str]]:
    """The statements the engine of ``conn`` sends while the block runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(conn.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(conn.engine, "before_cursor_execute", record)


def _stored(conn: Connection, table: sa.Table) -> list[tuple[Any, ...]]:
    columns = [c for c in table.c if c.name != "id"]
    return [tuple(row) for row in conn.execute(sa.select(*columns).order_by(table.c.seq))]


def _tables(conn: Connection) -> tuple[sa.Table, sa.Table]:
    """Two new tables of the same columns: for the executemany and for the single rows."""
    metadata = sa.MetaData()
    tables = _table(metadata, "many_rows"), _table(metadata, "single_rows")
    metadata.drop_all(conn)
    metadata.create_all(conn)
    return tables


def _check_both_ways(
    conn: Connection,
    tables: tuple[sa.Table, sa.Table],
    columns: list[str],
    rows: list[dict[str, Any]],
    array_form: bool,
) -> None:
    """Insert ``rows`` as one executemany (the array form unless a column falls back) and
    one row at a time; both tables must then hold the same values."""
    many, single = tables
    conn.execute(many.delete())
    conn.execute(single.delete())
    with _sent_statements(conn) as seen:
        result = conn.execute(sa.insert(many), rows)
    assert result.rowcount == len(rows)
    assert [p["stamp"] for p in result.last_inserted_params()] == ["py"] * len(rows)
    inserts = [s for s in seen if s.startswith("INSERT INTO many_rows")]
    expected_array = array_form and set(columns) <= ARRAY_SENT
    assert len(inserts) == 1
    assert ("unnest(" in inserts[0]) is expected_array, inserts
    for row in rows:
        conn.execute(sa.insert(single), row)
    assert _stored(conn, many) == _stored(conn, single)


def _run_examples(engine: sa.Engine, examples: int, array_form: bool) -> None:
    with engine.begin() as conn:
        tables = _tables(conn)

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(batch=_batches())
    def check(batch: tuple[list[str], list[dict[str, Any]]]) -> None:
        with engine.begin() as conn:
            _check_both_ways(conn, tables, *batch, array_form=array_form)

    try:
        check()
    finally:
        engine.dispose()


def test_rows_round_trip_as_arrays_as_they_do_as_values(backend: Backend) -> None:
    _run_examples(sa.create_engine(backend.url), 60, array_form=True)


def test_client_side_binding_round_trips(backend: Backend) -> None:
    """psycopg's ClientCursor writes the arrays into the SQL as literals instead."""
    import psycopg

    engine = sa.create_engine(backend.url, connect_args={"cursor_factory": psycopg.ClientCursor})
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection.cursor_factory is psycopg.ClientCursor
    _run_examples(engine, 20, array_form=True)


def test_values_batches_store_the_same_rows(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The VALUES batches (what other dialects use) against single rows, on the same data."""
    monkeypatch.setattr(PostgreSQLCompiler, "columnar_rows", SQLCompiler.columnar_rows)
    _run_examples(sa.create_engine(backend.url), 15, array_form=False)


@pytest.mark.parametrize(("driver", "array_form"), [("asyncpg", False), ("psycopg_async", True)])
def test_async_drivers_round_trip(backend: Backend, driver: str, array_form: bool) -> None:
    """psycopg's async connections send arrays too; asyncpg keeps the VALUES batches."""
    url = backend.url.replace("postgresql://", f"postgresql+{driver}://", 1)

    async def run() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                tables = await conn.run_sync(_tables)
            for batch in _async_examples():
                async with engine.begin() as conn:
                    await conn.run_sync(_check_both_ways, tables, *batch, array_form)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _async_examples() -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
    """Hypothesis examples drawn up front (its runner is synchronous)."""
    found: list[tuple[list[str], list[dict[str, Any]]]] = []

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(batch=_batches())
    def collect(batch: tuple[list[str], list[dict[str, Any]]]) -> None:
        found.append(batch)

    collect()
    return iter(found)


def test_mixed_values_in_a_column_go_as_values_rows(backend: Backend) -> None:
    engine = sa.create_engine(backend.url)
    metadata = sa.MetaData()
    table = _table(metadata, "mixed")
    moments = [dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)]
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            with _sent_statements(conn) as seen:
                conn.execute(
                    sa.insert(table), [{"seq": 1, "integer": True}, {"seq": 2, "integer": 3}]
                )
                conn.execute(sa.insert(table), [{"seq": 3, "datetime_tz": m} for m in moments])
            assert [" VALUES (" in s for s in seen] == [True, True]
            assert conn.execute(
                sa.select(table.c.integer).order_by(table.c.seq).where(table.c.seq < 3)
            ).scalars().all() == [1, 3]
            stored = conn.execute(sa.select(table.c.datetime_tz).where(table.c.seq == 3)).scalars()
            assert {m.tzinfo is not None for m in stored} == {True}
    finally:
        engine.dispose()


def test_statement_shapes_per_driver() -> None:
    metadata = sa.MetaData()
    table = _table(metadata, "shapes")
    rows = [{"seq": 1, "string": "a", "integer": 1}, {"seq": 2, "string": "b", "integer": None}]
    psycopg_steps = sa.insert(table).compile(dialect=PsycopgDialect()).prepare_many([], rows)
    assert [step[0] for step in psycopg_steps] == [
        "INSERT INTO shapes (seq, integer, string, stamp) SELECT * FROM "
        "unnest(%b::INTEGER[], %b::INTEGER[], %b::VARCHAR[], %b::VARCHAR[])"
    ]
    assert psycopg_steps[0][1] == [[1, 2], [1, None], ["a", "b"], ["py", "py"]]
    asyncpg_steps = sa.insert(table).compile(dialect=AsyncpgDialect()).prepare_many([], rows)
    # asyncpg encodes single parameters faster than arrays: VALUES rows.
    assert asyncpg_steps[0][0].endswith(
        "VALUES ($1::INTEGER, $2::INTEGER, $3::VARCHAR, $4::VARCHAR), "
        "($5::INTEGER, $6::INTEGER, $7::VARCHAR, $8::VARCHAR)"
    )
    # RETURNING keeps the VALUES batches (their rows come back in parameter order).
    returning = sa.insert(table).returning(table.c.id).compile(dialect=PsycopgDialect())
    assert " VALUES " in returning.prepare_many([], rows)[0][0]


def test_upsert_and_errors_behave_as_with_values(backend: Backend) -> None:
    engine = sa.create_engine(backend.url)
    metadata = sa.MetaData()
    table = _table(metadata, "upserts")
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            conn.execute(sa.insert(table), [{"id": 1, "seq": 1, "string": "old"}])
            stmt = pg_insert(table)
            stmt = stmt.on_conflict_do_update(
                index_elements=["id"], set_={"string": stmt.excluded.string + "!"}
            )
            with _sent_statements(conn) as seen:
                result = conn.execute(
                    stmt,
                    [{"id": 1, "seq": 1, "string": "new"}, {"id": 2, "seq": 2, "string": "two"}],
                )
            assert "unnest(" in seen[0] and "ON CONFLICT" in seen[0]
            assert result.rowcount == 2
            assert conn.execute(sa.select(table.c.string).order_by(table.c.id)).scalars().all() == [
                "new!",
                "two",
            ]
        with pytest.raises(exc.DataError), engine.begin() as conn:
            # No silent truncation to VARCHAR(40): the server refuses the value.
            conn.execute(
                sa.insert(table), [{"seq": 5, "string": "x" * 41}, {"seq": 6, "string": "y"}]
            )
    finally:
        engine.dispose()
