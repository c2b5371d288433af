"""The SQLite dialect: compiler, types, DDL and reflection for SQLite (driver-independent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from athanor.dialects.sqlite import types as sqlite_types
from athanor.dialects.sqlite.compiler import SQLiteCompiler, SQLiteIdentifierPreparer
from athanor.dialects.sqlite.ddl import SQLiteDDLCompiler, SQLiteTypeCompiler
from athanor.dialects.sqlite.reflection import SQLiteReflection
from athanor.engine.default import DefaultDialect

if TYPE_CHECKING:
    from athanor.engine.connection import Connection

MAX_ROWID = 2**63 - 1
"""The largest rowid; past it SQLite picks unused rowids at random."""


class SQLiteDialect(SQLiteReflection, DefaultDialect):
    """SQLite; RETURNING from 3.35, up to 32766 bound parameters from 3.32."""

    name: ClassVar[str] = "sqlite"
    default_paramstyle: ClassVar[str] = "qmark"
    statement_compiler: ClassVar[type] = SQLiteCompiler
    ddl_compiler: ClassVar[type] = SQLiteDDLCompiler
    type_compiler: ClassVar[type] = SQLiteTypeCompiler
    preparer: ClassVar[type] = SQLiteIdentifierPreparer
    colspecs: ClassVar[dict[type, type]] = sqlite_types.colspecs
    supports_multivalues_insert: ClassVar[bool] = True
    supports_native_boolean: ClassVar[bool] = False
    supports_native_enum: ClassVar[bool] = False
    supports_native_uuid: ClassVar[bool] = False
    supports_sequences: ClassVar[bool] = False
    native_decimal: ClassVar[bool] = False
    returns_native_bytes: ClassVar[bool] = True
    implicit_returning_pk: ClassVar[bool] = False
    insertmanyvalues_page_size: ClassVar[int] = 1000
    insert_keys_counted: ClassVar[str | None] = "last"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.identifier_preparer = self.preparer(self)

    def reset_session(self, dbapi_connection: Any) -> None:
        """SQLite keeps no session variables or prepared statements visible to SQL, so the
        reset drops what a session leaves behind in its connection: the temporary tables,
        views and triggers.  Pragmas and attached databases stay (connect listeners set
        them up and the next checkout relies on them)."""
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(
                "SELECT type, name FROM sqlite_temp_master "
                "WHERE type IN ('trigger', 'view', 'table') ORDER BY type"
            )
            quote = self.identifier_preparer.quote_identifier
            for kind, name in cursor.fetchall():
                # IF EXISTS: a trigger goes with its table, whichever is dropped first
                cursor.execute(f"DROP {kind.upper()} IF EXISTS temp.{quote(name)}")
        finally:
            cursor.close()

    def insert_keys_follow(
        self, connection: Connection, table: Any, column: Any, first: int, count: int
    ) -> bool:
        """Right after ``connection`` inserted one row into ``table`` (key ``first``): whether
        the next ``count`` rows it inserts there, leaving the key to SQLite, get the keys
        ``first + 1, first + 2 ...`` in order.

        SQLite gives a new row of a rowid table a rowid larger than the table's largest (the
        largest plus one; AUTOINCREMENT: also above any used before), so the rows of an
        INSERT get increasing keys in VALUES order, until the largest rowid, 2**63 - 1, is
        taken: then it picks unused ones at random.  The rows follow ``first`` without a gap
        when all of this holds, checked by one query here: the row just inserted holds the
        largest key (``max(column) == first``: ``column`` is the rowid and nothing else is
        bigger); the keys stay within 2**63 - 1; ``connection`` is inside a transaction, so
        it keeps the write lock it took with that row and nobody else inserts in between;
        and neither the table's database nor ``temp`` has a trigger, which could insert into
        the table in between.  The caller still checks each statement's ``lastrowid`` (its
        last row's key) and ``rowcount``: increasing keys that end where they should are
        these keys, and anything else fails the flush.
        """
        if first + count > MAX_ROWID or not connection.connection.dbapi_connection.in_transaction:
            return False
        quote = self.identifier_preparer.quote
        schema = quote(table.schema) if table.schema else "main"
        row = connection.exec_driver_sql(
            f"SELECT (SELECT max({quote(column.name)}) FROM "
            f"{self.identifier_preparer.format_table(table)}), EXISTS (SELECT 1 FROM "
            f"{schema}.sqlite_master WHERE type = 'trigger' UNION ALL SELECT 1 FROM "
            "temp.sqlite_master WHERE type = 'trigger')"
        ).first()
        return row is not None and row[0] == first and not row[1]

    def returned_keys_in_order(self, connection: Connection, table: Any, keys: list[Any]) -> bool:
        """Whether ``keys``, the rowids one multi-row INSERT into ``table`` gave, sorted, are in
        VALUES order: each row gets the largest rowid plus one, until 2**63 - 1 is taken and
        SQLite picks unused ones at random.  Consecutive keys came one after the other; others
        (a trigger wrote the table in between, or random rowids) are in order unless the
        table now holds 2**63 - 1, read with one query."""
        first, last = keys[0], keys[-1]
        column = table.autoincrement_column
        if not isinstance(first, int) or column is None:
            return True  # not a rowid: nothing to check, as ever
        if last - first == len(keys) - 1:
            return True
        quote = self.identifier_preparer.quote
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(
                f"SELECT max({quote(column.name)}) "
                f"FROM {self.identifier_preparer.format_table(table)}"
            )
            (largest,) = cursor.fetchone()
        finally:
            cursor.close()
        return bool(largest != MAX_ROWID)

    @property
    def supports_returning(self) -> bool:  # type: ignore[override]
        """RETURNING exists from SQLite 3.35 (assumed when the version is not known yet)."""
        version = self.server_version_info
        return version is None or tuple(version) >= (3, 35)

    insert_returning = update_returning = delete_returning = supports_returning

    @property
    def max_bind_params(self) -> int:  # type: ignore[override]
        version = self.server_version_info
        return 999 if version is not None and tuple(version) < (3, 32) else 32766


dialect = SQLiteDialect
