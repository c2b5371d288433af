"""Reading an existing schema (tutorial 003 "Reflection") and DDL inside engine.begin().

Run: DATABASE_URL=mysql://root@127.0.0.1/test python examples/reflection.py
"""

from __future__ import annotations

import os

from athanor import MetaData, create_engine, insert, inspect, select, text


def main(database_url: str) -> list[str]:
    engine = create_engine(database_url)

    # For DDL / queries that need a transaction: begin() commits at the end.
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(50))"))
        conn.execute(text("INSERT INTO users (id, username) VALUES (1, 'legacy')"))

    # Read existing schema
    metadata = MetaData()
    metadata.reflect(bind=engine)
    users = metadata.tables["users"]
    print("columns:", [column.name for column in users.columns])
    print("inspector sees:", inspect(engine).get_table_names())

    with engine.begin() as conn:
        conn.execute(insert(users).values(id=2, username="reflected"))
    with engine.connect() as conn:
        names = list(conn.execute(select(users.c.username).order_by(users.c.id)).scalars())
    print(names)
    engine.dispose()
    return names


if __name__ == "__main__":
    main(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))
