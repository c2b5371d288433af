"""Table recreation ("copy and move") for changes ALTER TABLE cannot make, chiefly on SQLite.

The table's current definition is reflected into a :class:`TableRebuild`, the requested changes
are applied to it, and then a new table is created under a temporary name, the rows are copied
with ``INSERT ... SELECT``, the old table is dropped, the new one renamed, and the indexes are
created again.  Data, indexes, foreign keys, unique and check constraints are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from athanor.dialects.migrate import ColumnChange
from athanor.migrate.util import CommandError
from athanor.sql import ddl
from athanor.sql import types as sqltypes
from athanor.sql.elements import text
from athanor.sql.schema import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)


@dataclass
class ColumnSpec:
    """A column of the rebuilt table; ``source`` is the SQL that fills it from the old one."""

    name: str
    type: Any
    nullable: bool = True
    server_default: Any = None
    comment: str | None = None
    source: str | None = None
    cast: bool = False

    @classmethod
    def of(cls, column: Column[Any], source: str | None = None) -> ColumnSpec:
        """The spec of a ``Column`` object, filled from ``source`` (None: a new column)."""
        return cls(
            column.name,
            column.type,
            nullable=column.nullable,
            server_default=_default_arg(column.server_default),
            comment=column.comment,
            source=source,
        )


@dataclass
class ConstraintSpec:
    """A constraint (``kind``: uq, ck, fk) of the rebuilt table."""

    kind: str
    name: str | None
    columns: list[str] = field(default_factory=list)
    sqltext: Any = None
    referred_table: str | None = None
    referred_schema: str | None = None
    referred_columns: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class IndexSpec:
    name: str
    elements: list[Any]
    unique: bool = False
    options: dict[str, Any] = field(default_factory=dict)


def _sql(value: str) -> Any:
    return text(value.replace(":", "\\:"))


def _default_arg(default: Any) -> Any:
    """What a server default (a string, ``text()``, expression or ``DefaultClause``) puts
    after DEFAULT, or None; clauses are tested by identity, as they have no truth value."""
    if default is None or default is False:
        return None
    return getattr(default, "arg", default)


class TableRebuild:
    """A table's definition as plain, editable lists: reflected from the database
    (:meth:`reflect`) or taken from a ``Table`` (:meth:`from_table`, ``copy_from=``)."""

    def __init__(self, name: str, schema: str | None) -> None:
        self.name = name
        self.schema = schema
        self.columns: list[ColumnSpec] = []
        self.pk_name: str | None = None
        self.pk: list[str] = []
        self.constraints: list[ConstraintSpec] = []
        self.indexes: list[IndexSpec] = []

    @classmethod
    def reflect(cls, inspector: Any, name: str, schema: str | None) -> TableRebuild:
        """The table's definition as the database has it now."""
        if not inspector.has_table(name, schema):
            raise CommandError(f"Table {name!r} does not exist, so it can't be altered")
        rebuild = cls(name, schema)
        rebuild.columns = [
            ColumnSpec(
                name=info["name"],
                type=info["type"],
                nullable=info["nullable"],
                server_default=_sql(info["default"]) if info.get("default") is not None else None,
                comment=info.get("comment"),
                source=info["name"],
            )
            for info in inspector.get_columns(name, schema)
        ]
        pk = inspector.get_pk_constraint(name, schema)
        rebuild.pk_name = pk.get("name")
        rebuild.pk = list(pk["constrained_columns"])
        for unique in inspector.get_unique_constraints(name, schema):
            rebuild.constraints.append(
                ConstraintSpec("uq", unique["name"], list(unique["column_names"]))
            )
        for check in inspector.get_check_constraints(name, schema):
            rebuild.constraints.append(
                ConstraintSpec("ck", check["name"], sqltext=_sql(check["sqltext"]))
            )
        for fk in inspector.get_foreign_keys(name, schema):
            rebuild.constraints.append(
                ConstraintSpec(
                    "fk",
                    fk["name"],
                    list(fk["constrained_columns"]),
                    referred_table=fk["referred_table"],
                    referred_schema=fk["referred_schema"],
                    referred_columns=list(fk["referred_columns"]),
                    options=dict(fk.get("options") or {}),
                )
            )
        for index in inspector.get_indexes(name, schema):
            if index.get("duplicates_constraint"):
                continue
            expressions = index.get("expressions") or index["column_names"]
            elements = [
                column if column is not None else _sql(expression)
                for column, expression in zip(index["column_names"], expressions, strict=True)
            ]
            rebuild.indexes.append(
                IndexSpec(
                    index["name"],
                    elements,
                    bool(index["unique"]),
                    dict(index.get("dialect_options") or {}),
                )
            )
        return rebuild

    @classmethod
    def from_table(cls, table: Table) -> TableRebuild:
        """The definition ``table`` gives (what the database has, as the caller states it),
        so the copy-and-move can be rendered without reading the database."""
        rebuild = cls(table.name, table.schema)
        for column in table.columns:
            rebuild.columns.append(ColumnSpec.of(column, source=column.name))
            if column.unique and not column.index:
                rebuild.constraints.append(ConstraintSpec("uq", None, [column.name]))
        rebuild.pk = [column.name for column in table.primary_key.columns]
        rebuild.pk_name = table.primary_key.name
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                columns = [column.name for column in constraint.columns]
                rebuild.constraints.append(ConstraintSpec("uq", constraint.name, columns))
            elif isinstance(constraint, CheckConstraint):
                rebuild.constraints.append(
                    ConstraintSpec("ck", constraint.name, sqltext=constraint.sqltext)
                )
            elif isinstance(constraint, ForeignKeyConstraint):
                rebuild.constraints.append(_foreign_key_spec(constraint.name, constraint.elements))
        for index in table.indexes:
            elements = [e.name if isinstance(e, Column) else e for e in index.expressions]
            rebuild.indexes.append(IndexSpec(str(index.name), elements, bool(index.unique)))
        return rebuild

    # --- edits ------------------------------------------------------------------------------

    def column(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise CommandError(f"Table {self.name!r} has no column {name!r}")

    def add_column(self, column: Any, before: str | None = None, after: str | None = None) -> None:
        """Add ``column`` last, or before / after the column named."""
        position = len(self.columns)
        if before is not None:
            position = self.columns.index(self.column(before))
        elif after is not None:
            position = self.columns.index(self.column(after)) + 1
        self.columns.insert(position, ColumnSpec.of(column))
        if column.primary_key:
            self.pk.append(column.name)
        for fk in column.foreign_keys:
            self.constraints.append(_foreign_key_spec(fk.name, [fk]))

    def drop_column(self, name: str) -> None:
        self.column(name)
        self.columns = [spec for spec in self.columns if spec.name != name]
        self.pk = [column for column in self.pk if column != name]
        self.constraints = [c for c in self.constraints if name not in c.columns]
        self.indexes = [i for i in self.indexes if name not in i.elements]

    def alter_column(self, change: ColumnChange) -> None:
        spec = self.column(change.column_name)
        if change.changes("type_"):
            spec.type = sqltypes.to_instance(change.type_)
            spec.cast = True
            # A type's own CHECK (an Enum's labels, named after it) goes with the old type
            # and comes with the new one.
            implied = {
                getattr(type_, "name", None)
                for type_ in (spec.type, change.existing_type)
                if getattr(type_, "create_constraint", False)
            } - {None}
            self.constraints = [
                c for c in self.constraints if not (c.kind == "ck" and c.name in implied)
            ]
        if change.changes("nullable"):
            spec.nullable = bool(change.nullable)
        if change.changes("server_default"):
            spec.server_default = _default_arg(change.server_default)
        if change.changes("comment"):
            spec.comment = change.comment
        if change.changes("new_column_name"):
            old, new = change.column_name, change.new_column_name
            spec.name = new
            self.pk = [new if c == old else c for c in self.pk]
            for constraint in self.constraints:
                constraint.columns = [new if c == old else c for c in constraint.columns]
            for index in self.indexes:
                index.elements = [new if e == old else e for e in index.elements]

    def add_constraint(self, spec: ConstraintSpec) -> None:
        if spec.kind == "pk":
            self.pk, self.pk_name = list(spec.columns), spec.name
        else:
            self.constraints.append(spec)

    def drop_constraint(self, name: str) -> None:
        if name == self.pk_name:
            self.pk, self.pk_name = [], None
            return
        kept = [c for c in self.constraints if c.name != name]
        if len(kept) == len(self.constraints):
            raise CommandError(f"Table {self.name!r} has no constraint named {name!r}")
        self.constraints = kept

    def add_index(self, spec: IndexSpec) -> None:
        self.indexes.append(spec)

    def drop_index(self, name: str) -> None:
        self.indexes = [index for index in self.indexes if index.name != name]

    # --- building ---------------------------------------------------------------------------

    def build(
        self, metadata: MetaData, name: str, leave_out: frozenset[str] = frozenset()
    ) -> Table:
        """The new table, as a ``Table`` named ``name`` (referred tables become stubs),
        without the named constraints of the kinds in ``leave_out``."""
        items: list[Any] = [
            Column(
                spec.name,
                spec.type,
                nullable=spec.nullable and spec.name not in self.pk,
                server_default=spec.server_default,
                comment=spec.comment,
            )
            for spec in self.columns
        ]
        if self.pk and not (self.pk_name and "pk" in leave_out):
            items.append(PrimaryKeyConstraint(*self.pk, name=self.pk_name))
        for constraint in self.constraints:
            if constraint.name and constraint.kind in leave_out:
                continue
            if constraint.kind == "uq":
                items.append(UniqueConstraint(*constraint.columns, name=constraint.name))
            elif constraint.kind == "ck":
                items.append(CheckConstraint(constraint.sqltext, name=constraint.name))
            elif constraint.kind == "fk":
                items.append(self._foreign_key(metadata, constraint))
        return Table(name, metadata, *items, schema=self.schema)

    def _foreign_key(self, metadata: MetaData, spec: ConstraintSpec) -> ForeignKeyConstraint:
        referred = spec.referred_table or self.name
        schema = spec.referred_schema
        key = f"{schema}.{referred}" if schema else referred
        if key not in metadata.tables:
            Table(referred, metadata, schema=schema)
        stub = metadata.tables[key]
        for column in spec.referred_columns:
            if column not in stub.c:
                stub.append_column(Column(column, sqltypes.NullType()))
        options = {k: v for k, v in spec.options.items() if k in ("ondelete", "onupdate") and v}
        return ForeignKeyConstraint(
            spec.columns,
            [f"{key}.{column}" for column in spec.referred_columns],
            name=spec.name,
            **options,
        )

    def build_indexes(self, table: Table) -> list[Index]:
        return [
            Index(
                index.name,
                *[_index_element(table, e) for e in index.elements],
                unique=index.unique,
                **index.options,
            )
            for index in self.indexes
        ]


def _foreign_key_spec(name: str | None, elements: Any) -> ConstraintSpec:
    """A foreign key's spec from its ``ForeignKey`` elements (one per local column)."""
    targets = [element._table_and_column() for element in elements]
    first = elements[0]
    return ConstraintSpec(
        "fk",
        name,
        [element.parent.name for element in elements],
        referred_table=targets[0][1],
        referred_schema=targets[0][0],
        referred_columns=[column for _, _, column in targets],
        options={"ondelete": first.ondelete, "onupdate": first.onupdate},
    )


def _index_element(table: Table, element: Any) -> Any:
    return table.c[element] if isinstance(element, str) else element


Edit = Callable[[TableRebuild], None]


def recreate_table(
    context: Any,
    table_name: str,
    schema: str | None,
    edits: list[Edit],
    copy_from: Table | None = None,
) -> None:
    """Apply ``edits`` to the table by copy-and-move (see the module docstring); the table's
    current definition is ``copy_from`` when given, else read from the database."""
    if copy_from is not None:
        rebuild = TableRebuild.from_table(copy_from)
    elif context.as_sql:
        raise CommandError(
            f"Changing table {table_name!r} here needs the table copied into a new one, which "
            "reads its current definition from the database; with --sql give that "
            f"definition instead: op.batch_alter_table({table_name!r}, copy_from=sa.Table("
            f"{table_name!r}, sa.MetaData(), ...columns...)), or run it online"
        )
    else:
        from athanor.engine.reflection import Inspector

        rebuild = TableRebuild.reflect(Inspector(context.connection), table_name, schema)
    for edit in edits:
        edit(rebuild)
    impl = context.impl
    temporary = f"_athanor_tmp_{table_name}"
    added_later = impl.schema_scoped_constraint_names
    new_table = rebuild.build(MetaData(), temporary, leave_out=added_later)
    context.execute(ddl.CreateTable(new_table))
    copied = [spec for spec in rebuild.columns if spec.source is not None]
    if copied:
        targets = ", ".join(impl.quote(spec.name) for spec in copied)
        sources = ", ".join(_source(impl, spec) for spec in copied)
        context.execute(
            f"INSERT INTO {impl.table(temporary, schema)} ({targets}) "
            f"SELECT {sources} FROM {impl.table(table_name, schema)}"
        )
    context.execute(ddl.DropTable(Table(table_name, MetaData(), schema=schema)))
    context.execute("".join(impl.rename_table(temporary, table_name, schema)))
    final = rebuild.build(MetaData(), table_name)
    for constraint in _constraints_of_kinds(final, added_later):
        context.execute(ddl.AddConstraint(constraint))
    for index in rebuild.build_indexes(final):
        context.execute(ddl.CreateIndex(index))


_CONSTRAINT_KINDS = {
    PrimaryKeyConstraint: "pk",
    UniqueConstraint: "uq",
    ForeignKeyConstraint: "fk",
    CheckConstraint: "ck",
}


def _constraints_of_kinds(table: Table, kinds: frozenset[str]) -> list[Any]:
    """The named constraints of ``table`` whose kind is in ``kinds``, in a stable order."""
    found = [
        constraint
        for constraint in table.constraints
        if constraint.name and _CONSTRAINT_KINDS.get(type(constraint)) in kinds
    ]
    return sorted(found, key=lambda constraint: str(constraint.name))


def _source(impl: Any, spec: ColumnSpec) -> str:
    assert spec.source is not None
    column = impl.quote(spec.source)
    return f"CAST({column} AS {impl.type_sql(spec.type)})" if spec.cast else column
