"""The PostgreSQL dialect: compiler, types, DDL and reflection (driver-independent)."""

from __future__ import annotations

from typing import Any, ClassVar

from athanor.dialects.postgresql import types as pg_types
from athanor.dialects.postgresql.compiler import (
    PostgreSQLCompiler,
    PostgreSQLIdentifierPreparer,
)
from athanor.dialects.postgresql.ddl import PostgreSQLDDLCompiler, PostgreSQLTypeCompiler
from athanor.dialects.postgresql.reflection import PostgreSQLReflection
from athanor.engine.default import DefaultDialect


class PostgreSQLDialect(PostgreSQLReflection, DefaultDialect):
    """PostgreSQL: RETURNING everywhere, single-row inserts fetch their key with RETURNING."""

    name: ClassVar[str] = "postgresql"
    default_paramstyle: ClassVar[str] = "pyformat"
    json_path_array: ClassVar[bool] = True
    statement_compiler: ClassVar[type] = PostgreSQLCompiler
    ddl_compiler: ClassVar[type] = PostgreSQLDDLCompiler
    type_compiler: ClassVar[type] = PostgreSQLTypeCompiler
    preparer: ClassVar[type] = PostgreSQLIdentifierPreparer
    colspecs: ClassVar[dict[type, type]] = pg_types.colspecs
    supports_returning: ClassVar[bool] = True
    insert_returning: ClassVar[bool] = True
    supports_dml_in_cte: ClassVar[bool] = True
    supports_arrays: ClassVar[bool] = True
    update_returning: ClassVar[bool] = True
    delete_returning: ClassVar[bool] = True
    implicit_returning_pk: ClassVar[bool] = True
    supports_multivalues_insert: ClassVar[bool] = True
    supports_native_boolean: ClassVar[bool] = True
    supports_native_enum: ClassVar[bool] = True
    supports_native_uuid: ClassVar[bool] = True
    supports_sequences: ClassVar[bool] = True
    native_decimal: ClassVar[bool] = True
    returns_native_bytes: ClassVar[bool] = True
    max_bind_params: ClassVar[int] = 32767
    insertmanyvalues_page_size: ClassVar[int] = 1000

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.identifier_preparer = self.preparer(self)

    def array_placeholder(self, placeholder: str) -> str | None:
        """The placeholder for an array of a multi-row INSERT's column values (see
        ``PostgreSQLCompiler.columnar_rows``), or None to keep the VALUES batches: asyncpg
        encodes thousands of single parameters faster than it encodes their arrays."""
        return None

    def reset_session(self, dbapi_connection: Any) -> None:
        """``DISCARD ALL`` (settings, temporary tables, prepared statements, advisory locks,
        LISTEN): PostgreSQL refuses it inside a transaction, so it runs in autocommit mode.
        Settings given at connect time (libpq ``options``) are defaults and survive it."""
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("DISCARD ALL")
            finally:
                cursor.close()
        finally:
            dbapi_connection.autocommit = autocommit


dialect = PostgreSQLDialect
