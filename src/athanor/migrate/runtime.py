"""The migration context: one connection (or, offline, an output stream), the version table,
the transaction policy and the loop that runs revision scripts.

The version table is Alembic's ``alembic_version (version_num VARCHAR(32) PRIMARY KEY)``, one
row per applied head, so a database can move between Alembic and athanor either way.  With
transactional DDL (PostgreSQL) the whole run is one transaction; elsewhere each revision commits
together with its version-table update, so a failure leaves the table at the last revision that
completed.  An advisory lock, where the database has one, keeps concurrent runs apart.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from athanor.dialects import load_dialect_class, resolve_key
from athanor.dialects.migrate import MigrationImpl, migration_impl
from athanor.migrate.revision import RevisionMap, Step
from athanor.migrate.util import CommandError, MigrationFailed
from athanor.sql import ddl
from athanor.sql.elements import text
from athanor.sql.schema import Column, MetaData, PrimaryKeyConstraint, Table
from athanor.sql.selectable import select
from athanor.sql.types import String
from athanor.url import make_url

log = logging.getLogger("athanor.migrate.runtime")

StepsFunction = Callable[[tuple[str, ...], "MigrationContext"], Sequence[Step]]


def dialect_for(url: Any = None, dialect_name: str | None = None) -> Any:
    """A dialect instance for a URL or a database name, without connecting (offline mode)."""
    if url is None and dialect_name is None:
        raise CommandError("Offline mode needs a URL or a dialect name to render SQL for")
    parsed = make_url(url if url is not None else f"{dialect_name}://")
    return load_dialect_class(resolve_key(parsed))()


def follow_alembic_logging() -> None:
    """Let the ``alembic`` logger of an Alembic-style ini (``[logger_alembic]``) govern the
    migration messages (logged under ``athanor.migrate``) when nothing configured that
    logger itself: its level and handlers apply, and ``fileConfig()``'s disabling of loggers
    it does not name is undone for ours."""
    manager = logging.Logger.manager
    alembic = manager.loggerDict.get("alembic")
    if not isinstance(alembic, logging.Logger) or alembic.level == logging.NOTSET:
        return
    ours = logging.getLogger("athanor.migrate")
    if ours.level not in (logging.NOTSET, alembic.level):
        return
    ours.setLevel(alembic.level)
    ours.propagate = alembic.propagate
    for handler in alembic.handlers:
        if handler not in ours.handlers:
            ours.addHandler(handler)
    for name, logger in list(manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.startswith("athanor.migrate"):
            logger.disabled = False


class MigrationContext:
    """Runs revisions on a connection, or renders them as SQL when ``as_sql``."""

    def __init__(self, dialect: Any, connection: Any, opts: dict[str, Any]) -> None:
        self.dialect = dialect
        self.connection = connection
        self.opts = opts
        self.as_sql: bool = bool(opts.get("as_sql", False))
        self.output_buffer: TextIO = opts.get("output_buffer") or sys.stdout
        self.literal_binds: bool = bool(opts.get("literal_binds", False)) or self.as_sql
        self.impl: MigrationImpl = migration_impl(dialect)
        transactional = opts.get("transactional_ddl")
        self.transactional_ddl: bool = (
            self.impl.transactional_ddl if transactional is None else bool(transactional)
        )
        self.transaction_per_migration: bool = bool(opts.get("transaction_per_migration", False))
        self.revision_map: RevisionMap | None = opts.get("revision_map")
        self._fn: StepsFunction | None = opts.get("fn")
        name = opts.get("version_table") or "alembic_version"
        self.version_table_name: str = name
        self._version_table = Table(
            name,
            MetaData(),
            Column("version_num", String(32), nullable=False),
            PrimaryKeyConstraint("version_num", name=f"{name}_pkc"),
            schema=opts.get("version_table_schema"),
        )
        self._start_heads: tuple[str, ...] = tuple(opts.get("starting_heads") or ())
        self.offline_autoincrement: dict[tuple[str | None, str], Column | None] = {}
        """With ``as_sql``: the AUTO_INCREMENT column (None for none) of each table whose
        definition this run gave, as there is no database to ask (MySQL/MariaDB)."""
        self._external_transaction = False
        self._version_table_exists = False

    @classmethod
    def configure(
        cls,
        connection: Any = None,
        url: Any = None,
        dialect_name: str | None = None,
        opts: dict[str, Any] | None = None,
    ) -> MigrationContext:
        """A context on ``connection``, or (offline) for the dialect of ``url``/``dialect_name``."""
        options = dict(opts or {})
        follow_alembic_logging()
        if connection is not None:
            if not hasattr(connection, "execute") or not hasattr(connection, "dialect"):
                raise CommandError(
                    "context.configure(connection=...) needs a Connection (engine.connect()), "
                    f"got {type(connection).__name__}"
                )
            return cls(connection.dialect, connection, options)
        options.setdefault("as_sql", True)
        return cls(dialect_for(url, dialect_name), None, options)

    @property
    def bind(self) -> Any:
        """The connection migrations run on (None offline)."""
        return self.connection

    # --- executing --------------------------------------------------------------------------

    def execute(self, statement: Any, execution_options: dict[str, Any] | None = None) -> Any:
        """Run a statement (a SQL string, ``text()``, a Core or DDL construct), or write it
        to the output as SQL in offline mode."""
        if isinstance(statement, str):
            statement = ddl.DDL(statement)
        if self.as_sql:
            compiled = statement.compile(
                dialect=self.dialect, compile_kwargs={"literal_binds": True}
            )
            self.output_buffer.write(f"{str(compiled.string).strip()};\n\n")
            return None
        if execution_options:
            return self.connection.execution_options(**execution_options).execute(statement)
        return self.connection.execute(statement)

    def static_output(self, text_: str) -> None:
        """Write ``text_`` to the offline SQL output."""
        self.output_buffer.write(text_ + "\n\n")

    # --- the version table ------------------------------------------------------------------

    def _has_version_table(self) -> bool:
        table = self._version_table
        if not self._version_table_exists:
            self._version_table_exists = bool(
                self.dialect.has_table(self.connection, table.name, table.schema)
            )
        return self._version_table_exists

    def get_current_heads(self) -> tuple[str, ...]:
        """The revisions the database is at (one per branch), from the version table."""
        if self.as_sql:
            return self._start_heads
        if not self._has_version_table():
            return ()
        column = self._version_table.c.version_num
        rows = self.connection.execute(select(column)).all()
        return tuple(sorted(row[0] for row in rows))

    def get_current_revision(self) -> str | None:
        """The single current revision (None at base); an error when on several branches."""
        heads = self.get_current_heads()
        if len(heads) > 1:
            raise CommandError(
                f"The database is at several heads ({', '.join(heads)}); use get_current_heads()"
            )
        return heads[0] if heads else None

    def _ensure_version_table(self) -> None:
        if self.as_sql:
            if not self._start_heads and not self._version_table_exists:
                self.execute(ddl.CreateTable(self._version_table))
                self._version_table_exists = True
            return
        if not self._has_version_table():
            self.connection.execute(ddl.CreateTable(self._version_table))
            self._version_table_exists = True

    def _write_heads(self, old: Sequence[str], new: Sequence[str]) -> None:
        table = self.impl.table(self._version_table.name, self._version_table.schema)
        column = self.impl.quote("version_num")
        for gone in sorted(set(old) - set(new)):
            statement = text(f"DELETE FROM {table} WHERE {column} = :version")
            self.execute(statement.bindparams(version=gone))
        for added in sorted(set(new) - set(old)):
            statement = text(f"INSERT INTO {table} ({column}) VALUES (:version)")
            self.execute(statement.bindparams(version=added))

    def stamp_heads(self, old: Sequence[str], new: Sequence[str], purge: bool = False) -> None:
        """Change the version table's rows from ``old`` to ``new``; ``purge`` first deletes
        every row, including revisions no script knows."""
        self._ensure_version_table()
        log.info("Stamping the version table to %s", ", ".join(new) or "base")
        if purge:
            table = self._version_table
            self.execute(text(f"DELETE FROM {self.impl.table(table.name, table.schema)}"))
            old = ()
        self._write_heads(old, new)

    # --- transactions and locking -----------------------------------------------------------

    @property
    def whole_run_transaction(self) -> bool:
        """Whether the whole run is one transaction (transactional DDL, not per migration)."""
        return self.transactional_ddl and not self.transaction_per_migration

    @contextmanager
    def begin_transaction(self) -> Iterator[None]:
        """The transaction scope env.py wraps ``run_migrations()`` in."""
        if self.as_sql:
            if self.whole_run_transaction:
                self.static_output("BEGIN;")
                yield
                self.static_output("COMMIT;")
            else:
                yield
            return
        connection = self.connection
        self._external_transaction = connection.in_transaction()
        with self._advisory_lock():
            if self._external_transaction:
                yield
                return
            # Not ``with connection.begin()``: autocommit_block() may end this transaction and
            # begin another, and whichever is open at the end is the one to commit.
            if self.whole_run_transaction:
                connection.begin()
            try:
                yield
            except BaseException:
                connection.rollback()
                raise
            connection.commit()

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        """Run the block outside the migration's transaction, in autocommit mode: for
        statements a transaction refuses, such as ``CREATE INDEX CONCURRENTLY`` on
        PostgreSQL.  The work of the run so far (version table included) is committed first
        and a new transaction begins after the block; with ``--sql`` the output shows the
        ``COMMIT;`` and ``BEGIN;``."""
        if self.as_sql:
            if self.whole_run_transaction:
                self.static_output("COMMIT;")
            yield
            if self.whole_run_transaction:
                self.static_output("BEGIN;")
            return
        if self._external_transaction:
            raise CommandError(
                "autocommit_block() can't end a transaction env.py began itself; let "
                "context.begin_transaction() manage the transaction instead"
            )
        connection = self.connection
        connection.commit()
        # the mode to return to: AUTOCOMMIT is an execution option or the engine's setting,
        # which get_isolation_level() (the database's level) does not report
        level = (
            connection.get_execution_options().get("isolation_level")
            or connection.dialect.isolation_level
            or connection.get_isolation_level()
        )
        connection.rollback()
        log.info("Committed the migration transaction; running a block in autocommit mode")
        connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield
        finally:
            # Statements in autocommit mode still open a (no-op) transaction on the Connection.
            connection.commit()
            connection.execution_options(isolation_level=level)
        if self.whole_run_transaction:
            connection.begin()

    @contextmanager
    def _advisory_lock(self) -> Iterator[None]:
        statements = (
            None
            if self._external_transaction
            else self.impl.lock_statements(self.version_table_name)
        )
        if statements is None:
            yield
            return
        acquire, release = statements
        params = self.impl.lock_parameters(f"athanor_migrate:{self.version_table_name}")
        result = self.connection.execute(text(acquire), params).scalar()
        self.connection.commit()
        if not self.impl.lock_taken(result):
            raise CommandError(
                f"Could not take the migration lock {params} (the database answered "
                f"{result!r}); another migration may be running"
            )
        try:
            yield
        finally:
            if self.connection.in_transaction():
                self.connection.rollback()
            self.connection.execute(text(release), params)
            self.connection.commit()

    # --- running ----------------------------------------------------------------------------

    def run_migrations(self, **kw: Any) -> None:
        """Ask the command which steps to run from the current heads, then run each one and
        keep the version table in step."""
        if self._fn is None:
            return
        from athanor.migrate.operations import Operations

        heads = self.get_current_heads()
        steps = self._fn(heads, self)
        if not steps:
            return
        if self.revision_map is None:
            raise CommandError("run_migrations() needs the script directory's revisions")
        per_revision = not self.as_sql and not self.whole_run_transaction
        per_revision = per_revision and not self._external_transaction
        self._ensure_version_table()
        if per_revision:
            self.connection.commit()
        with Operations.context(self):
            for step in steps:
                heads = self._run_step(step, heads, per_revision, kw)

    def _run_step(
        self, step: Step, heads: tuple[str, ...], per_revision: bool, kw: dict[str, Any]
    ) -> tuple[str, ...]:
        assert self.revision_map is not None
        revision = step.revision
        verb = "Stamping" if step.stamp else "Running"
        direction = "upgrade" if step.up else "downgrade"
        before = ", ".join(revision.down_revisions) if step.up else revision.revision
        after = revision.revision if step.up else ", ".join(revision.down_revisions)
        log.info("%s %s %s -> %s, %s", verb, direction, before, after, revision.doc)
        if self.as_sql:
            self.static_output(f"-- {verb} {direction} {before} -> {after}")
        try:
            if not step.stamp:
                function = getattr(revision.module, "upgrade" if step.up else "downgrade", None)
                if function is None:
                    raise CommandError(
                        f"Revision {revision.revision} ({revision.path}) has no "
                        f"{direction}() function"
                    )
                function(**kw)
            new_heads = self.revision_map.heads_after(heads, step)
            self._write_heads(heads, new_heads)
            if per_revision:
                self.connection.commit()
        except (CommandError, BrokenPipeError):
            # A closed output pipe (``--sql | head``) is not the revision's failure.
            self._rollback(per_revision)
            raise
        except Exception as error:
            self._rollback(per_revision)
            raise MigrationFailed(revision.revision, revision.doc, error) from error
        return new_heads

    def _rollback(self, per_revision: bool) -> None:
        if per_revision and self.connection.in_transaction():
            self.connection.rollback()
