"""The mini-lab (tutorial 000 §15.12): a ping table on PostgreSQL, sync then async.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/mini_lab.py
"""

from __future__ import annotations

import asyncio
import os

from athanor import create_engine, make_url, text
from athanor.ext.asyncio import create_async_engine

CREATE = "CREATE TABLE IF NOT EXISTS ping (id serial PRIMARY KEY, ts timestamptz default now())"


def sync_lab(database_url: str) -> int:
    engine = create_engine(database_url, pool_pre_ping=True, future=True)
    with engine.begin() as conn:
        conn.execute(text(CREATE))
        conn.execute(text("INSERT INTO ping DEFAULT VALUES"))
        count = conn.execute(text("SELECT count(*) FROM ping")).scalar_one()
    print(count)
    engine.dispose()
    return int(count)


async def async_lab(async_url: str) -> int:
    engine = create_async_engine(async_url, pool_pre_ping=True, future=True)
    async with engine.begin() as conn:
        await conn.execute(text(CREATE))
        await conn.execute(text("INSERT INTO ping DEFAULT VALUES"))
        count = (await conn.execute(text("SELECT count(*) FROM ping"))).scalar_one()
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT version()"))
        print(result.scalar())
    print(count)
    await engine.dispose()
    return int(count)


def main(database_url: str) -> tuple[int, int]:
    sync_count = sync_lab(database_url)
    async_url = make_url(database_url).set(drivername="postgresql+asyncpg")
    async_count = asyncio.run(async_lab(async_url.render_as_string(hide_password=False)))
    return sync_count, async_count


if __name__ == "__main__":
    main(os.environ["DATABASE_URL"])
