"""SQLite through the standard library's ``sqlite3`` module.

athanor opens connections in sqlite3's autocommit mode and emits ``BEGIN`` itself (the
module's own implicit transactions would skip DDL and SAVEPOINT).  A transaction begins
lazily: its ``BEGIN`` goes right before its first statement that writes — INSERT, UPDATE,
DELETE, REPLACE, DDL, SAVEPOINT, a pragma that writes the database, anything not known to
only read — so DDL, savepoints and all writes are transactional.  Reads before that (SELECT,
or WITH ... SELECT) run outside it, holding no lock once their rows are fetched: a session
that has only read does not block other connections' commits, as with sqlite3's own
transaction handling.  The Connection's transaction, its events and isolation levels are
the same either way; COMMIT or ROLLBACK of a transaction that never wrote sends nothing.

``connect_args={"autocommit": False}`` (Python 3.12's sqlite3 attribute for transactions
as PEP 249 has them, accepted on every Python version) begins the transaction at its
first statement, reads included, so all its reads see one snapshot; an open transaction
that has read then blocks other connections' commits (in rollback-journal mode) until it
ends.  A ``begin`` event listener that runs ``BEGIN`` (or ``BEGIN IMMEDIATE``) itself does
the same, and no second BEGIN is sent.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from athanor.dialects.sqlite.base import SQLiteDialect
from athanor.engine.default import ConnectArgs

if TYPE_CHECKING:
    from athanor.pool import Pool
    from athanor.url import URL

_MEMORY_NAMES = ("", ":memory:")
_DISCONNECT_MESSAGES = ("cannot operate on a closed database",)
_QUERY_OPTIONS: dict[str, Any] = {
    "timeout": float,
    "check_same_thread": lambda value: value.lower() in ("1", "true", "yes"),
    "uri": lambda value: value.lower() in ("1", "true", "yes"),
    "cached_statements": int,
}


_FIRST_KEYWORD = re.compile(r"\s*([A-Za-z]*)")
_WRITES = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_PRAGMA_WRITES = re.compile(
    r"\s*PRAGMA\s+(?:\w+\s*\.\s*)?"
    r"(?:(?:user_version|application_id|schema_version)\s*[=(]|incremental_vacuum|optimize)",
    re.IGNORECASE,
)
_READ, _WRITE, _OUTSIDE = 0, 1, 2
_KINDS = {
    "SELECT": _READ,
    "VALUES": _READ,
    "EXPLAIN": _READ,
    # The application's own BEGIN, and what SQLite refuses inside a transaction.
    "BEGIN": _OUTSIDE,
    "VACUUM": _OUTSIDE,
    "ATTACH": _OUTSIDE,
    "DETACH": _OUTSIDE,
}


def _kind(sql: str) -> int:
    """What ``sql`` does to the transaction: it only reads, it writes (or may: anything not
    recognised), or it must run outside one.  A pragma writes only when it changes the
    database file (``user_version = 2``); the others set up the connection, some of which
    SQLite refuses (``journal_mode``, ``synchronous``) or ignores (``foreign_keys``) in a
    transaction."""
    match = _FIRST_KEYWORD.match(sql)
    keyword = match.group(1).upper() if match else ""
    if keyword == "WITH":
        return _WRITE if _WRITES.search(sql) else _READ
    if keyword == "PRAGMA":
        return _WRITE if _PRAGMA_WRITES.match(sql) else _OUTSIDE
    return _KINDS.get(keyword, _WRITE)


@lru_cache(maxsize=1024)
def _begins_at_write(sql: str) -> bool:
    """Whether the pending BEGIN goes before ``sql``: it writes.  Cached, as the same
    statements come back on every transaction."""
    return _kind(sql) == _WRITE


@lru_cache(maxsize=1024)
def _begins_at_any(sql: str) -> bool:
    """Whether the pending BEGIN goes before ``sql`` when reads too are in the
    transaction (``autocommit=False``): all but what must run outside one."""
    return _kind(sql) != _OUTSIDE


class PySQLiteDialect(SQLiteDialect):
    """The default SQLite dialect."""

    driver: ClassVar[str] = "pysqlite"
    dbapi_module: ClassVar[str] = "sqlite3"
    install_extra: ClassVar[str] = ""
    default_paramstyle: ClassVar[str] = "qmark"
    requires_explicit_begin: ClassVar[bool] = True
    isolation_levels: ClassVar[tuple[str, ...]] = ("SERIALIZABLE", "READ UNCOMMITTED", "AUTOCOMMIT")

    @staticmethod
    def is_memory_url(url: URL) -> bool:
        """True for ``sqlite://`` and ``sqlite:///:memory:`` (a private database per connection)."""
        database = url.database or ""
        return database in _MEMORY_NAMES or "mode=memory" in database

    def create_connect_args(self, url: URL) -> ConnectArgs:
        database = url.database or ":memory:"
        params: dict[str, Any] = {"database": database, "isolation_level": None}
        for key, value in url.query.items():
            convert = _QUERY_OPTIONS.get(key)
            if convert is None:
                from athanor import exc

                raise exc.ArgumentError(
                    f"Unknown sqlite URL option {key!r}; known options: "
                    f"{', '.join(sorted(_QUERY_OPTIONS))}"
                )
            params[key] = convert(value if isinstance(value, str) else value[-1])
        if database.startswith("file:"):
            params.setdefault("uri", True)
        if not self.is_memory_url(url):
            # Pooled file connections move between threads; each is used by one at a time.
            params.setdefault("check_same_thread", False)
        return [], params

    def get_pool_class(self, url: URL) -> type[Pool]:
        from athanor.pool import QueuePool, SingletonThreadPool

        return SingletonThreadPool if self.is_memory_url(url) else QueuePool

    def get_server_version_info(self, dbapi_connection: Any) -> tuple[int, ...]:
        return sqlite3.sqlite_version_info

    def on_connect(self, dbapi_connection: Any) -> None:
        """Add ``REGEXP`` and ``regexp_replace()`` (Python's :mod:`re`), which SQLite
        declares but does not implement, for ``regexp_match()`` / ``regexp_replace()``."""
        super().on_connect(dbapi_connection)
        dbapi_connection.create_function("regexp", 2, _regexp, deterministic=True)
        dbapi_connection.create_function("regexp_replace", 3, _regexp_replace, deterministic=True)

    def connection_survives_fork(self, dbapi_connection: Any) -> bool:
        """A memory database is a private copy in a forked child, which keeps using it (a
        new connection would see an empty database); a file connection must not be shared."""
        rows = dbapi_connection.execute("PRAGMA database_list").fetchall()
        return any(name == "main" and not file for _, name, file in rows)

    def do_begin(self, dbapi_connection: Any, cursor: Any = None) -> None:
        # A memory database's connection is shared by every Connection of a thread
        # (SingletonThreadPool) or of the engine (StaticPool): the second one joins the
        # transaction the first began, as with sqlite3's own implicit transactions.
        if not dbapi_connection.in_transaction:
            (dbapi_connection if cursor is None else cursor).execute("BEGIN")

    statement_needs_transaction = staticmethod(_begins_at_write)

    def insert_commits_alone(self, table: Any) -> bool:
        # SQLite checks all but deferred foreign keys at the statement: a table with foreign
        # keys keeps its BEGIN, so that a COMMIT failing on one of them fails as a COMMIT.
        return not table.foreign_keys

    def take_connect_args(self, params: dict[str, Any]) -> None:
        """Take ``autocommit`` (sqlite3's attribute from Python 3.12) out of the driver's
        arguments: athanor emits BEGIN itself, and ``False`` asks for reads in the
        transaction too."""
        if "autocommit" not in params:
            return
        autocommit = params.pop("autocommit")
        if autocommit is False:
            self.statement_needs_transaction = _begins_at_any
        elif autocommit != getattr(sqlite3, "LEGACY_TRANSACTION_CONTROL", -1):
            from athanor import exc

            raise exc.ArgumentError(
                f"connect_args autocommit={autocommit!r} is not supported: use "
                "autocommit=False for transactions whose reads see one snapshot, or "
                'isolation_level="AUTOCOMMIT" for statements that commit one by one'
            )

    def do_ping(self, dbapi_connection: Any) -> bool:
        dbapi_connection.execute("SELECT 1").fetchall()
        return True

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        # AUTOCOMMIT is handled by the engine (no BEGIN is emitted); the others map to a pragma.
        uncommitted = 1 if level == "READ UNCOMMITTED" else 0
        dbapi_connection.execute(f"PRAGMA read_uncommitted = {uncommitted}")

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        (value,) = dbapi_connection.execute("PRAGMA read_uncommitted").fetchone()
        return "READ UNCOMMITTED" if value else "SERIALIZABLE"

    def is_disconnect(
        self, error: BaseException, dbapi_connection: Any = None, cursor: Any = None
    ) -> bool:
        return isinstance(error, sqlite3.ProgrammingError) and any(
            message in str(error).lower() for message in _DISCONNECT_MESSAGES
        )


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str | None, value: Any) -> bool | None:
    """``value REGEXP pattern`` (SQLite calls ``regexp(pattern, value)``); NULL stays NULL."""
    if pattern is None or value is None:
        return None
    return _pattern(pattern).search(str(value)) is not None


def _regexp_replace(value: Any, pattern: str | None, replacement: str | None) -> str | None:
    if value is None or pattern is None or replacement is None:
        return None
    return _pattern(pattern).sub(replacement, str(value))


dialect = PySQLiteDialect
