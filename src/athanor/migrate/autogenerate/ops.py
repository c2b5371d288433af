"""The operations autogenerate finds, as objects that can be reversed (for ``downgrade()``)
and rendered as the Python of a revision file (``op.add_column('users', sa.Column(...))``).

``process_revision_directives`` hooks receive a :class:`MigrationScript` whose
``upgrade_ops.ops`` / ``downgrade_ops.ops`` lists they may edit, as in Alembic.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from athanor.migrate.pysource import format_statement
from athanor.sql import types as sqltypes
from athanor.sql.ddl import constraint_kind
from athanor.sql.elements import TextClause
from athanor.sql.schema import Column, Identity, Index, Table, conv

_DROP_KIND = {"fk": "foreignkey", "uq": "unique", "ck": "check", "pk": "primary"}


class Renderer:
    """Renders schema objects as Python source, collecting the imports they need."""

    def __init__(self, impl: Any, render_item: Callable[..., Any] | None = None) -> None:
        self.impl = impl
        self.render_item = render_item
        self.imports: set[str] = set()

    def _hook(self, kind: str, obj: Any) -> str | None:
        if self.render_item is None:
            return None
        result = self.render_item(kind, obj, self)
        return result if isinstance(result, str) else None

    def type(self, type_: Any) -> str:
        custom = self._hook("type", type_)
        if custom is not None:
            return custom
        module = type(type_).__module__
        if isinstance(type_, sqltypes.Enum):
            labels = ", ".join(repr(label) for label in type_.enums)
            extra = f", name={type_.name!r}" if type_.name else ""
            if not type_.native_enum:
                extra += ", native_enum=False"
            if type_.inherit_schema:
                extra += ", inherit_schema=True"
            elif type_.schema is not None:
                extra += f", schema={type_.schema!r}"
            return f"sa.Enum({labels}{extra})"
        if isinstance(type_, sqltypes.ARRAY):
            extra = f", dimensions={type_.dimensions}" if type_.dimensions else ""
            return f"sa.ARRAY({self.type(type_.item_type)}{extra})"
        text = repr(type_)
        if module.startswith("athanor.dialects."):
            dialect = module.split(".")[2]
            self.imports.add(f"from athanor.dialects import {dialect}")
            return f"{dialect}.{text}"
        return f"sa.{text}"

    def sql(self, element: Any) -> str:
        """``sa.text('...')`` for an expression (a server default, a condition)."""
        if isinstance(element, str):
            return repr(element)
        if isinstance(element, TextClause):
            return f"sa.text({element.text.replace(chr(92) + ':', ':')!r})"
        return f"sa.text({self.impl.expression(element)!r})"

    @staticmethod
    def name(name: Any) -> str:
        """A constraint or index name: ``op.f('...')`` for one a naming convention made, so
        that running the revision does not apply the convention a second time."""
        if name is None:
            return "None"
        return f"op.f({str(name)!r})" if isinstance(name, conv) else repr(str(name))

    def server_default(self, default: Any) -> str:
        if isinstance(default, Identity):
            return self.identity(default)
        arg = getattr(default, "arg", default)
        return repr(arg) if isinstance(arg, str) else self.sql(arg)

    @staticmethod
    def identity(identity: Identity) -> str:
        """``sa.Identity(always=..., start=...)`` with the options that are set."""
        options = [f"always={bool(identity.always)!r}"]
        for name in ("start", "increment", "minvalue", "maxvalue", "cycle", "cache"):
            value = getattr(identity, name)
            if value is not None:
                options.append(f"{name}={value!r}")
        return f"sa.Identity({', '.join(options)})"

    def column(self, column: Column) -> str:
        custom = self._hook("column", column)
        if custom is not None:
            return custom
        parts = [repr(column.name), self.type(column.type)]
        if column.identity is not None:
            parts.append(self.identity(column.identity))
        if column.computed is not None:
            persisted = getattr(column.computed, "persisted", None)
            extra = f", persisted={persisted!r}" if persisted is not None else ""
            parts.append(f"sa.Computed({self.sql(column.computed.sqltext)}{extra})")
        parts.append(f"nullable={column.nullable!r}")
        if column.server_default is not None and column.computed is None:
            parts.append(f"server_default={self.server_default(column.server_default)}")
        if column.comment is not None:
            parts.append(f"comment={column.comment!r}")
        return f"sa.Column({', '.join(parts)})"

    def constraint(self, constraint: Any) -> str | None:
        """A table-level constraint inside ``op.create_table(...)``."""
        custom = self._hook(constraint_kind(constraint), constraint)
        if custom is not None:
            return custom
        kind = constraint_kind(constraint)
        name = f", name={self.name(constraint.name)}" if constraint.name else ""
        if kind == "pk":
            columns = [column.name for column in constraint.columns]
            if not columns:
                return None
            return f"sa.PrimaryKeyConstraint({_names(columns)}{name})"
        if kind == "uq":
            return f"sa.UniqueConstraint({_names(c.name for c in constraint.columns)}{name})"
        if kind == "ck":
            return f"sa.CheckConstraint({self.sql(constraint.sqltext)}{name})"
        if kind == "fk":
            local = [element.parent.name for element in constraint.elements]
            remote = [element.target_fullname for element in constraint.elements]
            options = name
            for option in ("ondelete", "onupdate"):
                value = getattr(constraint, option, None)
                if value:
                    options += f", {option}={value!r}"
            return f"sa.ForeignKeyConstraint([{_names(local)}], [{_names(remote)}]{options})"
        return None


def _names(names: Any) -> str:
    return ", ".join(repr(name) for name in names)


def _schema(schema: str | None) -> str:
    return f", schema={schema!r}" if schema else ""


class MigrateOp:
    """An autogenerated operation."""

    def reverse(self) -> MigrateOp:
        raise NotImplementedError

    def render(self, renderer: Renderer) -> list[str]:
        raise NotImplementedError


@dataclass
class CreateTableOp(MigrateOp):
    table: Table

    def reverse(self) -> MigrateOp:
        return DropTableOp(self.table)

    def render(self, renderer: Renderer) -> list[str]:
        table = self.table
        items = [renderer.column(column) for column in table.columns]
        primary = renderer.constraint(table.primary_key)
        if primary:
            items.append(primary)
        others = [c for c in table.constraints if constraint_kind(c) in ("fk", "uq", "ck")]
        for constraint in sorted(others, key=_constraint_order):
            rendered = renderer.constraint(constraint)
            if rendered:
                items.append(rendered)
        if table.comment is not None:
            items.append(f"comment={table.comment!r}")
        if table.schema:
            items.append(f"schema={table.schema!r}")
        # The trailing comma keeps the call one item per line when it is formatted.
        lines = [f"op.create_table({', '.join([repr(table.name), *items])},)"]
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            lines.extend(CreateIndexOp(index).render(renderer))
        return lines


def _constraint_order(constraint: Any) -> tuple[int, str]:
    order = {"fk": 0, "uq": 1, "ck": 2}
    return order[constraint_kind(constraint)], str(constraint.name or "")


@dataclass
class DropTableOp(MigrateOp):
    table: Table

    def reverse(self) -> MigrateOp:
        return CreateTableOp(self.table)

    def render(self, renderer: Renderer) -> list[str]:
        lines = [
            line
            for index in sorted(self.table.indexes, key=lambda i: str(i.name))
            for line in DropIndexOp(index).render(renderer)
        ]
        lines.append(f"op.drop_table({self.table.name!r}{_schema(self.table.schema)})")
        return lines


@dataclass
class RenameTableOp(MigrateOp):
    old: str
    new: str
    schema: str | None = None

    def reverse(self) -> MigrateOp:
        return RenameTableOp(self.new, self.old, self.schema)

    def render(self, renderer: Renderer) -> list[str]:
        return [f"op.rename_table({self.old!r}, {self.new!r}{_schema(self.schema)})"]


@dataclass
class AddColumnOp(MigrateOp):
    table_name: str
    column: Column
    schema: str | None = None

    def reverse(self) -> MigrateOp:
        return DropColumnOp(self.table_name, self.column, self.schema)

    def render(self, renderer: Renderer) -> list[str]:
        return [
            f"op.add_column({self.table_name!r}, {renderer.column(self.column)}"
            f"{_schema(self.schema)})"
        ]


@dataclass
class DropColumnOp(MigrateOp):
    table_name: str
    column: Column
    schema: str | None = None

    def reverse(self) -> MigrateOp:
        return AddColumnOp(self.table_name, self.column, self.schema)

    def render(self, renderer: Renderer) -> list[str]:
        return [f"op.drop_column({self.table_name!r}, {self.column.name!r}{_schema(self.schema)})"]


@dataclass
class AlterColumnOp(MigrateOp):
    """Changes to one column; ``modify_*`` are the new values, ``existing_*`` the old ones
    (``None`` for a default/comment means none; unset changes are left out)."""

    table_name: str
    column_name: str
    schema: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    existing: dict[str, Any] = field(default_factory=dict)

    def reverse(self) -> MigrateOp:
        name = self.changes.get("new_column_name", self.column_name)
        reversed_changes = {
            key: self.existing.get(key) for key in self.changes if key != "new_column_name"
        }
        if "new_column_name" in self.changes:
            reversed_changes["new_column_name"] = self.column_name
        existing = dict(self.existing)
        existing.update({k: v for k, v in self.changes.items() if k != "new_column_name"})
        return AlterColumnOp(self.table_name, name, self.schema, reversed_changes, existing)

    def render(self, renderer: Renderer) -> list[str]:
        args = [repr(self.table_name), repr(self.column_name)]
        for key in (
            "new_column_name",
            "type_",
            "nullable",
            "server_default",
            "comment",
            "autoincrement",
        ):
            if key in self.changes:
                args.append(f"{key}={self._value(renderer, key, self.changes[key])}")
        for key in ("type_", "nullable", "server_default", "comment"):
            if key in self.existing and (self.existing[key] is not None or key in self.changes):
                value = self._value(renderer, key, self.existing[key])
                args.append(f"existing_{key.rstrip('_')}={value}")
        if self.schema:
            args.append(f"schema={self.schema!r}")
        return [f"op.alter_column({', '.join(args)})"]

    @staticmethod
    def _value(renderer: Renderer, key: str, value: Any) -> str:
        if value is None:
            return "None"
        if key == "type_":
            return renderer.type(value)
        if key == "server_default":
            return renderer.server_default(value)
        return repr(value)


@dataclass
class CreateIndexOp(MigrateOp):
    index: Index

    def reverse(self) -> MigrateOp:
        return DropIndexOp(self.index)

    def render(self, renderer: Renderer) -> list[str]:
        index = self.index
        table = index.table
        assert table is not None
        elements = [
            repr(e.name) if isinstance(e, Column) else renderer.sql(e) for e in index.expressions
        ]
        unique = ", unique=True" if index.unique else ""
        return [
            f"op.create_index({renderer.name(index.name)}, {table.name!r}, [{', '.join(elements)}]"
            f"{unique}{_schema(table.schema)})"
        ]


@dataclass
class DropIndexOp(MigrateOp):
    index: Index

    def reverse(self) -> MigrateOp:
        return CreateIndexOp(self.index)

    def render(self, renderer: Renderer) -> list[str]:
        table = self.index.table
        assert table is not None
        return [
            f"op.drop_index({renderer.name(self.index.name)}, table_name={table.name!r}"
            f"{_schema(table.schema)})"
        ]


@dataclass
class AddConstraintOp(MigrateOp):
    constraint: Any

    def reverse(self) -> MigrateOp:
        return DropConstraintOp(self.constraint)

    def render(self, renderer: Renderer) -> list[str]:
        constraint = self.constraint
        table = constraint.table
        kind = constraint_kind(constraint)
        name = renderer.name(constraint.name)
        schema = _schema(table.schema)
        if kind in ("uq", "pk"):
            columns = _names(c.name for c in constraint.columns)
            what = "unique_constraint" if kind == "uq" else "primary_key"
            return [f"op.create_{what}({name}, {table.name!r}, [{columns}]{schema})"]
        if kind == "ck":
            condition = renderer.sql(constraint.sqltext)
            return [f"op.create_check_constraint({name}, {table.name!r}, {condition}{schema})"]
        local = [element.parent.name for element in constraint.elements]
        referred = constraint.elements[0]._table_and_column()
        remote = [element._table_and_column()[2] for element in constraint.elements]
        options = ""
        for option in ("ondelete", "onupdate"):
            value = getattr(constraint, option, None)
            if value:
                options += f", {option}={value!r}"
        if table.schema:
            options += f", source_schema={table.schema!r}"
        if referred[0]:
            options += f", referent_schema={referred[0]!r}"
        return [
            f"op.create_foreign_key({name}, {table.name!r}, {referred[1]!r}, [{_names(local)}], "
            f"[{_names(remote)}]{options})"
        ]


@dataclass
class DropConstraintOp(MigrateOp):
    constraint: Any

    def reverse(self) -> MigrateOp:
        return AddConstraintOp(self.constraint)

    def render(self, renderer: Renderer) -> list[str]:
        constraint = self.constraint
        table = constraint.table
        kind = _DROP_KIND[constraint_kind(constraint)]
        name = renderer.name(constraint.name)
        return [
            f"op.drop_constraint({name}, {table.name!r}, type_={kind!r}{_schema(table.schema)})"
        ]


@dataclass
class SetTableCommentOp(MigrateOp):
    table_name: str
    comment: str | None
    existing: str | None
    schema: str | None = None

    def reverse(self) -> MigrateOp:
        return SetTableCommentOp(self.table_name, self.existing, self.comment, self.schema)

    def render(self, renderer: Renderer) -> list[str]:
        if self.comment is None:
            return [f"op.drop_table_comment({self.table_name!r}{_schema(self.schema)})"]
        return [
            f"op.create_table_comment({self.table_name!r}, {self.comment!r}{_schema(self.schema)})"
        ]


@dataclass
class NoteOp(MigrateOp):
    """A comment in the revision for what autogenerate cannot do."""

    text: str

    def reverse(self) -> MigrateOp:
        return self

    def render(self, renderer: Renderer) -> list[str]:
        return [f"# {self.text}"]


@dataclass
class AddEnumValueOp(MigrateOp):
    """A label added to a PostgreSQL enum type (``ALTER TYPE ... ADD VALUE``); PostgreSQL
    cannot drop one, so the downgrade only notes it."""

    type_name: str
    value: str
    before: str | None = None
    after: str | None = None
    schema: str | None = None

    def reverse(self) -> MigrateOp:
        return NoteOp(
            f"PostgreSQL cannot drop the label {self.value!r} of enum type {self.type_name}; "
            "it stays"
        )

    def render(self, renderer: Renderer) -> list[str]:
        sql = renderer.impl.add_enum_value(
            self.type_name, self.schema, self.value, self.before, self.after
        )
        return [f"op.execute({sql!r})"]


@dataclass
class ReplaceEnumOp(MigrateOp):
    """A PostgreSQL enum type whose labels are removed or reordered, replaced by a new type
    (see :meth:`~athanor.dialects.postgresql.migrate.PostgreSQLMigrationImpl.
    replace_enum_type`); ``columns`` are the ``(table, column, default, array dimensions)``
    that use it."""

    type_name: str
    old: list[str]
    new: list[str]
    columns: list[tuple[str, str, str | None, int]]
    schema: str | None = None

    def reverse(self) -> MigrateOp:
        return ReplaceEnumOp(self.type_name, self.new, self.old, self.columns, self.schema)

    def render(self, renderer: Renderer) -> list[str]:
        statements = renderer.impl.replace_enum_type(
            self.type_name, self.schema, self.new, self.columns
        )
        return [f"op.execute({sql!r})" for sql in statements]


@dataclass
class OpList:
    """``upgrade_ops`` / ``downgrade_ops`` of a :class:`MigrationScript`."""

    ops: list[MigrateOp] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.ops

    def reverse(self) -> OpList:
        return OpList([op.reverse() for op in reversed(self.ops)])


@dataclass
class MigrationScript:
    """The revision autogenerate is about to write (see ``process_revision_directives``)."""

    rev_id: str | None
    message: str | None
    upgrade_ops: OpList
    downgrade_ops: OpList
    head: str = "head"
    splice: bool = False
    branch_label: list[str] | None = None
    depends_on: list[str] | None = None
    imports: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    """Remarks for the reader (probable renames), written as comments atop upgrade()."""


def render_ops(ops: OpList, renderer: Renderer, notes: Sequence[str] = ()) -> str:
    """The body of ``upgrade()`` / ``downgrade()``, with ``notes`` as comments first."""
    comments = [
        line
        for note in notes
        for line in textwrap.wrap(
            note,
            92,
            initial_indent="# ",
            subsequent_indent="#   ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    ]
    lines = [line for op in ops.ops for line in op.render(renderer)]
    if all(line.startswith("#") for line in lines):
        lines.append("pass")
    body = ["    " + line for line in comments]
    for line in lines:
        body.extend(["    " + line] if line.startswith("#") else format_statement(line, 4))
    return "\n".join(body)
