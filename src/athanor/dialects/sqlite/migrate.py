"""Migrations on SQLite: ALTER TABLE can add, drop and rename columns and rename tables; every
other change (type, nullability, default, constraints) recreates the table by copy-and-move.
``now()``, which SQLite does not know, becomes ``CURRENT_TIMESTAMP`` in server defaults."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from athanor.dialects.migrate import MigrationImpl

_CONSTANT = re.compile(r"^(?:[-+]?\d+(?:\.\d*)?|'(?:[^']|'')*'|NULL|TRUE|FALSE)$", re.I)


class SQLiteMigrationImpl(MigrationImpl):
    """SQLite: each revision commits on its own; the table is recreated for most ALTERs."""

    alter_changes: ClassVar[frozenset[str]] = frozenset({"new_column_name"})
    can_alter_constraints: ClassVar[bool] = False

    def add_column_needs_recreate(self, column: Any) -> bool:
        """ADD COLUMN takes no key, no unique, and only a constant default."""
        if column.primary_key or column.foreign_keys or column.unique:
            return True
        default = self.default_sql(column.server_default)
        if default is None:
            return not column.nullable
        return _CONSTANT.match(default.strip()) is None

    def drop_column_needs_recreate(
        self, inspector: Any, table_name: str, column_name: str, schema: str | None
    ) -> bool:
        """DROP COLUMN refuses a column an index or constraint uses."""
        used = set(inspector.get_pk_constraint(table_name, schema)["constrained_columns"])
        for index in inspector.get_indexes(table_name, schema):
            used.update(name for name in index["column_names"] if name)
            if any(name is None for name in index["column_names"]):
                return True
        for unique in inspector.get_unique_constraints(table_name, schema):
            used.update(unique["column_names"])
        for fk in inspector.get_foreign_keys(table_name, schema):
            used.update(fk["constrained_columns"])
        checks = inspector.get_check_constraints(table_name, schema)
        return column_name in used or any(column_name in check["sqltext"] for check in checks)


impl = SQLiteMigrationImpl
