"""``athanor demo``: a short tour of athanor on a real database, printed as it runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

import athanor
from athanor import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    exc,
    func,
    insert,
    inspect,
    select,
    text,
)

DEMO_TABLE = "demo_users"


def run_demo(url: str, out: TextIO, err: TextIO) -> int:
    """Create a table, write and read rows, and show what the pool did; returns 0 on success.

    The demo works only in a table it creates itself: if ``demo_users`` already exists it
    stops (exit status 1) and leaves it alone.
    """
    engine = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
    connects: list[int] = []
    event.listen(engine, "connect", lambda dbapi_connection, record: connects.append(1))
    try:
        if inspect(engine).has_table(DEMO_TABLE):
            print(
                f"athanor demo: error: a table named {DEMO_TABLE} already exists in "
                f"{engine.url}; the demo only works in a table it creates itself. Point --url "
                f"at another database, or drop {DEMO_TABLE} yourself if it is a leftover.",
                file=err,
            )
            return 1
        return _tour(engine, connects, out)
    except exc.AthanorError as error:
        print(f"athanor demo: error: {error}", file=err)
        return 1
    finally:
        engine.dispose()


def _tour(engine: Engine, connects: list[int], out: TextIO) -> int:
    def say(line: str = "") -> None:
        print(line, file=out)

    say(f"athanor {athanor.__version__}: {engine!r}")

    metadata = MetaData()
    users = Table(
        DEMO_TABLE,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("username", String(50), unique=True, nullable=False),
        Column("email", String(100), nullable=False),
        Column("age", Integer),
    )
    users.create(engine)  # fails, rather than adopting it, if the table appeared meanwhile
    say(f"created table {DEMO_TABLE}")
    try:
        _use_table(engine, users, say)
    finally:
        users.drop(engine)
    say(f"physical connections opened: {len(connects)}")
    say("done")
    return 0


def _use_table(engine: Engine, users: Table, say: Callable[[str], None]) -> None:
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
