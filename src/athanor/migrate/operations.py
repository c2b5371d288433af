"""The operations revision scripts call as ``op.<name>(...)``, with Alembic's names and
arguments: tables, columns, indexes, constraints, raw SQL and data.

Each operation builds Core schema objects and runs the Core DDL for them, or the ALTER
statements of the database's :class:`~athanor.dialects.migrate.MigrationImpl`; where the
database cannot make a change with ALTER TABLE (most column changes on SQLite) the table is
recreated by copy-and-move (:mod:`athanor.migrate.batch`), keeping data and indexes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from athanor.dialects.migrate import UNCHANGED, ColumnChange
from athanor.engine.reflection import Inspector
from athanor.migrate.batch import ConstraintSpec, IndexSpec, TableRebuild, recreate_table
from athanor.migrate.util import CommandError
from athanor.sql import ddl
from athanor.sql import types as sqltypes
from athanor.sql.dml import insert
from athanor.sql.elements import text
from athanor.sql.schema import (
    CheckConstraint,
    Column,
    DefaultClause,
    ForeignKeyConstraint,
    Identity,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    conv,
)

_KINDS = {
    "foreignkey": "fk",
    "foreign": "fk",
    "unique": "uq",
    "check": "ck",
    "primary": "pk",
    "primarykey": "pk",
}


def _stub_table(metadata: MetaData, name: str, columns: Sequence[Any], schema: str | None) -> Table:
    """A table named ``name`` with (typeless) columns ``columns``, for rendering DDL."""
    key = f"{schema}.{name}" if schema else name
    table = metadata.tables.get(key) or Table(name, metadata, schema=schema)
    for column in columns:
        if isinstance(column, str) and column not in table.c:
            table.append_column(Column(column, sqltypes.NullType()))
    return table


class Operations:
    """The operations of one migration run (``op`` in revision files)."""

    _current: ClassVar[Operations | None] = None

    def __init__(self, migration_context: Any) -> None:
        self.migration_context = migration_context
        self.impl = migration_context.impl

    @classmethod
    @contextmanager
    def context(cls, migration_context: Any) -> Iterator[Operations]:
        """Make an :class:`Operations` on ``migration_context`` the one ``op`` refers to."""
        previous = cls._current
        cls._current = operations = cls(migration_context)
        try:
            yield operations
        finally:
            cls._current = previous

    @classmethod
    def current(cls) -> Operations:
        if cls._current is None:
            raise CommandError(
                "athanor.migrate.op is only usable inside a revision's upgrade()/downgrade() "
                "run by 'athanor migrate'"
            )
        return cls._current

    # --- general ----------------------------------------------------------------------------

    def get_bind(self) -> Any:
        """The connection the migration runs on (None with ``--sql``)."""
        return self.migration_context.bind

    def get_context(self) -> Any:
        return self.migration_context

    @staticmethod
    def f(name: str) -> conv:
        """A constraint name to use as given, bypassing the naming convention."""
        return conv(name)

    def execute(self, sqltext: Any, execution_options: dict[str, Any] | None = None) -> Any:
        """Run SQL: a string (taken as ``text()``), ``text()``, or a Core statement."""
        if isinstance(sqltext, str):
            sqltext = text(sqltext)
        return self.migration_context.execute(sqltext, execution_options)

    def _run(self, statements: Sequence[Any]) -> None:
        for statement in statements:
            self.migration_context.execute(statement)

    def _metadata(self) -> MetaData:
        """A MetaData with the naming convention of env.py's ``target_metadata``, so that
        constraints and indexes created without a name get the names the models give them."""
        convention = getattr(
            self.migration_context.opts.get("target_metadata"), "naming_convention", None
        )
        return MetaData(naming_convention=convention) if convention else MetaData()

    def _inspector(self) -> Inspector | None:
        if self.migration_context.as_sql:
            return None
        return Inspector(self.migration_context.connection)

    def _recreate(self, table_name: str, schema: str | None, edit: Any) -> None:
        recreate_table(self.migration_context, table_name, schema, [edit])

    # --- tables -----------------------------------------------------------------------------

    def create_table(self, table_name: str, *columns: Any, **kw: Any) -> Table:
        """``CREATE TABLE`` with columns and constraints as in ``Table(...)``; also creates
        indexes of ``index=True`` columns, comments and native enum types it needs.
        Returns the ``Table`` (handy for :meth:`bulk_insert`)."""
        metadata = kw.pop("_metadata", None) or self._metadata()
        items = [self._portable(item) for item in columns]
        table = Table(table_name, metadata, *items, **kw)
        self._stub_referred(table)
        self._create_enum_types(table)
        self.migration_context.execute(ddl.CreateTable(table))
        self._offline_autoincrement(table_name, table.schema, table.autoincrement_column)
        compiler = self.impl.compiler
        if compiler.supports_comments and not compiler.inline_comments:
            if table.comment is not None:
                self.migration_context.execute(ddl.SetTableComment(table))
            for column in table.columns:
                if column.comment is not None:
                    self.migration_context.execute(ddl.SetColumnComment(column))
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            self.migration_context.execute(ddl.CreateIndex(index))
        return table

    def _portable(self, item: Any) -> Any:
        """``item`` with its server default in this database's spelling (``now()`` on SQLite
        becomes ``CURRENT_TIMESTAMP``); the column is changed in place."""
        if isinstance(item, Column) and item.server_default is not None:
            arg = getattr(item.server_default, "arg", None)
            if arg is not None:
                portable = self.impl.portable_server_default(arg)
                if portable is not arg:
                    item.server_default = DefaultClause(portable)
                    item.server_default._set_parent(item)
        return item

    def _stub_referred(self, table: Table) -> None:
        """Stub tables for the tables foreign keys refer to, so their DDL can be rendered."""
        for constraint in list(table.foreign_key_constraints):
            for element in constraint.elements:
                schema, referred, column = element._table_and_column()
                if referred == table.name and schema == table.schema:
                    continue
                _stub_table(table.metadata, referred, [column], schema)

    def _create_enum_types(self, table: Table) -> None:
        if not self.impl.compiler.supports_native_enum_types:
            return
        for enum_type in ddl._native_enums([table], self.migration_context.dialect):
            connection = self.migration_context.connection
            if connection is not None and self.migration_context.dialect.has_type(
                connection, enum_type.name, enum_type.schema
            ):
                continue
            self.migration_context.execute(ddl.CreateEnumType(enum_type))

    def _offline_autoincrement(
        self, table_name: str, schema: str | None, column: Column | None, known: bool = True
    ) -> None:
        """Note, with ``--sql``, the table's AUTO_INCREMENT column as this run defines it (or
        forget the table when ``known`` is False), for dropping its primary key later."""
        context = self.migration_context
        if context.as_sql and self.impl.autoincrement_needs_key:
            if known:
                context.offline_autoincrement[(schema, table_name)] = column
            else:
                context.offline_autoincrement.pop((schema, table_name), None)

    def drop_table(self, table_name: str, schema: str | None = None, **kw: Any) -> None:
        """``DROP TABLE``; on PostgreSQL the native enum types only this table used go too."""
        self._offline_autoincrement(table_name, schema, None, known=False)
        enum_types = self._enum_types_of(table_name, schema)
        self.migration_context.execute(ddl.DropTable(Table(table_name, MetaData(), schema=schema)))
        self._drop_unused_enum_types(enum_types)

    def _drop_unused_enum_types(self, enum_types: list[tuple[str, str | None]]) -> None:
        """Drop the native enum types of ``enum_types`` that no column uses any more."""
        connection = self.migration_context.connection
        dialect = self.migration_context.dialect
        for name, type_schema in enum_types:
            if not dialect.is_type_in_use(connection, name, type_schema):
                self.migration_context.execute(
                    ddl.DropEnumType(sqltypes.Enum(name=name, schema=type_schema))
                )

    def _enum_types_of(
        self, table_name: str, schema: str | None, column_name: str | None = None
    ) -> list[tuple[str, str | None]]:
        """The native enum types the table's columns (or one column) use, on PostgreSQL."""
        inspector = self._inspector()
        if inspector is None or not self.impl.compiler.supports_native_enum_types:
            return []
        found = []
        for column in inspector.get_columns(table_name, schema):
            type_ = ddl.enum_of(column["type"], self.migration_context.dialect)[0]
            if column_name is not None and column["name"] != column_name:
                continue
            if type_ is not None and type_.native_enum and type_.name:
                found.append((type_.name, type_.schema))
        return found

    def rename_table(
        self, old_table_name: str, new_table_name: str, schema: str | None = None
    ) -> None:
        """``ALTER TABLE old RENAME TO new``."""
        self._offline_autoincrement(old_table_name, schema, None, known=False)
        self._run(self.impl.rename_table(old_table_name, new_table_name, schema))

    # --- columns ----------------------------------------------------------------------------

    def add_column(
        self,
        table_name: str,
        column: Column,
        schema: str | None = None,
        *,
        insert_before: str | None = None,
        insert_after: str | None = None,
        **kw: Any,
    ) -> None:
        """``ALTER TABLE ... ADD COLUMN``, plus its foreign keys and comment.
        ``insert_before`` / ``insert_after`` place the column where the database can say
        where (MySQL/MariaDB); elsewhere it goes last (a batch recreation places it)."""
        column = self._portable(column)
        if self.impl.add_column_needs_recreate(column):
            self._recreate(
                table_name, schema, lambda t: t.add_column(column, insert_before, insert_after)
            )
            return
        after, first = insert_after, False
        if insert_before is not None and self.impl.places_added_columns:
            after, first = self._column_before(table_name, schema, insert_before)
        metadata = self._metadata()
        table = Table(table_name, metadata, column, schema=schema)
        self._stub_referred(table)
        self._create_enum_types(table)
        self._run(self.impl.add_column(column, after, first))
        for constraint in sorted(table.foreign_key_constraints, key=lambda c: str(c.name)):
            self.migration_context.execute(ddl.AddConstraint(constraint))
        compiler = self.impl.compiler
        if (
            column.comment is not None
            and compiler.supports_comments
            and not compiler.inline_comments
        ):
            self.migration_context.execute(ddl.SetColumnComment(column))

    def drop_column(
        self, table_name: str, column_name: str, schema: str | None = None, **kw: Any
    ) -> None:
        """``ALTER TABLE ... DROP COLUMN`` (by copy-and-move where the database needs it)."""
        inspector = self._inspector()
        if inspector is not None and self.impl.drop_column_needs_recreate(
            inspector, table_name, column_name, schema
        ):
            self._recreate(table_name, schema, lambda t: t.drop_column(column_name))
            return
        enum_types = self._enum_types_of(table_name, schema, column_name)
        self._run(self.impl.drop_column(table_name, column_name, schema))
        self._drop_unused_enum_types(enum_types)

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        nullable: bool | None = None,
        comment: Any = False,
        server_default: Any = False,
        new_column_name: str | None = None,
        type_: Any = None,
        existing_type: Any = None,
        existing_server_default: Any = False,
        existing_nullable: bool | None = None,
        existing_comment: str | None = None,
        schema: str | None = None,
        postgresql_using: Any = None,
        autoincrement: bool | None = None,
        **kw: Any,
    ) -> None:
        """Change a column's type, nullability, server default, comment or name."""
        change = ColumnChange(
            table_name=table_name,
            column_name=column_name,
            schema=schema,
            nullable=UNCHANGED if nullable is None else nullable,
            type_=UNCHANGED if type_ is None else sqltypes.to_instance(type_),
            server_default=UNCHANGED if server_default is False else server_default,
            comment=UNCHANGED if comment is False else comment,
            new_column_name=UNCHANGED if new_column_name is None else new_column_name,
            using=postgresql_using,
            existing_type=sqltypes.to_instance(existing_type)
            if existing_type is not None
            else None,
            existing_nullable=existing_nullable,
            existing_server_default=None
            if existing_server_default is False
            else existing_server_default,
            existing_comment=existing_comment,
            autoincrement=autoincrement,
        )
        if self.impl.needs_recreate(change):
            self._recreate(table_name, schema, lambda t: t.alter_column(change))
            return
        if (
            self.impl.identity_columns
            and change.changes("server_default")
            and change.existing_server_default is None
        ):
            change.existing_server_default = self._identity_of(table_name, column_name, schema)
        if self.impl.restates_column:
            self._fill_existing(change)
            if autoincrement is not None and not change.changes("type_"):
                # AUTO_INCREMENT is part of the column's definition: restate the column.
                change.type_ = change.existing_type
        replaced = self._enum_type_change(change)
        self._run(self.impl.alter_column(change))
        self._drop_unused_enum_types(replaced)
        if autoincrement is not None:
            type_ = change.final("type_")
            self._offline_autoincrement(
                table_name,
                schema,
                Column(change.final_name, type_, comment=change.final("comment"))
                if autoincrement
                else None,
                known=not autoincrement or type_ is not None,
            )

    def _enum_type_change(self, change: ColumnChange) -> list[tuple[str, str | None]]:
        """For a column becoming a native enum (PostgreSQL): the type is created first and the
        values converted through text; for one leaving an enum type, that type (returned) is
        dropped afterwards if no column uses it any more."""
        if not (self.impl.compiler.supports_native_enum_types and change.changes("type_")):
            return []
        new = change.type_
        column = self.impl.quote(change.column_name)
        before = self._enum_types_of(change.table_name, change.schema, change.column_name)
        if isinstance(new, sqltypes.Enum) and new.native_enum and new.name:
            stub = Table(
                change.table_name, MetaData(), Column(change.column_name, new), schema=None
            )
            self._create_enum_types(stub)
            if change.using is None:
                change.using = f"{column}::text::{self.impl.table(new.name, new.schema)}"
            return [item for item in before if item != (new.name, new.schema)]
        if before and change.using is None and isinstance(new, sqltypes.String):
            change.using = f"{column}::text"
        return before

    def _identity_of(self, table_name: str, column_name: str, schema: str | None) -> Any:
        """The column's ``Identity`` as the database has it now (None offline or if none)."""
        inspector = self._inspector()
        if inspector is None:
            return None
        for info in inspector.get_columns(table_name, schema):
            if info["name"] == column_name and info.get("identity"):
                return Identity(**info["identity"])
        return None

    def _fill_existing(self, change: ColumnChange) -> None:
        """Read what the column is now, for databases that restate the whole column."""
        inspector = self._inspector()
        if inspector is None:
            return
        for info in inspector.get_columns(change.table_name, change.schema):
            if info["name"] == change.column_name:
                break
        else:
            raise CommandError(f"Table {change.table_name!r} has no column {change.column_name!r}")
        if change.existing_type is None:
            change.existing_type = info["type"]
        if change.existing_nullable is None:
            change.existing_nullable = info["nullable"]
        if change.existing_server_default is None and info.get("default") is not None:
            change.existing_server_default = text(info["default"].replace(":", "\\:"))
        if change.existing_comment is None:
            change.existing_comment = info.get("comment")
        if change.autoincrement is None:
            change.autoincrement = info.get("autoincrement") is True

    # --- indexes ----------------------------------------------------------------------------

    def create_index(
        self,
        index_name: str | None,
        table_name: str,
        columns: Sequence[Any],
        schema: str | None = None,
        unique: bool = False,
        if_not_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        """``CREATE [UNIQUE] INDEX`` on columns (names) and expressions (``text()``);
        ``postgresql_where``, ``postgresql_concurrently``, ``mysql_length`` ... as options."""
        table = _stub_table(self._metadata(), table_name, columns, schema)
        elements = [table.c[c] if isinstance(c, str) else c for c in columns]
        index = Index(index_name, *elements, unique=unique, **kw)
        if index.table is None:
            table.append_constraint(index)
        self._run(self.impl.create_index(index, bool(if_not_exists)))

    def drop_index(
        self,
        index_name: str,
        table_name: str | None = None,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        """``DROP INDEX`` (MySQL needs ``table_name``)."""
        if table_name is not None:
            self._keep_foreign_key_index(index_name, table_name, schema)
        table = Table(table_name or "_unknown", MetaData(), schema=schema)
        index = Index(index_name, **kw)
        table.append_constraint(index)
        self._run(self.impl.drop_index(index, bool(if_exists)))

    # --- constraints ------------------------------------------------------------------------

    def _add_constraint(
        self, table: Table, constraint: Any, spec: ConstraintSpec, not_valid: bool = False
    ) -> None:
        table.append_constraint(constraint)
        if not self.impl.can_alter_constraints:
            spec.name = constraint.name
            self._recreate(table.name, table.schema, lambda t: t.add_constraint(spec))
            return
        self._run(self.impl.add_constraint(constraint, not_valid))

    def create_primary_key(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        schema: str | None = None,
    ) -> None:
        table = _stub_table(self._metadata(), table_name, columns, schema)
        constraint = PrimaryKeyConstraint(*columns, name=constraint_name)
        self._add_constraint(
            table, constraint, ConstraintSpec("pk", constraint_name, list(columns))
        )

    def create_unique_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        table = _stub_table(self._metadata(), table_name, columns, schema)
        constraint = UniqueConstraint(*columns, name=constraint_name, **kw)
        self._add_constraint(
            table, constraint, ConstraintSpec("uq", constraint_name, list(columns))
        )

    def create_check_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        condition: Any,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        if isinstance(condition, str):
            condition = text(condition)
        table = _stub_table(self._metadata(), table_name, [], schema)
        constraint = CheckConstraint(condition, name=constraint_name, **kw)
        self._add_constraint(
            table, constraint, ConstraintSpec("ck", constraint_name, sqltext=condition)
        )

    def create_foreign_key(
        self,
        constraint_name: str | None,
        source_table: str,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        source_schema: str | None = None,
        referent_schema: str | None = None,
        **kw: Any,
    ) -> None:
        metadata = self._metadata()
        table = _stub_table(metadata, source_table, local_cols, source_schema)
        referred = _stub_table(metadata, referent_table, remote_cols, referent_schema)
        prefix = f"{referent_schema}.{referent_table}" if referent_schema else referent_table
        constraint = ForeignKeyConstraint(
            list(local_cols),
            [f"{prefix}.{column}" for column in remote_cols],
            name=constraint_name,
            onupdate=onupdate,
            ondelete=ondelete,
            deferrable=deferrable,
            initially=initially,
        )
        del referred
        spec = ConstraintSpec(
            "fk",
            constraint_name,
            list(local_cols),
            referred_table=referent_table,
            referred_schema=referent_schema,
            referred_columns=list(remote_cols),
            options={"ondelete": ondelete, "onupdate": onupdate},
        )
        self._add_constraint(table, constraint, spec, bool(kw.get("postgresql_not_valid")))

    def drop_constraint(
        self,
        constraint_name: str,
        table_name: str,
        type_: str | None = None,
        schema: str | None = None,
    ) -> None:
        """``ALTER TABLE ... DROP CONSTRAINT`` (``type_``: foreignkey, unique, check,
        primary; looked up in the database when the database needs it and it is not given)."""
        if not self.impl.can_alter_constraints:
            self._recreate(table_name, schema, lambda t: t.drop_constraint(constraint_name))
            return
        kind = _KINDS.get((type_ or "").lower().replace("_", ""))
        if kind is None and self.impl.needs_constraint_kind():
            kind = self._constraint_kind(constraint_name, table_name, schema)
        if kind == "pk" and constraint_name is None:
            constraint_name = self._primary_key_name(table_name, schema)
        if kind == "pk" and self.impl.autoincrement_needs_key:
            self._drop_autoincrement(table_name, schema)
        if kind == "uq":
            self._keep_foreign_key_index(constraint_name, table_name, schema)
        self._run(self.impl.drop_constraint(constraint_name, table_name, schema, kind))
        if kind == "fk" and self.impl.foreign_keys_create_indexes:
            self._drop_implied_index(constraint_name, table_name, schema)

    def _drop_autoincrement(self, table_name: str, schema: str | None) -> None:
        """MySQL refuses to drop a primary key whose column is AUTO_INCREMENT (such a column
        must be a key): take AUTO_INCREMENT off the column first, keeping the rest of it.
        With ``--sql`` the column is known only if this run defined the table (created it,
        or altered the column's ``autoincrement``); for another table the key is dropped as
        written, as there is no database to ask."""
        inspector = self._inspector()
        if inspector is None:
            column = self.migration_context.offline_autoincrement.get((schema, table_name))
            if column is not None:
                self.alter_column(
                    table_name,
                    column.name,
                    schema=schema,
                    existing_type=column.type,
                    existing_nullable=False,
                    existing_comment=column.comment,
                    autoincrement=False,
                )
            return
        primary = inspector.get_pk_constraint(table_name, schema)["constrained_columns"]
        for info in inspector.get_columns(table_name, schema):
            if info["name"] in primary and info.get("autoincrement") is True:
                self.alter_column(table_name, info["name"], schema=schema, autoincrement=False)

    def _keep_foreign_key_index(self, name: str, table_name: str, schema: str | None) -> None:
        """MySQL refuses to drop the only index a foreign key can use (it dropped the one it
        made for the key when this one was added): give the key its own index back first,
        named after the key as MySQL names it."""
        inspector = self._inspector()
        if inspector is None or not self.impl.foreign_keys_create_indexes:
            return
        indexes = {
            i["name"]: tuple(i["column_names"]) for i in inspector.get_indexes(table_name, schema)
        }
        dropped = indexes.pop(name, None)
        if dropped is None:
            return
        others = [
            *indexes.values(),
            tuple(inspector.get_pk_constraint(table_name, schema)["constrained_columns"]),
        ]
        for fk in inspector.get_foreign_keys(table_name, schema):
            columns = tuple(fk["constrained_columns"])
            width = len(columns)
            if dropped[:width] == columns and all(o[:width] != columns for o in others):
                self.create_index(fk["name"], table_name, list(columns), schema)

    def _drop_implied_index(self, name: str, table_name: str, schema: str | None) -> None:
        """MySQL keeps the index it made for a foreign key (named after the key) when the key
        goes; drop it too, so that dropping and re-creating the key leaves no index behind."""
        inspector = self._inspector()
        if inspector is not None and any(
            index["name"] == name for index in inspector.get_indexes(table_name, schema)
        ):
            self.drop_index(name, table_name, schema)

    def _column_before(
        self, table_name: str, schema: str | None, column_name: str
    ) -> tuple[str | None, bool]:
        """Where a column inserted before ``column_name`` goes: (the column it follows, or
        None and True when it becomes the first)."""
        inspector = self._inspector()
        if inspector is None:
            raise CommandError(
                f"add_column(..., insert_before={column_name!r}) reads the order of "
                f"{table_name!r}'s columns from the database; with --sql name the column it "
                "follows instead: insert_after=..."
            )
        names = [column["name"] for column in inspector.get_columns(table_name, schema)]
        if column_name not in names:
            raise CommandError(f"Table {table_name!r} has no column {column_name!r}")
        position = names.index(column_name)
        return (names[position - 1], False) if position else (None, True)

    def _primary_key_name(self, table_name: str, schema: str | None) -> str | None:
        """The name the database gave a primary key created without one (None offline)."""
        inspector = self._inspector()
        if inspector is None:
            return None
        name = inspector.get_pk_constraint(table_name, schema).get("name")
        return str(name) if name else None

    def _constraint_kind(self, name: str, table_name: str, schema: str | None) -> str | None:
        inspector = self._inspector()
        if inspector is None:
            raise CommandError(
                f"drop_constraint({name!r}, {table_name!r}) needs type_= ('foreignkey', "
                "'unique', 'check' or 'primary') with --sql on this database"
            )
        if inspector.get_pk_constraint(table_name, schema).get("name") == name:
            return "pk"
        for kind, found in (
            ("fk", inspector.get_foreign_keys(table_name, schema)),
            ("uq", inspector.get_unique_constraints(table_name, schema)),
            ("ck", inspector.get_check_constraints(table_name, schema)),
        ):
            if any(item["name"] == name for item in found):
                return kind
        raise CommandError(f"Table {table_name!r} has no constraint named {name!r}")

    # --- comments ---------------------------------------------------------------------------

    def create_table_comment(
        self, table_name: str, comment: str, schema: str | None = None, **kw: Any
    ) -> None:
        table = Table(table_name, MetaData(), schema=schema, comment=comment)
        self.migration_context.execute(ddl.SetTableComment(table))

    def drop_table_comment(self, table_name: str, schema: str | None = None, **kw: Any) -> None:
        table = Table(table_name, MetaData(), schema=schema)
        self.migration_context.execute(ddl.DropTableComment(table))

    # --- data -------------------------------------------------------------------------------

    def bulk_insert(
        self, table: Any, rows: Sequence[dict[str, Any]], multiinsert: bool = True
    ) -> None:
        """Insert ``rows`` (dicts) into ``table`` (a ``Table`` or ``table()`` construct)."""
        if not rows:
            return
        if self.migration_context.as_sql or not multiinsert:
            for row in rows:
                self.migration_context.execute(insert(table).values(**row))
            return
        self.migration_context.connection.execute(insert(table), list(rows))

    # --- batch ------------------------------------------------------------------------------

    @contextmanager
    def batch_alter_table(
        self,
        table_name: str,
        schema: str | None = None,
        recreate: str = "auto",
        copy_from: Table | None = None,
        **kw: Any,
    ) -> Iterator[BatchOperations]:
        """Group changes to one table; on exit they are applied with ALTER statements, or by
        one copy-and-move of the table where needed (``recreate="always"`` forces it).
        ``copy_from`` is the table as it is now, used instead of reading the database (so
        the copy-and-move can be rendered with ``--sql``)."""
        if recreate not in ("auto", "always", "never"):
            raise CommandError("batch_alter_table(recreate=...) takes 'auto', 'always' or 'never'")
        if copy_from is not None and copy_from.name != table_name:
            raise CommandError(
                f"batch_alter_table({table_name!r}, copy_from=...) got a Table named "
                f"{copy_from.name!r}; it must describe the table being altered"
            )
        batch = BatchOperations(self, table_name, schema)
        yield batch
        batch.flush(recreate, copy_from)


class BatchOperations:
    """The operations of one ``batch_alter_table`` block (the table name is implied)."""

    def __init__(self, operations: Operations, table_name: str, schema: str | None) -> None:
        self.operations = operations
        self.table_name = table_name
        self.schema = schema
        self._edits: list[tuple[Any, Any]] = []

    def _add(self, edit: Any, direct: Any) -> None:
        self._edits.append((edit, direct))

    def add_column(
        self,
        column: Column,
        insert_before: str | None = None,
        insert_after: str | None = None,
        **kw: Any,
    ) -> None:
        """Add a column; ``insert_before`` / ``insert_after`` place it when the table is
        recreated, or by ``AFTER``/``FIRST`` on MySQL/MariaDB (elsewhere ALTER TABLE adds
        columns last)."""
        column = self.operations._portable(column)
        self._add(
            lambda t: t.add_column(column, insert_before, insert_after),
            lambda: self.operations.add_column(
                self.table_name,
                column,
                self.schema,
                insert_before=insert_before,
                insert_after=insert_after,
            ),
        )

    def drop_column(self, column_name: str, **kw: Any) -> None:
        self._add(
            lambda t: t.drop_column(column_name),
            lambda: self.operations.drop_column(self.table_name, column_name, self.schema),
        )

    def alter_column(self, column_name: str, **kw: Any) -> None:
        def edit(rebuild: TableRebuild) -> None:
            change = ColumnChange(self.table_name, column_name, self.schema)
            for key, attribute in (
                ("nullable", "nullable"),
                ("type_", "type_"),
                ("new_column_name", "new_column_name"),
            ):
                if kw.get(key) is not None:
                    setattr(change, attribute, kw[key])
            for key in ("server_default", "comment"):
                if key in kw and kw[key] is not False:
                    setattr(change, key, kw[key])
            rebuild.alter_column(change)

        self._add(
            edit,
            lambda: self.operations.alter_column(
                self.table_name, column_name, schema=self.schema, **kw
            ),
        )

    def create_index(
        self, index_name: str, columns: Sequence[Any], unique: bool = False, **kw: Any
    ) -> None:
        self._add(
            lambda t: t.add_index(IndexSpec(index_name, list(columns), unique, kw)),
            lambda: self.operations.create_index(
                index_name, self.table_name, columns, self.schema, unique, **kw
            ),
        )

    def drop_index(self, index_name: str, **kw: Any) -> None:
        self._add(
            lambda t: t.drop_index(index_name),
            lambda: self.operations.drop_index(index_name, self.table_name, self.schema),
        )

    def create_unique_constraint(
        self, constraint_name: str | None, columns: Sequence[str], **kw: Any
    ) -> None:
        self._add(
            lambda t: t.add_constraint(ConstraintSpec("uq", constraint_name, list(columns))),
            lambda: self.operations.create_unique_constraint(
                constraint_name, self.table_name, columns, self.schema
            ),
        )

    def create_check_constraint(
        self, constraint_name: str | None, condition: Any, **kw: Any
    ) -> None:
        sqltext = text(condition) if isinstance(condition, str) else condition
        self._add(
            lambda t: t.add_constraint(ConstraintSpec("ck", constraint_name, sqltext=sqltext)),
            lambda: self.operations.create_check_constraint(
                constraint_name, self.table_name, condition, self.schema
            ),
        )

    def create_foreign_key(
        self,
        constraint_name: str | None,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        **kw: Any,
    ) -> None:
        spec = ConstraintSpec(
            "fk",
            constraint_name,
            list(local_cols),
            referred_table=referent_table,
            referred_schema=kw.get("referent_schema"),
            referred_columns=list(remote_cols),
            options={"ondelete": kw.get("ondelete"), "onupdate": kw.get("onupdate")},
        )
        self._add(
            lambda t: t.add_constraint(spec),
            lambda: self.operations.create_foreign_key(
                constraint_name,
                self.table_name,
                referent_table,
                local_cols,
                remote_cols,
                source_schema=self.schema,
                **kw,
            ),
        )

    def create_primary_key(self, constraint_name: str | None, columns: Sequence[str]) -> None:
        self._add(
            lambda t: t.add_constraint(ConstraintSpec("pk", constraint_name, list(columns))),
            lambda: self.operations.create_primary_key(
                constraint_name, self.table_name, columns, self.schema
            ),
        )

    def drop_constraint(self, constraint_name: str, type_: str | None = None) -> None:
        self._add(
            lambda t: t.drop_constraint(constraint_name),
            lambda: self.operations.drop_constraint(
                constraint_name, self.table_name, type_, self.schema
            ),
        )

    def flush(self, recreate: str, copy_from: Table | None = None) -> None:
        """Apply the block's changes (see :meth:`Operations.batch_alter_table`)."""
        if not self._edits:
            return
        must = recreate == "always" or (
            recreate == "auto" and not self.operations.impl.can_alter_constraints
        )
        if must:
            recreate_table(
                self.operations.migration_context,
                self.table_name,
                self.schema,
                [edit for edit, _ in self._edits],
                copy_from,
            )
            return
        for _, direct in self._edits:
            direct()
