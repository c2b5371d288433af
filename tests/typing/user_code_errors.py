"""User mistakes that mypy --strict must reject (each line marked ``# error:``)."""

from __future__ import annotations

from athanor import Column, Connection, Integer, String, select
from athanor.ext.asyncio import AsyncConnection

user_id = Column("id", Integer, primary_key=True)
user_name = Column("name", String(50))


def mistakes(conn: Connection) -> None:
    conn.execute(123)  # error: call-overload
    conn.execute("SELECT 1")  # error: call-overload
    row = conn.execute(select(user_id, user_name)).one()
    number: int = row._t[1]  # error: assignment
    name: str = conn.execute(select(user_id)).scalar_one()  # error: assignment
    print(number, name)


async def async_mistakes(conn: AsyncConnection) -> None:
    await conn.execute(123)  # error: call-overload
    count: str = await conn.scalar(select(user_id))  # error: assignment
    print(count)
