"""DDL and type names for SQLite.

The auto-increment primary key is declared ``INTEGER`` (whatever integer type it has) so that
it is the table's rowid; ``AUTOINCREMENT`` is added only when the table asks for it with
``sqlite_autoincrement=True``.  SQLite cannot add or drop constraints after creation, so foreign
keys always stay in CREATE TABLE (SQLite accepts references to tables created later, which is
how foreign-key cycles are created).  Types keep their standard names, which SQLite maps to its
storage affinities and which reflection maps back.
"""

from __future__ import annotations

from typing import Any, ClassVar

from athanor import exc
from athanor.sql.ddl import (
    AddConstraint,
    DDLCompiler,
    DropConstraint,
    TypeCompiler,
    dialect_options,
    is_plain_default,
)


class SQLiteTypeCompiler(TypeCompiler):
    """Type DDL names for SQLite."""


class SQLiteDDLCompiler(DDLCompiler):
    """DDL compiler for SQLite."""

    supports_alter: ClassVar[bool] = False
    supports_comments: ClassVar[bool] = False

    def _autoincrement_keyword(self, table: Any) -> bool:
        return bool(dialect_options(table, self.dialect).get("autoincrement"))

    def column_type(self, column: Any) -> str:
        if column.table.autoincrement_column is column:
            return "INTEGER"
        return super().column_type(column)

    def column_extra(self, column: Any) -> str | None:
        table = column.table
        if self._autoincrement_keyword(table) and table.autoincrement_column is column:
            return "PRIMARY KEY AUTOINCREMENT"
        return None

    def primary_key_inline(self, table: Any) -> bool:
        return self._autoincrement_keyword(table) and table.autoincrement_column is not None

    def format_default_expression(self, sql: str) -> str:
        """SQLite wants an expression default in parentheses: ``DEFAULT (datetime('now'))``."""
        return sql if is_plain_default(sql) else f"({sql})"

    def format_referred_table(self, table: Any) -> str:
        """SQLite's REFERENCES names a table of the same schema, unqualified."""
        return self.quote(table.name)

    def format_created_index_name(self, index: Any, name: str) -> str:
        return self.format_index_name(index, name)

    def format_index_table(self, table: Any) -> str:
        return self.quote(table.name)

    def visit_add_constraint(self, add: AddConstraint, **kw: Any) -> str:
        raise exc.CompileError(
            "SQLite can't add a constraint to an existing table (no ALTER TABLE ADD CONSTRAINT); "
            "declare it in the table, or recreate the table"
        )

    def visit_drop_constraint(self, drop: DropConstraint, **kw: Any) -> str:
        raise exc.CompileError(
            "SQLite can't drop a constraint from an existing table; recreate the table instead"
        )
