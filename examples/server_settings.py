"""Per-database session settings from the tutorials: PostgreSQL connect_args and search_path,
MySQL/MariaDB charset, sql_mode and READ COMMITTED.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/server_settings.py
"""

from __future__ import annotations

import os

from athanor import create_engine, make_url, text


def postgresql_settings(database_url: str) -> None:
    engine = create_engine(
        database_url,
        connect_args={
            "sslmode": "prefer",  # "require" or "verify-full" (with sslrootcert) in production
            "connect_timeout": 10,
        },
    )
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA IF NOT EXISTS app"))
    with engine.connect() as conn:
        conn.execute(text("SET search_path TO app,public"))
        print("search_path:", conn.execute(text("SHOW search_path")).scalar())
    engine.dispose()


def mysql_settings(database_url: str) -> None:
    url = make_url(database_url).update_query_dict({"charset": "utf8mb4"})
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_timeout=30,
        pool_recycle=3600,
        pool_pre_ping=True,
        isolation_level="READ COMMITTED",
        future=True,
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("SET sql_mode = 'STRICT_ALL_TABLES'")
        print("sql_mode:", conn.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar())
        print("isolation:", conn.get_isolation_level())
        print("charset:", conn.exec_driver_sql("SELECT @@character_set_client").scalar())
    engine.dispose()


def main(database_url: str) -> None:
    backend = make_url(database_url).get_backend_name()
    if backend.startswith("postgres"):
        postgresql_settings(database_url)
    elif backend in ("mysql", "mariadb"):
        mysql_settings(database_url)
    else:
        print("nothing server-specific to show for", backend)


if __name__ == "__main__":
    main(os.environ["DATABASE_URL"])
