"""Schema objects: MetaData, Table, Column, constraints, indexes, sequences and defaults.

These describe a database schema in Python.  Statements use them as FROM objects and columns;
the DDL work (``athanor.sql.ddl``) turns them into CREATE/DROP statements and reflection fills
them from a live database.
"""

from __future__ import annotations

import inspect as _pyinspect
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, overload

from athanor import exc
from athanor.event import EventTarget
from athanor.sql import types as sqltypes
from athanor.sql.elements import (
    ClauseElement,
    ColumnClause,
    ColumnElement,
    KeyContext,
    TextClause,
    coerce_where,
    text,
)
from athanor.sql.selectable import (
    ColumnCollection,
    TableClause,
    columns_changed,
    copy_with_children,
)
from athanor.util.typevars import T

BLANK_SCHEMA: Any = object()
"""A ``schema=`` that means no schema, even where the MetaData has one."""
RETAIN_SCHEMA: Any = object()
"""``Table.to_metadata(schema=RETAIN_SCHEMA)`` (the default): the copy keeps the schema."""

DEFAULT_NAMING_CONVENTION: dict[str, str] = {"ix": "ix_%(column_0_label)s"}


class conv(str):  # noqa: N801
    """A constraint name that is final: naming conventions leave it alone."""

    __slots__ = ()


class SchemaItem:
    """Base class of schema objects."""

    info: dict[str, Any]

    def _set_parent(self, parent: Any) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------------------
# defaults


class DefaultGenerator(SchemaItem):
    """Something that gives a column its value when a statement does not."""

    is_sequence = False
    is_server_default = False
    is_callable = False
    is_scalar = False
    is_clause_element = False
    for_update = False
    column: Column | None = None

    def _set_parent(self, parent: Any) -> None:
        self.column = parent


class ColumnDefault(DefaultGenerator):
    """A Python-side default (or onupdate): a constant, a callable, or a SQL expression."""

    def __init__(self, arg: Any, for_update: bool = False) -> None:
        if isinstance(arg, FetchedValue):
            raise exc.ArgumentError("Use server_default= for server-side defaults")
        self.for_update = for_update
        self.is_clause_element = isinstance(arg, ClauseElement)
        self.is_callable = callable(arg) and not self.is_clause_element
        self.is_scalar = not self.is_callable and not self.is_clause_element
        self._takes_context = False
        if self.is_callable:
            self._takes_context = _callable_takes_argument(arg)
        self.arg = arg

    def __repr__(self) -> str:
        return f"ColumnDefault({self.arg!r})"


class DefaultExecutionContext:
    """What a one-argument default callable receives: the row's other parameter values."""

    __slots__ = ("current_parameters",)

    def __init__(self, current_parameters: Mapping[str, Any]) -> None:
        self.current_parameters = current_parameters

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> Mapping[str, Any]:
        return self.current_parameters


def _callable_takes_argument(fn: Callable[..., Any]) -> bool:
    try:
        signature = _pyinspect.signature(fn)
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return len(positional) >= 1


class FetchedValue(DefaultGenerator):
    """A value the server fills in (trigger, computed column); the statement leaves it out."""

    is_server_default = True

    def __init__(self, for_update: bool = False) -> None:
        self.for_update = for_update


class DefaultClause(FetchedValue):
    """A server-side DEFAULT (``server_default="0"`` or ``server_default=text("now()")``)."""

    def __init__(self, arg: Any, for_update: bool = False) -> None:
        super().__init__(for_update)
        if not isinstance(arg, str | ClauseElement):
            raise exc.ArgumentError(
                f"server_default must be a string or a text()/SQL expression, got {arg!r}"
            )
        self.arg = arg

    def __repr__(self) -> str:
        return f"DefaultClause({self.arg!r})"


class Sequence(DefaultGenerator):
    """A database sequence (PostgreSQL); as a column argument it generates the column's values."""

    is_sequence = True

    def __init__(
        self,
        name: str,
        start: int | None = None,
        increment: int | None = None,
        minvalue: int | None = None,
        maxvalue: int | None = None,
        nominvalue: bool | None = None,
        nomaxvalue: bool | None = None,
        cycle: bool | None = None,
        schema: str | None = None,
        cache: int | None = None,
        order: bool | None = None,
        data_type: Any = None,
        optional: bool = False,
        quote: bool | None = None,
        metadata: MetaData | None = None,
        for_update: bool = False,
    ) -> None:
        self.name = name
        self.start = start
        self.increment = increment
        self.minvalue = minvalue
        self.maxvalue = maxvalue
        self.nominvalue = nominvalue
        self.nomaxvalue = nomaxvalue
        self.cycle = cycle
        self.schema = schema
        self.cache = cache
        self.order = order
        self.data_type = sqltypes.to_instance(data_type) if data_type is not None else None
        self.optional = optional
        self.for_update = for_update
        self.metadata = metadata
        if metadata is not None:
            metadata._sequences[self._key] = self

    @property
    def _key(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def _set_parent(self, parent: Any) -> None:
        super()._set_parent(parent)

    def _set_table(self, table: Table) -> None:
        if self.metadata is None and table.metadata is not None:
            self.metadata = table.metadata
            table.metadata._sequences[self._key] = self
        if self.schema is None and table.schema is not None and table.metadata is not None:
            self.schema = table.metadata.schema if table.metadata.schema else None

    def next_value(self) -> NextValue:
        """``nextval('name')``: the sequence's next value as an expression."""
        return NextValue(self)

    def create(self, bind: Any, checkfirst: bool = True) -> None:
        """``CREATE SEQUENCE`` on ``bind`` unless it exists (``checkfirst``); databases
        without sequences (SQLite, MySQL) skip it."""
        from athanor.sql import ddl

        ddl.create_sequence(self, bind, checkfirst)

    def drop(self, bind: Any, checkfirst: bool = True) -> None:
        """``DROP SEQUENCE`` on ``bind`` if it exists (``checkfirst``); databases without
        sequences skip it."""
        from athanor.sql import ddl

        ddl.drop_sequence(self, bind, checkfirst)

    def __repr__(self) -> str:
        return f"Sequence({self.name!r})"


class NextValue(ColumnElement):
    """The next value of a sequence."""

    __visit_name__ = "next_value"
    type = sqltypes.INTEGERTYPE

    def __init__(self, sequence: Sequence) -> None:
        self.sequence = sequence

    def _ck(self, ctx: KeyContext) -> Hashable:
        return ("NV", self.sequence.name, self.sequence.schema)


class Identity(SchemaItem):
    """``GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY`` for a column."""

    def __init__(
        self,
        always: bool = False,
        on_null: bool | None = None,
        start: int | None = None,
        increment: int | None = None,
        minvalue: int | None = None,
        maxvalue: int | None = None,
        nominvalue: bool | None = None,
        nomaxvalue: bool | None = None,
        cycle: bool | None = None,
        cache: int | None = None,
        order: bool | None = None,
    ) -> None:
        self.always = always
        self.on_null = on_null
        self.start = start
        self.increment = increment
        self.minvalue = minvalue
        self.maxvalue = maxvalue
        self.nominvalue = nominvalue
        self.nomaxvalue = nomaxvalue
        self.cycle = cycle
        self.cache = cache
        self.order = order
        self.column: Column | None = None
        self.info = {}

    def _set_parent(self, parent: Any) -> None:
        self.column = parent
        parent.identity = self


class Computed(FetchedValue):
    """``GENERATED ALWAYS AS (expression) [STORED]``: a computed column."""

    def __init__(self, sqltext: Any, persisted: bool | None = None) -> None:
        super().__init__()
        self.sqltext = text(sqltext) if isinstance(sqltext, str) else sqltext
        self.persisted = persisted

    def _set_parent(self, parent: Any) -> None:
        self.column = parent
        parent.computed = self
        parent.server_default = self
        parent.server_onupdate = self


# --------------------------------------------------------------------------------------
# Column


_AUTO = "auto"


class Column(ColumnClause[T]):
    """A table column: name, type, keys, defaults and constraints.

    For type checkers ``Column("id", Integer)`` is a ``Column[int]``.
    """

    __visit_name__ = "column"

    @overload
    def __init__(
        self, name: str, type_: sqltypes.TypeArg[T], /, *args: Any, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(self, type_: sqltypes.TypeArg[T], /, *args: Any, **kwargs: Any) -> None: ...
    @overload
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        args_list = list(args)
        name: str | None = None
        type_: Any = None
        if args_list and (args_list[0] is None or isinstance(args_list[0], str)):
            name = args_list.pop(0)  # Column(None, Integer): the name comes later
        if args_list and (
            isinstance(args_list[0], sqltypes.TypeEngine)
            or (isinstance(args_list[0], type) and issubclass(args_list[0], sqltypes.TypeEngine))
        ):
            type_ = args_list.pop(0)
        type_ = kwargs.pop("type_", type_)
        name = kwargs.pop("name", name)
        super().__init__(name or "", type_)
        self.name = name
        self.key = kwargs.pop("key", name)
        self.primary_key = kwargs.pop("primary_key", False)
        nullable = kwargs.pop("nullable", _AUTO)
        self._user_nullable = nullable
        self.nullable = (not self.primary_key) if nullable == _AUTO else bool(nullable)
        self.autoincrement: bool | str = kwargs.pop("autoincrement", _AUTO)
        self.unique: bool | None = kwargs.pop("unique", None)
        self.index: bool | None = kwargs.pop("index", None)
        self.comment: str | None = kwargs.pop("comment", None)
        self.doc: str | None = kwargs.pop("doc", None)
        self.info: dict[str, Any] = kwargs.pop("info", None) or {}
        self.quote = kwargs.pop("quote", None)
        self.system = kwargs.pop("system", False)
        self._insert_sentinel: bool = kwargs.pop("insert_sentinel", False)
        """Marked as the column that tells the rows of a multi-row INSERT apart
        (:func:`insert_sentinel`)."""
        self._omit_from_statements: bool = kwargs.pop("_omit_from_statements", False)
        """Left out of ``select(table)`` and of the ORM mapping of the table, as an
        :func:`insert_sentinel` column is by default."""
        self.table: Any = None
        self.foreign_keys: set[ForeignKey] = set()
        self.constraints: set[Constraint] = set()
        self.computed: Computed | None = None
        self.identity: Identity | None = None
        self.default: DefaultGenerator | None = None
        self.onupdate: DefaultGenerator | None = None
        self.server_default: FetchedValue | None = None
        self.server_onupdate: FetchedValue | None = None
        self._proxied = None

        default = kwargs.pop("default", None)
        insert_default = kwargs.pop("insert_default", None)
        default = insert_default if insert_default is not None else default
        if default is not None:
            self._set_default(default)
        onupdate = kwargs.pop("onupdate", None)
        if onupdate is not None:
            self.onupdate = (
                onupdate
                if isinstance(onupdate, DefaultGenerator)
                else ColumnDefault(onupdate, for_update=True)
            )
            self.onupdate._set_parent(self)
        server_default = kwargs.pop("server_default", None)
        if server_default is not None:
            self.server_default = (
                server_default
                if isinstance(server_default, FetchedValue)
                else DefaultClause(server_default)
            )
            self.server_default._set_parent(self)
        server_onupdate = kwargs.pop("server_onupdate", None)
        if server_onupdate is not None:
            self.server_onupdate = (
                server_onupdate
                if isinstance(server_onupdate, FetchedValue)
                else DefaultClause(server_onupdate, for_update=True)
            )
        self.dialect_kwargs = {k: v for k, v in kwargs.items() if "_" in k}
        unknown = [k for k in kwargs if "_" not in k]
        if unknown:
            raise TypeError(f"Column got unexpected argument(s): {', '.join(unknown)}")
        self._pending_args: list[Any] = []
        for arg in args_list:
            self._attach_arg(arg)

    _type: sqltypes.TypeEngine

    @property
    def type(self) -> sqltypes.TypeEngine:
        """The column's type; a typeless foreign key column takes the referenced column's type."""
        type_ = self._type
        if type_._isnull and self.foreign_keys:
            for fk in self.foreign_keys:
                try:
                    target_type: sqltypes.TypeEngine = fk.column.type
                except exc.NoReferenceError:
                    continue
                if not target_type._isnull:
                    type_ = self._type = target_type.copy()
                    break
        return type_

    @type.setter
    def type(self, value: sqltypes.TypeEngine) -> None:
        self._type = value

    def _set_default(self, default: Any) -> None:
        if isinstance(default, Sequence | DefaultGenerator):
            self.default = default
        else:
            self.default = ColumnDefault(default)
        self.default._set_parent(self)

    def _attach_arg(self, arg: Any) -> None:
        if arg is None:
            return
        if isinstance(arg, ForeignKey):
            arg._set_parent(self)
        elif isinstance(arg, Sequence):
            self._set_default(arg)
        elif isinstance(arg, Identity | Computed):
            arg._set_parent(self)
        elif isinstance(arg, FetchedValue):
            if arg.for_update:
                self.server_onupdate = arg
            else:
                self.server_default = arg
            arg._set_parent(self)
        elif isinstance(arg, ColumnDefault):
            if arg.for_update:
                self.onupdate = arg
            else:
                self.default = arg
            arg._set_parent(self)
        elif isinstance(arg, Constraint):
            self._pending_args.append(arg)
        else:
            raise exc.ArgumentError(f"Unknown Column argument {arg!r}")

    def _ck(self, ctx: KeyContext) -> Hashable:
        if self.table is None:
            return ("CC", self.name, False, self.type._ck)
        return self._ck_token or self._ck_self()

    @property
    def _proxy_name(self) -> str | None:
        return self.name

    @property
    def autoincrement_effective(self) -> bool:
        """Whether the database generates this column's values (integer single-column pk)."""
        if self.autoincrement is True:
            return True
        if self.autoincrement is False or self.autoincrement == "ignore_fk":
            return self.autoincrement == "ignore_fk" and self._is_autoinc_candidate(ignore_fk=True)
        return self._is_autoinc_candidate(ignore_fk=False)

    def _is_autoinc_candidate(self, ignore_fk: bool) -> bool:
        table = self.table
        if table is None or not self.primary_key:
            return False
        pk_cols = [c for c in table.c if c.primary_key]
        if len(pk_cols) != 1:
            return False
        if not issubclass(self.type._type_affinity, sqltypes.Integer):
            return False
        if self.foreign_keys and not ignore_fk:
            return False
        return self.default is None or isinstance(self.default, Sequence)

    def _set_table(self, table: Table) -> None:
        if self.table is not None and self.table is not table:
            raise exc.ArgumentError(
                f"Column {self.name!r} already belongs to table {self.table.name!r}; "
                "use column.copy() to reuse its definition"
            )
        if not self.name:
            raise exc.ArgumentError("A Column needs a name before it is added to a Table")
        if self.key is None:
            self.key = self.name
        self.table = table
        self._type = self._type._for_table(table)
        if isinstance(self.default, Sequence):
            self.default._set_table(table)
        if self.index:
            # index=True with unique=True means one unique index, not an index plus a constraint.
            table.append_constraint(
                Index(None, self.key, unique=bool(self.unique), _column_flag=True)
            )
        elif self.unique:
            table.append_constraint(UniqueConstraint(self.key, _column_flag=True))
        for fk in list(self.foreign_keys):
            if fk.constraint is None:
                fkc = ForeignKeyConstraint(
                    [self.key],
                    [fk._colspec],
                    name=fk._name,
                    onupdate=fk.onupdate,
                    ondelete=fk.ondelete,
                    deferrable=fk.deferrable,
                    initially=fk.initially,
                    use_alter=fk.use_alter,
                    match=fk.match,
                    _elements=[fk],
                )
                table.append_constraint(fkc)
        for pending in self._pending_args:
            table.append_constraint(pending)
        self._pending_args = []

    def copy(self, **kw: Any) -> Column:
        """An unattached copy of this column (for use in another table)."""
        return self._copy(**kw)

    def _copy(self, fk_target: Callable[[ForeignKey], str] | None = None, **kw: Any) -> Column:
        args: list[Any] = [
            fk._copy(fk_target(fk) if fk_target is not None else None)
            for fk in self.foreign_keys
            if fk.constraint is None or len(fk.constraint.elements) == 1
        ]
        if self.identity is not None:
            args.append(
                Identity(
                    always=self.identity.always,
                    start=self.identity.start,
                    increment=self.identity.increment,
                )
            )
        if self.computed is not None:
            args.append(Computed(self.computed.sqltext, self.computed.persisted))
        new = Column(
            self.name,
            self.type,
            *args,
            key=self.key,
            primary_key=self.primary_key,
            nullable=self._user_nullable,
            autoincrement=self.autoincrement,
            unique=self.unique,
            index=self.index,
            comment=self.comment,
            info=dict(self.info),
            default=self.default
            if isinstance(self.default, Sequence)
            else getattr(self.default, "arg", None),
            onupdate=getattr(self.onupdate, "arg", None),
            server_default=self.server_default if self.computed is None else None,
            server_onupdate=self.server_onupdate if self.computed is None else None,
            insert_sentinel=self._insert_sentinel,
            _omit_from_statements=self._omit_from_statements,
            **self.dialect_kwargs,
        )
        return new

    def references(self, column: Column) -> bool:
        """Whether a foreign key of this column points at ``column``."""
        return any(fk.column is column for fk in self.foreign_keys)

    def __repr__(self) -> str:
        parts = [repr(self.name), repr(self.type)]
        parts.extend(sorted(repr(fk) for fk in self.foreign_keys))
        parts.append(f"table=<{self.table.name}>" if self.table is not None else "table=None")
        if self.key != self.name:
            parts.append(f"key={self.key!r}")
        if self.primary_key:
            parts.append("primary_key=True")
        if not self.nullable:
            parts.append("nullable=False")
        for option in ("onupdate", "default", "server_default", "comment"):
            value = getattr(self, option)
            if value is not None:
                parts.append(f"{option}={value!r}")
        return f"Column({', '.join(parts)})"


# --------------------------------------------------------------------------------------
# constraints


class Constraint(SchemaItem):
    """Base class of table constraints; ``name`` follows the MetaData naming convention."""

    _convention_key = ""

    def __init__(
        self,
        name: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        info: dict[str, Any] | None = None,
        comment: str | None = None,
        **dialect_kw: Any,
    ) -> None:
        self._name = name
        self.deferrable = deferrable
        self.initially = initially
        self.info = info or {}
        self.comment = comment
        self.dialect_kwargs = dialect_kw
        self.table: Table | None = None

    @property
    def name(self) -> str | None:
        """The constraint name, from the naming convention when one applies."""
        return _conventional_name(self, self._name)

    @name.setter
    def name(self, value: str | None) -> None:
        self._name = value

    def _set_parent(self, parent: Any) -> None:
        self.table = parent

    def _column_names(self) -> list[Column]:
        return []


class ColumnCollectionConstraint(Constraint):
    """A constraint over a list of columns (given as names or Column objects)."""

    def __init__(self, *columns: Any, _column_flag: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        self._pending_columns = list(columns)
        self._column_flag = _column_flag
        self.columns = ColumnCollection()
        if columns and all(isinstance(c, Column) and c.table is not None for c in columns):
            table = columns[0].table
            table.append_constraint(self)

    def _set_parent(self, parent: Any) -> None:
        super()._set_parent(parent)
        self.columns = ColumnCollection()
        for col in self._pending_columns:
            found = _resolve_column(parent, col)
            self.columns.add(found, found.key)

    def _column_names(self) -> list[Column]:
        return list(self.columns)

    def __contains__(self, column: object) -> bool:
        return self.columns.contains_column(column)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def contains_column(self, column: Column) -> bool:
        return self.columns.contains_column(column)


def _resolve_column(table: Table, col: Any) -> Column:
    if isinstance(col, Column):
        return col
    if isinstance(col, str):
        found = table.c.get(col)
        if found is None:
            for candidate in table.c:
                if candidate.name == col:
                    return candidate  # type: ignore[no-any-return]
            raise exc.ArgumentError(f"Table {table.name!r} has no column {col!r}")
        return found  # type: ignore[no-any-return]
    raise exc.ArgumentError(f"Expected a column name or Column, got {col!r}")


class PrimaryKeyConstraint(ColumnCollectionConstraint):
    """``PRIMARY KEY (columns)``."""

    _convention_key = "pk"

    def _set_parent(self, parent: Any) -> None:
        super()._set_parent(parent)
        for col in self.columns:
            col.primary_key = True
            if col._user_nullable == _AUTO:
                col.nullable = False


class UniqueConstraint(ColumnCollectionConstraint):
    """``UNIQUE (columns)``."""

    _convention_key = "uq"


class CheckConstraint(Constraint):
    """``CHECK (expression)``."""

    _convention_key = "ck"

    def __init__(self, sqltext: Any, name: str | None = None, **kw: Any) -> None:
        super().__init__(name=name, **kw)
        self.sqltext: ClauseElement = (
            text(sqltext) if isinstance(sqltext, str) else coerce_where(sqltext)
        )
        self._pending_columns: list[Any] = []


class ForeignKeyConstraint(ColumnCollectionConstraint):
    """``FOREIGN KEY (columns) REFERENCES other (columns)``."""

    _convention_key = "fk"

    def __init__(
        self,
        columns: Iterable[Any],
        refcolumns: Iterable[Any],
        name: str | None = None,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        use_alter: bool = False,
        link_to_name: bool = False,
        match: str | None = None,
        table: Table | None = None,
        info: dict[str, Any] | None = None,
        comment: str | None = None,
        _elements: list[ForeignKey] | None = None,
        **dialect_kw: Any,
    ) -> None:
        columns = list(columns)
        refcolumns = list(refcolumns)
        if len(columns) != len(refcolumns):
            raise exc.ArgumentError(
                "ForeignKeyConstraint needs as many referring columns as referred columns"
            )
        Constraint.__init__(
            self,
            name=name,
            deferrable=deferrable,
            initially=initially,
            info=info,
            comment=comment,
            **dialect_kw,
        )
        self._pending_columns = columns
        self._column_flag = False
        self.columns = ColumnCollection()
        self.onupdate = onupdate
        self.ondelete = ondelete
        self.use_alter = use_alter
        self.match = match
        self.link_to_name = link_to_name
        if _elements is not None:
            self.elements = _elements
            for fk in _elements:
                fk.constraint = self
        else:
            self.elements = [
                ForeignKey(
                    ref,
                    name=name,
                    onupdate=onupdate,
                    ondelete=ondelete,
                    deferrable=deferrable,
                    initially=initially,
                    use_alter=use_alter,
                    match=match,
                    _constraint=self,
                )
                for ref in refcolumns
            ]
        if table is not None:
            table.append_constraint(self)

    def _set_parent(self, parent: Any) -> None:
        super()._set_parent(parent)
        for col, fk in zip(self.columns, self.elements, strict=True):
            if fk.parent is None:
                fk.parent = col
                col.foreign_keys.add(fk)

    @property
    def referred_table(self) -> Table:
        """The table the foreign key points at."""
        table: Table = self.elements[0].column.table
        return table

    @property
    def column_keys(self) -> list[str]:
        return (
            [c.key for c in self.columns]
            if self.columns
            else [str(c) for c in self._pending_columns]
        )

    def _column_names(self) -> list[Column]:
        return list(self.columns)


class ForeignKey(SchemaItem):
    """A column's reference to another table's column (``ForeignKey("users.id")``)."""

    def __init__(
        self,
        column: Any,
        _constraint: ForeignKeyConstraint | None = None,
        use_alter: bool = False,
        name: str | None = None,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        link_to_name: bool = False,
        match: str | None = None,
        info: dict[str, Any] | None = None,
        comment: str | None = None,
        **dialect_kw: Any,
    ) -> None:
        self._target: Any = column
        if isinstance(column, str):
            self._colspec = column
        elif isinstance(column, ColumnClause) or hasattr(column, "__clause_element__"):
            target = column if isinstance(column, ColumnClause) else column.__clause_element__()
            self._target = target
            self._colspec = (
                f"{target.table.fullname}.{target.key}" if target.table is not None else target.name
            )
        else:
            raise exc.ArgumentError(f"ForeignKey needs 'table.column' or a Column, got {column!r}")
        self.constraint = _constraint
        self.use_alter = use_alter
        self._name = name
        self.onupdate = onupdate
        self.ondelete = ondelete
        self.deferrable = deferrable
        self.initially = initially
        self.link_to_name = link_to_name
        self.match = match
        self.info = info or {}
        self.comment = comment
        self.dialect_kwargs = dialect_kw
        self.parent: Column | None = None

    @property
    def name(self) -> str | None:
        return self.constraint.name if self.constraint is not None else self._name

    def _set_parent(self, parent: Any) -> None:
        self.parent = parent
        parent.foreign_keys.add(self)

    @property
    def target_fullname(self) -> str:
        return self._colspec

    def _copy(self, colspec: str | None = None) -> ForeignKey:
        """A copy with the same options, pointing at ``colspec`` when given."""
        return ForeignKey(
            colspec or self._colspec,
            use_alter=self.use_alter,
            name=self._name,
            onupdate=self.onupdate,
            ondelete=self.ondelete,
            deferrable=self.deferrable,
            initially=self.initially,
            link_to_name=self.link_to_name,
            match=self.match,
            info=dict(self.info),
            comment=self.comment,
            **self.dialect_kwargs,
        )

    def _table_and_column(self) -> tuple[str | None, str, str]:
        parts = self._colspec.split(".")
        if len(parts) < 2:
            raise exc.ArgumentError(f"ForeignKey target {self._colspec!r} must be 'table.column'")
        if len(parts) == 2:
            return None, parts[0], parts[1]
        return ".".join(parts[:-2]), parts[-2], parts[-1]

    @property
    def column(self) -> Column:
        """The referenced Column (looked up in the MetaData on first use)."""
        if isinstance(self._target, Column) and self._target.table is not None:
            return self._target
        schema, table_name, column_name = self._table_and_column()
        parent_table = self.parent.table if self.parent is not None else None
        metadata = parent_table.metadata if parent_table is not None else None
        if metadata is None or parent_table is None:
            raise exc.NoReferencedTableError(
                f"Foreign key {self._colspec!r} is not attached to a table in a MetaData",
                table_name,
            )
        if (
            schema is None
            and parent_table.schema is not None
            and f"{parent_table.schema}.{table_name}" in metadata.tables
        ):
            schema = parent_table.schema
        key = f"{schema}.{table_name}" if schema else table_name
        table = metadata.tables.get(key)
        if table is None:
            raise exc.NoReferencedTableError(
                f"Foreign key on column {parent_table.name}."
                f"{self.parent.name if self.parent is not None else '?'} "
                f"refers to table {key!r}, which is not in this MetaData; define that Table first "
                "(or reflect it)",
                key,
            )
        found = table.c.get(column_name)
        if found is None:
            for col in table.c:
                if col.name == column_name:
                    found = col
        if found is None:
            raise exc.NoReferencedColumnError(
                f"Foreign key {self._colspec!r} refers to column {column_name!r}, which table "
                f"{key!r} does not have",
                key,
                column_name,
            )
        self._target = found
        return found  # type: ignore[no-any-return]

    def references(self, table: TableClause) -> bool:
        """Whether this foreign key points at ``table``."""
        return self.column.table is table

    def get_referent(self, table: Any) -> ColumnElement | None:
        return table.corresponding_column(self.column)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"ForeignKey({self._colspec!r})"


class Index(SchemaItem):
    """``CREATE [UNIQUE] INDEX name ON table (expressions)``."""

    def __init__(
        self,
        name: str | None,
        *expressions: Any,
        unique: bool = False,
        quote: bool | None = None,
        info: dict[str, Any] | None = None,
        _column_flag: bool = False,
        **dialect_kw: Any,
    ) -> None:
        self._name = name
        self.unique = unique
        self.info = info or {}
        self.dialect_kwargs = dialect_kw
        self._pending = list(expressions)
        self._column_flag = _column_flag
        self.table: Table | None = None
        self.columns = ColumnCollection()
        self.expressions: list[Any] = []
        for expr in expressions:
            table = _table_of(expr)
            if table is not None:
                table.append_constraint(self)
                break

    @property
    def name(self) -> str | None:
        return _conventional_name(self, self._name)

    @name.setter
    def name(self, value: str | None) -> None:
        self._name = value

    _convention_key = "ix"

    def _set_parent(self, parent: Any) -> None:
        self.table = parent
        self.columns = ColumnCollection()
        self.expressions = []
        for expr in self._pending:
            if isinstance(expr, str | Column):
                col = _resolve_column(parent, expr)
                self.columns.add(col, col.key)
                self.expressions.append(col)
            else:
                element = expr.__clause_element__() if hasattr(expr, "__clause_element__") else expr
                if isinstance(element, Column):
                    self.columns.add(element, element.key)
                self.expressions.append(element)

    def _column_names(self) -> list[Column]:
        return list(self.columns)

    def create(self, bind: Any, checkfirst: bool = False) -> None:
        """``CREATE INDEX`` on ``bind``; with ``checkfirst`` only if it does not exist."""
        from athanor.sql import ddl

        ddl.create_index(self, bind, checkfirst)

    def drop(self, bind: Any, checkfirst: bool = False) -> None:
        """``DROP INDEX`` on ``bind``; with ``checkfirst`` only if it exists."""
        from athanor.sql import ddl

        ddl.drop_index(self, bind, checkfirst)

    def __repr__(self) -> str:
        return f"Index({self.name!r})"


def _table_of(expr: Any) -> Table | None:
    if isinstance(expr, Column) and isinstance(expr.table, Table):
        return expr.table
    if isinstance(expr, ColumnElement):
        for from_ in expr._from_objects:
            if isinstance(from_, Table):
                return from_
    return None


def _conventional_name(item: Any, explicit: str | None) -> str | None:
    if isinstance(explicit, conv):
        return explicit
    table = getattr(item, "table", None)
    if table is None or table.metadata is None:
        return explicit
    template = table.metadata.naming_convention.get(item._convention_key)
    if template is None:
        return explicit
    if explicit is not None and "%(constraint_name)s" not in template:
        return explicit
    if explicit is None and "%(constraint_name)s" in template:
        return None
    columns = item._column_names()
    if not columns and "column_0" in template:
        return explicit
    tokens = _NameTokens(table, columns, item, explicit)
    try:
        return conv(template % tokens)
    except KeyError as missing:
        raise exc.InvalidRequestError(
            f"Naming convention {template!r} uses unknown token {missing}"
        ) from None


class _NameTokens(Mapping[str, str]):
    """Values of naming convention tokens (``%(table_name)s``, ``%(column_0_name)s`` ...)."""

    def __init__(
        self, table: Table, columns: list[Column], item: Any, explicit: str | None
    ) -> None:
        self.table = table
        self.columns = columns
        self.item = item
        self.explicit = explicit

    def _referred(self) -> list[Column]:
        if isinstance(self.item, ForeignKeyConstraint):
            return [fk.column for fk in self.item.elements]
        return []

    def __getitem__(self, key: str) -> str:
        if key == "table_name":
            return self.table.name
        if key == "constraint_name":
            if self.explicit is None:
                raise KeyError(key)
            return self.explicit
        if key == "referred_table_name":
            referred = self._referred()
            return referred[0].table.name if referred else ""
        for prefix, cols in (("referred_column_", self._referred()), ("column_", self.columns)):
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            if rest.startswith("0N_") or rest.startswith("0_N_"):
                attr = rest.split("_")[-1]
                sep = "" if rest.startswith("0N_") else "_"
                return sep.join(_token_value(c, attr) for c in cols)
            index, _, attr = rest.partition("_")
            if index.isdigit() and int(index) < len(cols):
                return _token_value(cols[int(index)], attr)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _token_value(col: Column, attr: str) -> str:
    if attr == "name":
        return col.name
    if attr == "key":
        return col.key or col.name
    if attr == "label":
        return f"{col.table.name}_{col.name}" if col.table is not None else col.name
    raise KeyError(attr)


# --------------------------------------------------------------------------------------
# Table and MetaData


_DDL_EVENTS: dict[str, tuple[str, ...]] = {
    "before_create": ("target", "connection"),
    "after_create": ("target", "connection"),
    "before_drop": ("target", "connection"),
    "after_drop": ("target", "connection"),
}


class Table(EventTarget, TableClause):
    """A table in a :class:`MetaData`: ``Table("users", metadata, Column(...), ...)``.

    Fires ``before_create`` / ``after_create`` / ``before_drop`` / ``after_drop`` around its
    DDL, with ``(table, connection, **kw)``; a ``DDL(...)`` statement is such a listener.
    """

    __visit_name__ = "table"
    _event_signatures = _DDL_EVENTS

    def __new__(cls, *args: Any, **kwargs: Any) -> Table:
        if len(args) >= 2 and isinstance(args[1], MetaData):
            name, metadata = args[0], args[1]
            schema = kwargs.get("schema")
            if schema is None:
                schema = metadata.schema
            elif schema is BLANK_SCHEMA:
                schema = None
            key = f"{schema}.{name}" if schema else name
            existing = metadata.tables.get(key)
            if existing is None and kwargs.get("must_exist"):
                raise exc.InvalidRequestError(
                    f"Table {key!r} is not defined in this MetaData (must_exist=True); define "
                    "it first or drop must_exist"
                )
            if existing is not None:
                if kwargs.get("keep_existing"):
                    existing.__dict__["_skip_init"] = True
                    return existing
                if (
                    len(args) > 2
                    and not kwargs.get("extend_existing")
                    and kwargs.get("autoload_with") is None
                ):
                    raise exc.InvalidRequestError(
                        f"Table {key!r} is already defined in this MetaData; pass "
                        "extend_existing=True to add to it or keep_existing=True to reuse it"
                    )
                existing.__dict__["_extend"] = True
                return existing
        return super().__new__(cls)

    def __init__(self, name: str, metadata: MetaData, *args: Any, **kwargs: Any) -> None:
        if self.__dict__.pop("_skip_init", False):
            return
        if self.__dict__.pop("_extend", False):
            self._init_items(args)
            self._apply_kwargs(kwargs, extend=True)
            return
        schema = kwargs.pop("schema", None)
        if schema is None:
            schema = metadata.schema
        elif schema is BLANK_SCHEMA:
            schema = None
        super().__init__(name, schema=schema)
        self._init_dispatch()
        self.metadata = metadata
        self.constraints: set[Constraint] = set()
        self.indexes: set[Index] = set()
        self._foreign_keys: set[ForeignKey] = set()
        self._primary_key = PrimaryKeyConstraint()
        self._primary_key.table = self
        self.constraints.add(self._primary_key)
        self.comment: str | None = kwargs.pop("comment", None)
        self.info: dict[str, Any] = kwargs.pop("info", None) or {}
        self.implicit_returning: bool = kwargs.pop("implicit_returning", True)
        self.prefixes: list[str] = list(kwargs.pop("prefixes", None) or [])
        self.dialect_kwargs: dict[str, Any] = {}
        metadata._add_table(self)
        self._being_built = True
        try:
            self._init_items(args)
            self._apply_kwargs(kwargs, extend=False)
        finally:
            del self._being_built

    def _apply_kwargs(self, kwargs: dict[str, Any], extend: bool) -> None:
        autoload_with = kwargs.pop("autoload_with", None)
        include_columns = kwargs.pop("include_columns", None)
        exclude_columns = kwargs.pop("exclude_columns", None) or ()
        resolve_fks = kwargs.pop("resolve_fks", True)
        kwargs.pop("schema", None)
        for flag in (
            "extend_existing",
            "keep_existing",
            "autoload_replace",
            "quote",
            "quote_schema",
            "must_exist",
        ):
            kwargs.pop(flag, None)
        if extend:
            for attr in ("comment", "info", "implicit_returning"):
                if attr in kwargs:
                    setattr(self, attr, kwargs.pop(attr))
        unknown = [k for k in kwargs if "_" not in k]
        if unknown:
            raise TypeError(f"Table got unexpected argument(s): {', '.join(unknown)}")
        self.dialect_kwargs.update(kwargs)
        if autoload_with is not None:
            from athanor.inspection import inspect

            inspect(autoload_with).reflect_table(
                self,
                include_columns=include_columns,
                exclude_columns=exclude_columns,
                resolve_fks=resolve_fks,
            )

    @property
    def dialect_options(self) -> dict[str, Any]:
        return self.dialect_kwargs

    @property
    def kwargs(self) -> dict[str, Any]:
        return self.dialect_kwargs

    def _init_items(self, items: Iterable[Any]) -> None:
        deferred: list[Any] = []
        for item in items:
            if item is None:
                continue
            if isinstance(item, Column):
                self.append_column(item)
            else:
                deferred.append(item)
        for item in deferred:
            if isinstance(item, Constraint | Index):
                self.append_constraint(item)
            else:
                raise exc.ArgumentError(f"Unknown Table argument {item!r}")

    def append_column(self, column: ColumnClause, replace_existing: bool = False) -> None:
        """Add a Column to this table."""
        if not isinstance(column, Column):
            raise exc.ArgumentError(f"Table columns must be Column objects, got {column!r}")
        if not column.name:
            raise exc.ArgumentError("A Column needs a name before it is added to a Table")
        if column.key is None:
            column.key = column.name
        existing = self.c.get(column.key)
        if existing is not None and existing is not column:
            if not replace_existing:
                raise exc.ArgumentError(
                    f"Table {self.name!r} already has a column {column.key!r}; "
                    "pass extend_existing=True or use a different key"
                )
            self.c.remove(existing)
            self._primary_key.columns.remove(existing)
        self.c.add(column, column.key)
        columns_changed(self)
        column._set_table(self)
        if column.primary_key:
            self._primary_key.columns.add(column, column.key)
            self._primary_key._pending_columns.append(column)
        self._foreign_keys.update(column.foreign_keys)

    def append_constraint(self, constraint: Any) -> None:
        """Add a constraint or index to this table."""
        if isinstance(constraint, Index):
            constraint._set_parent(self)
            self.indexes.add(constraint)
            return
        if isinstance(constraint, PrimaryKeyConstraint):
            constraint._set_parent(self)
            for col in list(self._primary_key.columns):
                if not constraint.columns.contains_column(col):
                    col.primary_key = False
            self.constraints.discard(self._primary_key)
            self._primary_key = constraint
            self.constraints.add(constraint)
            return
        constraint._set_parent(self)
        self.constraints.add(constraint)
        if isinstance(constraint, ForeignKeyConstraint):
            self._foreign_keys.update(constraint.elements)

    add_constraint = append_constraint

    @property
    def primary_key(self) -> PrimaryKeyConstraint:  # type: ignore[override]
        """The primary key constraint; iterate it (or ``.columns``) for the columns."""
        return self._primary_key

    @property
    def foreign_keys(self) -> set[ForeignKey]:  # type: ignore[override]
        """Every ForeignKey of the table's columns and constraints."""
        return self._foreign_keys

    @property
    def foreign_key_constraints(self) -> set[ForeignKeyConstraint]:
        return {c for c in self.constraints if isinstance(c, ForeignKeyConstraint)}

    @property
    def autoincrement_column(self) -> Column | None:
        """The column the database generates values for, if any."""
        for col in self._primary_key.columns:
            if col.autoincrement_effective:
                return col  # type: ignore[no-any-return]
        return None

    @property
    def key(self) -> str:
        return self.fullname

    def create(self, bind: Any, checkfirst: bool = False) -> None:
        """``CREATE TABLE`` (and its indexes) on ``bind``."""
        from athanor.sql import ddl

        ddl.create_all(
            self.metadata, bind, tables=[self], checkfirst=checkfirst, metadata_events=False
        )

    def drop(self, bind: Any, checkfirst: bool = False) -> None:
        """``DROP TABLE`` on ``bind``."""
        from athanor.sql import ddl

        ddl.drop_all(
            self.metadata, bind, tables=[self], checkfirst=checkfirst, metadata_events=False
        )

    def to_metadata(
        self,
        metadata: MetaData,
        schema: Any = RETAIN_SCHEMA,
        referred_schema_fn: Callable[[Table, Any, ForeignKeyConstraint | None, str | None], Any]
        | None = None,
        name: str | None = None,
    ) -> Table:
        """A copy of this table, its columns, constraints and indexes in ``metadata``.

        ``schema`` is the copy's schema: ``RETAIN_SCHEMA`` keeps this table's, ``None`` takes
        ``metadata``'s, ``BLANK_SCHEMA`` none. Foreign keys that pointed into this table's
        schema point into the new one; ``referred_schema_fn(table, schema, constraint,
        referred_schema)`` decides instead when given (``None`` or ``RETAIN_SCHEMA`` keeps the
        referred schema, ``BLANK_SCHEMA`` drops it).
        """
        if schema is RETAIN_SCHEMA:
            target_schema = self.schema
        elif schema is None:
            target_schema = metadata.schema
        else:
            target_schema = schema

        def fk_target(fk: ForeignKey) -> str:
            referred_schema, table_name, column_name = fk._table_and_column()
            if referred_schema_fn is not None:
                chosen = referred_schema_fn(self, schema, fk.constraint, referred_schema)
                if chosen is not None and chosen is not RETAIN_SCHEMA:
                    referred_schema = None if chosen is BLANK_SCHEMA else chosen
            elif schema is not RETAIN_SCHEMA and referred_schema == self.schema:
                referred_schema = None if target_schema is BLANK_SCHEMA else target_schema
            return ".".join(p for p in (referred_schema, table_name, column_name) if p)

        args: list[Any] = [c._copy(fk_target) for c in self.c]
        for constraint in self.constraints:
            options: dict[str, Any] = {
                "name": constraint._name,
                "deferrable": constraint.deferrable,
                "initially": constraint.initially,
                "info": dict(constraint.info),
                "comment": constraint.comment,
                **constraint.dialect_kwargs,
            }
            if isinstance(constraint, UniqueConstraint) and not constraint._column_flag:
                args.append(UniqueConstraint(*[c.key for c in constraint.columns], **options))
            elif isinstance(constraint, ForeignKeyConstraint) and len(constraint.elements) > 1:
                targets = [fk_target(fk) for fk in constraint.elements]
                args.append(
                    ForeignKeyConstraint(
                        [c.key for c in constraint.columns],
                        targets,
                        onupdate=constraint.onupdate,
                        ondelete=constraint.ondelete,
                        use_alter=constraint.use_alter,
                        link_to_name=constraint.link_to_name,
                        match=constraint.match,
                        _elements=[
                            fk._copy(target)
                            for fk, target in zip(constraint.elements, targets, strict=True)
                        ],
                        **options,
                    )
                )
        table = Table(
            name or self.name,
            metadata,
            *args,
            schema=target_schema,
            comment=self.comment,
            info=dict(self.info),
            implicit_returning=self.implicit_returning,
            prefixes=list(self.prefixes),
            **self.dialect_kwargs,
        )
        for check in [c for c in self.constraints if isinstance(c, CheckConstraint)]:
            table.append_constraint(
                CheckConstraint(
                    _onto_table(check.sqltext, self, table),
                    name=check._name,
                    deferrable=check.deferrable,
                    initially=check.initially,
                    info=dict(check.info),
                    comment=check.comment,
                    **check.dialect_kwargs,
                )
            )
        for index in list(self.indexes):
            if not index._column_flag:
                table.append_constraint(
                    Index(
                        index._name,
                        *[_onto_table(e, self, table) for e in index.expressions],
                        unique=index.unique,
                        info=dict(index.info),
                        **index.dialect_kwargs,
                    )
                )
        return table

    tometadata = to_metadata

    def __repr__(self) -> str:
        parts = [repr(self.name), repr(self.metadata), *(repr(c) for c in self.c)]
        return f"Table({', '.join(parts)}, schema={self.schema!r})"


def _onto_table(expr: Any, source: Table, target: Table) -> Any:
    """``expr`` with the columns of ``source`` swapped for the same-keyed columns of ``target``
    (an index or CHECK expression moving with a copied table)."""
    if isinstance(expr, Column) and expr.table is source:
        return target.c[expr.name if expr.key is None else expr.key]
    return copy_with_children(expr, lambda child: _onto_table(child, source, target))


class MetaData(EventTarget):
    """A collection of Table definitions, with an optional default schema and naming rules.

    Fires ``before_create`` / ``after_create`` around ``create_all()`` and ``before_drop`` /
    ``after_drop`` around ``drop_all()``, with ``(metadata, connection, tables=..., **kw)``.
    """

    _event_signatures = _DDL_EVENTS

    def __init__(
        self,
        schema: str | None = None,
        quote_schema: bool | None = None,
        naming_convention: Mapping[str, str] | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        self._init_dispatch()
        self.schema = schema
        self.naming_convention: dict[str, str] = dict(
            naming_convention or DEFAULT_NAMING_CONVENTION
        )
        self.info = info or {}
        self.tables: dict[str, Table] = {}
        self._sequences: dict[str, Sequence] = {}
        self._schemas: set[str] = set()

    def _add_table(self, table: Table) -> None:
        self.tables[table.fullname] = table
        if table.schema:
            self._schemas.add(table.schema)

    def remove(self, table: Table) -> None:
        """Forget ``table``."""
        self.tables.pop(table.fullname, None)

    def clear(self) -> None:
        """Forget every table."""
        self.tables.clear()
        self._schemas.clear()

    def __contains__(self, key: object) -> bool:
        if isinstance(key, Table):
            key = key.fullname
        return key in self.tables

    @property
    def sorted_tables(self) -> list[Table]:
        """Tables ordered so that each comes after the tables it references, and otherwise
        by name (see :func:`athanor.schema.sort_tables`)."""
        from athanor.sql.ddl import sort_tables

        return sort_tables(sorted(self.tables.values(), key=lambda table: table.fullname))

    def create_all(
        self, bind: Any, tables: Iterable[Table] | None = None, checkfirst: bool = True
    ) -> None:
        """CREATE every table (in dependency order) that does not exist yet."""
        from athanor.sql import ddl

        ddl.create_all(
            self, bind, tables=list(tables) if tables is not None else None, checkfirst=checkfirst
        )

    def drop_all(
        self, bind: Any, tables: Iterable[Table] | None = None, checkfirst: bool = True
    ) -> None:
        """DROP every table (in reverse dependency order) that exists."""
        from athanor.sql import ddl

        ddl.drop_all(
            self, bind, tables=list(tables) if tables is not None else None, checkfirst=checkfirst
        )

    def reflect(
        self,
        bind: Any,
        schema: str | None = None,
        views: bool = False,
        only: Any = None,
        extend_existing: bool = False,
        autoload_replace: bool = True,
        resolve_fks: bool = True,
        **dialect_kwargs: Any,
    ) -> None:
        """Load Table definitions for the tables of a live database: those of ``schema`` (this
        MetaData's own by default), with views when ``views``, limited by ``only`` (names, or a
        predicate ``only(name, metadata)``); ``resolve_fks`` also loads the tables their
        foreign keys refer to."""
        from athanor.inspection import inspect

        inspect(bind).reflect_metadata(
            self,
            schema=self.schema if schema is None else schema,
            only=only,
            views=views,
            extend_existing=extend_existing,
            resolve_fks=resolve_fks,
        )

    def __repr__(self) -> str:
        return "MetaData()"


def insert_sentinel(
    name: str | None = None,
    type_: sqltypes.TypeArg[Any] | None = None,
    *,
    default: Any = None,
    omit_from_statements: bool = True,
) -> Column[Any]:
    """A nullable column (Integer unless ``type_`` says otherwise) marked as the table's
    insert sentinel: a column whose values tell the rows of a multi-row INSERT apart, for
    tables whose primary key cannot.  With ``omit_from_statements`` (the default) it stays
    out of ``select(table)`` and of the ORM mapping of the table; ``default`` gives it a
    client-side value for each row."""
    return Column(
        name,
        sqltypes.Integer() if type_ is None else type_,
        nullable=True,
        default=default,
        insert_sentinel=True,
        _omit_from_statements=omit_from_statements,
    )


__all__ = [
    "BLANK_SCHEMA",
    "RETAIN_SCHEMA",
    "CheckConstraint",
    "Column",
    "ColumnDefault",
    "Computed",
    "Constraint",
    "DefaultClause",
    "FetchedValue",
    "ForeignKey",
    "ForeignKeyConstraint",
    "Identity",
    "Index",
    "MetaData",
    "PrimaryKeyConstraint",
    "Sequence",
    "Table",
    "TextClause",
    "UniqueConstraint",
    "conv",
    "insert_sentinel",
]
