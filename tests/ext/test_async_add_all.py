"""AsyncSession.add_all() of many new objects and commit on each async driver: the flush
of a class without relationships (parameters as value rows, keys counted or read back)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from athanor import String, event, inspect, select
from athanor.ext.asyncio import AsyncSession
from athanor.orm import DeclarativeBase, Mapped, mapped_column
from athanor.util.async_adapter import wait_for_background_closes
from backends import Backend
from ext.test_async_cancellation import _engine

pytestmark = pytest.mark.usefixtures("async_driver")

MANY = 1000 + 21


class Base(DeclarativeBase):
    pass


class Reading(Base):
    __tablename__ = "async_batch_reading"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40))


def test_many_new_objects_get_their_rows_keys(backend: Backend) -> None:
    async def main() -> None:
        engine = _engine(backend)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
                await conn.run_sync(Base.metadata.create_all)
            async with AsyncSession(engine, expire_on_commit=False) as session:
                first = [Reading(label=f"r{i}") for i in range(MANY)]
                session.add_all(first)
                await session.commit()
                seen: list[Any] = []

                def before_cursor(
                    conn: Any, cur: Any, sql: str, params: Any, ctx: Any, many: Any
                ) -> None:
                    if ctx.executemany:
                        seen.append(type(ctx.compiled_parameters))

                event.listen(engine.sync_engine, "before_cursor_execute", before_cursor)
                try:
                    second = [Reading(label=f"s{i}") for i in range(MANY)]
                    session.add_all(second)
                    await session.commit()
                finally:
                    event.remove(engine.sync_engine, "before_cursor_execute", before_cursor)
                assert seen and set(seen) == {list}
                rows = dict((await session.execute(select(Reading.id, Reading.label))).all())
                assert rows == {o.id: o.label for o in first + second}
                assert all(inspect(o).persistent for o in first + second)
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
            await wait_for_background_closes()
        finally:
            await engine.dispose()

    asyncio.run(main())
