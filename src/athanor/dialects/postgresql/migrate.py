"""Migrations on PostgreSQL: transactional DDL, ``pg_advisory_lock``, enum labels added with
``ALTER TYPE ... ADD VALUE``, and the standard ALTER COLUMN statements."""

from __future__ import annotations

from typing import Any, ClassVar

from athanor.dialects.migrate import UNCHANGED, ColumnChange, MigrationImpl
from athanor.sql.schema import Identity


class PostgreSQLMigrationImpl(MigrationImpl):
    """PostgreSQL runs a whole upgrade in one transaction and rolls it all back on failure."""

    transactional_ddl: ClassVar[bool] = True
    identity_columns: ClassVar[bool] = True
    schema_scoped_constraint_names: ClassVar[frozenset[str]] = frozenset({"pk", "uq"})

    def alter_column(self, change: ColumnChange) -> list[str]:
        """A server default that is an ``Identity`` adds, changes or (given None while the
        column has one) drops the column's identity; the rest as the standard says."""
        new, old = change.server_default, change.existing_server_default
        if not change.changes("server_default") or not (
            isinstance(new, Identity) or isinstance(old, Identity)
        ):
            return super().alter_column(change)
        change.server_default, change.existing_server_default = UNCHANGED, None
        statements = super().alter_column(change)
        head = (
            f"ALTER TABLE {self.table(change.table_name, change.schema)} "
            f"ALTER COLUMN {self.quote(change.final_name)}"
        )
        return statements + [f"{head} {clause}" for clause in self._identity_clauses(new, old)]

    def _identity_clauses(self, new: Any, old: Any) -> list[str]:
        if not isinstance(new, Identity):
            return ["DROP IDENTITY IF EXISTS"]
        always = "ALWAYS" if new.always else "BY DEFAULT"
        if not isinstance(old, Identity):
            options = self.compiler.sequence_options(new)
            return [f"ADD GENERATED {always} AS IDENTITY{f' ({options})' if options else ''}"]
        clauses = [f"SET GENERATED {always}"] if bool(new.always) != bool(old.always) else []
        for attribute in ("start", "increment", "minvalue", "maxvalue", "cache"):
            value = getattr(new, attribute)
            if value is not None and value != getattr(old, attribute):
                phrase = self.compiler.sequence_options(Identity(**{attribute: value}))
                clauses.append(f"SET {phrase}")
        if new.cycle is not None and bool(new.cycle) != bool(old.cycle):
            clauses.append("SET CYCLE" if new.cycle else "SET NO CYCLE")
        return [" ".join(clauses)] if clauses else []

    def add_enum_value(
        self, name: str, schema: str | None, value: str, before: str | None, after: str | None
    ) -> str:
        literal = self.compiler.literal
        sql = f"ALTER TYPE {self.table(name, schema)} ADD VALUE IF NOT EXISTS {literal(value)}"
        if before is not None:
            return f"{sql} BEFORE {literal(before)}"
        return f"{sql} AFTER {literal(after)}" if after is not None else sql

    def replace_enum_type(
        self,
        name: str,
        schema: str | None,
        labels: list[str],
        columns: list[tuple[str, str, str | None, int]],
    ) -> list[str]:
        """The statements giving enum type ``name`` exactly ``labels`` (PostgreSQL cannot drop
        or reorder labels in place): the type is renamed aside, created again, each column
        ``(table, column, default, array dimensions)`` converted through text (its default
        dropped and set again), and the old type dropped.  Rows holding a dropped label make
        it fail.  The tables are in the default schema, the type in ``schema``."""
        aside = f"{name}_old"
        type_ref, aside_ref = self.table(name, schema), self.table(aside, schema)
        literal = self.compiler.literal
        statements = [
            f"ALTER TYPE {type_ref} RENAME TO {self.quote(aside)}",
            f"CREATE TYPE {type_ref} AS ENUM ({', '.join(literal(v) for v in labels)})",
        ]
        for table_name, column_name, default, dimensions in columns:
            head = f"ALTER TABLE {self.table(table_name, None)} ALTER COLUMN "
            head += self.quote(column_name)
            if default is not None:
                statements.append(f"{head} DROP DEFAULT")
            column = self.quote(column_name)
            brackets = "[]" * dimensions
            new_type = f"{type_ref}{brackets}"
            statements.append(f"{head} TYPE {new_type} USING {column}::text{brackets}::{new_type}")
            if default is not None:
                statements.append(f"{head} SET DEFAULT {default}")
        statements.append(f"DROP TYPE {aside_ref}")
        return statements

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
