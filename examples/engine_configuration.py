"""Engines as the tutorials configure them: per-database settings, pooling knobs, pool types.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/engine_configuration.py
"""

from __future__ import annotations

import os

from athanor import create_engine, text
from athanor.pool import NullPool, StaticPool


def production_web_engine(database_url: str):
    """The "production web (typical)" settings: a sized pool, pre-ping and recycle."""
    return create_engine(
        database_url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_timeout=30,
        future=True,
    )


def serverless_engine(database_url: str):
    """Serverless/functions: no pooling, a fresh connection per use."""
    return create_engine(database_url, poolclass=NullPool)


def sqlite_test_engine():
    """SQLite in tests: one in-memory database shared by every connection and thread."""
    return create_engine(
        "sqlite://",
        connect_args={"check_same_thread": False},
        poolclass=StaticPool,
        future=True,
    )


def main(database_url: str) -> None:
    engine = production_web_engine(database_url)
    with engine.connect() as conn:
        print("connected:", conn.execute(text("SELECT 1")).scalar())
    print(engine.pool.status())
    engine.dispose()

    engine = serverless_engine(database_url)
    with engine.connect() as conn:
        print("serverless connection works:", conn.execute(text("SELECT 1")).scalar() == 1)
    print(engine.pool.status())

    engine = sqlite_test_engine()
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE shared (x INTEGER)"))
        conn.execute(text("INSERT INTO shared VALUES (1)"))
    with engine.connect() as conn:
        print(
            "in-memory rows seen by another connection:",
            conn.execute(text("SELECT count(*) FROM shared")).scalar(),
        )


if __name__ == "__main__":
    main(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))
