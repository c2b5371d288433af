"""The databases the benchmark runs on: how to reach them, the schema, and the data states.

Everything here uses the raw drivers only, so the harness works whether or not athanor does.
Each server database gets a private ``athanor_bench`` database (``ATHANOR_BENCH_DATABASE``
names another, so runs that share a server keep apart); SQLite a file on tmpfs when
the machine has one (a file commit there costs microseconds, not a disk flush, so the
single-insert scenario measures the library and not the disk).
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def _bench_database() -> str:
    name = os.environ.get("ATHANOR_BENCH_DATABASE", "athanor_bench")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise SystemExit(
            f"ATHANOR_BENCH_DATABASE={name!r}: use letters, digits and underscores "
            "(it names a database and the SQLite directory)"
        )
    return name


BENCH_DATABASE = _bench_database()
NAMES = ("sqlite", "postgresql", "mysql")
DEFAULT_SERVER_URLS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/test",
    "mysql": "mysql://root@127.0.0.1:3306/test",
}
INSERT_SQL = "INSERT INTO customer (name, description) VALUES (?, ?)"
SELECT_ALL_SQL = "SELECT customer.id, customer.name, customer.description FROM customer"
SELECT_PK_SQL = SELECT_ALL_SQL + " WHERE customer.id = ?"


def customer_tuples(n: int) -> list[tuple[str, str]]:
    """``n`` rows of customer data as DBAPI parameter tuples."""
    return [(f"customer name {i}", f"customer description {i}") for i in range(n)]


def customer_dicts(n: int) -> list[dict[str, str]]:
    """The same rows as :func:`customer_tuples`, as Core parameter dictionaries."""
    return [{"name": name, "description": description} for name, description in customer_tuples(n)]


def server_url(name: str) -> str:
    """The server URL for ``name`` from ATHANOR_BENCH_<NAME>_URL, the test env var, or local."""
    upper = name.upper()
    return os.environ.get(
        f"ATHANOR_BENCH_{upper}_URL",
        os.environ.get(f"ATHANOR_TEST_{upper}_URL", DEFAULT_SERVER_URLS[name]),
    )


class Database:
    """One database under test: raw connections, library URLs, schema and data state.

    ``state`` remembers what the ``customer`` table holds (``("loaded", n)``, ``"empty"`` or
    ``None`` when unknown) so the runner refills it only when a scenario needs other data.
    """

    name: str
    placeholder = "%s"
    driver_name: str
    async_url: str | None = None

    def __init__(self) -> None:
        self.state: tuple[str, int] | str | None = None
        self._admin: Any = None

    # -- connection details (per database hooks) ---------------------------------------------
    @property
    def url(self) -> str:
        """The sync URL handed to both ``athanor.create_engine`` and SQLAlchemy's."""
        raise NotImplementedError

    def raw_connect(self, *, autocommit: bool = False, threadsafe: bool = False) -> Any:
        """A plain DBAPI connection (transactional unless ``autocommit``)."""
        raise NotImplementedError

    def server_side_cursor(self, conn: Any) -> Any:
        """A cursor that streams rows from the server instead of buffering them all."""
        return conn.cursor()

    def server_version(self) -> str:
        raise NotImplementedError

    def driver_version(self) -> str:
        raise NotImplementedError

    def _create_database(self) -> None:
        raise NotImplementedError

    def _create_table_sql(self) -> str:
        raise NotImplementedError

    def _empty_sql(self) -> str:
        return "TRUNCATE TABLE customer"

    def _bulk_fill(self, cur: Any, rows: list[tuple[str, str]]) -> None:
        cur.executemany(self.sql(INSERT_SQL), rows)

    def _after_fill(self, cur: Any) -> None:
        """Make a freshly filled table look the same to whichever implementation reads first."""

    def _kill_other_sessions(self, cur: Any) -> None:
        """Drop connections left behind by a failed implementation (locks would block resets)."""

    # -- generic -------------------------------------------------------------------------------
    def sql(self, text: str) -> str:
        """``text`` with ``?`` placeholders rewritten to this driver's paramstyle."""
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    @property
    def admin(self) -> Any:
        """An autocommit connection the harness uses for schema and data changes."""
        if self._admin is None:
            self._admin = self.raw_connect(autocommit=True)
        return self._admin

    def setup(self) -> None:
        """Create the private database if needed and a fresh ``customer`` table."""
        self._create_database()
        cur = self.admin.cursor()
        cur.execute("DROP TABLE IF EXISTS customer")
        cur.execute(self._create_table_sql())
        self.state = "empty"

    def make_empty(self) -> None:
        """Empty the table and restart its id sequence."""
        self.admin.cursor().execute(self._empty_sql())
        self.state = "empty"

    def make_loaded(self, n: int) -> None:
        """Make the table hold exactly ``n`` rows with ids 1..n (skipped if it already does)."""
        if self.state == ("loaded", n):
            return
        self.make_empty()
        cur = self.admin.cursor()
        self._bulk_fill(cur, customer_tuples(n))
        self._after_fill(cur)
        self.state = ("loaded", n)

    def count(self) -> int:
        cur = self.admin.cursor()
        cur.execute("SELECT count(*) FROM customer")
        return int(cur.fetchone()[0])

    def recover(self) -> None:
        """Get the database usable again after an implementation failed midway."""
        self.state = None
        self._kill_other_sessions(self.admin.cursor())

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    def describe(self) -> str:
        return f"{self.server_version()}, driver {self.driver_name} {self.driver_version()}"


class SQLiteDatabase(Database):
    name = "sqlite"
    placeholder = "?"
    driver_name = "sqlite3"

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__()
        if directory is None:
            shm = Path("/dev/shm")
            base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
            directory = Path(tempfile.gettempdir() if base is None else base) / BENCH_DATABASE
        self.path = directory / "bench.db"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def raw_connect(self, *, autocommit: bool = False, threadsafe: bool = False) -> Any:
        if autocommit:
            return sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        return sqlite3.connect(self.path, check_same_thread=not threadsafe)

    def server_version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version} file on {self.path.parent}"

    def driver_version(self) -> str:
        return "(stdlib)"

    def _create_database(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _create_table_sql(self) -> str:
        return (
            "CREATE TABLE customer (id INTEGER PRIMARY KEY, name VARCHAR(255), "
            "description VARCHAR(255))"
        )

    def _empty_sql(self) -> str:
        return "DELETE FROM customer"

    def recover(self) -> None:
        # A leaked connection may hold the write lock; start over on a new file.
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.setup()
        self.state = None


def _url_parts(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port,
        "user": parts.username,
        "password": parts.password or "",
        "database": parts.path.lstrip("/") or None,
    }


class PostgreSQLDatabase(Database):
    name = "postgresql"
    driver_name = "psycopg"

    def __init__(self) -> None:
        super().__init__()
        self.server = _url_parts(server_url("postgresql"))
        self.server["port"] = self.server["port"] or 5432
        auth = self.server["user"] or "postgres"
        if self.server["password"]:
            auth += ":" + self.server["password"]
        self._netloc = f"{auth}@{self.server['host']}:{self.server['port']}"
        self.async_url = f"postgresql+asyncpg://{self._netloc}/{BENCH_DATABASE}"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self._netloc}/{BENCH_DATABASE}"

    def _connect_kwargs(self, database: str) -> dict[str, Any]:
        return {
            "host": self.server["host"],
            "port": self.server["port"],
            "user": self.server["user"],
            "password": self.server["password"] or None,
            "dbname": database,
        }

    def raw_connect(self, *, autocommit: bool = False, threadsafe: bool = False) -> Any:
        import psycopg

        return psycopg.connect(**self._connect_kwargs(BENCH_DATABASE), autocommit=autocommit)

    async def async_raw_connect(self) -> Any:
        """A plain asyncpg connection to the benchmark database."""
        import asyncpg

        kwargs = self._connect_kwargs(BENCH_DATABASE)
        kwargs["database"] = kwargs.pop("dbname")
        return await asyncpg.connect(**kwargs)

    def server_side_cursor(self, conn: Any) -> Any:
        return conn.cursor(name="bench_stream")

    def server_version(self) -> str:
        cur = self.admin.cursor()
        cur.execute("SHOW server_version")
        return f"PostgreSQL {cur.fetchone()[0].split()[0]}"

    def driver_version(self) -> str:
        import psycopg

        return f"{psycopg.__version__} ({psycopg.pq.__impl__})"

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            **self._connect_kwargs(self.server["database"] or "postgres"), autocommit=True
        ) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DATABASE,)
            ).fetchone()
            if found is None:
                conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
        self.admin.execute("SET lock_timeout = '3s'")

    def _create_table_sql(self) -> str:
        return (
            "CREATE TABLE customer (id SERIAL PRIMARY KEY, name VARCHAR(255), "
            "description VARCHAR(255))"
        )

    def _empty_sql(self) -> str:
        return "TRUNCATE TABLE customer RESTART IDENTITY"

    def _bulk_fill(self, cur: Any, rows: list[tuple[str, str]]) -> None:
        with cur.copy("COPY customer (name, description) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _after_fill(self, cur: Any) -> None:
        # Sets hint bits and statistics now, instead of during the first measured read.
        cur.execute("VACUUM ANALYZE customer")

    def _kill_other_sessions(self, cur: Any) -> None:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (BENCH_DATABASE,),
        )


class MySQLDatabase(Database):
    name = "mysql"
    driver_name = "PyMySQL"

    def __init__(self) -> None:
        super().__init__()
        self.server = _url_parts(server_url("mysql"))
        self.server["port"] = self.server["port"] or 3306
        auth = self.server["user"] or "root"
        if self.server["password"]:
            auth += ":" + self.server["password"]
        self._netloc = f"{auth}@{self.server['host']}:{self.server['port']}"

    @property
    def url(self) -> str:
        return f"mysql+pymysql://{self._netloc}/{BENCH_DATABASE}?charset=utf8mb4"

    def raw_connect(
        self, *, autocommit: bool = False, threadsafe: bool = False, database: str | None = None
    ) -> Any:
        import pymysql

        return pymysql.connect(
            host=self.server["host"],
            port=self.server["port"],
            user=self.server["user"],
            password=self.server["password"],
            database=BENCH_DATABASE if database is None else database,
            charset="utf8mb4",
            autocommit=autocommit,
        )

    def server_side_cursor(self, conn: Any) -> Any:
        import pymysql.cursors

        return conn.cursor(pymysql.cursors.SSCursor)

    def server_version(self) -> str:
        cur = self.admin.cursor()
        cur.execute("SELECT VERSION()")
        return f"MariaDB/MySQL {cur.fetchone()[0].split('-')[0]}"

    def driver_version(self) -> str:
        return metadata.version("PyMySQL")

    def _create_database(self) -> None:
        conn = self.raw_connect(autocommit=True, database=self.server["database"] or "mysql")
        try:
            conn.cursor().execute(
                f"CREATE DATABASE IF NOT EXISTS `{BENCH_DATABASE}` CHARACTER SET utf8mb4"
            )
        finally:
            conn.close()
        self.admin.cursor().execute("SET SESSION lock_wait_timeout = 3")

    def _create_table_sql(self) -> str:
        return (
            "CREATE TABLE customer (id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY, "
            "name VARCHAR(255), description VARCHAR(255)) ENGINE=InnoDB"
        )

    def _kill_other_sessions(self, cur: Any) -> None:
        cur.execute(
            "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
            (BENCH_DATABASE,),
        )
        for (session_id,) in cur.fetchall():
            cur.execute(f"KILL {int(session_id)}")


def make(name: str) -> Database:
    """The :class:`Database` called ``name``."""
    classes: dict[str, type[Database]] = {
        "sqlite": SQLiteDatabase,
        "postgresql": PostgreSQLDatabase,
        "mysql": MySQLDatabase,
    }
    return classes[name]()


def iter_names(selected: str | None) -> Iterator[str]:
    """The databases named in ``--db`` (comma separated), all of them by default."""
    for name in selected.split(",") if selected else NAMES:
        if name not in NAMES:
            raise SystemExit(f"unknown database {name!r}; choose from {', '.join(NAMES)}")
        yield name
