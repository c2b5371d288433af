"""What schema migrations need to know about a database, beyond CREATE and DROP.

:class:`MigrationImpl` renders the ALTER statements migrations emit (add, drop, alter and
rename columns, rename tables, drop constraints), says whether DDL is transactional, which
advisory lock keeps two deploys from migrating at once, and how a reflected server default or
type is normalised for comparison.  Each database subclasses it in ``dialects/<db>/migrate.py``
(its module attribute ``impl``); ``athanor.migrate`` asks the dialect's class and never branches
on the database's name.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from athanor import exc
from athanor.sql import types as sqltypes
from athanor.sql.ddl import AddConstraint, CreateIndex, DDLCompiler, DropIndex
from athanor.sql.dialect_names import dialect_names
from athanor.sql.elements import text


class _Unchanged:
    """The marker of an ``alter_column`` argument that was not given."""

    _instance: _Unchanged | None = None

    def __new__(cls) -> _Unchanged:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED"

    def __bool__(self) -> bool:
        return False


UNCHANGED: Any = _Unchanged()
"""An ``alter_column`` argument left as it is (``None`` removes a default or a comment)."""


@dataclass
class ColumnChange:
    """One ``alter_column``: the new values (``UNCHANGED`` where not altered) and what the
    column is now (``existing_*``, needed where the database restates the whole column)."""

    table_name: str
    column_name: str
    schema: str | None = None
    nullable: Any = UNCHANGED
    type_: Any = UNCHANGED
    server_default: Any = UNCHANGED
    comment: Any = UNCHANGED
    new_column_name: Any = UNCHANGED
    using: Any = None
    existing_type: Any = None
    existing_nullable: bool | None = None
    existing_server_default: Any = None
    existing_comment: str | None = None
    autoincrement: bool | None = None

    def changes(self, attribute: str) -> bool:
        """Whether the change sets ``attribute`` (``type_``, ``nullable`` ...)."""
        return getattr(self, attribute) is not UNCHANGED

    @property
    def final_name(self) -> str:
        """The column's name after the change."""
        return self.column_name if self.new_column_name is UNCHANGED else self.new_column_name

    def final(self, attribute: str) -> Any:
        """The value of ``attribute`` after the change: the new one, else the existing one."""
        value = getattr(self, attribute)
        if value is not UNCHANGED:
            return value
        return getattr(self, "existing_" + attribute.rstrip("_"))


_NOW_SPELLINGS = re.compile(
    r"^\s*\(?\s*(?:now\s*\(\s*\)|current_timestamp(?:\s*\(\s*\d*\s*\))?|localtimestamp"
    r"(?:\s*\(\s*\d*\s*\))?|statement_timestamp\s*\(\s*\)|transaction_timestamp\s*\(\s*\)"
    r"|datetime\s*\(\s*'now'\s*\))\s*\)?\s*$",
    re.I,
)


def is_current_timestamp(sql: str) -> bool:
    """Whether a default means "the time of the insert" in one of the usual spellings
    (``now()``, ``CURRENT_TIMESTAMP``, ``current_timestamp(6)``, ``datetime('now')``)."""
    return _NOW_SPELLINGS.match(sql) is not None


class MigrationImpl:
    """The migration behaviour of one database; subclassed in ``dialects/<db>/migrate.py``."""

    transactional_ddl: ClassVar[bool] = False
    """Whether DDL can be rolled back, so that a whole upgrade runs in one transaction."""
    alter_changes: ClassVar[frozenset[str]] = frozenset(
        {"type_", "nullable", "server_default", "comment", "new_column_name"}
    )
    """The ``alter_column`` changes ALTER TABLE can make; the others recreate the table."""
    can_alter_constraints: ClassVar[bool] = True
    """Whether constraints can be added to and dropped from an existing table."""
    restates_column: ClassVar[bool] = False
    """Whether altering a column restates its whole definition (MySQL's MODIFY), so that the
    existing type, nullability, default and comment must be known."""
    current_timestamp_sql: ClassVar[str] = "CURRENT_TIMESTAMP"
    identity_columns: ClassVar[bool] = False
    """Whether columns can be made identity columns with ALTER (PostgreSQL), so autogenerate
    compares ``Identity()``."""
    autoincrement_needs_key: ClassVar[bool] = False
    """Whether an auto-increment column must be part of a key (MySQL), so that dropping the
    primary key needs AUTO_INCREMENT taken off its column first."""
    places_added_columns: ClassVar[bool] = False
    """Whether ADD COLUMN can say where the new column goes (MySQL's ``AFTER``/``FIRST``);
    elsewhere it goes last unless the table is recreated."""
    schema_scoped_constraint_names: ClassVar[frozenset[str]] = frozenset()
    """Kinds of constraint (``pk``, ``uq``, ``fk``, ``ck``) whose names must be unique in the
    whole schema rather than per table; a recreated table adds those after the old one is
    gone, since both tables exist while the rows are copied."""
    foreign_keys_create_indexes: ClassVar[bool] = False
    """Whether the database indexes a foreign key's columns by itself (MySQL), so that such
    an index in the database is not a difference from the models."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self.compiler: DDLCompiler = dialect.ddl_compiler(dialect, None)

    # --- names ------------------------------------------------------------------------------

    def quote(self, name: str) -> str:
        """``name`` as an identifier, quoted when needed."""
        return self.compiler.quote(name)

    def table(self, name: str, schema: str | None) -> str:
        """A table name, schema-qualified when a schema is given."""
        return f"{self.quote(schema)}.{self.quote(name)}" if schema else self.quote(name)

    # --- columns ----------------------------------------------------------------------------

    def column_spec(self, column: Any) -> str:
        """A column's definition as in CREATE TABLE (the column must belong to a table)."""
        return self.compiler.get_column_specification(column)

    def add_column(self, column: Any, after: str | None = None, first: bool = False) -> list[str]:
        """``ALTER TABLE ... ADD COLUMN`` for ``column`` (attached to its table), placed
        after the column ``after`` or ``first`` where the database can place it."""
        table = column.table
        head = f"ALTER TABLE {self.table(table.name, table.schema)} ADD {self.column_spec(column)}"
        return [head + self.column_position(after, first)]

    def column_position(self, after: str | None, first: bool) -> str:
        """The clause that places an added column (only where ``places_added_columns``)."""
        return ""

    def add_column_needs_recreate(self, column: Any) -> bool:
        """Whether adding ``column`` needs the table recreated (SQLite, for keys and
        non-constant defaults)."""
        return False

    def drop_column_needs_recreate(
        self, inspector: Any, table_name: str, column_name: str, schema: str | None
    ) -> bool:
        """Whether dropping the column needs the table recreated (SQLite, when an index or
        constraint uses it)."""
        return False

    def drop_column(self, table_name: str, column_name: str, schema: str | None) -> list[str]:
        """``ALTER TABLE ... DROP COLUMN``."""
        return [
            f"ALTER TABLE {self.table(table_name, schema)} DROP COLUMN {self.quote(column_name)}"
        ]

    def alter_column(self, change: ColumnChange) -> list[str]:
        """The statements of one ``alter_column``, in the standard spelling (PostgreSQL's)."""
        table = self.table(change.table_name, change.schema)
        column = self.quote(change.column_name)
        head = f"ALTER TABLE {table} ALTER COLUMN {column}"
        statements = []
        if change.changes("type_"):
            using = f" USING {self.expression(change.using)}" if change.using is not None else ""
            statements.append(f"{head} TYPE {self.type_sql(change.type_)}{using}")
        if change.changes("nullable"):
            statements.append(f"{head} {'DROP' if change.nullable else 'SET'} NOT NULL")
        if change.changes("server_default"):
            default = self.default_sql(change.server_default)
            statements.append(
                f"{head} DROP DEFAULT" if default is None else f"{head} SET DEFAULT {default}"
            )
        if change.changes("comment"):
            comment = "NULL" if change.comment is None else self.compiler.literal(change.comment)
            statements.append(f"COMMENT ON COLUMN {table}.{column} IS {comment}")
        if change.changes("new_column_name"):
            new_name = self.quote(change.new_column_name)
            statements.append(f"ALTER TABLE {table} RENAME COLUMN {column} TO {new_name}")
        return statements

    def type_sql(self, type_: Any) -> str:
        """A type's DDL on this database."""
        return self.compiler.type_compiler.process(sqltypes.to_instance(type_))

    def expression(self, element: Any) -> str:
        """A SQL expression (text or Core) rendered for DDL."""
        return self.compiler.render_expression(element)

    def default_sql(self, default: Any) -> str | None:
        """A server default as DDL: strings are literals, ``text()`` and expressions are SQL."""
        if default is None or default is False:
            return None
        arg = self.portable_server_default(default)
        if isinstance(arg, str):
            return self.compiler.literal(arg)
        return self.compiler.format_default_expression(self.expression(arg))

    def portable_server_default(self, default: Any) -> Any:
        """A server default (string, ``text()``, expression or ``DefaultClause``) as this
        database can take it: expressions pass through :meth:`portable_default`."""
        if default is None or default is False:
            return None
        arg = getattr(default, "arg", default)
        if isinstance(arg, str):
            return arg
        sql = self.expression(arg)
        portable = self.portable_default(sql)
        return arg if portable == sql else text(portable.replace(":", "\\:"))

    def portable_default(self, sql: str) -> str:
        """The database's spelling of a default expression written for another database.

        ``now()`` and ``CURRENT_TIMESTAMP`` mean the same to users; databases that lack one
        of them get the other, so a revision written for PostgreSQL runs everywhere.
        """
        if is_current_timestamp(sql):
            return self.current_timestamp_sql
        return sql

    # --- indexes ----------------------------------------------------------------------------

    def create_index(self, index: Any, if_not_exists: bool = False) -> list[Any]:
        """The statements creating ``index`` (attached to its table)."""
        return [CreateIndex(index, if_not_exists=if_not_exists)]

    def drop_index(self, index: Any, if_exists: bool = False) -> list[Any]:
        return [DropIndex(index, if_exists=if_exists)]

    # --- tables and constraints -------------------------------------------------------------

    def rename_table(self, old: str, new: str, schema: str | None) -> list[str]:
        """``ALTER TABLE old RENAME TO new``."""
        return [f"ALTER TABLE {self.table(old, schema)} RENAME TO {self.quote(new)}"]

    def add_constraint(self, constraint: Any, not_valid: bool = False) -> list[Any]:
        """``ALTER TABLE ... ADD CONSTRAINT``; ``not_valid`` (skip checking the existing rows)
        is PostgreSQL's and ignored elsewhere."""
        return [AddConstraint(constraint)]

    def drop_constraint(
        self, name: str, table_name: str, schema: str | None, kind: str | None
    ) -> list[str]:
        """``ALTER TABLE ... DROP CONSTRAINT name`` (``kind``: pk, fk, uq, ck or None)."""
        if not name:
            raise exc.CompileError(
                f"Dropping a constraint of {table_name} needs its name on {self.dialect.name}; "
                "pass it to drop_constraint()"
            )
        return [f"ALTER TABLE {self.table(table_name, schema)} DROP CONSTRAINT {self.quote(name)}"]

    def needs_constraint_kind(self) -> bool:
        """Whether dropping a constraint needs to know its kind (MySQL's DROP FOREIGN KEY)."""
        return False

    def needs_recreate(self, change: ColumnChange) -> bool:
        """Whether ``change`` needs the table copied into a new one (SQLite)."""
        return any(
            change.changes(name) and name not in self.alter_changes
            for name in ("type_", "nullable", "server_default", "comment", "new_column_name")
        )

    # --- enums ------------------------------------------------------------------------------

    def add_enum_value(
        self, name: str, schema: str | None, value: str, before: str | None, after: str | None
    ) -> str:
        """The statement adding a label to a named enum type (only where those exist), placed
        before or after an existing label (else last)."""
        raise exc.CompileError(f"{self.dialect.name} has no named enum types")

    # --- running ----------------------------------------------------------------------------

    def lock_statements(self, key: str) -> tuple[str, str] | None:
        """``(acquire, release)`` SQL for an advisory lock named ``key``, where there is one."""
        return None

    def lock_taken(self, result: Any) -> bool:
        """Whether the acquire statement's result means the lock is held."""
        return True

    def lock_parameters(self, key: str) -> dict[str, Any]:
        """Bound parameters of the lock statements."""
        return {"key": key}

    # --- comparison -------------------------------------------------------------------------

    def normalize_default(self, sql: str | None) -> str | None:
        """A server default reduced to a canonical spelling, for comparing the database's
        (reflected) default with the model's: casts, outer parentheses and case removed."""
        if sql is None:
            return None
        text = sql.strip()
        while _wrapped(text):
            text = text[1:-1].strip()
        text = re.sub(r"::[\w\s\".\[\]]+(\(\d+(,\s*\d+)?\))?", "", text)
        while _wrapped(text):
            text = text[1:-1].strip()
        if is_current_timestamp(text):
            return "current_timestamp"
        if text.upper() == "NULL":
            return None
        if re.fullmatch(r"'[-+]?\d+(\.\d+)?'", text):
            text = text[1:-1]
        if re.fullmatch(r"[-+]?\d+\.\d*0+", text):
            text = text.rstrip("0").rstrip(".")
        lowered = text.lower()
        if lowered in ("true", "'1'", "b'1'"):
            return "1"
        if lowered in ("false", "'0'", "b'0'"):
            return "0"
        if text.startswith("'"):
            return text
        return re.sub(r"\s+", " ", lowered)

    def type_signature(self, type_: Any) -> str:
        """A type as this database stores it, for comparing a model's type with the
        reflected one: the DDL spelling with length, precision and labels."""
        try:
            return self.type_sql(type_).lower()
        except exc.CompileError:
            return repr(type_)


def _wrapped(text: str) -> bool:
    """Whether ``text`` is one parenthesized group, ``(…)`` with its own closing bracket."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for position, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and position < len(text) - 1:
            return False
    return True


_IMPLS: dict[str, type[MigrationImpl]] = {}


def migration_impl(dialect: Any) -> MigrationImpl:
    """The :class:`MigrationImpl` of ``dialect``, from ``dialects/<name>/migrate.py`` for
    the first of its names that has one (MariaDB's is MySQL's)."""
    name = dialect.name
    if name not in _IMPLS:
        _IMPLS[name] = MigrationImpl
        for candidate in dialect_names(dialect):
            try:
                module = importlib.import_module(f"athanor.dialects.{candidate}.migrate")
            except ImportError:
                continue
            _IMPLS[name] = module.impl
            break
    return _IMPLS[name](dialect)
