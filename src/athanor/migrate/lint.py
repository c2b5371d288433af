"""``athanor migrate lint``: operations in pending revisions that lock or rewrite tables on a
busy database, or break the code that is still running, each with the safe pattern.

The revisions' ``upgrade()`` functions run against a recorder instead of the database, so
the ``op.*`` calls are seen with their arguments; SQL given to ``op.execute`` is scanned for the
same patterns on a best-effort basis, with a note (not a failure) for statements the scan
cannot judge.  An operation is silenced by a comment on its line or the line above:
``# migrate-lint: ignore[rule-id, ...]``, or ``# migrate-lint: ignore`` for every rule.

Rules: ``index-not-concurrent`` and ``concurrently-in-transaction`` (PostgreSQL),
``not-null-without-default``, ``type-rewrite``, ``foreign-key-not-valid`` (PostgreSQL),
``rename``, ``drop-mapped``; notes: ``raw-sql-unchecked``.
"""

from __future__ import annotations

import linecache
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from athanor.migrate.revision import Revision
from athanor.migrate.util import CommandError
from athanor.sql import types as sqltypes
from athanor.sql.schema import conv

_IGNORE = re.compile(r"#\s*migrate-lint:\s*ignore(?:\[(?P<rules>[^\]]*)\])?")


@dataclass
class Call:
    """One ``op.<name>(...)`` call of a revision, with where it was made."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    filename: str
    lineno: int
    table: str | None = None
    """The table of a ``batch_alter_table`` block the call was made in."""
    autocommit: bool = False
    """Whether the call was made inside ``op.get_context().autocommit_block()``."""

    def arg(self, position: int, name: str, default: Any = None) -> Any:
        """An argument given by position or by keyword."""
        if len(self.args) > position:
            return self.args[position]
        return self.kwargs.get(name, default)

    def silenced(self, rule: str) -> bool:
        """Whether a ``# migrate-lint: ignore[...]`` comment on the call's line or the line
        above names ``rule`` (or no rule at all)."""
        for lineno in (self.lineno, self.lineno - 1):
            found = _IGNORE.search(linecache.getline(self.filename, lineno))
            if found is None:
                continue
            rules = found.group("rules")
            if rules is None or rule in {r.strip() for r in rules.split(",")}:
                return True
        return False


@dataclass
class Finding:
    """One flagged operation."""

    revision: str
    filename: str
    lineno: int
    rule: str
    message: str
    note: bool = False
    """A remark that does not fail the lint (e.g. SQL the scan cannot judge)."""

    def __str__(self) -> str:
        kind = "note: " if self.note else ""
        return f"{self.filename}:{self.lineno}: {kind}[{self.rule}] {self.message}"


class _Batch:
    """``op.batch_alter_table(...)`` as the recorder sees it: calls on its table."""

    def __init__(self, recorder: Recorder, table: str) -> None:
        self._recorder = recorder
        self._table = table

    def __getattr__(self, name: str) -> Callable[..., None]:
        def record(*args: Any, **kwargs: Any) -> None:
            self._recorder.record(name, (self._table, *args), kwargs, self._table)

        return record


class _Context:
    """``op.get_context()`` as the recorder sees it: only ``autocommit_block()``."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        self._recorder.autocommit = True
        try:
            yield
        finally:
            self._recorder.autocommit = False


@dataclass
class Recorder:
    """Stands in for :class:`~athanor.migrate.operations.Operations`: records the calls."""

    calls: list[Call] = field(default_factory=list)
    autocommit: bool = False

    def record(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], table: str | None = None
    ) -> None:
        caller = sys._getframe(2)
        self.calls.append(
            Call(
                name,
                args,
                kwargs,
                caller.f_code.co_filename,
                caller.f_lineno,
                table,
                self.autocommit,
            )
        )

    @staticmethod
    def f(name: str) -> conv:
        return conv(name)

    def get_bind(self) -> None:
        return None

    def get_context(self) -> _Context:
        return _Context(self)

    @contextmanager
    def batch_alter_table(self, table_name: str, *args: Any, **kw: Any) -> Iterator[_Batch]:
        yield _Batch(self, table_name)

    def __getattr__(self, name: str) -> Callable[..., None]:
        def record(*args: Any, **kwargs: Any) -> None:
            self.record(name, args, kwargs)

        return record


def record_upgrade(revision: Revision) -> list[Call]:
    """The ``op`` calls of ``revision``'s upgrade()."""
    from athanor.migrate.operations import Operations

    function = getattr(revision.module, "upgrade", None)
    if function is None:
        raise CommandError(f"Revision {revision.revision} ({revision.path}) has no upgrade()")
    recorder = Recorder()
    previous = Operations._current
    Operations._current = recorder  # type: ignore[assignment]
    try:
        function()
    except Exception as error:
        raise CommandError(
            f"lint could not read revision {revision.revision} ({revision.path}): its "
            f"upgrade() failed without a database ({type(error).__name__}: {error}); silence "
            "data migrations with 'if op.get_bind() is None: return'"
        ) from None
    finally:
        Operations._current = previous
    return recorder.calls


# --- rules -----------------------------------------------------------------------------------


class Linter:
    """Applies the rules to the calls of revisions, for one database and one set of models."""

    def __init__(self, dialect_name: str, metadata: Any = None) -> None:
        self.postgresql = dialect_name == "postgresql"
        self.dialect_name = dialect_name
        self.metadata = metadata

    def lint(self, revision: Revision) -> list[Finding]:
        """The findings (and notes) for ``revision``'s upgrade()."""
        findings = []
        for call in record_upgrade(revision):
            for rule, message in self._check(call):
                if not call.silenced(rule):
                    findings.append(
                        Finding(
                            revision.revision,
                            call.filename,
                            call.lineno,
                            rule,
                            message,
                            note=rule in NOTES,
                        )
                    )
        return findings

    def _check(self, call: Call) -> Iterator[tuple[str, str]]:
        check = getattr(self, f"_check_{call.name}", None)
        if check is not None:
            yield from check(call)

    def _check_create_index(self, call: Call) -> Iterator[tuple[str, str]]:
        what = f"create_index({call.arg(0, 'index_name')!r})"
        if self.postgresql:
            yield from self._index_rules(
                what,
                call.arg(1, "table_name"),
                bool(call.kwargs.get("postgresql_concurrently")),
                call,
            )

    def _index_rules(
        self, what: str, table: str | None, concurrently: bool, call: Call
    ) -> Iterator[tuple[str, str]]:
        if not concurrently:
            yield (
                "index-not-concurrent",
                f"{what} blocks writes to {table or 'the table'} while the index builds; "
                f"build it concurrently outside the migration's transaction: {_CONCURRENTLY}",
            )
        elif not call.autocommit:
            yield (
                "concurrently-in-transaction",
                f"{what} builds CONCURRENTLY, which PostgreSQL refuses inside a transaction; "
                f"run it in an autocommit block: {_CONCURRENTLY}",
            )

    def _check_add_column(self, call: Call) -> Iterator[tuple[str, str]]:
        table, column = call.arg(0, "table_name"), call.arg(1, "column")
        if column is None:
            return
        if not column.nullable and column.server_default is None and not column.primary_key:
            yield (
                "not-null-without-default",
                f"add_column({table!r}, {column.name!r}) adds a NOT NULL column without a "
                "server default: it fails on a table with rows; add it nullable, backfill "
                "it, then alter_column(nullable=False), or give it a server_default",
            )
        if self.postgresql and column.foreign_keys:
            yield self._fk_message(f"add_column({table!r}, {column.name!r}) with a ForeignKey")

    def _check_alter_column(self, call: Call) -> Iterator[tuple[str, str]]:
        table, column = call.arg(0, "table_name"), call.arg(1, "column_name")
        new_type = call.kwargs.get("type_")
        if new_type is not None and _rewrites(
            call.kwargs.get("existing_type"), new_type, self.dialect_name
        ):
            yield (
                "type-rewrite",
                f"alter_column({table!r}, {column!r}, type_=...) rewrites the whole table "
                "under an exclusive lock; add a new column of the new type, backfill it in "
                "batches, switch the code to it, then drop the old column",
            )
        new_name = call.kwargs.get("new_column_name")
        if new_name is not None:
            yield (
                "rename",
                f"renaming {table}.{column} to {new_name} breaks the code still running with "
                "the old name; add the new column, write to both, backfill, move the readers, "
                "then drop the old one in a later release",
            )

    def _check_rename_table(self, call: Call) -> Iterator[tuple[str, str]]:
        old, new = call.arg(0, "old_table_name"), call.arg(1, "new_table_name")
        yield (
            "rename",
            f"renaming table {old} to {new} breaks the code still running with the old name; "
            "create the new table (or a view under one of the names), move the code over, "
            "then drop the old one in a later release",
        )

    def _check_create_foreign_key(self, call: Call) -> Iterator[tuple[str, str]]:
        if self.postgresql and not call.kwargs.get("postgresql_not_valid"):
            yield self._fk_message(f"create_foreign_key({call.arg(0, 'constraint_name')!r})")

    def _fk_message(self, what: str) -> tuple[str, str]:
        return (
            "foreign-key-not-valid",
            f"{what} checks every existing row while it locks both tables; create it with "
            "postgresql_not_valid=True, then validate it in a later revision: "
            "op.execute('ALTER TABLE ... VALIDATE CONSTRAINT ...')",
        )

    def _check_drop_column(self, call: Call) -> Iterator[tuple[str, str]]:
        table, column = call.arg(0, "table_name"), call.arg(1, "column_name")
        mapped = self._mapped_table(table)
        if mapped is not None and column in mapped.c:
            yield (
                "drop-mapped",
                f"drop_column({table!r}, {column!r}): the models still map {table}.{column}, "
                "so running code selects it; remove it from the models and deploy that first, "
                "then drop the column",
            )

    def _check_drop_table(self, call: Call) -> Iterator[tuple[str, str]]:
        table = call.arg(0, "table_name")
        if self._mapped_table(table) is not None:
            yield (
                "drop-mapped",
                f"drop_table({table!r}): the models still map {table}; remove it from the "
                "models and deploy that first, then drop the table",
            )

    def _mapped_table(self, name: str) -> Any:
        if self.metadata is None:
            return None
        return self.metadata.tables.get(name)

    def _check_execute(self, call: Call) -> Iterator[tuple[str, str]]:
        sql = _sql_text(call.arg(0, "sqltext"))
        if sql is None:
            return
        for statement in _statements(sql):
            yield from self._check_statement(statement, call)

    def _check_statement(self, statement: str, call: Call) -> Iterator[tuple[str, str]]:
        """The rules for one raw SQL statement, judged by its shape only."""
        short = statement if len(statement) <= 60 else statement[:57] + "..."
        what = f"op.execute({short!r})"
        upper = statement.upper()
        index = _CREATE_INDEX.match(upper)
        if index is not None:
            if self.postgresql:
                yield from self._index_rules(
                    what,
                    statement[index.start("table") : index.end("table")],
                    bool(index.group("concurrently")),
                    call,
                )
            return
        alter = _ALTER_TABLE.match(upper)
        if alter is None:
            if not _SAFE_START.match(upper):
                yield (
                    "raw-sql-unchecked",
                    f"{what}: the lint can't tell whether this statement locks or rewrites "
                    "a table; review it by hand",
                )
            return
        table = statement[alter.start("table") : alter.end("table")]
        for clause in _clauses(upper[alter.end() :]):
            yield from self._check_alter_clause(what, table, clause)

    def _check_alter_clause(self, what: str, table: str, clause: str) -> Iterator[tuple[str, str]]:
        if (
            _ADD_COLUMN.match(clause)
            and "NOT NULL" in clause
            and not _DEFAULT_OR_KEY.search(clause)
        ):
            yield (
                "not-null-without-default",
                f"{what} adds a NOT NULL column to {table} without a DEFAULT: it fails on "
                "a table with rows; add it nullable, backfill it, then set NOT NULL, or "
                "give it a DEFAULT",
            )
        if _TYPE_CHANGE.match(clause):
            yield (
                "type-rewrite",
                f"{what} changes a column type of {table}, which can rewrite the whole table "
                "under an exclusive lock; add a new column of the new type, backfill it in "
                "batches, switch the code to it, then drop the old column",
            )
        if self.postgresql and _ADD_FOREIGN_KEY.match(clause) and "NOT VALID" not in clause:
            yield self._fk_message(what)


NOTES = frozenset({"raw-sql-unchecked"})
"""Rules that report a remark without failing the lint."""

_CONCURRENTLY = (
    "'with op.get_context().autocommit_block(): op.create_index(..., postgresql_concurrently=True)'"
)

_NAME = r"(?:\"[^\"]+\"|`[^`]+`|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|`[^`]+`|[\w$]+))?"
_CREATE_INDEX = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?:{_NAME}\s+)?ON\s+(?:ONLY\s+)?(?P<table>{_NAME})"
)
_ALTER_TABLE = re.compile(rf"ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_NAME})\s+")
_ADD_COLUMN = re.compile(
    r"ADD\s+(?:COLUMN\s+)?(?!CONSTRAINT\b|PRIMARY\b|UNIQUE\b|INDEX\b|KEY\b|FOREIGN\b|CHECK\b)"
)
_TYPE_CHANGE = re.compile(
    r"(?:ALTER\s+(?:COLUMN\s+)?\S+\s+(?:SET\s+DATA\s+)?TYPE\b|MODIFY\b|CHANGE\b)"
)
_DEFAULT_OR_KEY = re.compile(r"\b(?:DEFAULT|PRIMARY\s+KEY|AUTO_INCREMENT|GENERATED)\b")
_ADD_FOREIGN_KEY = re.compile(r"ADD\s+(?:CONSTRAINT\s+\S+\s+)?FOREIGN\s+KEY\b")
_SAFE_START = re.compile(
    r"(?:SELECT|INSERT|UPDATE|DELETE|WITH|CREATE\s+(?:TABLE|VIEW|OR\s+REPLACE|SEQUENCE|SCHEMA|"
    r"TYPE|EXTENSION|FUNCTION|TRIGGER)|DROP|COMMENT|GRANT|REVOKE|SET|ANALYZE|VACUUM|"
    r"RENAME|TRUNCATE|ALTER\s+TYPE)\b"
)


def _sql_text(statement: Any) -> str | None:
    """The SQL string of what ``op.execute`` was given (a string, ``text()`` or ``DDL()``);
    None for Core statements, which are built from the models and not raw SQL."""
    if isinstance(statement, str):
        return statement
    for attribute in ("text", "statement"):
        value = getattr(statement, attribute, None)
        if isinstance(value, str):
            return value
    return None


def _statements(sql: str) -> list[str]:
    """``sql`` split at semicolons outside quotes, without comments, whitespace collapsed."""
    statements: list[str] = []
    current: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(sql):
        char = sql[i]
        if quote is not None:
            current.append(char)
            if char == quote:
                quote = None
        elif char in "'\"`":
            quote = char
            current.append(char)
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
            continue
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end < 0 else end + 2
            current.append(" ")
            continue
        elif char == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    statements.append("".join(current))
    return [" ".join(s.split()) for s in statements if s.strip()]


def _clauses(text_: str) -> list[str]:
    """The comma-separated clauses of an ALTER TABLE, not splitting inside parentheses."""
    clauses: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(text_):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            clauses.append(text_[start:i].strip())
            start = i + 1
    clauses.append(text_[start:].strip())
    return [c for c in clauses if c]


def _rewrites(old: Any, new: Any, dialect_name: str) -> bool:
    """Whether changing a column from type ``old`` to ``new`` rewrites the table (an unknown
    old type counts as one, and SQLite copies the table for any change): widening a VARCHAR,
    or a NUMERIC's precision at the same scale on PostgreSQL, does not."""
    if old is None or dialect_name == "sqlite":
        return True
    old, new = sqltypes.to_instance(old), sqltypes.to_instance(new)
    if isinstance(old, sqltypes.String) and isinstance(new, sqltypes.String):
        if type(old) is not type(new) and dialect_name != "postgresql":
            return True
        if new.length is None:
            return old.length is not None and dialect_name != "postgresql"
        if old.length is None or new.length < old.length:
            return True
        # MySQL keeps VARCHAR in place only while the length prefix stays one or two bytes.
        return dialect_name in ("mysql", "mariadb") and (old.length <= 255) != (new.length <= 255)
    if (
        dialect_name == "postgresql"
        and isinstance(old, sqltypes.Numeric)
        and isinstance(new, sqltypes.Numeric)
        and type(old) is type(new)
    ):
        same_scale = old.scale == new.scale
        return not (same_scale and (new.precision or 1000) >= (old.precision or 1000))
    return True
