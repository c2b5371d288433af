"""SQLAlchemy-style Core with athanor (tutorial 002 §1): define a table, create it, insert, query.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/core_quickstart.py
"""

from __future__ import annotations

import os

from athanor import Column, Integer, MetaData, String, Table, create_engine, select


def main(database_url: str) -> list[tuple[str, int]]:
    # Create engine with connection pooling
    engine = create_engine(
        database_url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,  # Verify connections before use
    )

    # Define table schema
    metadata = MetaData()
    users = Table(
        "users",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("username", String(50), unique=True, nullable=False),
        Column("email", String(100), nullable=False),
        Column("age", Integer),
    )

    # Create tables
    metadata.create_all(engine)

    # Insert data
    with engine.connect() as conn:
        stmt = users.insert().values(username="john_doe", email="john@example.com", age=30)
        result = conn.execute(stmt)
        conn.commit()
        print(f"Inserted user with id: {result.inserted_primary_key[0]}")

    # Query data
    found: list[tuple[str, int]] = []
    with engine.connect() as conn:
        stmt = select(users).where(users.c.age > 25)
        result = conn.execute(stmt)

        for row in result:
            print(f"User: {row.username}, Age: {row.age}")
            found.append((row.username, row.age))
    engine.dispose()
    return found


if __name__ == "__main__":
    main(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))
