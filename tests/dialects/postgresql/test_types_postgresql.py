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
