"""PostgreSQL-only types and expressions: HSTORE, CITEXT, MONEY, BIT, OID/REGCLASS, array(),
array_agg(), aggregate_order_by, Any/All and array containment, through psycopg and asyncpg."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor import exc
from athanor.dialects import postgresql as pg
from athanor.dialects import sqlite
from athanor.engine import create_engine
from athanor.ext.asyncio import create_async_engine
from athanor.sql import (
    ARRAY,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    cast,
    func,
    insert,
    literal,
    operators,
    select,
    text,
)
from backends import Backend

pytestmark = pytest.mark.backends("postgresql")

metadata = MetaData()
things = Table(
    "px_things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("attrs", pg.HSTORE),
    Column("name", pg.CITEXT),
    Column("price", pg.MONEY),
    Column("flags", pg.BIT(4)),
    Column("vflags", pg.BIT(8, varying=True)),
    Column("tags", ARRAY(String)),
    Column("score", Integer),
)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Any]:
    engine = create_engine(backend.url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS hstore"))
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS citext"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(attrs=st.dictionaries(_text, st.none() | _text, max_size=6))
def test_hstore_values_round_trip(engine: Any, attrs: dict[str, str | None]) -> None:
    with engine.begin() as conn:
        conn.execute(things.delete())
        conn.execute(insert(things), [{"id": 1, "attrs": attrs}])
        assert conn.scalar(select(things.c.attrs)) == attrs
        if attrs:
            key = next(iter(attrs))
            # what the server sees is the same map, not a string that happens to parse back
            found = conn.scalar(select(func.exist(things.c.attrs, literal(key))))
            assert found is True


def test_hstore_function_citext_money_and_bits(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(things),
            [{"id": 1, "name": "MiXeD", "price": "12.50", "flags": "1010", "vflags": "101"}],
        )
        assert conn.scalar(select(things.c.id).where(things.c.name == "mixed")) == 1
        assert conn.scalar(select(things.c.price)) in ("$12.50", "12.50")
        assert tuple(conn.execute(select(things.c.flags, things.c.vflags)).one()) == ("1010", "101")
        built = conn.scalar(select(pg.hstore(pg.array(["a", "b"]), pg.array(["1", "2"]))))
        assert built == {"a": "1", "b": "2"}
        assert conn.scalar(select(cast(literal("px_things"), pg.REGCLASS))) == "px_things"
        oid = conn.scalar(select(cast(cast(literal("px_things"), pg.REGCLASS), pg.OID)))
        assert isinstance(oid, int) and oid > 0


def test_array_literal_agg_and_containment(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(things),
            [
                {"id": 1, "tags": ["a", "b"], "score": 3},
                {"id": 2, "tags": ["b", "c"], "score": 1},
                {"id": 3, "tags": ["d"], "score": 2},
            ],
        )
        assert conn.scalar(select(pg.array([1, 2, 3]))) == [1, 2, 3]
        assert conn.scalar(select(pg.array([], type_=Integer))) == []
        ordered = pg.array_agg(pg.aggregate_order_by(things.c.id, things.c.score.desc()))
        assert conn.scalar(select(ordered)) == [1, 3, 2]

        def ids(criterion: Any) -> list[int]:
            return conn.scalars(select(things.c.id).where(criterion).order_by(things.c.id)).all()

        assert ids(things.c.tags.contains(["b"])) == [1, 2]
        assert ids(things.c.tags.contained_by(["a", "b", "d"])) == [1, 3]
        assert ids(things.c.tags.overlap(pg.array(["c", "d"]))) == [2, 3]
        assert ids(pg.Any("c", things.c.tags)) == [2]
        assert ids(pg.All("d", things.c.tags)) == [3]
        assert ids(pg.Any(2, pg.array([1, 2]), operator=operators.gt)) == [1, 2, 3]
        assert ids(pg.Any(2, pg.array([1, 2]), operator=operators.lt)) == []


def test_array_and_hstore_through_asyncpg(engine: Any, backend: Backend) -> None:
    async def main() -> Any:
        async_engine = create_async_engine(backend.async_url())
        try:
            async with async_engine.begin() as conn:
                await conn.execute(
                    insert(things), [{"id": 1, "attrs": {"k": "v", "n": None}, "flags": "0110"}]
                )
                row = (await conn.execute(select(things.c.attrs, things.c.flags))).one()
                agg = await conn.scalar(select(pg.array_agg(things.c.id)))
                return tuple(row), agg
        finally:
            await async_engine.dispose()

    assert asyncio.run(main()) == (({"k": "v", "n": None}, "0110"), [1])


def test_postgresql_only_constructs_are_clear_errors_elsewhere() -> None:
    with pytest.raises(exc.UnsupportedCompilationError, match="sqlite"):
        select(pg.array([1])).compile(dialect=sqlite.dialect())
    with pytest.raises(exc.ArgumentError, match="needs the element type"):
        pg.array([])
    with pytest.raises(exc.ArgumentError, match="HSTORE keys and values are strings"):
        pg.types.format_hstore({"a": 1})
    with pytest.raises(exc.ArgumentError, match="needs a PostgreSQL range expression"):
        things.c.tags.adjacent_to(["a"])


def test_exclude_constraint_refuses_overlapping_rows(backend: Backend) -> None:
    engine = create_engine(backend.url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        bookings = Table(
            "px_bookings",
            MetaData(),
            Column("id", Integer, primary_key=True),
            Column("room", Integer),
            Column("during", pg.INT4RANGE),
            pg.ExcludeConstraint(("room", "="), ("during", "&&"), name="px_no_double_booking"),
        )
        bookings.create(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(bookings),
                [
                    {"id": 1, "room": 1, "during": pg.Range(1, 5)},
                    {"id": 2, "room": 2, "during": pg.Range(1, 5)},  # another room
                    {"id": 3, "room": 1, "during": pg.Range(5, 9)},  # adjacent, not overlapping
                ],
            )
        with (
            pytest.raises(exc.IntegrityError, match="px_no_double_booking"),
            engine.begin() as conn,
        ):
            conn.execute(insert(bookings), [{"id": 4, "room": 1, "during": pg.Range(3, 6)}])
    finally:
        engine.dispose()
    with pytest.raises(exc.ArgumentError, match=r"\(column, operator\) pairs"):
        pg.ExcludeConstraint("room")  # type: ignore[arg-type]


def test_domain_is_created_with_the_tables_and_checks_values(backend: Backend) -> None:
    positive = pg.DOMAIN(
        "px_positive", Integer, not_null=True, check="VALUE > 0", constraint_name="px_gt_zero"
    )
    code = pg.DOMAIN("px_code", String(3), default="'abc'")
    metadata_ = MetaData()
    items = Table(
        "px_items",
        metadata_,
        Column("id", Integer, primary_key=True),
        Column("qty", positive),
        Column("code", code),
    )
    engine = create_engine(backend.url)
    try:
        metadata_.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(items), [{"id": 1, "qty": 3, "code": "xyz"}])
            conn.execute(text("INSERT INTO px_items (id, qty) VALUES (2, 1)"))
            rows = conn.execute(select(items.c.qty, items.c.code).order_by(items.c.id)).all()
            assert [tuple(r) for r in rows] == [(3, "xyz"), (1, "abc")]
        with pytest.raises(exc.IntegrityError, match="px_gt_zero"), engine.begin() as conn:
            conn.execute(insert(items), [{"id": 3, "qty": 0, "code": "a"}])
        metadata_.drop_all(engine)
        with engine.connect() as conn:
            assert not engine.dialect.has_type(conn, "px_positive")
    finally:
        engine.dispose()
    ddl = str(pg.CreateDomainType(positive).compile(dialect=pg.dialect()))
    assert ddl == (
        "CREATE DOMAIN px_positive AS INTEGER NOT NULL CONSTRAINT px_gt_zero CHECK (VALUE > 0)"
    )
    assert str(pg.DropDomainType(code, if_exists=True).compile(dialect=pg.dialect())) == (
        "DROP DOMAIN IF EXISTS px_code"
    )
