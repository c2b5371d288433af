"""Async engines from the tutorials: connect/begin, sync_engine events, asyncpg connect_args,
dispose.

Run: ASYNC_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/test python examples/async_engine.py
"""

from __future__ import annotations

import asyncio
import os

from athanor import event, make_url, text
from athanor.ext.asyncio import create_async_engine


async def main(async_database_url: str) -> list[object]:
    backend = make_url(async_database_url).get_backend_name()
    connect_args: dict[str, object] = {}
    if make_url(async_database_url).get_driver_name() == "asyncpg":
        connect_args = {"server_settings": {"application_name": "myapp"}, "command_timeout": 60}
    engine = create_async_engine(
        async_database_url,
        pool_size=10,
        max_overflow=20,
        pool_timeout=30,
        pool_recycle=1800,
        pool_pre_ping=True,
        connect_args=connect_args,
        future=True,
    )
    seen: list[object] = []

    @event.listens_for(engine.sync_engine, "connect")
    def set_role(dbapi_conn, conn_record):
        cursor = dbapi_conn.cursor()
        if backend.startswith("postgres"):
            cursor.execute("SET app.tenant_id = ''")
        cursor.close()

    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, page VARCHAR(50))")
        )
        await conn.execute(
            text("INSERT INTO visits (id, page) VALUES (:id, :page)"), {"id": 1, "page": "/"}
        )

    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT page FROM visits WHERE id = :id"), {"id": 1})
        seen.append(result.scalar())
        if backend.startswith("postgres"):
            seen.append(
                (await conn.execute(text("SELECT current_setting('app.tenant_id')"))).scalar()
            )
            seen.append(
                (await conn.execute(text("SELECT current_setting('application_name')"))).scalar()
            )
    print(seen)
    await engine.dispose()
    return seen


if __name__ == "__main__":
    asyncio.run(main(os.environ.get("ASYNC_DATABASE_URL", "sqlite+aiosqlite:///./app.db")))
