"""The MySQL/MariaDB dialect: compiler, types, DDL and reflection (driver-independent)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from athanor import exc
from athanor.dialects.mysql import types as mysql_types
from athanor.dialects.mysql.compiler import MySQLCompiler, MySQLIdentifierPreparer
from athanor.dialects.mysql.ddl import MySQLDDLCompiler, MySQLTypeCompiler
from athanor.dialects.mysql.reflection import MySQLReflection
from athanor.engine.default import DefaultDialect

if TYPE_CHECKING:
    from athanor.engine.connection import Connection
    from athanor.url import URL


class MySQLDialect(MySQLReflection, DefaultDialect):
    """MySQL and MariaDB; RETURNING on INSERT/DELETE with MariaDB 10.5+."""

    name: ClassVar[str] = "mysql"
    default_paramstyle: ClassVar[str] = "format"
    statement_compiler: ClassVar[type] = MySQLCompiler
    ddl_compiler: ClassVar[type] = MySQLDDLCompiler
    type_compiler: ClassVar[type] = MySQLTypeCompiler
    preparer: ClassVar[type] = MySQLIdentifierPreparer
    colspecs: ClassVar[dict[type, type]] = mysql_types.colspecs
    supports_multivalues_insert: ClassVar[bool] = True
    supports_native_boolean: ClassVar[bool] = False
    supports_native_enum: ClassVar[bool] = True
    supports_native_uuid: ClassVar[bool] = False
    native_decimal: ClassVar[bool] = True
    returns_native_bytes: ClassVar[bool] = True
    implicit_returning_pk: ClassVar[bool] = False
    update_returning: ClassVar[bool] = False
    delete_returning_multifrom: ClassVar[bool] = False
    """MariaDB's DELETE ... RETURNING names one table; DELETE ... USING has none."""
    max_bind_params: ClassVar[int] = 65535
    insertmanyvalues_page_size: ClassVar[int] = 1000
    insert_keys_counted: ClassVar[str | None] = "first"
    json_index_as_path: ClassVar[bool] = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.identifier_preparer = self.preparer(self)
        self.is_mariadb: bool | None = True if self.name == "mariadb" else None
        """Whether the server is MariaDB: known from a ``mariadb://`` URL, else learnt at the
        first connection."""

    @classmethod
    def for_url(cls, url: URL) -> type[DefaultDialect]:
        """For a ``mariadb://`` URL, this driver's MariaDB dialect, named ``"mariadb"``."""
        if url.get_backend_name() == "mariadb" and cls.name != "mariadb":
            return _mariadb_variant(cls)
        return cls

    def _version_string(self, dbapi_connection: Any) -> str:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT VERSION()")
            row = cursor.fetchone()
        finally:
            cursor.close()
        return str(row[0]) if row else ""

    def initialize(self, dbapi_connection: Any) -> None:
        """Learn the server version and whether it is MariaDB (which has RETURNING)."""
        version = self._version_string(dbapi_connection)
        self.is_mariadb = "mariadb" in version.lower()
        if self.name == "mariadb" and not self.is_mariadb:
            raise exc.InvalidRequestError(
                f"The server (version {version}) is MySQL, not MariaDB: connect with a "
                "mysql:// URL instead of mariadb://"
            )
        super().initialize(dbapi_connection)

    def insert_keys_consecutive(self, connection: Connection, table: Any, column: Any) -> bool:
        """Whether a multi-row INSERT into ``table`` that leaves every row's ``column`` to
        AUTO_INCREMENT gets the keys ``lastrowid, lastrowid + 1, ...`` in VALUES order.

        The client reports the key of a multi-row INSERT's first row (MySQL manual,
        "LAST_INSERT_ID()"; MariaDB knowledge base, "mysql_insert_id").  InnoDB gives the
        rows of a "simple insert" (a plain INSERT whose row count is known up front)
        consecutive values under ``innodb_autoinc_lock_mode`` 0 ("traditional") and 1
        ("consecutive"); mode 2 ("interleaved", Galera's and MySQL 8's default) may
        interleave them with other sessions' (MySQL manual, "AUTO_INCREMENT Handling in
        InnoDB").  The step between them is ``auto_increment_increment``.  So this holds, by
        one query here, when the lock mode is 0 or 1, the session's increment is 1, the
        table is a non-partitioned InnoDB table whose ``column`` is its AUTO_INCREMENT
        column, and no trigger on it could set a key itself.  The rows of each such INSERT
        must all leave the key to the database (the flush groups rows by the columns they
        give, so none gives one).
        """
        row = connection.exec_driver_sql(
            "SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment, t.ENGINE, "
            "t.CREATE_OPTIONS, (SELECT c.EXTRA FROM information_schema.COLUMNS c WHERE "
            "c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND "
            "c.COLUMN_NAME = %s), (SELECT COUNT(*) FROM information_schema.TRIGGERS g WHERE "
            "g.EVENT_OBJECT_SCHEMA = t.TABLE_SCHEMA AND g.EVENT_OBJECT_TABLE = t.TABLE_NAME) "
            "FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = COALESCE(%s, DATABASE()) "
            "AND t.TABLE_NAME = %s",
            (column.name, table.schema, table.name),
        ).first()
        if row is None:
            return False
        lock_mode, increment, engine, options, extra, triggers = row
        return (
            int(lock_mode) in (0, 1)
            and int(increment) == 1
            and str(engine).lower() == "innodb"
            and "partitioned" not in str(options or "").lower()
            and "auto_increment" in str(extra or "").lower()
            and not triggers
        )

    def get_server_version_info(self, dbapi_connection: Any) -> tuple[int, ...] | None:
        """``(10, 11, 6)`` from ``SELECT VERSION()`` (``10.11.6-MariaDB-1``)."""
        match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", self._version_string(dbapi_connection))
        if match is None:
            return None
        return tuple(int(part) for part in match.groups() if part is not None)

    def reset_session(self, dbapi_connection: Any) -> None:
        """``COM_RESET_CONNECTION``, sent by the driver's connection (which then restores
        its character set, ``sql_mode``, ``init_command`` and autocommit mode)."""
        dbapi_connection.reset_connection()

    @property
    def supports_returning(self) -> bool:  # type: ignore[override]
        """RETURNING on INSERT and DELETE: MariaDB 10.5+ (assumed until connected)."""
        if self.is_mariadb is None:
            return True
        version = self.server_version_info
        return bool(self.is_mariadb and version is not None and tuple(version[:2]) >= (10, 5))

    insert_returning = delete_returning = supports_returning

    @property
    def supports_sequences(self) -> bool:  # type: ignore[override]
        """CREATE SEQUENCE and ``NEXT VALUE FOR``: MariaDB 10.3+ (assumed until connected).

        There a ``Sequence`` column default generates the column's values (``create_all``
        creates it, the column has no AUTO_INCREMENT unless the sequence is ``optional``);
        on MySQL the column uses AUTO_INCREMENT instead.
        """
        if self.is_mariadb is None:
            return True
        version = self.server_version_info
        return bool(self.is_mariadb and version is not None and tuple(version[:2]) >= (10, 3))

    def sequence_generates(self, column: Any) -> bool:
        """The column's values come from its ``Sequence`` default, not AUTO_INCREMENT."""
        default = column.default
        return bool(
            default is not None
            and default.is_sequence
            and not default.optional
            and self.supports_sequences
        )


_mariadb_variants: dict[str, type[MySQLDialect]] = {}


def _mariadb_variant(dialect_class: type[MySQLDialect]) -> type[MySQLDialect]:
    """``dialect_class`` named ``"mariadb"``, as a ``mariadb://`` URL's dialect is: it answers
    to ``"mariadb"`` first and ``"mysql"`` after (see ``dialect_names()``); one per driver."""
    key = f"{dialect_class.__module__}.{dialect_class.__qualname__}"
    variant = _mariadb_variants.get(key)
    if variant is None:
        variant = _mariadb_variants[key] = type(
            f"MariaDB{dialect_class.__name__}", (dialect_class,), {"name": "mariadb"}
        )
    return variant


dialect = MySQLDialect
