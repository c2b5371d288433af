"""``athanor demo``: a short tour of athanor on a real database, printed as it runs."""

from __future__ import annotations

from typing import TextIO

import athanor
from athanor import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)


def run_demo(url: str, out: TextIO) -> int:
    """Create a table, write and read rows, and show what the pool did; returns 0 on success."""

    def say(line: str = "") -> None:
        print(line, file=out)

    engine = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
    say(f"athanor {athanor.__version__}: {engine!r}")
    connects: list[int] = []
    event.listen(engine, "connect", lambda dbapi_connection, record: connects.append(1))

    metadata = MetaData()
    users = Table(
        "demo_users",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("username", String(50), unique=True, nullable=False),
        Column("email", String(100), nullable=False),
        Column("age", Integer),
    )
    metadata.drop_all(engine)
    metadata.create_all(engine)
    say("created table demo_users")

    with engine.connect() as conn:
        result = conn.execute(
            insert(users).values(username="john_doe", email="john@example.com", age=30)
        )
        conn.commit()
        say(f"inserted user with id: {result.inserted_primary_key[0]}")

    with engine.begin() as conn:
        conn.execute(
            insert(users),
            [
                {"username": f"user_{i}", "email": f"user_{i}@example.com", "age": 20 + i}
                for i in range(10)
            ],
        )
    say("inserted 10 more users in one transaction")

    with engine.connect() as conn:
        for row in conn.execute(select(users).where(users.c.age > 25).order_by(users.c.id)):
            say(f"User: {row.username}, Age: {row.age}")
        count = conn.execute(select(func.count()).select_from(users)).scalar_one()
        say(f"{count} users in total")
        version = conn.execute(text("SELECT :greeting"), {"greeting": "hello"}).scalar()
        say(f"text() with a bound parameter says: {version}")
        say(f"pool status while a connection is checked out: {engine.pool.status()}")

    say(f"pool status after: {engine.pool.status()}")
    say(f"pool stats: {engine.pool.stats()}")
    say(f"physical connections opened: {len(connects)}")
    metadata.drop_all(engine)
    engine.dispose()
    say("done")
    return 0
