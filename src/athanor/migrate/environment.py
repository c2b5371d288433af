"""The environment context: what ``env.py`` sees as ``athanor.migrate.context``.

A command (upgrade, revision --autogenerate, current ...) makes an :class:`EnvironmentContext`
with the function that decides what to run, makes it current and runs ``env.py``; env.py calls
``context.configure(connection=..., target_metadata=...)`` and ``context.run_migrations()``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from athanor.migrate.config import Config
from athanor.migrate.runtime import MigrationContext, StepsFunction
from athanor.migrate.script import ScriptDirectory
from athanor.migrate.util import CommandError


def load_object(spec: str) -> Any:
    """The object ``module.path:attr.path`` names (``myapp.models:Base.metadata``)."""
    module_name, _, attributes = spec.partition(":")
    try:
        value: Any = importlib.import_module(module_name.strip())
    except ImportError as error:
        raise CommandError(f"Can't import {module_name!r} for target_metadata: {error}") from None
    for attribute in filter(None, attributes.strip().split(".")):
        try:
            value = getattr(value, attribute)
        except AttributeError:
            raise CommandError(f"{spec!r}: no attribute {attribute!r}") from None
    return value


class EnvironmentContext:
    """The configuration and runtime of one command run, for env.py."""

    _current: ClassVar[EnvironmentContext | None] = None

    def __init__(
        self,
        config: Config,
        script: ScriptDirectory,
        fn: StepsFunction | None = None,
        as_sql: bool = False,
        starting_rev: str | None = None,
        destination_rev: str | None = None,
        tag: str | None = None,
        **kw: Any,
    ) -> None:
        self.config = config
        self.script = script
        self.context_opts: dict[str, Any] = {
            "fn": fn,
            "as_sql": as_sql,
            "starting_rev": starting_rev,
            "destination_rev": destination_rev,
            "tag": tag,
            **kw,
        }
        self._migration_context: MigrationContext | None = None

    def __enter__(self) -> EnvironmentContext:
        EnvironmentContext._current = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        EnvironmentContext._current = None

    @classmethod
    def current(cls) -> EnvironmentContext:
        """The context of the command that is running env.py."""
        if cls._current is None:
            raise CommandError(
                "athanor.migrate.context is only usable inside env.py run by 'athanor migrate'"
            )
        return cls._current

    # --- configuration ----------------------------------------------------------------------

    def configure(
        self,
        connection: Any = None,
        url: Any = None,
        dialect_name: str | None = None,
        dialect_opts: dict[str, Any] | None = None,
        target_metadata: Any = None,
        **kw: Any,
    ) -> None:
        """Set the connection (or, offline, the URL) and options: ``target_metadata``,
        ``version_table``, ``transaction_per_migration``, the autogenerate hooks
        (``include_object``, ``include_name``, ``compare_type``, ``compare_server_default``,
        ``process_revision_directives``, ``render_item``) and others as in Alembic."""
        if target_metadata is None:
            named = self.config.get_main_option("target_metadata")
            if named:
                target_metadata = load_object(named)
        opts = dict(self.context_opts)
        opts.update(kw)
        opts["target_metadata"] = target_metadata
        opts["revision_map"] = self.script.revision_map
        opts.setdefault("version_table", self.config.get_main_option("version_table"))
        if opts.get("as_sql") and opts.get("starting_rev") is not None:
            start = opts["starting_rev"]
            opts["starting_heads"] = (
                () if start == "base" else (self.script.get_revision(start).revision,)
            )
        if connection is None and url is None and dialect_name is None and not opts["as_sql"]:
            url = self.config.get_main_option("sqlalchemy.url")
        self.context_opts = opts
        self._migration_context = MigrationContext.configure(
            connection=connection, url=url, dialect_name=dialect_name, opts=opts
        )

    def get_context(self) -> MigrationContext:
        """The :class:`MigrationContext` made by :meth:`configure`."""
        if self._migration_context is None:
            raise CommandError("context.configure() must be called in env.py before this")
        return self._migration_context

    def get_bind(self) -> Any:
        """The connection given to :meth:`configure`."""
        return self.get_context().bind

    # --- questions env.py asks --------------------------------------------------------------

    def is_offline_mode(self) -> bool:
        """Whether this run renders SQL (``--sql``) instead of connecting."""
        return bool(self.context_opts.get("as_sql"))

    def is_transactional_ddl(self) -> bool:
        return self.get_context().transactional_ddl

    def requires_connection(self) -> bool:
        return not self.is_offline_mode()

    def get_head_revision(self) -> str | None:
        return self.script.get_current_head()

    def get_head_revisions(self) -> tuple[str, ...]:
        return self.script.get_heads()

    def get_starting_revision_argument(self) -> str | None:
        value: str | None = self.context_opts.get("starting_rev")
        return value

    def get_revision_argument(self) -> str | None:
        value: str | None = self.context_opts.get("destination_rev")
        return value

    def get_tag_argument(self) -> str | None:
        value: str | None = self.context_opts.get("tag")
        return value

    def get_x_argument(self, as_dictionary: bool = False) -> Any:
        """The ``-x KEY=VALUE`` arguments (see :meth:`Config.get_x_argument`)."""
        return self.config.get_x_argument(as_dictionary=as_dictionary)

    # --- running ----------------------------------------------------------------------------

    def run_migrations(self, **kw: Any) -> None:
        """Run the command's migrations (``kw`` is passed to every upgrade()/downgrade())."""
        self.get_context().run_migrations(**kw)

    @contextmanager
    def begin_transaction(self) -> Iterator[None]:
        """The transaction the migrations run in (see :class:`MigrationContext`)."""
        with self.get_context().begin_transaction():
            yield

    def execute(self, sql: Any, execution_options: dict[str, Any] | None = None) -> Any:
        return self.get_context().execute(sql, execution_options)

    def static_output(self, text: str) -> None:
        self.get_context().static_output(text)


def run_env(
    config: Config, script: ScriptDirectory, fn: StepsFunction | None, **kw: Any
) -> EnvironmentContext:
    """Run the script directory's env.py with a current :class:`EnvironmentContext`."""
    with EnvironmentContext(config, script, fn=fn, **kw) as environment:
        script.run_env()
    return environment
