"""Migrations on MySQL/MariaDB: DDL commits implicitly, so each revision commits on its own;
altering a column restates its whole definition (``MODIFY``), constraints are dropped by kind
(``DROP FOREIGN KEY``, ``DROP INDEX``, ``DROP PRIMARY KEY``) and ``GET_LOCK`` is the advisory
lock."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from athanor import exc
from athanor.dialects.migrate import ColumnChange, MigrationImpl
from athanor.sql import schema

LOCK_TIMEOUT_SECONDS = 365 * 24 * 3600

_USUAL_WIDTHS = {
    "tinyint": (4, 3),
    "smallint": (6, 5),
    "mediumint": (9, 8),
    "int": (11, 10),
    "integer": (11, 10),
    "bigint": (20, 20),
}
"""Integer type -> the display width MariaDB shows when none was asked for (signed,
unsigned)."""

_INTEGER_WIDTH = re.compile(r"^(tinyint|smallint|mediumint|int|integer|bigint)\((\d+)\)(.*)$")


class MySQLMigrationImpl(MigrationImpl):
    """MySQL and MariaDB."""

    restates_column: ClassVar[bool] = True
    foreign_keys_create_indexes: ClassVar[bool] = True
    autoincrement_needs_key: ClassVar[bool] = True
    schema_scoped_constraint_names: ClassVar[frozenset[str]] = frozenset({"fk", "ck"})
    places_added_columns: ClassVar[bool] = True

    def type_signature(self, type_: Any) -> str:
        """NUMERIC is stored (and reflected) as DECIMAL; an integer's display width is left
        out where it is the one the server shows when none was asked for."""
        signature = super().type_signature(type_)
        if signature.startswith("numeric"):
            return "decimal" + signature[7:]
        match = _INTEGER_WIDTH.match(signature)
        if match is not None:
            name, width, rest = match.groups()
            if _USUAL_WIDTHS[name][rest.startswith(" unsigned")] == int(width):
                return name + rest
        return signature

    def column_position(self, after: str | None, first: bool) -> str:
        if first:
            return " FIRST"
        return f" AFTER {self.quote(after)}" if after is not None else ""

    def alter_column(self, change: ColumnChange) -> list[str]:
        table = self.table(change.table_name, change.schema)
        column = self.quote(change.column_name)
        restate = any(change.changes(name) for name in ("type_", "nullable", "comment"))
        statements = []
        if restate:
            if change.final("type_") is None:
                raise exc.CompileError(
                    f"MySQL restates the whole column to alter {change.table_name}."
                    f"{change.column_name}: pass existing_type=... (and existing_nullable, "
                    "existing_server_default, existing_comment) to alter_column"
                )
            keyword = (
                f"CHANGE {column} {self.quote(change.final_name)}"
                if change.changes("new_column_name")
                else f"MODIFY {column}"
            )
            statements.append(f"ALTER TABLE {table} {keyword} {self._restated(change)}")
            return statements
        if change.changes("server_default"):
            default = self.default_sql(change.server_default)
            head = f"ALTER TABLE {table} ALTER COLUMN {column}"
            statements.append(
                f"{head} DROP DEFAULT" if default is None else f"{head} SET DEFAULT {default}"
            )
        if change.changes("new_column_name"):
            new_name = self.quote(change.new_column_name)
            statements.append(f"ALTER TABLE {table} RENAME COLUMN {column} TO {new_name}")
        return statements

    def _restated(self, change: ColumnChange) -> str:
        """The column's full definition after ``change``, without its name."""
        nullable = change.final("nullable")
        column = schema.Column(
            change.final_name,
            change.final("type_"),
            nullable=True if nullable is None else nullable,
            comment=change.final("comment"),
            server_default=self.portable_server_default(change.final("server_default")),
        )
        schema.Table("_athanor_alter", schema.MetaData(), column)
        spec = self.column_spec(column).split(" ", 1)[1]
        return spec + " AUTO_INCREMENT" if change.autoincrement else spec

    def drop_constraint(
        self, name: str, table_name: str, schema: str | None, kind: str | None
    ) -> list[str]:
        table = self.table(table_name, schema)
        if kind == "pk":
            return [f"ALTER TABLE {table} DROP PRIMARY KEY"]
        keyword = {"fk": "FOREIGN KEY", "uq": "INDEX"}.get(kind or "", "CONSTRAINT")
        return [f"ALTER TABLE {table} DROP {keyword} {self.quote(name)}"]

    def needs_constraint_kind(self) -> bool:
        return True

    def lock_statements(self, key: str) -> tuple[str, str] | None:
        """MariaDB returns NULL for a negative (infinite) timeout, so wait up to a year."""
        return (f"SELECT GET_LOCK(:key, {LOCK_TIMEOUT_SECONDS})", "SELECT RELEASE_LOCK(:key)")

    def lock_taken(self, result: Any) -> bool:
        """``GET_LOCK`` answers 1 when it has the lock, 0 on timeout and NULL on error."""
        return bool(result == 1)

    def lock_parameters(self, key: str) -> dict[str, Any]:
        return {"key": key[:64]}


impl = MySQLMigrationImpl
