"""Values bound to ``CHAR(n)``/``NCHAR(n)`` columns keep every character on every PostgreSQL
driver: the parameter cast must not be ``::CHAR``, which PostgreSQL reads as ``CHAR(1)``."""

from __future__ import annotations

import asyncio

import pytest

import athanor as sa
from athanor.dialects.postgresql import ARRAY
from athanor.dialects.postgresql.asyncpg import AsyncpgDialect
from athanor.ext.asyncio import create_async_engine
from backends import Backend

pytestmark = pytest.mark.backends("postgresql")

metadata = sa.MetaData()
codes = sa.Table(
    "fixed_codes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.CHAR(5)),
    sa.Column("national", sa.NCHAR(4)),
    sa.Column("many", ARRAY(sa.CHAR(3))),
)
ROWS = [
    {"id": 1, "code": "abcde", "national": "wxyz", "many": ["abc", "def"]},
    {"id": 2, "code": "fghij", "national": "qrst", "many": ["ghi"]},
    {"id": 3, "code": "klmno", "national": "uvwx", "many": []},
]
EXPECTED = [(r["id"], r["code"], r["national"], r["many"]) for r in ROWS]


def test_fixed_length_strings_are_cast_to_bpchar() -> None:
    sql = str(
        sa.select(codes.c.id)
        .where(codes.c.code == "abcde", codes.c.national == "wxyz", codes.c.many == ["abc"])
        .compile(dialect=AsyncpgDialect())
    )
    assert "$1::BPCHAR" in sql and "$2::BPCHAR" in sql and "$3::BPCHAR[]" in sql
    assert "::CHAR" not in sql and "::NCHAR" not in sql


@pytest.mark.parametrize("driver", ["psycopg", "psycopg_async", "asyncpg"])
def test_fixed_length_values_are_stored_and_matched_whole(backend: Backend, driver: str) -> None:
    one, many = ROWS[0], ROWS[1:]
    matching = sa.select(codes.c.id).where(codes.c.code == "fghij", codes.c.national == "qrst")
    everything = sa.select(codes).order_by(codes.c.id)
    url = f"postgresql+{driver}" + backend.url[backend.url.index(":") :]
    if driver == "psycopg":
        engine = sa.create_engine(url)
        metadata.create_all(engine)
        try:
            with engine.begin() as conn:
                conn.execute(codes.insert(), one)
                conn.execute(codes.insert(), many)
                assert conn.execute(matching).scalar_one() == 2
                assert [tuple(r) for r in conn.execute(everything)] == EXPECTED
        finally:
            engine.dispose()
        return

    async def run() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
                await conn.execute(codes.insert(), one)
                await conn.execute(codes.insert(), many)
                assert (await conn.execute(matching)).scalar_one() == 2
                assert [tuple(r) for r in await conn.execute(everything)] == EXPECTED
        finally:
            await engine.dispose()

    asyncio.run(run())
