"""``revision --autogenerate`` and ``check``: run env.py to get a connection and the models,
compare them (:mod:`.compare`), then write the revision (:mod:`.ops`) or report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from athanor.migrate.autogenerate.compare import CompareOptions, Comparer, Renames
from athanor.migrate.autogenerate.ops import MigrationScript, OpList, Renderer, render_ops
from athanor.migrate.config import Config
from athanor.migrate.environment import run_env
from athanor.migrate.pysource import double_quotes
from athanor.migrate.revision import Revision, Step
from athanor.migrate.runtime import MigrationContext
from athanor.migrate.script import ScriptDirectory
from athanor.migrate.util import CheckFailed, CommandError

Confirm = Callable[[str, str, str], bool]


def _comparer(
    context: MigrationContext,
    metadata: Any,
    renames: Sequence[str] = (),
    confirm: Confirm | None = None,
) -> Comparer:
    opts = context.opts
    options = CompareOptions(
        include_object=opts.get("include_object"),
        include_name=opts.get("include_name"),
        compare_type=opts.get("compare_type", True),
        compare_server_default=opts.get("compare_server_default", True),
        renames=Renames.parse(renames),
        confirm=confirm,
    )
    return Comparer(context, metadata, options)


def compare_metadata(
    context: MigrationContext, metadata: Any, renames: Sequence[str] = ()
) -> list[Any]:
    """The operations that would make the database of ``context`` match ``metadata``."""
    return _comparer(context, metadata, renames).compare()


def _compare_in_env(
    config: Config,
    script: ScriptDirectory,
    renames: Sequence[str],
    require_head: bool,
    confirm: Confirm | None = None,
) -> tuple[list[Any], MigrationContext]:
    found: list[tuple[list[Any], MigrationContext]] = []

    def fn(heads: tuple[str, ...], context: MigrationContext) -> list[Step]:
        if context.as_sql:
            raise CommandError("autogenerate needs a database connection; not with --sql")
        if require_head and set(heads) != set(script.get_heads()):
            raise CommandError(
                "Target database is not up to date (it is at "
                f"{', '.join(heads) or 'base'}); run 'athanor migrate upgrade head' first"
            )
        metadata = context.opts.get("target_metadata")
        if metadata is None:
            raise CommandError(
                "No target_metadata: set 'target_metadata = Base.metadata' in env.py (or "
                "'target_metadata = myapp.models:Base.metadata' in the ini file)"
            )
        comparer = _comparer(context, metadata, renames, confirm)
        found.append((comparer.compare(), context))
        for line in comparer.notes:
            config.print_stdout(f"  {line}")
        context.opts["autogenerate_notes"] = comparer.notes
        return []

    run_env(config, script, fn)
    if not found:
        raise CommandError("env.py did not call context.run_migrations()")
    return found[0]


def autogenerate_revision(
    config: Config,
    script: ScriptDirectory,
    message: str | None,
    head: str,
    splice: bool,
    branch_labels: list[str],
    depends_on: list[str],
    rev_id: str | None,
    renames: Sequence[str],
    process_revision_directives: Any = None,
    confirm_renames: Confirm | None = None,
) -> Revision | None:
    """Write a revision whose upgrade() makes the database match the models; probable renames
    not confirmed (``confirm_renames``, ``--rename``) are noted as comments in upgrade()."""
    ops, context = _compare_in_env(config, script, renames, True, confirm_renames)
    upgrade = OpList(ops)
    migration = MigrationScript(
        rev_id, message, upgrade, upgrade.reverse(), head, splice, branch_labels, depends_on
    )
    migration.notes = list(context.opts.get("autogenerate_notes") or [])
    directives = [migration]
    hook = context.opts.get("process_revision_directives") or process_revision_directives
    if hook is not None:
        hook(context, (head,), directives)
    if not directives:
        config.print_stdout("  No revision written (process_revision_directives removed it)")
        return None
    migration = directives[0]
    renderer = Renderer(context.impl, context.opts.get("render_item"))
    upgrades = render_ops(migration.upgrade_ops, renderer, migration.notes)
    downgrades = render_ops(migration.downgrade_ops, renderer)
    body = upgrades + downgrades
    imports = ["import athanor as sa"] if "sa." in body or migration.upgrade_ops.is_empty() else []
    imports += sorted(renderer.imports | migration.imports)
    imports.append("from athanor.migrate import op")
    created = script.generate_revision(
        migration.rev_id,
        migration.message,
        head=migration.head,
        splice=migration.splice,
        branch_labels=migration.branch_label,
        depends_on=migration.depends_on,
        template_args={
            "upgrades": upgrades,
            "downgrades": downgrades,
            "imports": "\n".join(imports),
        },
    )
    config.print_stdout(f"  Generating {created.path} ... done")
    return created


def check_database(config: Config, script: ScriptDirectory) -> None:
    """Raise :class:`CheckFailed` listing the operations if models and database differ."""
    ops, context = _compare_in_env(config, script, (), require_head=False)
    if not ops:
        config.print_stdout("No new upgrade operations detected.")
        return
    renderer = Renderer(context.impl, context.opts.get("render_item"))
    lines = [double_quotes(line) for op in ops for line in op.render(renderer)]
    raise CheckFailed(
        "New upgrade operations detected:\n" + "\n".join("  " + line for line in lines)
    )
