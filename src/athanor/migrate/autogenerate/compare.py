"""Comparing the models' ``MetaData`` with the database, reflected into another ``MetaData``.

Both sides are normalised before they are compared: types by their DDL on the database
(``String(50)`` and a reflected ``VARCHAR(50)`` agree), server defaults by the dialect's
:meth:`~athanor.dialects.migrate.MigrationImpl.normalize_default` (``now()`` and
``CURRENT_TIMESTAMP`` agree), unique constraints and foreign keys by their columns (names the
database made up do not matter), indexes and check constraints by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from athanor.migrate.autogenerate.ops import (
    AddColumnOp,
    AddConstraintOp,
    AddEnumValueOp,
    AlterColumnOp,
    CreateIndexOp,
    CreateTableOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropTableOp,
    MigrateOp,
    NoteOp,
    RenameTableOp,
    ReplaceEnumOp,
    SetTableCommentOp,
)
from athanor.migrate.util import CommandError
from athanor.sql import types as sqltypes
from athanor.sql.ddl import (
    _type_check_name,
    constraint_kind,
    enum_of,
    order_for_create,
    stored_type,
)
from athanor.sql.schema import Column, MetaData, Table

_NO_ACTION = {None, "", "NO ACTION", "RESTRICT"}


@dataclass
class Renames:
    """Renames the user confirmed: ``tables[old] = new``, ``columns[(table, old)] = new``."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: Sequence[str]) -> Renames:
        """From ``--rename`` values: ``table.old:new`` (a column) or ``old:new`` (a table)."""
        renames = cls()
        for spec in specs:
            source, sep, new = spec.partition(":")
            if not sep or not source or not new:
                raise CommandError(
                    f"--rename {spec!r}: write TABLE.OLD_COLUMN:NEW_COLUMN or OLD_TABLE:NEW_TABLE"
                )
            table, dot, column = source.partition(".")
            if dot:
                renames.columns[(table, column)] = new
            else:
                renames.tables[table] = new
        return renames


@dataclass
class CompareOptions:
    """The env.py hooks and switches that steer the comparison."""

    include_object: Callable[..., bool] | None = None
    include_name: Callable[..., bool] | None = None
    compare_type: Any = True
    compare_server_default: Any = True
    include_schemas: bool = False
    renames: Renames = field(default_factory=Renames)
    confirm: Callable[[str, str, str], bool] | None = None
    """Asked ``(kind, old, new)`` for each probable rename (``"column", "users.fullname",
    "display_name"``); True makes it a rename, as ``--rename`` would."""


class _Restart(Exception):
    """A probable rename was confirmed: compare again with it."""


class Comparer:
    """Finds the operations that turn the database's schema into the models'."""

    def __init__(self, context: Any, metadata: MetaData, options: CompareOptions) -> None:
        self.context = context
        self.impl = context.impl
        self.metadata = metadata
        self.options = options
        self.version_table = context.version_table_name
        self.notes: list[str] = []
        """Probable renames that were not confirmed, for the revision file and the output."""
        self._declined: set[tuple[str, str, str]] = set()
        self._reflected: dict[str, Table] | None = None

    # --- filters ----------------------------------------------------------------------------

    def _name_ok(self, name: str | None, type_: str, parents: dict[str, Any]) -> bool:
        hook = self.options.include_name
        return hook is None or bool(hook(name, type_, parents))

    def _object_ok(
        self, obj: Any, name: str | None, type_: str, reflected: bool, other: Any
    ) -> bool:
        hook = self.options.include_object
        return hook is None or bool(hook(obj, name, type_, reflected, other))

    # --- entry ------------------------------------------------------------------------------

    def compare(self) -> list[MigrateOp]:
        """The operations, after asking about probable renames (see ``confirm``)."""
        while True:
            self.notes = []
            try:
                return self._compare()
            except _Restart:
                continue

    def _reflect(self) -> dict[str, Table]:
        if self._reflected is None:
            from athanor.engine.reflection import Inspector

            inspector = Inspector(self.context.connection)
            reflected = MetaData()
            names = [
                name
                for name in inspector.get_table_names()
                if name != self.version_table
                and self._name_ok(name, "table", {"schema_name": None})
            ]
            for name in names:
                Table(name, reflected, autoload_with=self.context.connection)
            self._reflected = {name: reflected.tables[name] for name in names}
        return self._reflected

    def _probable_rename(self, kind: str, old: str, new: str, flag: str) -> None:
        """Ask about a probable rename; a confirmed one restarts the comparison with it,
        another is noted with the ``--rename`` that would keep the data."""
        key = (kind, old, new)
        confirm = self.options.confirm
        if key not in self._declined and confirm is not None:
            if confirm(kind, old, new):
                if kind == "table":
                    self.options.renames.tables[old] = new
                else:
                    table, _, column = old.partition(".")
                    self.options.renames.columns[(table, column)] = new
                raise _Restart
            self._declined.add(key)
        self.notes.append(
            f"Probable rename of {kind} {old} to {new}: this revision drops one and adds the "
            f"other, losing its data; to keep it, use --rename {flag}"
        )

    def _compare(self) -> list[MigrateOp]:
        self._enum_types_seen: set[tuple[str | None, str]] = set()
        model_tables = {
            t.name: t
            for t in self.metadata.tables.values()
            if t.schema is None and self._object_ok(t, t.name, "table", False, None)
        }
        db_tables = {
            name: t
            for name, t in self._reflect().items()
            if t.schema is None and self._object_ok(t, name, "table", True, model_tables.get(name))
        }
        if self.impl.foreign_keys_create_indexes:
            for name, table in db_tables.items():
                _forget_implied_indexes(table, model_tables.get(name))
        ops: list[MigrateOp] = []
        for old, new in self.options.renames.tables.items():
            if old not in db_tables:
                raise CommandError(f"--rename {old}:{new}: the database has no table {old!r}")
            if new not in model_tables:
                raise CommandError(f"--rename {old}:{new}: the models have no table {new!r}")
            ops.append(RenameTableOp(old, new))
            db_tables[new] = db_tables.pop(old)
        added = [model_tables[n] for n in model_tables if n not in db_tables]
        removed = [db_tables[n] for n in db_tables if n not in model_tables]
        self._report_table_renames(added, removed)
        for table in order_for_create(added)[0]:
            ops.append(CreateTableOp(table))
        for name in sorted(set(model_tables) & set(db_tables)):
            ops.extend(self._compare_table(model_tables[name], db_tables[name]))
        for table in reversed(order_for_create(removed)[0]):
            ops.append(DropTableOp(table))
        return ops

    def _report_table_renames(self, added: list[Table], removed: list[Table]) -> None:
        for new in added:
            for old in removed:
                if {c.name for c in new.columns} == {c.name for c in old.columns}:
                    self._probable_rename("table", old.name, new.name, f"{old.name}:{new.name}")

    # --- one table --------------------------------------------------------------------------

    def _compare_table(self, model: Table, db: Table) -> list[MigrateOp]:
        ops: list[MigrateOp] = []
        name = model.name
        db_columns = {c.name: c for c in db.columns}
        renamed: dict[str, str] = {}
        for (table, old), new in self.options.renames.columns.items():
            if table != name:
                continue
            if old not in db_columns:
                raise CommandError(f"--rename {table}.{old}:{new}: {table} has no column {old!r}")
            if new not in model.c:
                raise CommandError(f"--rename {table}.{old}:{new}: the model has no {new!r}")
            renamed[new] = old
        added, dropped, alters = [], [], []
        for column in model.columns:
            if not self._object_ok(column, column.name, "column", False, None):
                continue
            source = renamed.get(column.name, column.name)
            if source not in db_columns:
                added.append(column)
                continue
            ops.extend(self._enum_labels(db_columns[source], column))
            ops.extend(self._generated_change(name, db_columns[source], column))
            alter = self._compare_column(name, column, db_columns[source])
            if source != column.name:
                alter.changes = {"new_column_name": column.name, **alter.changes}
                alter.column_name = source
            if alter.changes:
                alters.append(alter)
        for column in db.columns:
            if column.name in model.c or column.name in renamed.values():
                continue
            if self._object_ok(column, column.name, "column", True, None):
                dropped.append(column)
        self._report_column_renames(name, added, dropped)
        constraints_dropped, constraints_added = self._compare_constraints(model, db, renamed)
        ops.extend(AddColumnOp(name, column) for column in added)
        # Constraints go before columns change (MySQL refuses to change a column a foreign
        # key uses) and come after, on the columns as they are then.
        ops.extend(constraints_dropped)
        ops.extend(alters)
        ops.extend(constraints_added)
        ops.extend(DropColumnOp(name, column) for column in dropped)
        if self.impl.compiler.supports_comments and model.comment != db.comment:
            ops.append(SetTableCommentOp(name, model.comment, db.comment))
        return ops

    def _report_column_renames(
        self, table: str, added: list[Column], dropped: list[Column]
    ) -> None:
        for new in added:
            for old in dropped:
                if self._types_differ(old, new) is False:
                    source = f"{table}.{old.name}"
                    self._probable_rename("column", source, new.name, f"{source}:{new.name}")

    def _generated_change(self, table: str, db: Column, model: Column) -> list[MigrateOp]:
        """A note when a generated column's expression changes (or a column becomes or stops
        being generated): databases can't ALTER that, so it is left to the author."""
        before, after = self._generated_sql(db), self._generated_sql(model)
        if before == after:
            return []
        return [
            NoteOp(
                f"Generated column {table}.{model.name} changes from {before or 'a plain column'}"
                f" to {after or 'a plain column'}: autogenerate does not alter generated "
                "columns; drop and add the column by hand"
            )
        ]

    def _generated_sql(self, column: Column) -> str | None:
        if column.computed is None:
            return None
        sql = re.sub(r"[`\"]", "", self.impl.expression(column.computed.sqltext))
        normalized: str | None = self.impl.normalize_default(sql)
        return normalized

    def _enum_labels(self, db: Column, model: Column) -> list[MigrateOp]:
        """``ALTER TYPE ... ADD VALUE`` for labels the models add to a PostgreSQL enum type
        (once per type); labels removed or reordered are noted, as PostgreSQL can't."""
        dialect = self.context.dialect
        old_type, new_type = enum_of(db.type, dialect)[0], enum_of(model.type, dialect)[0]
        if not (
            self.impl.compiler.supports_native_enum_types
            and old_type is not None
            and new_type is not None
            and new_type.native_enum
            and new_type.name is not None
            and old_type.name == new_type.name
        ):
            return []
        key = (new_type.schema, new_type.name)
        old, new = list(old_type.enums), list(new_type.enums)
        if key in self._enum_types_seen or old == new:
            return []
        self._enum_types_seen.add(key)
        if [label for label in new if label in old] != old:
            return [
                NoteOp(
                    f"Enum type {new_type.name} changes from {old} to {new}: PostgreSQL can't "
                    "drop or reorder labels, so the type is replaced and its columns "
                    "converted; rows holding a dropped label must be changed first"
                ),
                ReplaceEnumOp(
                    new_type.name, old, new, self._enum_columns(old_type), new_type.schema
                ),
            ]
        ops: list[MigrateOp] = []
        for position, label in enumerate(new):
            if label not in old:
                before = new[position + 1] if position == 0 and old else None
                after = new[position - 1] if position > 0 else None
                ops.append(AddEnumValueOp(new_type.name, label, before, after, new_type.schema))
        return ops

    def _enum_columns(self, type_: Any) -> list[tuple[str, str, str | None, int]]:
        """The ``(table, column, default, array dimensions)`` of the database's columns of
        enum ``type_`` or of arrays of it."""
        found = []
        for table in self._reflect().values():
            for column in table.columns:
                other, dimensions = enum_of(column.type, self.context.dialect)
                if other is not None and other.name == type_.name and other.schema == type_.schema:
                    default = _default_text(column.server_default)
                    found.append((table.name, column.name, default, dimensions))
        return found

    def _compare_column(self, table: str, model: Column, db: Column) -> AlterColumnOp:
        alter = AlterColumnOp(table, model.name)
        alter.existing = {
            "type_": db.type,
            "nullable": db.nullable,
            "server_default": db.server_default,
            "comment": db.comment,
        }
        if self._types_differ(db, model):
            alter.changes["type_"] = model.type
        if model.nullable != db.nullable and not model.primary_key:
            alter.changes["nullable"] = model.nullable
        if self._defaults_differ(db, model):
            alter.changes["server_default"] = model.server_default
        if self.impl.identity_columns and _identity_differs(db, model):
            alter.existing["server_default"] = db.identity
            alter.changes["server_default"] = model.identity
        if self.impl.compiler.supports_comments and model.comment != db.comment:
            alter.changes["comment"] = model.comment
        return alter

    def _types_differ(self, db: Column, model: Column) -> bool:
        hook = self.options.compare_type
        if hook is False:
            return False
        if callable(hook):
            verdict = hook(self.context, db, model, db.type, model.type)
            if verdict is not None:
                return bool(verdict)
        model_type = stored_type(model.type, self.context.dialect)
        if isinstance(model_type, sqltypes.NullType) or isinstance(db.type, sqltypes.NullType):
            return False
        if model.table is not None and model.table.autoincrement_column is model:
            return self.impl.type_signature(db.type) != self.impl.type_signature(model_type) and (
                not _both_integers(db.type, model_type)
            )
        return bool(self.impl.type_signature(db.type) != self.impl.type_signature(model_type))

    def _defaults_differ(self, db: Column, model: Column) -> bool:
        hook = self.options.compare_server_default
        if hook is False or model.computed is not None or db.computed is not None:
            return False
        db_sql = _default_text(db.server_default)
        model_sql = self.impl.default_sql(model.server_default)
        if callable(hook):
            verdict = hook(self.context, db, model, db_sql, model.server_default, model_sql)
            if verdict is not None:
                return bool(verdict)
        if model.table is not None and model.table.autoincrement_column is model:
            return False
        return bool(self.impl.normalize_default(db_sql) != self.impl.normalize_default(model_sql))

    # --- constraints and indexes ------------------------------------------------------------

    def _compare_constraints(
        self, model: Table, db: Table, renamed: dict[str, str]
    ) -> tuple[list[MigrateOp], list[MigrateOp]]:
        """The constraints and indexes to drop and to add (primary key, indexes, unique,
        foreign key and check constraints)."""

        def columns_of(item: Any, table: Table) -> tuple[str, ...]:
            names = tuple(c.name for c in item.columns)
            if table is db:
                back = {old: new for new, old in renamed.items()}
                names = tuple(back.get(n, n) for n in names)
            return names

        ops_drop: list[MigrateOp] = []
        ops_add: list[MigrateOp] = []
        if columns_of(model.primary_key, model) != columns_of(db.primary_key, db):
            if self.impl.autoincrement_needs_key:
                ops_drop.extend(self._autoincrement_change(db, model.autoincrement_column, False))
            if db.primary_key.columns:
                ops_drop.append(DropConstraintOp(db.primary_key))
            if model.primary_key.columns:
                ops_add.append(AddConstraintOp(model.primary_key))
            if self.impl.autoincrement_needs_key:
                ops_add.extend(self._autoincrement_change(db, model.autoincrement_column, True))
        model_indexes = {i.name: i for i in model.indexes if i.name}
        db_indexes = {i.name: i for i in db.indexes if i.name}
        model_uniques = {
            columns_of(c, model): c for c in model.constraints if constraint_kind(c) == "uq"
        }
        # A unique index and a unique constraint are the same thing on some databases: MySQL
        # reflects the models' unique indexes as unique constraints.
        present: set[str] = set()
        db_uniques = {}
        for constraint in db.constraints:
            if constraint_kind(constraint) != "uq":
                continue
            cols = columns_of(constraint, db)
            unique_index = model_indexes.get(str(constraint.name))
            if unique_index is None or not unique_index.unique:
                db_uniques[cols] = constraint
            elif constraint.name not in db_indexes and columns_of(unique_index, model) == cols:
                present.add(str(constraint.name))
        for name, index in list(db_indexes.items()):
            if (
                index.unique
                and columns_of(index, db) in model_uniques
                and name not in model_indexes
            ):
                del db_indexes[name]
        for name, index in db_indexes.items():
            other = model_indexes.get(name)
            changed = other is None or self._index_differs(index, other, columns_of)
            if changed and self._object_ok(index, name, "index", True, other):
                ops_drop.append(DropIndexOp(index))
        for name, index in model_indexes.items():
            if name in present:
                continue
            other = db_indexes.get(name)
            changed = other is None or self._index_differs(other, index, columns_of)
            if changed and self._object_ok(index, name, "index", False, other):
                ops_add.append(CreateIndexOp(index))
        for cols, constraint in db_uniques.items():
            if cols not in model_uniques and self._object_ok(
                constraint, constraint.name, "unique_constraint", True, None
            ):
                ops_drop.append(DropConstraintOp(constraint))
        for cols, constraint in model_uniques.items():
            if cols not in db_uniques and self._object_ok(
                constraint, constraint.name, "unique_constraint", False, None
            ):
                ops_add.append(AddConstraintOp(constraint))
        model_fks = {self._fk_key(c, model, columns_of): c for c in model.foreign_key_constraints}
        db_fks = {self._fk_key(c, db, columns_of): c for c in db.foreign_key_constraints}
        for key, constraint in db_fks.items():
            if key not in model_fks and self._object_ok(
                constraint, constraint.name, "foreign_key_constraint", True, None
            ):
                ops_drop.append(DropConstraintOp(constraint))
        for key, constraint in model_fks.items():
            if key not in db_fks and self._object_ok(
                constraint, constraint.name, "foreign_key_constraint", False, None
            ):
                ops_add.append(AddConstraintOp(constraint))
        model_checks = {
            c.name: c for c in model.constraints if constraint_kind(c) == "ck" and c.name
        }
        db_checks = {c.name: c for c in db.constraints if constraint_kind(c) == "ck" and c.name}
        implied = _type_check_names(model, self.context.dialect)
        for name, constraint in db_checks.items():
            if name not in model_checks and name not in implied:
                ops_drop.append(DropConstraintOp(constraint))
        for name, constraint in model_checks.items():
            if name not in db_checks:
                ops_add.append(AddConstraintOp(constraint))
        return ops_drop, ops_add

    @staticmethod
    def _autoincrement_change(db: Table, model_column: Any, add: bool) -> list[MigrateOp]:
        """With a changed primary key on MySQL: AUTO_INCREMENT off the database's column
        (before the key is dropped) or onto the models' one (after the new key exists), so
        that the downgrade puts it back where it was."""
        db_column = db.autoincrement_column
        same = (
            db_column is not None
            and model_column is not None
            and db_column.name == model_column.name
        )
        column = model_column if add else db_column
        if column is None or same:
            return []
        reflected = db.c.get(column.name, column)
        existing = {
            "type_": reflected.type,
            "nullable": False,
            "server_default": None,
            "comment": reflected.comment,
            "autoincrement": not add,
        }
        return [AlterColumnOp(db.name, column.name, db.schema, {"autoincrement": add}, existing)]

    @staticmethod
    def _index_differs(
        db: Any, model: Any, columns_of: Callable[[Any, Table], tuple[str, ...]]
    ) -> bool:
        if bool(db.unique) != bool(model.unique):
            return True
        model_cols = tuple(getattr(e, "name", None) or str(e) for e in model.expressions)
        db_cols = (
            columns_of(db, db.table) if all(hasattr(e, "name") for e in db.expressions) else None
        )
        if db_cols is None or any(not hasattr(e, "name") for e in model.expressions):
            return False
        return db_cols != model_cols

    @staticmethod
    def _fk_key(
        constraint: Any, table: Table, columns_of: Callable[[Any, Table], tuple[str, ...]]
    ) -> tuple[Any, ...]:
        local = columns_of(constraint, table)
        _, referred, _ = constraint.elements[0]._table_and_column()
        remote = tuple(element._table_and_column()[2] for element in constraint.elements)
        actions = tuple(
            None if (value or "").upper() in _NO_ACTION else str(value).upper()
            for value in (constraint.ondelete, constraint.onupdate)
        )
        return local, referred, remote, actions


def _forget_implied_indexes(db: Table, model: Table | None) -> None:
    """Leave out of the reflected table the indexes the database made by itself for its
    foreign keys (MySQL), unless the models declare an index of that name."""
    declared = {index.name for index in model.indexes} if model is not None else set()
    fk_columns = {tuple(c.name for c in fk.columns) for fk in db.foreign_key_constraints}
    fk_names = {fk.name for fk in db.foreign_key_constraints}
    for index in list(db.indexes):
        if index.name in declared or index.unique:
            continue
        if index.name in fk_names or tuple(c.name for c in index.columns) in fk_columns:
            db.indexes.discard(index)


_IDENTITY_OPTIONS = ("start", "increment", "minvalue", "maxvalue", "cache", "cycle")


def _identity_differs(db: Column, model: Column) -> bool:
    """Whether the models add, drop or change an ``Identity()``: the options the model gives
    are compared (the database fills in the rest); an auto-increment key without an explicit
    ``Identity()`` is left alone, whether the database made it an identity or a serial."""
    ours, theirs = model.identity, db.identity
    if ours is None:
        autoincrement = model.table is not None and model.table.autoincrement_column is model
        return theirs is not None and not autoincrement
    if theirs is None:
        return True
    if bool(ours.always) != bool(theirs.always):
        return True
    return any(
        getattr(ours, name) is not None and getattr(ours, name) != getattr(theirs, name)
        for name in _IDENTITY_OPTIONS
    )


def _both_integers(a: Any, b: Any) -> bool:
    return isinstance(a, sqltypes.Integer) and isinstance(b, sqltypes.Integer)


def _default_text(default: Any) -> str | None:
    if default is None:
        return None
    arg = getattr(default, "arg", None)
    if arg is None:
        return None
    return arg if isinstance(arg, str) else str(getattr(arg, "text", arg))


def _type_check_names(table: Table, dialect: Any) -> set[str]:
    """Names of the CHECK constraints the table's Enum and Boolean types create."""
    names = set()
    for column in table.columns:
        type_ = stored_type(column.type, dialect)
        name = getattr(type_, "name", None)
        if getattr(type_, "create_constraint", False) and name:
            names.add(name)
            names.add(str(_type_check_name(table, column, name)))
    return names
