"""The SQLite dialect: compiler, types, DDL and reflection for SQLite (driver-independent)."""

from __future__ import annotations

from typing import Any, ClassVar

from athanor.dialects.sqlite import types as sqlite_types
from athanor.dialects.sqlite.compiler import SQLiteCompiler, SQLiteIdentifierPreparer
from athanor.dialects.sqlite.ddl import SQLiteDDLCompiler, SQLiteTypeCompiler
from athanor.dialects.sqlite.reflection import SQLiteReflection
from athanor.engine.default import DefaultDialect


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
