"""``athanor migrate lint``: operations in pending revisions that lock or rewrite tables on a
busy database, or break the code that is still running, each with the safe pattern.

The revisions' ``upgrade()`` functions run against a recorder instead of the database, so
only the ``op.*`` calls are seen (not raw SQL in ``op.execute``).  An operation is silenced by a
comment on its line or the line above: ``# migrate-lint: ignore[rule-id, ...]``, or
``# migrate-lint: ignore`` for every rule.

Rules: ``index-not-concurrent`` (PostgreSQL), ``not-null-without-default``,
``type-rewrite``, ``foreign-key-not-valid`` (PostgreSQL), ``rename``, ``drop-mapped``.
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

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}: [{self.rule}] {self.message}"


class _Batch:
    """``op.batch_alter_table(...)`` as the recorder sees it: calls on its table."""

    def __init__(self, recorder: Recorder, table: str) -> None:
        self._recorder = recorder
        self._table = table

    def __getattr__(self, name: str) -> Callable[..., None]:
        def record(*args: Any, **kwargs: Any) -> None:
            self._recorder.record(name, (self._table, *args), kwargs, self._table)

        return record


@dataclass
class Recorder:
    """Stands in for :class:`~athanor.migrate.operations.Operations`: records the calls."""

    calls: list[Call] = field(default_factory=list)

    def record(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], table: str | None = None
    ) -> None:
        caller = sys._getframe(2)
        self.calls.append(
            Call(name, args, kwargs, caller.f_code.co_filename, caller.f_lineno, table)
        )

    @staticmethod
    def f(name: str) -> conv:
        return conv(name)

    def get_bind(self) -> None:
        return None

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
        findings = []
        for call in record_upgrade(revision):
            for rule, message in self._check(call):
                if not call.silenced(rule):
                    findings.append(
                        Finding(revision.revision, call.filename, call.lineno, rule, message)
                    )
        return findings

    def _check(self, call: Call) -> Iterator[tuple[str, str]]:
        check = getattr(self, f"_check_{call.name}", None)
        if check is not None:
            yield from check(call)

    def _check_create_index(self, call: Call) -> Iterator[tuple[str, str]]:
        if self.postgresql and not call.kwargs.get("postgresql_concurrently"):
            yield (
                "index-not-concurrent",
                f"create_index({call.arg(0, 'index_name')!r}) blocks writes to "
                f"{call.arg(1, 'table_name')} while the index builds; pass "
                "postgresql_concurrently=True (CONCURRENTLY cannot run inside a transaction, "
                "so put it in a revision of its own that runs outside one)",
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
        return dialect_name == "mysql" and (old.length <= 255) != (new.length <= 255)
    if (
        dialect_name == "postgresql"
        and isinstance(old, sqltypes.Numeric)
        and isinstance(new, sqltypes.Numeric)
        and type(old) is type(new)
    ):
        same_scale = old.scale == new.scale
        return not (same_scale and (new.precision or 1000) >= (old.precision or 1000))
    return True
