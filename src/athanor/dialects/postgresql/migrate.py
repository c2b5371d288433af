"""Migrations on PostgreSQL: transactional DDL, ``pg_advisory_lock``, enum labels added with
``ALTER TYPE ... ADD VALUE``, and the standard ALTER COLUMN statements."""

from __future__ import annotations

from typing import Any, ClassVar

from athanor.dialects.migrate import MigrationImpl


class PostgreSQLMigrationImpl(MigrationImpl):
    """PostgreSQL runs a whole upgrade in one transaction and rolls it all back on failure."""

    transactional_ddl: ClassVar[bool] = True

    def add_enum_value(
        self, name: str, schema: str | None, value: str, before: str | None, after: str | None
    ) -> str:
        literal = self.compiler.literal
        sql = f"ALTER TYPE {self.table(name, schema)} ADD VALUE IF NOT EXISTS {literal(value)}"
        if before is not None:
            return f"{sql} BEFORE {literal(before)}"
        return f"{sql} AFTER {literal(after)}" if after is not None else sql

    def create_index(self, index: Any, if_not_exists: bool = False) -> list[Any]:
        """``postgresql_concurrently=True`` builds the index without blocking writes."""
        statements = super().create_index(index, if_not_exists)
        if not index.dialect_kwargs.get("postgresql_concurrently"):
            return statements
        sql = statements[0].compile(dialect=self.dialect).string
        return [sql.replace(" INDEX ", " INDEX CONCURRENTLY ", 1)]

    def drop_index(self, index: Any, if_exists: bool = False) -> list[Any]:
        statements = super().drop_index(index, if_exists)
        if not index.dialect_kwargs.get("postgresql_concurrently"):
            return statements
        sql = statements[0].compile(dialect=self.dialect).string
        return [sql.replace("DROP INDEX ", "DROP INDEX CONCURRENTLY ", 1)]

    def add_constraint(self, constraint: Any, not_valid: bool = False) -> list[Any]:
        """``NOT VALID`` adds a foreign key or check without scanning the table; ``ALTER
        TABLE ... VALIDATE CONSTRAINT`` checks the rows later under a lighter lock."""
        statements = super().add_constraint(constraint)
        if not not_valid:
            return statements
        return [statements[0].compile(dialect=self.dialect).string + " NOT VALID"]

    def lock_statements(self, key: str) -> tuple[str, str] | None:
        return (
            "SELECT pg_advisory_lock(hashtext(:key))",
            "SELECT pg_advisory_unlock(hashtext(:key))",
        )

    def portable_default(self, sql: str) -> str:
        """PostgreSQL knows every spelling of "now" itself; defaults stay as written."""
        return sql

    def type_signature(self, type_: Any) -> str:
        signature = super().type_signature(type_)
        return signature.replace("timestamp without time zone", "timestamp").replace(
            "time without time zone", "time"
        )


impl = PostgreSQLMigrationImpl
