"""asyncpg specifics: connect args, type round trips, prepared statements, URL variants."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import athanor
from athanor import exc
from athanor.ext.asyncio import AsyncEngine, create_async_engine
from athanor.sql.elements import text
from backends import Backend

pytestmark = pytest.mark.backends("postgresql")


def run(backend: Backend, body: Any, url: str | None = None, **kw: Any) -> Any:
    async def main() -> Any:
        engine = create_async_engine(url or backend.async_url(), **kw)
        try:
            return await body(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_connect_args_reach_asyncpg(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> tuple[str, str]:
        async with engine.connect() as conn:
            name = await conn.scalar(
                text("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")
            )
            with pytest.raises(exc.OperationalError, match=r"[Tt]imeout"):
                await conn.exec_driver_sql("SELECT pg_sleep(2)")
            await conn.rollback()
            still_usable = await conn.scalar(text("SELECT 'ok'"))
            return name, still_usable

    assert run(
        backend,
        body,
        connect_args={"server_settings": {"application_name": "myapp"}, "command_timeout": 0.3},
    ) == ("myapp", "ok")


def test_url_query_becomes_server_settings(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> Any:
        async with engine.connect() as conn:
            return await conn.scalar(text("SHOW application_name"))

    url = backend.async_url() + "?application_name=from_url"
    assert run(backend, body, url=url) == "from_url"


# PostgreSQL's jsonb cannot hold NUL characters; surrogates are not valid UTF-8.
_JSON_TEXT = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8
)

VALUES: dict[str, tuple[str, Any]] = {
    "j": ("json", {"a": [1, 2, {"b": None}], "s": "x"}),
    "jb": ("jsonb", {"nested": {"k": True}, "n": 1.5}),
    "u": ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    "ts": ("timestamp", datetime.datetime(2024, 2, 29, 13, 14, 15, 123456)),
    "tstz": (
        "timestamptz",
        datetime.datetime(2024, 2, 29, 13, 14, 15, tzinfo=datetime.UTC),
    ),
    "d": ("date", datetime.date(1999, 12, 31)),
    "n": ("numeric(12, 4)", decimal.Decimal("12345.6789")),
    "arr": ("integer[]", [1, 2, 3]),
    "tarr": ("text[]", ["a", "b c"]),
    "b": ("boolean", True),
    "by": ("bytea", b"\x00\x01\xff"),
    "iv": ("interval", datetime.timedelta(days=1, seconds=5)),
}


def _normalize(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return uuid.UUID(str(value))
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC)
    return value


def test_types_round_trip_like_psycopg(backend: Backend) -> None:
    columns = ", ".join(f"{name} {sql_type}" for name, (sql_type, _) in VALUES.items())
    names = list(VALUES)

    async def body(engine: AsyncEngine) -> dict[str, Any]:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f"CREATE TABLE typed (id integer PRIMARY KEY, {columns})")
            await conn.execute(
                text(
                    f"INSERT INTO typed (id, {', '.join(names)}) "
                    f"VALUES (1, {', '.join(':' + n for n in names)})"
                ),
                {name: value for name, (_, value) in VALUES.items()},
            )
            placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
            await conn.exec_driver_sql(
                f"INSERT INTO typed (id, {', '.join(names)}) VALUES (2, {placeholders})",
                tuple(value for _, value in VALUES.values()),
            )
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT * FROM typed ORDER BY id"))).mappings().all()
        assert {**rows[0], "id": 0} == {**rows[1], "id": 0}
        return dict(rows[0])

    via_asyncpg = run(backend, body)
    raw = backend.raw_connect()
    try:
        cur = raw.cursor()
        cur.execute(f"SELECT {', '.join(names)} FROM typed WHERE id = 1")
        via_psycopg = dict(zip(names, cur.fetchone(), strict=True))
    finally:
        raw.close()
    for name, (_, value) in VALUES.items():
        assert _normalize(via_asyncpg[name]) == _normalize(value), name
        assert _normalize(via_asyncpg[name]) == _normalize(via_psycopg[name]), name


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers(-(2**31), 2**31) | _JSON_TEXT,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(_JSON_TEXT, children, max_size=4)
        ),
        max_leaves=10,
    ).filter(lambda value: not isinstance(value, str))
)
def test_jsonb_round_trips_any_document(backend: Backend, payload: Any) -> None:
    async def body(engine: AsyncEngine) -> Any:
        async with engine.connect() as conn:
            return await conn.scalar(text("SELECT CAST(:doc AS jsonb)"), {"doc": payload})

    # (A top-level str parameter is JSON text already, as with psycopg, hence the filter.)
    assert run(backend, body) == payload


@pytest.mark.parametrize(
    ("option", "expect_named"),
    [(None, True), ("connect_args", False), ("url", False)],
)
def test_prepared_statement_cache_size_zero_avoids_named_statements(
    backend: Backend, option: str | None, expect_named: bool
) -> None:
    async def body(engine: AsyncEngine) -> int:
        async with engine.connect() as conn:
            for i in range(3):
                await conn.execute(text("SELECT :x + 1"), {"x": i})
                await conn.exec_driver_sql("SELECT 1")
            return int(await conn.scalar(text("SELECT count(*) FROM pg_prepared_statements")))

    url = backend.async_url()
    kw: dict[str, Any] = {}
    if option == "connect_args":
        kw["connect_args"] = {"prepared_statement_cache_size": 0}
    elif option == "url":
        url += "?prepared_statement_cache_size=0"
    named = run(backend, body, url=url, **kw)
    assert (named > 0) is expect_named


def test_prepared_statements_are_reused(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> tuple[int, int]:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT :x + 1"), {"x": 1})
            query = text("SELECT count(*) FROM pg_prepared_statements")
            before = int(await conn.scalar(query))
            for i in range(20):
                await conn.execute(text("SELECT :x + 1"), {"x": i})
            return before, int(await conn.scalar(query))

    before, after = run(backend, body)
    assert after == before


def test_schema_change_clears_stale_statements(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> Any:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("CREATE TABLE shifting (a integer)")
            await conn.exec_driver_sql("INSERT INTO shifting VALUES (1)")
            await conn.commit()
            assert (await conn.exec_driver_sql("SELECT * FROM shifting")).all() == [(1,)]
            await conn.exec_driver_sql("ALTER TABLE shifting ADD COLUMN b text DEFAULT 'x'")
            await conn.commit()
            try:
                rows = (await conn.exec_driver_sql("SELECT * FROM shifting")).all()
            except exc.DBAPIError:
                await conn.rollback()
                rows = (await conn.exec_driver_sql("SELECT * FROM shifting")).all()
            return rows

    assert run(backend, body) == [(1, "x")]


def test_rowcount_of_every_kind_of_statement_matches_psycopg(backend: Backend) -> None:
    """Rows a statement returns are counted from the rows themselves, those it only changes
    from the command tag: both agree with what psycopg reports for the same statements."""
    statements = [
        "INSERT INTO counted VALUES (1), (2), (3)",
        "INSERT INTO counted VALUES (4), (5) RETURNING a",
        "UPDATE counted SET a = a + 10 WHERE a > 2 RETURNING a",
        "UPDATE counted SET a = a + 1 WHERE a < 3",
        "SELECT a FROM counted",
        "SELECT a FROM counted WHERE a < 0",
        "DELETE FROM counted WHERE a > 12 RETURNING a",
        "DELETE FROM counted",
    ]

    async def body(engine: AsyncEngine) -> list[int]:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("CREATE TEMPORARY TABLE counted (a integer)")
            return [(await conn.execute(text(sql))).rowcount for sql in statements]

    counts = run(backend, body)
    assert counts == [3, 2, 3, 2, 5, 0, 3, 2]
    sync = athanor.create_engine(backend.url)
    try:
        with sync.connect() as conn:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE counted (a integer)")
            assert [conn.execute(text(sql)).rowcount for sql in statements] == counts
    finally:
        sync.dispose()


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "postgresql+psycopg_async"])
def test_psycopg_async_driver(backend: Backend, scheme: str) -> None:
    url = scheme + backend.url[backend.url.index(":") :]

    async def body(engine: AsyncEngine) -> tuple[str, Any, int]:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE p (id integer PRIMARY KEY, doc jsonb)")
            await conn.execute(
                text("INSERT INTO p VALUES (:id, :doc)"), [{"id": 1, "doc": '{"a": 1}'}]
            )
        async with engine.connect() as conn:
            doc = await conn.scalar(text("SELECT doc FROM p"))
            streamed = [r async for r in await conn.stream(text("SELECT id FROM p"))]
        return engine.driver, doc, len(streamed)

    assert run(backend, body, url=url) == ("psycopg_async", {"a": 1}, 1)


def test_seed_mini_lab_ping_table(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> tuple[int, str]:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS ping "
                    "(id serial PRIMARY KEY, ts timestamptz default now())"
                )
            )
            await conn.execute(text("INSERT INTO ping DEFAULT VALUES"))
            count = (await conn.execute(text("SELECT count(*) FROM ping"))).scalar_one()
        async with engine.connect() as conn:
            result = await conn.execute(text("SELECT version()"))
            version = result.scalar()
        return count, version

    count, version = run(backend, body, pool_pre_ping=True, pool_size=10, max_overflow=20)
    assert count == 1
    assert version.startswith("PostgreSQL")


def test_driver_sql_with_named_parameters_is_refused_clearly(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        async with engine.connect() as conn:
            with pytest.raises(exc.ProgrammingError, match=r"positional parameters \(\$1"):
                await conn.exec_driver_sql("SELECT $1::int", {"x": 1})
            await conn.rollback()
            assert (await conn.exec_driver_sql("SELECT $1::int", (5,))).scalar() == 5

    run(backend, body)
