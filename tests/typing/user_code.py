"""User code that mypy --strict must accept, with the row types it must infer.

Not run by pytest: tests/typing/test_mypy.py type-checks it and compares the revealed types
(the ``# revealed:`` comments) with what mypy reports.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, reveal_type

from athanor import (
    Column,
    Connection,
    CursorResult,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    Row,
    String,
    Table,
    cast,
    create_engine,
    insert,
    literal,
    select,
    text,
)
from athanor.ext.asyncio import AsyncConnection

user_id = Column("id", Integer, primary_key=True)
user_name = Column("name", String(50), nullable=False)
created = Column("created", DateTime)
balance = Column("balance", Numeric(10, 2))
users = Table("users", MetaData(), user_id, user_name, created, balance)


def typed_rows(conn: Connection) -> list[tuple[int, str]]:
    result = conn.execute(select(user_id, user_name).where(user_id > 1).order_by(user_name))
    reveal_type(result)  # revealed: athanor.engine.result.CursorResult[tuple[int, str]]
    row = result.one()
    reveal_type(row)  # revealed: athanor.engine.row.Row[tuple[int, str]]
    reveal_type(row._t)  # revealed: tuple[int, str]
    return [r._tuple() for r in conn.execute(select(user_id, user_name))]


def scalars(conn: Connection) -> None:
    names = conn.scalars(select(user_name)).all()
    reveal_type(names)  # revealed: list[str]
    newest = conn.scalar(select(created).order_by(created.desc()))
    reveal_type(newest)  # revealed: datetime.datetime | None
    total = conn.execute(select(balance)).scalar_one()
    reveal_type(total)  # revealed: decimal.Decimal
    first_ids = conn.execute(select(user_id, user_name)).scalars().first()
    reveal_type(first_ids)  # revealed: int | None


def expressions(conn: Connection) -> None:
    as_text = conn.execute(select(cast(user_id, String), literal(1.5))).one()
    reveal_type(as_text)  # revealed: athanor.engine.row.Row[tuple[str, float]]
    labelled = conn.execute(select(user_name.label("n"))).one()
    reveal_type(labelled)  # revealed: athanor.engine.row.Row[tuple[str]]


async def async_rows(conn: AsyncConnection) -> None:
    result = await conn.execute(select(user_id, user_name))
    reveal_type(result)  # revealed: athanor.engine.result.CursorResult[tuple[int, str]]
    ids = await conn.scalars(select(user_id))
    reveal_type(ids.all())  # revealed: list[int]
    name = await conn.scalar(select(user_name))
    reveal_type(name)  # revealed: str | None
    async with conn.stream(select(created, balance)) as stream:
        async for row in stream:
            reveal_type(row._t)  # revealed: tuple[datetime.datetime, decimal.Decimal]
    streamed = await conn.stream(select(user_id))
    reveal_type(await streamed.scalars().all())  # revealed: list[int]
    reveal_type(await streamed.fetchone())  # revealed: athanor.engine.row.Row[tuple[int]] | None


def untyped_code_still_passes(conn: Connection) -> None:
    result: CursorResult[Any] = conn.execute(text("SELECT 1 AS x"))
    row: Row[Any] | None = result.fetchone()
    if row is not None:
        print(row.x, row._mapping["x"])
    for table_row in conn.execute(select(users)):
        print(table_row.name, table_row[0])
    conn.execute(insert(users), [{"name": "ada", "created": datetime.datetime.now()}])
    conn.execute(users.insert().values(name="alan", balance=Decimal("1.5")))
    print(conn.execute(select(users.c.name)).scalars().all())


def main() -> None:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        users.metadata.create_all(conn)
        typed_rows(conn)
