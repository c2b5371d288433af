"""SQLite through the standard library's ``sqlite3`` module.

athanor opens connections in sqlite3's autocommit mode and emits ``BEGIN`` itself, so
transactions start exactly when the engine says (the module's own implicit transaction
handling would otherwise delay or skip them, e.g. around DDL).
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


@lru_cache(maxsize=1024)
def _needs_transaction(sql: str) -> bool:
    """Whether ``sql`` runs inside the transaction: all but pragmas, some of which
    (journal_mode) cannot.  Cached, as the same statements come back on every transaction."""
    return not sql.lstrip()[:6].upper().startswith("PRAGMA")


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

    statement_needs_transaction = staticmethod(_needs_transaction)

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
