"""DDL: statements that change the schema, the compilers that render them, and create/drop-all.

``CreateTable(t)``, ``DropTable(t)``, ``CreateIndex(ix)`` ... are statements like ``select()``:
``conn.execute(CreateTable(t))`` runs one and ``str(CreateTable(t))`` shows its SQL.
:func:`create_all` / :func:`drop_all` (behind ``MetaData.create_all`` and ``Table.create``)
order tables by their foreign keys and break cycles by adding the foreign keys afterwards with
``ALTER TABLE``.  One :class:`DDLCompiler` renders every dialect; the dialects override small
hooks (column type and default, auto-increment, table options) in ``dialects/<db>/ddl.py``.
"""

# Type visitors are named visit_<TypeClassName>, after the classes they render.
# ruff: noqa: N802

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from athanor import exc
from athanor.sql import operators, schema
from athanor.sql import types as sqltypes
from athanor.sql.compiler import Compiled, translated_schema
from athanor.sql.dialect_names import dialect_names
from athanor.sql.elements import Executable, UnaryExpression

# --- statements ------------------------------------------------------------------------


class DDLElement(Executable):
    """Base class of statements that change the schema; compiled by the dialect's DDL compiler."""

    is_ddl: ClassVar[bool] = True
    __visit_name__: ClassVar[str] = "ddl"


ExecutableDDLElement = DDLElement
"""SQLAlchemy 2.0's name for :class:`DDLElement`, the base of user-defined DDL statements."""


class _SchemaItemDDL(DDLElement):
    """A DDL statement about one schema item (table, index, constraint, sequence ...)."""

    def __init__(self, element: Any, *, if_exists: bool = False, if_not_exists: bool = False):
        self.element = element
        self.if_exists = if_exists
        self.if_not_exists = if_not_exists


class CreateTable(_SchemaItemDDL):
    """``CREATE TABLE``, with the table's columns and constraints.

    ``include_foreign_key_constraints`` limits the foreign keys rendered inline (those left out
    are added later with :class:`AddConstraint`, to break cycles).
    """

    __visit_name__ = "create_table"

    def __init__(
        self,
        element: Any,
        include_foreign_key_constraints: Iterable[Any] | None = None,
        if_not_exists: bool = False,
    ) -> None:
        super().__init__(element, if_not_exists=if_not_exists)
        self.include_foreign_key_constraints = (
            None
            if include_foreign_key_constraints is None
            else list(include_foreign_key_constraints)
        )


class CreateColumn(_SchemaItemDDL):
    """One column's definition in ``CREATE TABLE`` (``name TYPE DEFAULT ... NOT NULL``).

    CREATE TABLE renders each column through this element, so an ``@compiles(CreateColumn)``
    rule can change a column's DDL; a rule returning None leaves the column out.
    """

    __visit_name__ = "create_column"


class DropTable(_SchemaItemDDL):
    """``DROP TABLE``."""

    __visit_name__ = "drop_table"

    def __init__(self, element: Any, if_exists: bool = False) -> None:
        super().__init__(element, if_exists=if_exists)


class CreateIndex(_SchemaItemDDL):
    """``CREATE [UNIQUE] INDEX``."""

    __visit_name__ = "create_index"

    def __init__(self, element: Any, if_not_exists: bool = False) -> None:
        super().__init__(element, if_not_exists=if_not_exists)


class DropIndex(_SchemaItemDDL):
    """``DROP INDEX``."""

    __visit_name__ = "drop_index"

    def __init__(self, element: Any, if_exists: bool = False) -> None:
        super().__init__(element, if_exists=if_exists)


class CreateSchema(_SchemaItemDDL):
    """``CREATE SCHEMA name`` (a database on MySQL)."""

    __visit_name__ = "create_schema"

    def __init__(self, name: str, if_not_exists: bool = False) -> None:
        super().__init__(name, if_not_exists=if_not_exists)


class DropSchema(_SchemaItemDDL):
    """``DROP SCHEMA name [CASCADE]``."""

    __visit_name__ = "drop_schema"

    def __init__(self, name: str, cascade: bool = False, if_exists: bool = False) -> None:
        super().__init__(name, if_exists=if_exists)
        self.cascade = cascade


class AddConstraint(_SchemaItemDDL):
    """``ALTER TABLE ... ADD CONSTRAINT`` for a constraint already attached to its table."""

    __visit_name__ = "add_constraint"

    def __init__(self, element: Any) -> None:
        super().__init__(element)


class DropConstraint(_SchemaItemDDL):
    """``ALTER TABLE ... DROP CONSTRAINT`` (the constraint needs a name)."""

    __visit_name__ = "drop_constraint"

    def __init__(self, element: Any, cascade: bool = False, if_exists: bool = False) -> None:
        super().__init__(element, if_exists=if_exists)
        self.cascade = cascade


class CreateSequence(_SchemaItemDDL):
    """``CREATE SEQUENCE`` (PostgreSQL)."""

    __visit_name__ = "create_sequence"

    def __init__(self, element: Any, if_not_exists: bool = False) -> None:
        super().__init__(element, if_not_exists=if_not_exists)


class DropSequence(_SchemaItemDDL):
    """``DROP SEQUENCE``."""

    __visit_name__ = "drop_sequence"

    def __init__(self, element: Any, if_exists: bool = False) -> None:
        super().__init__(element, if_exists=if_exists)


class CreateEnumType(_SchemaItemDDL):
    """``CREATE TYPE name AS ENUM (...)`` for a native :class:`~athanor.types.Enum` (PostgreSQL)."""

    __visit_name__ = "create_enum_type"

    def __init__(self, element: Any, if_not_exists: bool = False) -> None:
        super().__init__(element, if_not_exists=if_not_exists)


class DropEnumType(_SchemaItemDDL):
    """``DROP TYPE name`` for a native enum (PostgreSQL)."""

    __visit_name__ = "drop_enum_type"

    def __init__(self, element: Any, if_exists: bool = False) -> None:
        super().__init__(element, if_exists=if_exists)


class CreateDomainType(_SchemaItemDDL):
    """``CREATE DOMAIN name AS type ...`` for a PostgreSQL ``DOMAIN``."""

    __visit_name__ = "create_domain_type"

    def __init__(self, element: Any, if_not_exists: bool = False) -> None:
        super().__init__(element, if_not_exists=if_not_exists)


class DropDomainType(_SchemaItemDDL):
    """``DROP DOMAIN name`` (PostgreSQL)."""

    __visit_name__ = "drop_domain_type"

    def __init__(self, element: Any, if_exists: bool = False) -> None:
        super().__init__(element, if_exists=if_exists)


class SetTableComment(_SchemaItemDDL):
    """``COMMENT ON TABLE`` (PostgreSQL) / ``ALTER TABLE ... COMMENT`` (MySQL)."""

    __visit_name__ = "set_table_comment"


class DropTableComment(_SchemaItemDDL):
    """Remove a table's comment."""

    __visit_name__ = "drop_table_comment"


class SetColumnComment(_SchemaItemDDL):
    """``COMMENT ON COLUMN`` (PostgreSQL); MySQL keeps column comments inline."""

    __visit_name__ = "set_column_comment"


class DDL(DDLElement):
    """A literal DDL statement, e.g. ``DDL("CREATE EXTENSION IF NOT EXISTS citext")``.

    ``%(table)s``, ``%(schema)s`` and ``%(fullname)s`` are replaced when a ``target`` table is
    given (as ``context`` entries are); write ``%%`` for a percent sign in that case.
    """

    __visit_name__ = "ddl"

    def __init__(
        self, statement: str, context: Mapping[str, Any] | None = None, target: Any = None
    ) -> None:
        if not isinstance(statement, str):
            raise exc.ArgumentError(f"DDL() expects a SQL string, got {statement!r}")
        self.statement = statement
        self.context = dict(context or {})
        self.target = target

    _dialect_filter: str | tuple[str, ...] | None = None
    _condition: Callable[..., bool] | None = None
    _state: Any = None

    def against(self, target: Any) -> DDL:
        """A copy of this statement bound to table ``target`` for ``%(table)s`` substitution."""
        new = DDL(self.statement, self.context, target)
        new._dialect_filter, new._condition, new._state = (
            self._dialect_filter,
            self._condition,
            self._state,
        )
        return new

    def execute_if(
        self,
        dialect: str | Iterable[str] | None = None,
        callable_: Callable[..., bool] | None = None,
        state: Any = None,
    ) -> DDL:
        """A copy that, used as a DDL event listener, runs only on ``dialect`` (a name or
        names, e.g. ``"postgresql"``) and when ``callable_(ddl, target, bind, state=state,
        **kw)`` is true."""
        new = self.against(self.target)
        new._dialect_filter = (
            dialect if dialect is None or isinstance(dialect, str) else tuple(dialect)
        )
        new._condition = callable_
        new._state = state
        return new

    def _should_execute(self, target: Any, bind: Any, **kw: Any) -> bool:
        wanted = self._dialect_filter
        if wanted is not None:
            names = (wanted,) if isinstance(wanted, str) else wanted
            if not set(names) & set(dialect_names(bind.dialect)):
                return False
        condition = self._condition
        return condition is None or bool(condition(self, target, bind, state=self._state, **kw))

    def __call__(self, target: Any, bind: Any, **kw: Any) -> None:
        """Run as a DDL event listener: execute on ``bind`` against ``target`` (a Table
        fills ``%(table)s``), if :meth:`execute_if` allows it."""
        if self._should_execute(target, bind, **kw):
            bound = self.against(target) if _is_table(target) else self
            bind.execute(bound)


def _is_table(target: Any) -> bool:
    return getattr(target, "named_with_column", False) and hasattr(target, "c")


# --- compilers -------------------------------------------------------------------------


type_rules: dict[type, dict[str, Callable[..., str]]] = {}
"""Compilation rules for type classes registered with ``@compiles``
(:mod:`athanor.ext.compiler`): class -> dialect name (or ``"default"``) -> ``fn(type_,
type_compiler, **kw)``."""


class TypeCompiler:
    """Renders the DDL name of a type (``VARCHAR(50)``) for one dialect.

    A type is rendered by the ``visit_<ClassName>`` method of the first class in its MRO that
    has one, so dialect subclasses and user subclasses of a generic type render like it, and a
    PostgreSQL-only type such as ``JSONB`` falls back to ``JSON`` elsewhere.
    """

    def __init__(
        self, dialect: Any, schema_map: Mapping[str | None, str | None] | None = None
    ) -> None:
        self.dialect = dialect
        self.schema_map = schema_map
        """The ``schema_translate_map`` the names of types in a schema (PostgreSQL enums)
        render through."""

    def process(self, type_: Any, **kw: Any) -> str:
        """The DDL name of ``type_`` (an instance or a class).

        A rule registered with ``@compiles`` (:data:`type_rules`) for a class in the MRO, for
        this dialect or for all, counts as that class's ``visit_`` method.
        """
        type_ = sqltypes.to_instance(type_)._variant_for(self.dialect)
        names = (*dialect_names(self.dialect), "default")
        for cls in type(type_).__mro__:
            rules = type_rules.get(cls) if type_rules else None
            if rules:
                rule = next((rules[name] for name in names if name in rules), None)
                if rule is not None:
                    return rule(type_, self, **kw)
            visit: Callable[..., str] | None = getattr(self, f"visit_{cls.__name__}", None)
            if visit is not None:
                return visit(type_, **kw)
        raise exc.UnsupportedCompilationError(
            f"Compiler {type(self).__name__} can't render type {type(type_).__name__}"
        )

    def visit_TypeDecorator(self, type_: Any, **kw: Any) -> str:
        return self.process(type_.load_dialect_impl(self.dialect), **kw)

    def visit_UserDefinedType(self, type_: Any, **kw: Any) -> str:
        result: str = type_.get_col_spec(**kw)
        return result

    @staticmethod
    def _args(name: str, *args: Any) -> str:
        """``name`` with its non-None arguments: ``NUMERIC(10, 2)``, ``VARCHAR``."""
        given = [str(arg) for arg in args if arg is not None]
        return f"{name}({', '.join(given)})" if given else name

    def visit_NullType(self, type_: Any, **kw: Any) -> str:
        raise exc.CompileError(
            "Can't generate DDL for a column of unknown type (NullType); give the column a type"
        )

    def visit_Integer(self, type_: Any, **kw: Any) -> str:
        return "INTEGER"

    def visit_SmallInteger(self, type_: Any, **kw: Any) -> str:
        return "SMALLINT"

    def visit_BigInteger(self, type_: Any, **kw: Any) -> str:
        return "BIGINT"

    def visit_Numeric(self, type_: Any, **kw: Any) -> str:
        scale = type_.scale if type_.precision is not None else None
        return self._args("NUMERIC", type_.precision, scale)

    def visit_Float(self, type_: Any, **kw: Any) -> str:
        return self._args("FLOAT", type_.precision)

    def visit_Double(self, type_: Any, **kw: Any) -> str:
        return "DOUBLE PRECISION"

    def visit_Boolean(self, type_: Any, **kw: Any) -> str:
        return "BOOLEAN"

    def _collate(self, type_: Any, spec: str) -> str:
        collation = getattr(type_, "collation", None)
        return f'{spec} COLLATE "{collation}"' if collation else spec

    def visit_String(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, self._args("VARCHAR", type_.length))

    def visit_Text(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, "TEXT")

    def visit_CHAR(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, self._args("CHAR", type_.length))

    def visit_NCHAR(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, self._args("NCHAR", type_.length))

    def visit_NVARCHAR(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, self._args("NVARCHAR", type_.length))

    def visit_CLOB(self, type_: Any, **kw: Any) -> str:
        return "CLOB"

    def visit_Enum(self, type_: Any, **kw: Any) -> str:
        """A non-native enum: a VARCHAR long enough for every label."""
        return self._args("VARCHAR", type_.length)

    def visit_Date(self, type_: Any, **kw: Any) -> str:
        return "DATE"

    def visit_DateTime(self, type_: Any, **kw: Any) -> str:
        return "DATETIME"

    def visit_TIMESTAMP(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMP"

    def visit_Time(self, type_: Any, **kw: Any) -> str:
        return "TIME"

    def visit_Interval(self, type_: Any, **kw: Any) -> str:
        """Where there is no INTERVAL type, an interval is stored as an offset from the epoch."""
        return self.visit_DateTime(sqltypes.DateTime(), **kw)

    def visit_LargeBinary(self, type_: Any, **kw: Any) -> str:
        return self._args("BLOB", type_.length)

    def visit_BINARY(self, type_: Any, **kw: Any) -> str:
        return self._args("BINARY", type_.length)

    def visit_VARBINARY(self, type_: Any, **kw: Any) -> str:
        return self._args("VARBINARY", type_.length)

    def visit_JSON(self, type_: Any, **kw: Any) -> str:
        return "JSON"

    def visit_Uuid(self, type_: Any, **kw: Any) -> str:
        """UUID where native and wanted, else the 32 hex digits the type binds."""
        native = getattr(self.dialect, "supports_native_uuid", False) and type_.native_uuid
        return "UUID" if native else "CHAR(32)"

    def visit_UUID(self, type_: Any, **kw: Any) -> str:
        return "UUID"

    def visit_ARRAY(self, type_: Any, **kw: Any) -> str:
        """``INTEGER[]`` where the database has arrays (PostgreSQL, and ``str()``)."""
        if not self.dialect.supports_arrays:
            raise exc.CompileError(
                f"{self.dialect.name} has no ARRAY type; ARRAY columns need PostgreSQL"
            )
        return self.process(type_.item_type) + "[]" * (type_.dimensions or 1)

    # Upper-case standard names render as written.
    def visit_INTEGER(self, type_: Any, **kw: Any) -> str:
        return "INTEGER"

    def visit_SMALLINT(self, type_: Any, **kw: Any) -> str:
        return "SMALLINT"

    def visit_BIGINT(self, type_: Any, **kw: Any) -> str:
        return "BIGINT"

    def visit_DECIMAL(self, type_: Any, **kw: Any) -> str:
        scale = type_.scale if type_.precision is not None else None
        return self._args("DECIMAL", type_.precision, scale)

    def visit_REAL(self, type_: Any, **kw: Any) -> str:
        return "REAL"

    def visit_DOUBLE(self, type_: Any, **kw: Any) -> str:
        return "DOUBLE"

    def visit_VARCHAR(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, self._args("VARCHAR", type_.length))

    def visit_DATETIME(self, type_: Any, **kw: Any) -> str:
        return "DATETIME"

    def visit_BLOB(self, type_: Any, **kw: Any) -> str:
        return "BLOB"


class StrTypeCompiler(TypeCompiler):
    """Type names for ``str()`` of a statement or type without a dialect: a type no generic
    rule knows (``JSONPATH``, ``TSVECTOR``) is written by its class name."""

    def process(self, type_: Any, **kw: Any) -> str:
        """A database's own type (``JSONB``, ``TINYINT``, ``BYTEA``) by its name rather than
        the generic type it derives from, which the other databases render it as."""
        resolved = sqltypes.to_instance(type_)._variant_for(self.dialect)
        cls = type(resolved)
        if (
            cls.__module__.startswith("athanor.dialects.")
            and getattr(self, f"visit_{cls.__name__}", None) is None
            and not (type_rules and cls in type_rules)
        ):
            return cls.__name__.replace("_", " ")  # DOUBLE_PRECISION
        return super().process(resolved, **kw)

    def visit_TypeEngine(self, type_: Any, **kw: Any) -> str:
        return type(type_).__name__


class DDLCompiler(Compiled):
    """Turns a :class:`DDLElement` into a DDL string for one dialect.

    The class attributes say what the database can do; :func:`create_all` and
    :func:`drop_all` read them to choose the statements.
    """

    isddl = True
    supports_alter: ClassVar[bool] = True
    """``ALTER TABLE ADD/DROP CONSTRAINT`` exists (foreign-key cycles are broken with it)."""
    supports_comments: ClassVar[bool] = True
    inline_comments: ClassVar[bool] = False
    """Comments are part of CREATE TABLE (MySQL) rather than separate COMMENT ON statements."""
    supports_native_enum_types: ClassVar[bool] = False
    supports_domains: ClassVar[bool] = False
    """``DOMAIN`` types used by the tables are created before them (PostgreSQL)."""
    """Named enum types are created before the tables using them (PostgreSQL)."""
    max_identifier_length: ClassVar[int] = 63
    names_primary_keys: ClassVar[bool] = True
    """A primary key's name is rendered (``CONSTRAINT name PRIMARY KEY``); MySQL names every
    primary key ``PRIMARY`` and refuses that name in DDL, so there it is left out."""

    def __init__(
        self,
        dialect: Any,
        statement: Any,
        schema_map: Mapping[str | None, str | None] | None = None,
        **kw: Any,
    ) -> None:
        self.type_compiler: TypeCompiler = dialect.type_compiler(dialect, schema_map)
        self.schema_map = schema_map
        """The ``schema_translate_map`` execution option the statement runs with."""
        super().__init__(dialect, statement, **kw)

    def schema_of(self, schema: str | None) -> str | None:
        """The schema rendered for ``schema`` (through the ``schema_translate_map``)."""
        return translated_schema(schema, self.schema_map)

    # --- dispatch and helpers ---------------------------------------------------------------

    def process(self, element: Any, **kw: Any) -> str:
        """Render a DDL element, or any SQL expression inside DDL with literal values."""
        if isinstance(element, DDLElement):
            visit: Callable[..., str] = getattr(self, f"visit_{element.__visit_name__}")
            return visit(element, **kw)
        return self.render_expression(element)

    @property
    def sql_compiler(self) -> Any:
        """A statement compiler for this dialect that renders expressions with their values
        inline (for ``@compiles`` rules of DDL elements)."""
        return self.dialect.statement_compiler(
            self.dialect, None, compile_kwargs={"literal_binds": True}, schema_map=self.schema_map
        )

    def render_expression(self, element: Any) -> str:
        """SQL for an expression inside DDL (a server default, a CHECK condition, an index
        expression): values inline, column names not qualified by their table."""
        if isinstance(element, str):
            return element
        compiler = self.dialect.statement_compiler(
            self.dialect,
            element,
            compile_kwargs={"literal_binds": True, "include_table": False},
        )
        sql = str(compiler.string)
        # The statement compiler doubles % for drivers that format parameters into the SQL;
        # DDL is sent without parameters, so the percent signs must stay single.
        if self.dialect.paramstyle in ("format", "pyformat"):
            sql = sql.replace("%%", "%")
        return sql

    def quote(self, name: str) -> str:
        result: str = self.preparer.quote(name)
        return result

    def format_table(self, table: Any) -> str:
        return self.format_named_type(table.name, table.schema)

    def format_named_type(self, name: str, schema: str | None) -> str:
        schema = self.schema_of(schema)
        return f"{self.quote(schema)}.{self.quote(name)}" if schema else self.quote(name)

    def constraint_name(self, constraint: Any) -> str | None:
        """The constraint's (or index's) name, fitted to the database's identifier length."""
        return constraint_name(constraint, self.max_identifier_length)

    def _exists_clause(self, element: Any, exists: bool) -> str:
        if exists and element.if_exists:
            return "IF EXISTS "
        if not exists and element.if_not_exists:
            return "IF NOT EXISTS "
        return ""

    # --- tables -----------------------------------------------------------------------------

    def visit_create_table(self, create: CreateTable, **kw: Any) -> str:
        table = create.element
        lines = []
        for column in table.columns:
            try:
                line = self.process(CreateColumn(column))
            except exc.CompileError as error:
                raise type(error)(
                    f"{error} (in table '{table.name}', column '{column.name}')"
                ) from error
            if line is not None:
                lines.append(line)
        lines.extend(self.create_table_constraints(table, create.include_foreign_key_constraints))
        body = ",\n\t".join(lines)
        prefixes = "".join(f"{prefix} " for prefix in getattr(table, "prefixes", ()))
        head = (
            f"CREATE {prefixes}TABLE {self._exists_clause(create, False)}{self.format_table(table)}"
        )
        return f"{head} (\n\t{body}\n){self.post_create_table(table)}"

    def visit_drop_table(self, drop: DropTable, **kw: Any) -> str:
        return f"DROP TABLE {self._exists_clause(drop, True)}{self.format_table(drop.element)}"

    def visit_create_column(self, create: CreateColumn, **kw: Any) -> str:
        return self.get_column_specification(create.element)

    def get_column_specification(self, column: Any) -> str:
        """One column of CREATE TABLE: name, type, generated/default, NULL-ness, extras."""
        parts = [self.quote(column.name), self.column_type(column)]
        computed = getattr(column, "computed", None)
        if computed is not None:
            parts.append(self.render_computed(computed))
        default = self.column_default(column)
        if default is not None:
            parts.append(f"DEFAULT {default}")
        identity = self.column_identity(column)
        if identity:
            parts.append(identity)
        if not column.nullable:
            parts.append("NOT NULL")
        extra = self.column_extra(column)
        if extra:
            parts.append(extra)
        if self.inline_comments and column.comment:
            parts.append(f"COMMENT {self.literal(column.comment)}")
        return " ".join(parts)

    def column_type(self, column: Any) -> str:
        """The column's type DDL (dialects use the column for auto-increment forms)."""
        return self.type_compiler.process(column.type)

    def column_default(self, column: Any) -> str | None:
        """The server default as SQL, or None."""
        default = column.server_default
        if default is None or column.computed is not None or not hasattr(default, "arg"):
            return None
        arg = default.arg
        if isinstance(arg, str):
            return self.literal(arg)
        return self.format_default_expression(self.render_expression(arg))

    def format_default_expression(self, sql: str) -> str:
        """A default given as an expression (``text("now()")``); dialects may parenthesize."""
        return sql

    def column_identity(self, column: Any) -> str | None:
        """``GENERATED ... AS IDENTITY`` where the dialect has identity columns."""
        return None

    def column_extra(self, column: Any) -> str | None:
        """Dialect extras after NOT NULL (``AUTO_INCREMENT``, ``PRIMARY KEY AUTOINCREMENT``)."""
        return None

    def render_computed(self, computed: Any) -> str:
        text = f"GENERATED ALWAYS AS ({self.render_expression(computed.sqltext)})"
        persisted = getattr(computed, "persisted", None)
        if persisted is True:
            text += " STORED"
        elif persisted is False:
            text += " VIRTUAL"
        return text

    def literal(self, value: str) -> str:
        """``value`` as a quoted SQL string literal."""
        return "'" + value.replace("'", "''") + "'"

    def post_create_table(self, table: Any) -> str:
        """Text after the closing parenthesis of CREATE TABLE (table options)."""
        return ""

    def create_table_constraints(
        self, table: Any, include_foreign_keys: Sequence[Any] | None = None
    ) -> list[str]:
        """The table-level constraints of CREATE TABLE, primary key first."""
        rendered = []
        primary = self.visit_primary_key_constraint(table.primary_key, table)
        if primary:
            rendered.append(primary)
        for constraint in sorted_constraints(table):
            if is_foreign_key(constraint) and (
                include_foreign_keys is not None and constraint not in include_foreign_keys
            ):
                continue
            text = self.constraint_ddl(constraint, table)
            if text:
                rendered.append(text)
        rendered.extend(self.type_constraints(table))
        return rendered

    def constraint_ddl(self, constraint: Any, table: Any) -> str:
        """A constraint as it appears in CREATE TABLE and ALTER TABLE ADD."""
        kind = constraint_kind(constraint)
        if kind == "pk":
            return self.visit_primary_key_constraint(constraint, table)
        if kind == "fk":
            return self.visit_foreign_key_constraint(constraint, table)
        if kind == "uq":
            return self.visit_unique_constraint(constraint, table)
        if kind == "ck":
            return self.visit_check_constraint(constraint, table)
        # a dialect's own kind of constraint (PostgreSQL's EXCLUDE) names its visit method
        visit = getattr(self, f"visit_{getattr(constraint, '__visit_name__', '')}", None)
        return "" if visit is None else str(visit(constraint, table))

    def _prefix(self, constraint: Any) -> str:
        name = self.constraint_name(constraint)
        return f"CONSTRAINT {self.quote(name)} " if name else ""

    def _column_names(self, columns: Iterable[Any]) -> str:
        return ", ".join(self.quote(column.name) for column in columns)

    def visit_primary_key_constraint(self, constraint: Any, table: Any) -> str:
        columns = list(constraint.columns) if constraint is not None else []
        if not columns or self.primary_key_inline(table):
            return ""
        prefix = self._prefix(constraint) if self.names_primary_keys else ""
        return f"{prefix}PRIMARY KEY ({self._column_names(columns)})"

    def primary_key_inline(self, table: Any) -> bool:
        """Whether the primary key was rendered on its column (SQLite AUTOINCREMENT)."""
        return False

    def visit_foreign_key_constraint(self, constraint: Any, table: Any) -> str:
        local = [element.parent for element in constraint.elements]
        remote = [element.column for element in constraint.elements]
        referred = remote[0].table
        text = (
            f"{self._prefix(constraint)}FOREIGN KEY ({self._column_names(local)}) "
            f"REFERENCES {self.format_referred_table(referred)} ({self._column_names(remote)})"
        )
        if constraint.ondelete:
            text += f" ON DELETE {_keyword(constraint.ondelete)}"
        if constraint.onupdate:
            text += f" ON UPDATE {_keyword(constraint.onupdate)}"
        text += self.foreign_key_deferrability(constraint)
        return text

    def format_referred_table(self, table: Any) -> str:
        return self.format_table(table)

    def foreign_key_deferrability(self, constraint: Any) -> str:
        text = ""
        deferrable = getattr(constraint, "deferrable", None)
        if deferrable is not None:
            text += " DEFERRABLE" if deferrable else " NOT DEFERRABLE"
        initially = getattr(constraint, "initially", None)
        if initially is not None:
            text += f" INITIALLY {_keyword(initially)}"
        return text

    def visit_unique_constraint(self, constraint: Any, table: Any) -> str:
        columns = list(constraint.columns)
        if not columns:
            return ""
        return f"{self._prefix(constraint)}UNIQUE ({self._column_names(columns)})"

    def visit_check_constraint(self, constraint: Any, table: Any) -> str:
        sqltext = self.render_expression(constraint.sqltext)
        return f"{self._prefix(constraint)}CHECK ({sqltext})"

    def type_constraints(self, table: Any) -> list[str]:
        """CHECK constraints that non-native Enum and Boolean columns ask for
        (``create_constraint=True``)."""
        rendered = []
        for column in table.columns:
            type_ = stored_type(column.type, self.dialect)
            if not getattr(type_, "create_constraint", False):
                continue
            if isinstance(type_, sqltypes.Enum) and not self.enum_is_native(type_):
                values = ", ".join(self.literal(label) for label in type_.enums)
                condition = f"{self.quote(column.name)} IN ({values})"
            elif isinstance(type_, sqltypes.Boolean) and not getattr(
                self.dialect, "supports_native_boolean", False
            ):
                condition = f"{self.quote(column.name)} IN (0, 1)"
            else:
                continue
            name = _type_check_name(table, column, type_.name)
            prefix = f"CONSTRAINT {self.quote(name)} " if name else ""
            rendered.append(f"{prefix}CHECK ({condition})")
        return rendered

    @classmethod
    def enum_is_native(cls, type_: Any) -> bool:
        """Whether ``type_`` (an Enum) is a native enum on this dialect."""
        return False

    # --- indexes ----------------------------------------------------------------------------

    def visit_create_index(self, create: CreateIndex, **kw: Any) -> str:
        index = create.element
        name = self.constraint_name(index)
        if name is None:
            raise exc.CompileError("CREATE INDEX requires a name; give the Index a name")
        before, after = self.index_keywords(index)
        elements = ", ".join(self.index_element(expr, index) for expr in index.expressions)
        return (
            f"CREATE {before}INDEX {after}{self._exists_clause(create, False)}"
            f"{self.format_created_index_name(index, name)} "
            f"ON {self.format_index_table(index.table)}{self.index_method(index)} ({elements})"
            f"{self.post_create_index(index)}"
        )

    def index_keywords(self, index: Any) -> tuple[str, str]:
        """The words before ``INDEX`` (``UNIQUE``, MySQL's ``FULLTEXT``) and right after it
        (PostgreSQL's ``CONCURRENTLY``), each ending in a space."""
        return ("UNIQUE " if index.unique else "", "")

    def index_method(self, index: Any) -> str:
        """`` USING method`` between the table and the column list (PostgreSQL)."""
        return ""

    def index_element(self, expression: Any, index: Any) -> str:
        """One indexed column or expression; expressions get their own parentheses, while an
        ordering (``column.desc()``, ``nulls_last(...)``) follows its element unparenthesised."""
        if isinstance(expression, UnaryExpression) and expression.modifier in operators.ORDERINGS:
            return f"{self.index_element(expression.element, index)} {expression.modifier.sql}"
        if getattr(expression, "table", None) is not None and hasattr(expression, "name"):
            return self.quote(expression.name)
        return f"({self.render_expression(expression)})"

    def post_create_index(self, index: Any) -> str:
        return ""

    def format_created_index_name(self, index: Any, name: str) -> str:
        """The index name in CREATE INDEX (an index lives in its table's schema)."""
        return self.quote(name)

    def format_index_table(self, table: Any) -> str:
        return self.format_table(table)

    def visit_drop_index(self, drop: DropIndex, **kw: Any) -> str:
        index = drop.element
        name = self.constraint_name(index)
        if name is None:
            raise exc.CompileError("DROP INDEX requires the index's name")
        return (
            f"DROP INDEX {self.index_keywords(index)[1]}{self._exists_clause(drop, True)}"
            f"{self.format_index_name(index, name)}"
        )

    def format_index_name(self, index: Any, name: str) -> str:
        schema = index.table.schema if index.table is not None else None
        return self.format_named_type(name, schema)

    # --- schemas, constraints, sequences, types, comments ------------------------------------

    def visit_create_schema(self, create: CreateSchema, **kw: Any) -> str:
        return f"CREATE SCHEMA {self._exists_clause(create, False)}{self.quote(create.element)}"

    def visit_drop_schema(self, drop: DropSchema, **kw: Any) -> str:
        cascade = " CASCADE" if drop.cascade else ""
        return f"DROP SCHEMA {self._exists_clause(drop, True)}{self.quote(drop.element)}{cascade}"

    def visit_add_constraint(self, add: AddConstraint, **kw: Any) -> str:
        constraint = add.element
        return (
            f"ALTER TABLE {self.format_table(constraint.table)} "
            f"ADD {self.constraint_ddl(constraint, constraint.table)}"
        )

    def visit_drop_constraint(self, drop: DropConstraint, **kw: Any) -> str:
        constraint = drop.element
        name = self.constraint_name(constraint)
        if name is None:
            raise exc.CompileError(
                "Can't emit DROP CONSTRAINT for a constraint without a name; name it, or use a "
                "MetaData naming convention"
            )
        cascade = " CASCADE" if drop.cascade else ""
        return (
            f"ALTER TABLE {self.format_table(constraint.table)} DROP "
            f"{self.drop_constraint_keyword(constraint)} {self._exists_clause(drop, True)}"
            f"{self.quote(name)}{cascade}"
        )

    def drop_constraint_keyword(self, constraint: Any) -> str:
        return "CONSTRAINT"

    def visit_create_sequence(self, create: CreateSequence, **kw: Any) -> str:
        if not self.dialect.supports_sequences:
            raise exc.UnsupportedCompilationError(f"{self.dialect.name} has no sequences")
        sequence = create.element
        name = self.format_named_type(sequence.name, sequence.schema)
        exists = "IF NOT EXISTS " if create.if_not_exists else ""
        clauses = [self.sequence_data_type(sequence), self.sequence_options(sequence)]
        return f"CREATE SEQUENCE {exists}{name}" + "".join(f" {c}" for c in clauses if c)

    def visit_drop_sequence(self, drop: DropSequence, **kw: Any) -> str:
        if not self.dialect.supports_sequences:
            raise exc.UnsupportedCompilationError(f"{self.dialect.name} has no sequences")
        sequence = drop.element
        exists = "IF EXISTS " if drop.if_exists else ""
        return f"DROP SEQUENCE {exists}{self.format_named_type(sequence.name, sequence.schema)}"

    def sequence_data_type(self, sequence: Any) -> str:
        """``AS <type>`` for a sequence given a ``data_type``, where the database has it."""
        return ""

    @staticmethod
    def sequence_options(sequence: Any) -> str:
        """``START WITH 1 INCREMENT BY 1 ...`` for an Identity or Sequence."""
        parts = []
        for attribute, phrase in (
            ("start", "START WITH"),
            ("increment", "INCREMENT BY"),
            ("minvalue", "MINVALUE"),
            ("maxvalue", "MAXVALUE"),
            ("cache", "CACHE"),
        ):
            value = getattr(sequence, attribute, None)
            if value is not None:
                parts.append(f"{phrase} {int(value)}")
            elif attribute in ("minvalue", "maxvalue") and getattr(
                sequence, f"no{attribute}", None
            ):
                parts.append(f"NO {phrase}")
        if getattr(sequence, "cycle", None):
            parts.append("CYCLE")
        return " ".join(parts)

    def visit_create_enum_type(self, create: CreateEnumType, **kw: Any) -> str:
        raise exc.UnsupportedCompilationError(f"{self.dialect.name} has no named enum types")

    def visit_drop_enum_type(self, drop: DropEnumType, **kw: Any) -> str:
        raise exc.UnsupportedCompilationError(f"{self.dialect.name} has no named enum types")

    def visit_set_table_comment(self, element: SetTableComment, **kw: Any) -> str:
        table = element.element
        return f"COMMENT ON TABLE {self.format_table(table)} IS {self.literal(table.comment)}"

    def visit_drop_table_comment(self, element: DropTableComment, **kw: Any) -> str:
        return f"COMMENT ON TABLE {self.format_table(element.element)} IS NULL"

    def visit_set_column_comment(self, element: SetColumnComment, **kw: Any) -> str:
        column = element.element
        target = f"{self.format_table(column.table)}.{self.quote(column.name)}"
        comment = self.literal(column.comment) if column.comment is not None else "NULL"
        return f"COMMENT ON COLUMN {target} IS {comment}"

    def visit_ddl(self, ddl: DDL, **kw: Any) -> str:
        if ddl.target is None and not ddl.context:
            return ddl.statement
        context = dict(ddl.context)
        if ddl.target is not None:
            context.setdefault("table", self.quote(ddl.target.name))
            schema = self.schema_of(ddl.target.schema)
            context.setdefault("schema", self.quote(schema) if schema else "")
            context.setdefault("fullname", self.format_table(ddl.target))
        return ddl.statement % context


_PLAIN_DEFAULT = re.compile(
    r"^(?:[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|'(?:[^']|'')*'|NULL|TRUE|FALSE"
    r"|CURRENT_TIME|CURRENT_DATE|CURRENT_TIMESTAMP|\(.*\))$",
    re.I | re.S,
)


def is_plain_default(sql: str) -> bool:
    """Whether a default is a literal (number, string, NULL, TRUE/FALSE, CURRENT_TIMESTAMP ...)
    or already parenthesized, i.e. needs no parentheses where expressions require them."""
    return _PLAIN_DEFAULT.match(sql.strip()) is not None


_KEYWORDS = frozenset(
    {"CASCADE", "RESTRICT", "SET NULL", "SET DEFAULT", "NO ACTION", "DEFERRED", "IMMEDIATE"}
)


def _keyword(value: str) -> str:
    """A foreign key action or deferral mode, checked so that nothing else reaches the SQL."""
    upper = " ".join(value.upper().split())
    if upper not in _KEYWORDS:
        raise exc.CompileError(f"Unexpected SQL phrase {value!r} in a foreign key clause")
    return upper


def _type_check_name(table: Any, column: Any, name: str | None) -> str | None:
    """The name of an Enum/Boolean CHECK: the type's name, through the MetaData's "ck"
    naming convention when it has one using only table, column and constraint names."""
    convention = getattr(table.metadata, "naming_convention", None) or {}
    template = convention.get("ck")
    if name is None or template is None:
        return name
    tokens = {"table_name": table.name, "constraint_name": name, "column_0_name": column.name}
    try:
        return str(template % tokens)
    except KeyError:
        return name


def stored_type(type_: Any, dialect: Any) -> Any:
    """The type ``type_`` stores as on ``dialect``: its variant there, through decorators."""
    type_ = type_._variant_for(dialect)
    while isinstance(type_, sqltypes.TypeDecorator):
        type_ = type_.load_dialect_impl(dialect)._variant_for(dialect)
    return type_


# --- schema item helpers ------------------------------------------------------------------


def dialect_options(item: Any, dialect: Any) -> dict[str, Any]:
    """``<dialect>_<option>=...`` keyword options of a schema item (``postgresql_where``,
    ``mysql_length``, ``sqlite_autoincrement``) for ``dialect``, keyed without the prefix;
    under each of the dialect's names, its own name's winning (``mariadb_engine`` over
    ``mysql_engine`` on MariaDB)."""
    raw = getattr(item, "dialect_kwargs", None) or getattr(item, "kwargs", None) or {}
    options: dict[str, Any] = {}
    for name in reversed(dialect_names(dialect)):
        prefix = name + "_"
        options.update(
            (key[len(prefix) :], value) for key, value in raw.items() if key.startswith(prefix)
        )
    return options


def constraint_kind(constraint: Any) -> str:
    """``"pk"``, ``"fk"``, ``"uq"``, ``"ck"`` or ``"ix"`` for a constraint or index."""
    if isinstance(constraint, _NamedConstraint):
        constraint = constraint.constraint
    if isinstance(constraint, schema.PrimaryKeyConstraint):
        return "pk"
    if isinstance(constraint, schema.ForeignKeyConstraint):
        return "fk"
    if isinstance(constraint, schema.UniqueConstraint):
        return "uq"
    if isinstance(constraint, schema.CheckConstraint):
        return "ck"
    if isinstance(constraint, schema.Index):
        return "ix"
    return ""


def is_foreign_key(constraint: Any) -> bool:
    return constraint_kind(constraint) == "fk"


_KIND_ORDER = {"fk": 0, "uq": 1, "ck": 2}


def _constraint_sort_key(constraint: Any) -> tuple[int, str, tuple[str, ...], str]:
    columns = tuple(str(column.name) for column in getattr(constraint, "columns", ()))
    condition = str(getattr(getattr(constraint, "sqltext", None), "text", ""))
    kind = _KIND_ORDER.get(constraint_kind(constraint), 3)
    return kind, constraint.name or "", columns, condition


def sorted_constraints(table: Any) -> list[Any]:
    """The table's constraints other than the primary key, in an order that does not change
    from run to run (foreign keys, unique, check; then by name and columns)."""
    primary = table.primary_key
    constraints = [c for c in table.constraints if c is not primary and constraint_kind(c) != "pk"]
    return sorted(constraints, key=_constraint_sort_key)


def constraint_name(constraint: Any, max_length: int = 63) -> str | None:
    """The name of ``constraint`` (or index), its own or the MetaData naming convention's,
    shortened with a hash suffix when the database would not take one that long."""
    name: str | None = constraint.name
    if name is not None and len(name) > max_length:
        digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
        name = f"{name[: max_length - 9]}_{digest}"
    return name


# --- create_all / drop_all ----------------------------------------------------------------


def _schema(conn: Any, element: Any) -> str | None:
    """The schema ``element`` (a table, sequence or type) is in for ``conn``: its own, or
    what the connection's ``schema_translate_map`` makes of it."""
    return translated_schema(
        element.schema, conn.get_execution_options().get("schema_translate_map")
    )


@contextmanager
def _connection(bind: Any) -> Iterator[Any]:
    """A connection in a transaction: ``bind`` itself if it is a Connection (its transaction,
    begun on first use, stays open for the caller), else one from ``bind.begin()``."""
    if hasattr(bind, "execute"):
        yield bind
    else:
        with bind.begin() as connection:
            yield connection


def create_index(index: Any, bind: Any, checkfirst: bool = False) -> None:
    """``CREATE INDEX`` for ``index``; with ``checkfirst`` nothing happens if it exists."""
    with _connection(bind) as conn:
        if not (checkfirst and _index_exists(conn, index)):
            conn.execute(CreateIndex(index))


def drop_index(index: Any, bind: Any, checkfirst: bool = False) -> None:
    """``DROP INDEX`` for ``index``; with ``checkfirst`` nothing happens if it is missing."""
    with _connection(bind) as conn:
        if not checkfirst or _index_exists(conn, index):
            conn.execute(DropIndex(index))


def _index_exists(conn: Any, index: Any) -> bool:
    dialect = conn.dialect
    name = constraint_name(index, dialect.ddl_compiler.max_identifier_length)
    return bool(dialect.has_index(conn, index.table.name, name, _schema(conn, index.table)))


def create_sequence(sequence: Any, bind: Any, checkfirst: bool = True) -> None:
    """``CREATE SEQUENCE`` where the database has sequences (elsewhere nothing happens, so
    code that declares one runs everywhere); with ``checkfirst`` only if it is missing."""
    with _connection(bind) as conn:
        dialect = conn.dialect
        if not dialect.supports_sequences:
            return
        if checkfirst and dialect.has_sequence(conn, sequence.name, _schema(conn, sequence)):
            return
        conn.execute(CreateSequence(sequence))


def drop_sequence(sequence: Any, bind: Any, checkfirst: bool = True) -> None:
    """``DROP SEQUENCE`` where the database has sequences; with ``checkfirst`` only if it
    exists."""
    with _connection(bind) as conn:
        dialect = conn.dialect
        if not dialect.supports_sequences:
            return
        if checkfirst and not dialect.has_sequence(conn, sequence.name, _schema(conn, sequence)):
            return
        conn.execute(DropSequence(sequence))


def order_for_create(tables: Sequence[Any], can_alter: bool = True) -> tuple[list[Any], list[Any]]:
    """Tables ordered so that each comes after the tables its foreign keys refer to, for
    creating them (dropping them in reverse).

    Returns (tables, foreign keys to add after creation).  Foreign keys within a cycle (and
    those marked ``use_alter``) are set aside when ``can_alter``; otherwise the cycle's
    tables keep their relative order and their foreign keys stay inline.
    """
    members = {id(table): table for table in tables}
    deferred: list[Any] = []
    depends: dict[int, set[int]] = {id(table): set() for table in tables}
    edges: dict[tuple[int, int], list[Any]] = {}
    for table in tables:
        for fk in _foreign_keys(table):
            referred = _referred_table(fk)
            if referred is None or referred is table or id(referred) not in members:
                continue
            if getattr(fk, "use_alter", False) and can_alter:
                deferred.append(fk)
                continue
            depends[id(table)].add(id(referred))
            edges.setdefault((id(table), id(referred)), []).append(fk)
    for component in _cycles(depends):
        for source in component:
            for target in list(depends[source]):
                if target in component:
                    if can_alter:
                        deferred.extend(edges[(source, target)])
                    depends[source].discard(target)
    return _in_dependency_order(tables, depends), deferred


def sort_tables(
    tables: Iterable[Any],
    skip_fn: Callable[[Any], bool | None] | None = None,
    extra_dependencies: Iterable[tuple[Any, Any]] | None = None,
) -> list[Any]:
    """``tables`` ordered so that each comes after the tables its foreign keys refer to, and
    otherwise in the order given.

    ``skip_fn(foreign_key)`` returning True leaves that foreign key (a ``ForeignKey``) out of
    the ordering, as ``use_alter=True`` does; ``extra_dependencies`` are ``(parent, child)``
    pairs of tables ordered as if child referred to parent.  The foreign keys of tables that
    refer to each other in a cycle cannot be followed: they are left out, with a warning.
    """
    tables = list(tables)
    members = {id(table) for table in tables}
    fixed: dict[int, set[int]] = {id(table): set() for table in tables}
    by_foreign_key: dict[int, set[int]] = {id(table): set() for table in tables}
    for parent, child in extra_dependencies or ():
        if id(parent) in members and id(child) in members:
            fixed[id(child)].add(id(parent))
    for table in tables:
        for fk in _foreign_keys(table):
            if getattr(fk, "use_alter", False) or (
                skip_fn is not None and any(skip_fn(element) for element in fk.elements)
            ):
                continue
            referred = _referred_table(fk)
            if referred is not None and referred is not table and id(referred) in members:
                by_foreign_key[id(table)].add(id(referred))
    depends = {key: fixed[key] | by_foreign_key[key] for key in fixed}
    cyclic: set[int] = set().union(*_cycles(depends))
    if cyclic:
        names = ", ".join(sorted(table.fullname for table in tables if id(table) in cyclic))
        warnings.warn(
            f"Cannot order tables {names} by their foreign keys, which refer to each other in "
            "a cycle: those tables' foreign keys are left out of the order.  Mark one foreign "
            "key of the cycle use_alter=True to break it.",
            exc.SAWarning,
            stacklevel=2,
        )
        depends = {
            key: fixed[key] | (set() if key in cyclic else by_foreign_key[key]) for key in fixed
        }
        if _cycles(depends):
            raise exc.CircularDependencyError(
                "extra_dependencies given to sort_tables() form a cycle; they cannot be ordered"
            )
    return _in_dependency_order(tables, depends)


def _in_dependency_order(tables: Sequence[Any], depends: Mapping[int, set[int]]) -> list[Any]:
    """``tables`` in rounds: each round takes, in the given order, the tables whose
    dependencies (acyclic, by id) earlier rounds placed."""
    ordered: list[Any] = []
    placed: set[int] = set()
    remaining = list(tables)
    while remaining:
        ready = [t for t in remaining if depends[id(t)] <= placed]
        for table in ready:
            placed.add(id(table))
        ordered.extend(ready)
        remaining = [t for t in remaining if id(t) not in placed]
    return ordered


def sort_tables_and_constraints(
    tables: Iterable[Any],
    filter_fn: Callable[[Any], bool | None] | None = None,
    extra_dependencies: Iterable[tuple[Any, Any]] | None = None,
) -> list[tuple[Any, list[Any]]]:
    """``(table, foreign keys created with it)`` pairs, each table after those it refers to,
    then ``(None, foreign keys added afterwards)``: those of cycles and ``use_alter`` ones.

    ``filter_fn(constraint)`` may move a foreign key after the tables (True) or keep it with
    its table (False); None leaves the choice to the sort.
    """
    if extra_dependencies:
        raise exc.ArgumentError(
            "sort_tables_and_constraints() does not take extra_dependencies; order the "
            "tables by foreign keys, or sort the result yourself"
        )
    ordered, deferred = order_for_create(list(tables))
    later = {id(fk) for fk in deferred}
    if filter_fn is not None:
        for table in ordered:
            for fk in _foreign_keys(table):
                verdict = filter_fn(fk)
                if verdict is True:
                    later.add(id(fk))
                elif verdict is False:
                    later.discard(id(fk))
    pairs: list[tuple[Any, list[Any]]] = [
        (table, [fk for fk in _foreign_keys(table) if id(fk) not in later]) for table in ordered
    ]
    afterwards = [fk for table in ordered for fk in _foreign_keys(table) if id(fk) in later]
    pairs.append((None, afterwards))
    return pairs


def _cycles(graph: Mapping[int, set[int]]) -> list[set[int]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    found: list[set[int]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[int, Iterator[int]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def _foreign_keys(table: Any) -> list[Any]:
    return [c for c in sorted_constraints(table) if is_foreign_key(c)]


def _referred_table(fk: Any) -> Any:
    try:
        return fk.referred_table
    except exc.NoReferenceError:
        return None


def _target_tables(metadata: Any, tables: Iterable[Any] | None) -> list[Any]:
    return list(tables) if tables is not None else list(metadata.tables.values())


def _native_enums(tables: Iterable[Any], dialect: Any) -> list[Any]:
    """The named native enum types used by ``tables``, once per (schema, name)."""
    compiler = dialect.ddl_compiler
    found: dict[tuple[str | None, str | None], Any] = {}
    for table in tables:
        for column in table.columns:
            type_, _ = enum_of(column.type, dialect)
            if type_ is not None and compiler.enum_is_native(type_):
                found.setdefault((type_.schema, type_.name), type_)
    return list(found.values())


def _domains(tables: Iterable[Any]) -> list[Any]:
    """The ``DOMAIN`` types (with ``create_type`` set) of ``tables``' columns, once each."""
    found: dict[tuple[str | None, str], Any] = {}
    for table in tables:
        for column in table.columns:
            type_ = column.type
            if getattr(type_, "_is_domain", False) and type_.create_type:
                found.setdefault((type_.schema, type_.name), type_)
    return list(found.values())


def enum_of(type_: Any, dialect: Any) -> tuple[Any, int]:
    """The :class:`~athanor.types.Enum` a column type stores on ``dialect`` and the number of
    array dimensions around it (0 for a plain enum column), or ``(None, 0)``."""
    type_ = stored_type(type_, dialect)
    if isinstance(type_, sqltypes.ARRAY):
        item = stored_type(type_.item_type, dialect)
        if isinstance(item, sqltypes.Enum):
            return item, type_.dimensions or 1
    if isinstance(type_, sqltypes.Enum):
        return type_, 0
    return None, 0


def _sequences(tables: Iterable[Any]) -> list[Any]:
    found = []
    for table in tables:
        for column in table.columns:
            default = getattr(column, "default", None)
            if isinstance(default, schema.Sequence):
                found.append(default)
    return found


def _fire(target: Any, event: str, conn: Any, **kw: Any) -> None:
    """Run ``target``'s ``event`` listeners (DDL events of a Table or a MetaData)."""
    for fn in getattr(target.dispatch, event):
        fn(target, conn, **kw)


def create_all(
    metadata: Any,
    bind: Any,
    tables: Iterable[Any] | None = None,
    checkfirst: bool = True,
    metadata_events: bool = True,
) -> None:
    """Create ``metadata``'s tables (or ``tables``) and their indexes in foreign-key order,
    with ``checkfirst`` skipping existing tables.  Enum types and sequences the tables use are
    shared objects: they are created only if missing, whatever ``checkfirst`` says.

    The MetaData's ``before_create`` / ``after_create`` events (unless ``metadata_events`` is
    False, as for ``Table.create()``) surround the whole, each table's its own CREATE."""
    with _connection(bind) as conn:
        dialect = conn.dialect
        compiler = dialect.ddl_compiler
        wanted = _target_tables(metadata, tables)
        if checkfirst:
            wanted = [t for t in wanted if not dialect.has_table(conn, t.name, _schema(conn, t))]
        ordered, deferred = order_for_create(wanted, can_alter=compiler.supports_alter)
        if metadata_events:
            _fire(metadata, "before_create", conn, tables=ordered, checkfirst=checkfirst)
        if compiler.supports_native_enum_types:
            for enum_type in _native_enums(ordered, dialect):
                if not dialect.has_type(conn, enum_type.name, _schema(conn, enum_type)):
                    conn.execute(CreateEnumType(enum_type))
        if compiler.supports_domains:
            for domain in _domains(ordered):
                if not dialect.has_type(conn, domain.name, _schema(conn, domain)):
                    conn.execute(CreateDomainType(domain))
        if dialect.supports_sequences:
            for sequence in _sequences(ordered):
                if not dialect.has_sequence(conn, sequence.name, _schema(conn, sequence)):
                    conn.execute(CreateSequence(sequence))
        for table in ordered:
            _fire(table, "before_create", conn, checkfirst=checkfirst)
            inline = [fk for fk in _foreign_keys(table) if fk not in deferred]
            conn.execute(CreateTable(table, include_foreign_key_constraints=inline))
            if compiler.supports_comments and not compiler.inline_comments:
                if table.comment is not None:
                    conn.execute(SetTableComment(table))
                for column in table.columns:
                    if column.comment is not None:
                        conn.execute(SetColumnComment(column))
            for index in _sorted_indexes(table):
                conn.execute(CreateIndex(index))
            _fire(table, "after_create", conn, checkfirst=checkfirst)
        for fk in deferred:
            conn.execute(AddConstraint(fk))
        if metadata_events:
            _fire(metadata, "after_create", conn, tables=ordered, checkfirst=checkfirst)


def _sorted_indexes(table: Any) -> list[Any]:
    return sorted(table.indexes, key=lambda index: str(index.name or ""))


def drop_all(
    metadata: Any,
    bind: Any,
    tables: Iterable[Any] | None = None,
    checkfirst: bool = True,
    metadata_events: bool = True,
) -> None:
    """Drop ``metadata``'s tables (or ``tables``) in reverse foreign-key order, with
    ``checkfirst`` skipping missing ones, then the enum types no other table still uses and
    the sequences they used; ``before_drop`` / ``after_drop`` fire as in :func:`create_all`."""
    with _connection(bind) as conn:
        dialect = conn.dialect
        compiler = dialect.ddl_compiler
        wanted = _target_tables(metadata, tables)
        if checkfirst:
            wanted = [t for t in wanted if dialect.has_table(conn, t.name, _schema(conn, t))]
        ordered, deferred = order_for_create(wanted, can_alter=compiler.supports_alter)
        if metadata_events:
            _fire(metadata, "before_drop", conn, tables=ordered, checkfirst=checkfirst)
        for fk in deferred:
            conn.execute(DropConstraint(_named_for_drop(conn, dialect, fk)))
        for table in reversed(ordered):
            _fire(table, "before_drop", conn, checkfirst=checkfirst)
            conn.execute(DropTable(table))
            _fire(table, "after_drop", conn, checkfirst=checkfirst)
        if compiler.supports_native_enum_types:
            for enum_type in _native_enums(ordered, dialect):
                name, schema = enum_type.name, _schema(conn, enum_type)
                if dialect.has_type(conn, name, schema) and not dialect.is_type_in_use(
                    conn, name, schema
                ):
                    conn.execute(DropEnumType(enum_type))
        if compiler.supports_domains:
            for domain in _domains(ordered):
                name, schema = domain.name, _schema(conn, domain)
                if dialect.has_type(conn, name, schema) and not dialect.is_type_in_use(
                    conn, name, schema
                ):
                    conn.execute(DropDomainType(domain))
        if dialect.supports_sequences:
            for sequence in _sequences(ordered):
                if dialect.has_sequence(conn, sequence.name, _schema(conn, sequence)):
                    conn.execute(DropSequence(sequence))
        if metadata_events:
            _fire(metadata, "after_drop", conn, tables=ordered, checkfirst=checkfirst)


def _named_for_drop(conn: Any, dialect: Any, fk: Any) -> Any:
    """``fk`` itself if it has a name, else a stand-in carrying the name the database gave it
    (read back by reflection), so that a cycle's foreign key can be dropped."""
    if fk.name is not None:
        return fk
    local = [element.parent.name for element in fk.elements]
    referred = _referred_table(fk)
    for found in dialect.get_foreign_keys(conn, fk.table.name, _schema(conn, fk.table)):
        if found["constrained_columns"] == local and found["referred_table"] == referred.name:
            return _NamedConstraint(fk, found["name"])
    raise exc.CompileError(
        f"Can't drop the foreign key of table {fk.table.name!r} on ({', '.join(local)}) that "
        "closes a cycle: it has no name and none was found in the database"
    )


class _NamedConstraint:
    """A constraint seen under another name (the one the database chose)."""

    def __init__(self, constraint: Any, name: str) -> None:
        self.constraint = constraint
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.constraint, attribute)
