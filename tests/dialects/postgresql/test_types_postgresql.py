"""PostgreSQL: the driver returns native values, so most types need no result conversion."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor.dialects import postgresql
from athanor.engine import Engine, create_engine
from athanor.exc import ArgumentError
from athanor.ext.asyncio import create_async_engine
from athanor.sql import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    TypeDecorator,
    Uuid,
    insert,
    select,
)
from athanor.sql.types import processors_for
from backends import Backend

dialect = postgresql.dialect()


def test_no_result_processors_for_native_types() -> None:
    types = [Integer(), String(), Numeric(), DateTime(timezone=True), Boolean(), Uuid(), JSON()]
    assert processors_for(types, dialect) is None


def test_json_binds_serialize_and_jsonb_exists() -> None:
    bind = JSON().dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None
    assert bind({"a": [1, None]}) == '{"a": [1, null]}'
    assert issubclass(postgresql.JSONB, postgresql.JSON)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


@pytest.mark.backends("postgresql")
def test_array_and_jsonb_round_trip(engine: Engine) -> None:
    metadata = MetaData()
    t = Table(
        "pg_types",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("tags", postgresql.ARRAY(String(20))),
        Column("doc", postgresql.JSONB),
    )
    metadata.create_all(engine)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        tags=st.lists(
            st.text(
                st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=20,
            ),
            max_size=5,
        ),
        doc=st.dictionaries(
            st.text("abc", max_size=3), st.integers(-1000, 1000) | st.text("xyz", max_size=3)
        ),
    )
    def check(tags: list[str], doc: dict[str, object]) -> None:
        with engine.begin() as conn:
            conn.execute(t.delete())
            conn.execute(t.insert().values(id=1, tags=tags, doc=doc))
            row = conn.execute(select(t.c.tags, t.c.doc).where(t.c.id == 1)).one()
            assert row.tags == tags
            assert row.doc == doc
            if tags:
                assert conn.execute(select(t.c.tags[1])).scalar() == tags[0]

    check()


class Mood(enum.Enum):
    happy = "h"
    sad = "s"


LABELS = ("plain", "with space", 'a "quote"', "comma,brace}", "back\\slash", "NULL", "ünï")


def test_array_text_form_is_parsed() -> None:
    text = '{{plain,"with space"},{"a \\"quote\\"",NULL}}'
    assert postgresql.types.parse_array(text) == [["plain", "with space"], ['a "quote"', None]]
    assert postgresql.types.parse_array("[0:1]={x,y}") == ["x", "y"]
    assert postgresql.types.parse_array("{}") == []


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize("driver", ["psycopg", "psycopg_async", "asyncpg"])
def test_enum_arrays_read_back_as_lists(backend: Backend, driver: str) -> None:
    """Arrays of named enum types come back as lists of labels (or members of the Python enum)
    on every driver, whatever the labels hold, with empty arrays, NULL and NULL elements."""
    metadata = MetaData()
    table = Table(
        "pg_enum_arrays",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("labels", postgresql.ARRAY(Enum(*LABELS, name="pg_label"))),
        Column("moods", postgresql.ARRAY(Enum(Mood, name="pg_mood"))),
        Column("grid", postgresql.ARRAY(Enum(Mood, name="pg_mood"), dimensions=2)),
    )
    rows: list[dict[str, Any]] = [
        {
            "id": 1,
            "labels": [*LABELS, None],
            "moods": [Mood.sad, None, Mood.happy],
            "grid": [[Mood.happy, Mood.sad], [None, Mood.happy]],
        },
        {"id": 2, "labels": [], "moods": [], "grid": []},
        {"id": 3, "labels": None, "moods": None, "grid": None},
    ]
    query = select(table.c.labels, table.c.moods, table.c.grid).order_by(table.c.id)
    expected = [(r["labels"], r["moods"], r["grid"]) for r in rows]
    url = backend.url.replace("postgresql://", f"postgresql+{driver}://", 1)
    if driver == "psycopg":
        engine = create_engine(url)
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
            assert [tuple(r) for r in conn.execute(query)] == expected
        engine.dispose()
        return

    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(insert(table), rows)
            assert [tuple(r) for r in await conn.execute(query)] == expected
        await engine.dispose()

    asyncio.run(run())


class MoodName(TypeDecorator[str]):
    """Stores a mood by its enum type and reads it back upper-cased."""

    impl = Enum(Mood, name="pg_mood_named")
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else Mood[value.lower()]

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.name.upper()


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize("driver", ["psycopg", "psycopg_async", "asyncpg"])
def test_array_options_and_decorated_enum_arrays(backend: Backend, driver: str) -> None:
    """An array of a TypeDecorator over a native enum reads back through the decorator;
    ``as_tuple=True`` gives (nested) tuples; ``zero_indexes=True`` shifts indexes and both
    bounds of slices by one, so ``[0]`` is the first element."""
    metadata = MetaData()
    table = Table(
        "pg_array_options",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("named", postgresql.ARRAY(MoodName())),
        Column("pair", postgresql.ARRAY(Integer, as_tuple=True, dimensions=2)),
        Column("flat", postgresql.ARRAY(String(5), as_tuple=True)),
        Column("zero", postgresql.ARRAY(Integer, zero_indexes=True)),
        Column("one", postgresql.ARRAY(Integer)),
    )
    row = {
        "id": 1,
        "named": ["HAPPY", None, "sad"],
        "pair": [[1, 2], [3, 4]],
        "flat": ["a", "b"],
        "zero": [10, 20, 30],
        "one": [10, 20, 30],
    }
    query = select(
        table.c.named,
        table.c.pair,
        table.c.flat,
        table.c.zero[0],
        table.c.one[1],
        table.c.zero[1:2],
        table.c.one[2:3],
        table.c.pair[1:1],
    )
    expected = (["HAPPY", None, "SAD"], ((1, 2), (3, 4)), ("a", "b"), 10, 10, [20, 30], [20, 30])
    url = backend.url.replace("postgresql://", f"postgresql+{driver}://", 1)

    def check(found: Any) -> None:
        assert tuple(found)[:7] == expected
        assert tuple(found)[7] == ((1, 2),)  # a slice is an array of the same type

    if driver == "psycopg":
        engine = create_engine(url)
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(table), [row])
            check(conn.execute(query).one())
        engine.dispose()
        return

    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(insert(table), [row])
            check((await conn.execute(query)).one())
        await engine.dispose()

    asyncio.run(run())


def test_array_slices_need_both_bounds() -> None:
    column = Column("a", postgresql.ARRAY(Integer, zero_indexes=True))
    assert str(column[0:2].compile(dialect=dialect)) == "a[%(param_1)s : %(param_2)s]"
    assert column[0:2].compile(dialect=dialect).params == {"param_1": 1, "param_2": 3}
    with pytest.raises(ArgumentError, match="both bounds"):
        column[:2]
    grid = Column("g", postgresql.ARRAY(Integer, dimensions=2))
    assert grid[1].type.dimensions == 1 and grid[1][2].type._type_affinity is Integer


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize("driver", ["psycopg", "asyncpg"])
def test_jsonb_key_tests_containment_and_paths(backend: Backend, driver: str) -> None:
    metadata = MetaData()
    docs = Table(
        "pg_jsonb_docs",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("doc", postgresql.JSONB),
    )
    sync_engine = create_engine(backend.url)
    metadata.create_all(sync_engine)
    with sync_engine.begin() as conn:
        conn.execute(
            insert(docs),
            [
                {"id": 1, "doc": {"a": 1, "b": {"c": [10, 20]}, "flag": True}},
                {"id": 2, "doc": {"a": 2, "z": "x"}},
            ],
        )
    sync_engine.dispose()
    queries = {
        "has_key": select(docs.c.id).where(docs.c.doc.has_key("z")),
        "has_all": select(docs.c.id).where(docs.c.doc.has_all(["a", "b"])),
        "has_any": select(docs.c.id).where(docs.c.doc.has_any(["z", "q"])).order_by(docs.c.id),
        "contains": select(docs.c.id).where(docs.c.doc.contains({"a": 1})),
        "contained_by": select(docs.c.id).where(
            docs.c.doc.contained_by({"a": 2, "z": "x", "more": 0})
        ),
        "path": select(docs.c.doc[("b", "c", 1)].as_integer()).where(docs.c.id == 1),
        "flag": select(docs.c.doc["flag"].as_boolean()).where(docs.c.id == 1),
    }
    expected = {
        "has_key": [2],
        "has_all": [1],
        "has_any": [2],
        "contains": [1],
        "contained_by": [2],
        "path": [20],
        "flag": [True],
    }

    async def run_async() -> dict[str, list[Any]]:
        url = backend.url.replace("postgresql://", "postgresql+asyncpg://", 1)
        async_engine = create_async_engine(url)
        try:
            async with async_engine.connect() as conn:
                return {k: list((await conn.execute(q)).scalars()) for k, q in queries.items()}
        finally:
            await async_engine.dispose()

    if driver == "asyncpg":
        found = asyncio.run(run_async())
    else:
        engine = create_engine(backend.url)
        with engine.connect() as conn:
            found = {k: list(conn.execute(q).scalars()) for k, q in queries.items()}
        engine.dispose()
    assert found == expected
    with pytest.raises(ArgumentError, match="operator works on PostgreSQL JSONB"):
        Column("plain", JSON).has_key("a")
