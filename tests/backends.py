"""The databases the test suite runs on, and how each test gets a clean one.

Each test session creates its own database on PostgreSQL and MariaDB (so concurrent runs do
not disturb each other) and drops it at the end; every test starts from an empty schema.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BACKEND_NAMES = ("sqlite", "postgresql", "mysql")

DEFAULT_URLS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/test",
    "mysql": "mysql://root@127.0.0.1:3306/test",
}
ENV_VARS = {
    "postgresql": "ATHANOR_TEST_POSTGRESQL_URL",
    "mysql": "ATHANOR_TEST_MYSQL_URL",
}

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def configured_url(name: str) -> str:
    """The server URL for backend ``name``, from its env var or the local default."""
    return os.environ.get(ENV_VARS[name], DEFAULT_URLS[name])


def _replace_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def _server_params(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port,
        "user": parts.username,
        "password": parts.password or "",
        "database": parts.path.lstrip("/") or None,
    }


def raw_connect(name: str, url: str) -> Any:
    """A plain driver connection to ``url`` (psycopg, PyMySQL or sqlite3), autocommit on."""
    if name == "sqlite":
        return sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
    params = _server_params(url)
    if name == "postgresql":
        import psycopg

        return psycopg.connect(
            host=params["host"],
            port=params["port"] or 5432,
            user=params["user"],
            password=params["password"] or None,
            dbname=params["database"],
            autocommit=True,
            connect_timeout=5,
        )
    import pymysql

    return pymysql.connect(
        host=params["host"],
        port=params["port"] or 3306,
        user=params["user"],
        password=params["password"],
        database=params["database"],
        autocommit=True,
        connect_timeout=5,
        # The suite's own helper connections (one per test at least) skip PyMySQL's
        # per-connect TLS offer and the SSL context it builds for it.
        ssl_disabled=True,
    )


@dataclass
class Backend:
    """One database a behaviour test runs on."""

    name: str
    url: str
    """An athanor URL for this session's private database (sync driver)."""
    database: str
    cleaners: list[Callable[[], None]] = field(default_factory=list)

    def raw_connect(self) -> Any:
        """A plain autocommit driver connection to the test database."""
        return raw_connect(self.name, self.url)

    def kill_session(self, session_id: int) -> None:
        """End a server session from outside (``pg_terminate_backend`` / ``KILL``), as a
        crash or an administrator would."""
        admin = self.raw_connect()
        try:
            cursor = admin.cursor()
            if self.name == "postgresql":
                cursor.execute("SELECT pg_terminate_backend(%s)", (session_id,))
            else:
                cursor.execute(f"KILL {int(session_id)}")
        finally:
            admin.close()

    def server_sessions(self) -> int:
        """Sessions the server has open on the test database, other than the one asking."""
        raw = self.raw_connect()
        try:
            cur = raw.cursor()
            if self.name == "postgresql":
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            else:
                cur.execute(
                    "SELECT count(*) FROM information_schema.processlist "
                    "WHERE db = DATABASE() AND id <> CONNECTION_ID()"
                )
            return int(cur.fetchone()[0])
        finally:
            raw.close()

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def async_url(self) -> str:
        """The same database through the default async driver."""
        scheme = {
            "sqlite": "sqlite+aiosqlite",
            "postgresql": "postgresql+asyncpg",
            "mysql": "mysql+asyncmy",
        }[self.name]
        return scheme + self.url[self.url.index(":") :]

    def reset(self) -> None:
        """Drop everything in the test database so the next test starts clean."""
        if self.name == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(self.database + suffix).unlink(missing_ok=True)
            return
        conn = self.raw_connect()
        try:
            cur = conn.cursor()
            if self.name == "postgresql":
                cur.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_schema%%'")
                drops = "".join(f'DROP SCHEMA "{schema}" CASCADE; ' for (schema,) in cur.fetchall())
                # one round trip and one commit
                cur.execute(f"{drops}DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
            else:
                cur.execute("SET FOREIGN_KEY_CHECKS = 0")
                cur.execute(
                    "SELECT table_name, table_type FROM information_schema.tables "
                    "WHERE table_schema = DATABASE()"
                )
                found: dict[str, list[str]] = {"VIEW": [], "TABLE": []}
                for table, kind in cur.fetchall():  # sequences are dropped as tables
                    quoted = "`" + table.replace("`", "``") + "`"
                    found["VIEW" if kind == "VIEW" else "TABLE"].append(quoted)
                for what, names in found.items():
                    if names:
                        cur.execute(f"DROP {what} IF EXISTS {', '.join(names)}")
                cur.execute("SET FOREIGN_KEY_CHECKS = 1")
        finally:
            conn.close()


class ServerUnavailable(Exception):
    """A configured database server could not be reached."""


def create_session_database(name: str) -> tuple[str, str]:
    """Create this test session's private database on server backend ``name``.

    Returns (athanor url, database name).
    """
    base = configured_url(name)
    database = f"athanor_t_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        conn = raw_connect(name, base)
    except Exception as error:
        raise ServerUnavailable(f"{name} at {_masked(base)} unreachable: {error}") from error
    try:
        cur = conn.cursor()
        if name == "postgresql":
            cur.execute(f'CREATE DATABASE "{database}"')
        else:
            cur.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    finally:
        conn.close()
    return _replace_database(base, database), database


def drop_session_database(name: str, database: str) -> None:
    """Drop a database made by :func:`create_session_database`."""
    conn = raw_connect(name, configured_url(name))
    try:
        cur = conn.cursor()
        if name == "postgresql":
            cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        else:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        conn.close()


def _masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def driver_autocommit(conn: Any) -> bool:
    """Whether the driver connection under athanor Connection ``conn`` is in autocommit
    mode (``get_isolation_level()`` reports the database's level, not the mode)."""
    raw = conn.connection.dbapi_connection
    flag = getattr(raw, "get_autocommit", None)
    if callable(flag):
        return bool(flag())
    if isinstance(raw, sqlite3.Connection):
        return raw.isolation_level is None
    return bool(raw.autocommit)


def settled(probe: Callable[[], int], within: float = 10.0) -> int:
    """Poll ``probe`` until it answers 0 or ``within`` seconds pass; return its last answer.

    Server views lag behind the sessions they describe (MariaDB caches
    ``information_schema.innodb_trx`` for about 100 ms; a closed session leaves the process
    list a moment later, longer on a loaded machine), while a leak stays for good: waiting
    for the count to drop keeps the check meaningful without depending on timing.
    """
    deadline = time.monotonic() + within
    while (found := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def sqlite_backend(directory: Path) -> Backend:
    """A SQLite file backend inside ``directory``."""
    path = directory / "athanor_test.db"
    return Backend("sqlite", f"sqlite:///{path}", str(path))


def iter_names(selected: str | None) -> Iterator[str]:
    """Backends chosen by the ``--backends`` option (comma separated), all by default."""
    names = selected.split(",") if selected else list(BACKEND_NAMES)
    for name in names:
        if name not in BACKEND_NAMES:
            raise ValueError(f"unknown backend {name!r}; choose from {', '.join(BACKEND_NAMES)}")
        yield name


def open_backend(name: str, server_databases: Any, directory: Path) -> Iterator[Backend]:
    """Body of a fixture yielding backend ``name`` (emptied first, cleaned up after);
    ``server_databases`` is the session fixture of that name."""
    if name == "sqlite":
        chosen = sqlite_backend(directory)
    else:
        url, database = server_databases.get(name)
        chosen = Backend(name, url, database)
    chosen.reset()
    yield chosen
    for clean in chosen.cleaners:
        clean()
