"""asyncpg types parameters from the SQL alone, so typed binds carry a cast (without length)."""

from __future__ import annotations

import asyncio
import decimal

import pytest

import athanor as sa
from athanor import exc
from athanor.dialects.postgresql.asyncpg import AsyncpgDialect
from athanor.ext.asyncio import create_async_engine

pytestmark = pytest.mark.backends("postgresql")


def test_casts_are_rendered_without_lengths() -> None:
    dialect = AsyncpgDialect()
    items = sa.table("items", sa.column("name", sa.String(3)), sa.column("price", sa.Numeric(5, 2)))
    compiled = (
        sa.select(items).where(items.c.name == "x", items.c.price > 1).compile(dialect=dialect)
    )
    assert "$1::VARCHAR" in str(compiled)
    assert "$2::NUMERIC" in str(compiled)
    assert "(3)" not in str(compiled)


def test_untyped_literals_and_typed_binds_work(backend) -> None:
    async def run() -> None:
        engine = create_async_engine(backend.async_url())
        try:
            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        sa.select(
                            sa.literal(5),
                            sa.bindparam("p", "x"),
                            sa.literal(decimal.Decimal("1.25")),
                        ).where(sa.literal(3).in_([1, 2, 3]))
                    )
                ).one()
                assert tuple(row) == (5, "x", decimal.Decimal("1.25"))
                await conn.execute(sa.text("CREATE TABLE short_names (name VARCHAR(3))"))
                names = sa.table("short_names", sa.column("name", sa.String(3)))
                with pytest.raises(exc.DBAPIError):
                    # The cast must not silently truncate: the database rejects the value.
                    await conn.execute(sa.insert(names).values(name="toolong"))
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_json_keys_and_array_indexes_are_typed_by_their_value(backend) -> None:
    metadata = sa.MetaData()
    docs = sa.Table(
        "json_paths",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("doc", sa.JSON),
    )
    by_key = sa.select(docs.c.doc["items"][1]["name"].as_string())
    by_index = sa.select(
        docs.c.doc[0].as_string()
    )  # same shape as doc["k"], another parameter type
    compiled = str(by_key.compile(dialect=AsyncpgDialect()))
    assert "::TEXT" in compiled and "::INTEGER" in compiled

    async def run() -> None:
        engine = create_async_engine(backend.async_url())
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
                await conn.execute(
                    sa.insert(docs), [{"id": 1, "doc": {"items": [{"name": "a"}, {"name": "b"}]}}]
                )
                assert (await conn.execute(by_key)).scalar() == "b"
                await conn.execute(sa.update(docs).values(doc=["first", "second"]))
                assert (await conn.execute(by_index)).scalar() == "first"
                assert (await conn.execute(sa.select(docs.c.doc["k"]))).scalar() is None
                await conn.run_sync(metadata.drop_all)
        finally:
            await engine.dispose()

    asyncio.run(run())
