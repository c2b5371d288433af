"""The migration commands, callable from Python as in Alembic's ``command`` module
(``command.upgrade(config, "head")``) and behind ``athanor migrate <command>``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from string import Template
from typing import Any

from athanor.migrate.config import Config
from athanor.migrate.environment import run_env
from athanor.migrate.revision import Revision, Step
from athanor.migrate.runtime import MigrationContext
from athanor.migrate.script import PACKAGE_TEMPLATES, TEMPLATE_NAME, ScriptDirectory
from athanor.migrate.util import CheckFailed, CommandError


def init(config: Config, directory: str, template: str = "generic", package: bool = False) -> None:
    """Create a migration environment: ``directory`` with env.py, the revision template and
    ``versions/``, and the ini file (unless one exists already)."""
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise CommandError(f"Directory {directory!r} already exists and is not empty")
    (target / "versions").mkdir(parents=True, exist_ok=True)
    for name in ("env.py", TEMPLATE_NAME):
        (target / name).write_text((PACKAGE_TEMPLATES / name).read_text(encoding="utf-8"))
        config.print_stdout(f"  Generating {target / name} ... done")
    if package:
        for path in (target / "__init__.py", target / "versions" / "__init__.py"):
            path.write_text("")
    ini = Path(config.config_file_name or "athanor.ini")
    if ini.exists():
        config.print_stdout(f"  {ini} exists; left as it is (check its script_location)")
    else:
        source = Template((PACKAGE_TEMPLATES / "athanor.ini").read_text(encoding="utf-8"))
        ini.write_text(source.substitute(script_location=directory), encoding="utf-8")
        config.print_stdout(f"  Generating {ini} ... done")
    config.print_stdout(
        f"Edit sqlalchemy.url in {ini} (or set DATABASE_URL), and target_metadata in "
        f"{target / 'env.py'} before 'athanor migrate revision --autogenerate'."
    )


def _script(config: Config) -> ScriptDirectory:
    return ScriptDirectory.from_config(config)


def _split_sql_range(revision: str, sql: bool) -> tuple[str | None, str]:
    if ":" not in revision:
        return None, revision
    if not sql:
        raise CommandError("A range START:END is only for --sql (offline) runs")
    start, _, end = revision.partition(":")
    return start, end


def upgrade(config: Config, revision: str, sql: bool = False, tag: str | None = None) -> None:
    """Upgrade the database to ``revision`` (``head``, ``heads``, an id, ``+N`` ...)."""
    _move(config, revision, sql, tag, up=True)


def downgrade(config: Config, revision: str, sql: bool = False, tag: str | None = None) -> None:
    """Downgrade the database to ``revision`` (``base``, an id, ``-N`` ...)."""
    _move(config, revision, sql, tag, up=False)


def _move(config: Config, revision: str, sql: bool, tag: str | None, up: bool) -> None:
    script = _script(config)
    starting_rev, target = _split_sql_range(revision, sql)
    if sql and not up and starting_rev is None:
        raise CommandError("downgrade with --sql needs a range: START:END, e.g. 'head:base'")
    if starting_rev == "head":
        starting_rev = script.get_current_head()
    revision_map = script.revision_map
    find = revision_map.upgrade_steps if up else revision_map.downgrade_steps

    def steps(heads: tuple[str, ...], context: MigrationContext) -> list[Step]:
        return find(heads, target)

    run_env(
        config,
        script,
        steps,
        as_sql=sql,
        starting_rev=starting_rev,
        destination_rev=target,
        tag=tag,
    )


def stamp(
    config: Config,
    revision: str | Sequence[str],
    sql: bool = False,
    tag: str | None = None,
    purge: bool = False,
) -> None:
    """Set the version table to ``revision`` without running any migration.  Each target
    replaces the current head on its own line of revisions (its ancestors and descendants),
    so other branches keep their rows; ``base`` clears them.  ``purge`` deletes every row
    first, which also gets rid of revisions no script knows (otherwise an error)."""
    script = _script(config)
    revision_map = script.revision_map
    targets = [revision] if isinstance(revision, str) else list(revision)

    def steps(heads: tuple[str, ...], context: MigrationContext) -> list[Step]:
        if not purge:
            unknown = [head for head in heads if head not in revision_map]
            if unknown:
                raise CommandError(
                    f"The version table holds {', '.join(unknown)}, which no revision file "
                    "has; use 'stamp --purge REV' to replace every row"
                )
        wanted = set() if purge else set(heads)
        for target in targets:
            resolved = revision_map.resolve(target, heads)
            if not resolved:
                wanted.clear()
            for rid in resolved:
                wanted -= revision_map.ancestors([rid], dependencies=False)
                wanted -= revision_map.descendants([rid], dependencies=False)
                wanted.add(rid)
        context.stamp_heads(heads, revision_map.reduce_heads(sorted(wanted)), purge=purge)
        return []

    run_env(config, script, steps, as_sql=sql, destination_rev=",".join(targets), tag=tag)


def current(config: Config, verbose: bool = False) -> None:
    """Print the revision(s) the database is at."""
    script = _script(config)
    revision_map = script.revision_map

    def show(heads: tuple[str, ...], context: MigrationContext) -> list[Step]:
        if verbose:
            config.print_stdout(f"Current revision(s) for {_masked(context)}:")
        for head in heads:
            config.print_stdout(_line(revision_map.get(head), verbose))
        return []

    run_env(config, script, show)


def _masked(context: MigrationContext) -> str:
    connection = context.connection
    return repr(connection.engine.url) if connection is not None else context.dialect.name


def _line(revision: Revision, verbose: bool = False, current: Sequence[str] = ()) -> str:
    tags = []
    if revision.is_head:
        tags.append("head")
    if revision.revision in current:
        tags.append("current")
    if revision.is_branch_point:
        tags.append("branchpoint")
    if revision.is_merge_point:
        tags.append("mergepoint")
    down = ", ".join(revision.down_revisions) or "<base>"
    labels = f" ({', '.join(sorted(revision.branch_labels))})" if revision.branch_labels else ""
    text = f"{down} -> {revision.revision}{labels}{' (' + ', '.join(tags) + ')' if tags else ''}"
    text += f", {revision.doc}"
    if verbose:
        text += f"\n    Path: {revision.path}"
        if revision.dependencies:
            text += f"\n    Depends on: {', '.join(revision.dependencies)}"
    return text


def history(
    config: Config,
    rev_range: str | None = None,
    verbose: bool = False,
    indicate_current: bool = False,
) -> None:
    """Print the revisions, newest first (``rev_range`` ``START:END`` limits them)."""
    script = _script(config)
    revision_map = script.revision_map
    selected = list(script.walk_revisions())
    if rev_range:
        start, _, end = rev_range.partition(":")
        if start and start != "base":
            lower = revision_map.descendants([revision_map.get(start).revision])
            selected = [r for r in selected if r.revision in lower]
        if end and end not in ("head", "heads"):
            upper = revision_map.ancestors(revision_map.resolve(end, ()))
            selected = [r for r in selected if r.revision in upper]
    current_heads: tuple[str, ...] = ()
    if indicate_current:
        found: list[tuple[str, ...]] = []

        def read(heads: tuple[str, ...], context: MigrationContext) -> list[Step]:
            found.append(heads)
            return []

        run_env(config, script, read)
        current_heads = found[0] if found else ()
    for revision in selected:
        config.print_stdout(_line(revision, verbose, current_heads))


def heads(config: Config, verbose: bool = False, resolve_dependencies: bool = False) -> None:
    """Print the head revisions of the script directory."""
    script = _script(config)
    for rid in script.get_heads():
        config.print_stdout(_line(script.get_revision(rid), verbose))


def branches(config: Config, verbose: bool = False) -> None:
    """Print the branch points and the revisions that start each branch."""
    script = _script(config)
    for revision in script.walk_revisions():
        if revision.is_branch_point:
            config.print_stdout(_line(revision, verbose))
            for child in sorted(revision.nextrev):
                config.print_stdout(f"    -> {_line(script.get_revision(child))}")


def show(config: Config, rev: str) -> None:
    """Print one revision: id, parents, labels, path and its docstring."""
    script = _script(config)
    targets = script.revision_map.resolve(rev, ())
    for rid in targets:
        revision = script.get_revision(rid)
        config.print_stdout(f"Rev: {revision.revision}{' (head)' if revision.is_head else ''}")
        config.print_stdout(f"Parent: {', '.join(revision.down_revisions) or '<base>'}")
        if revision.branch_labels:
            config.print_stdout(f"Branch names: {', '.join(sorted(revision.branch_labels))}")
        if revision.dependencies:
            config.print_stdout(f"Also depends on: {', '.join(revision.dependencies)}")
        config.print_stdout(f"Path: {revision.path}")
        doc = (revision.module.__doc__ or "").strip() if revision.module else ""
        config.print_stdout("\n" + "\n".join("    " + line for line in doc.splitlines()))


def revision(
    config: Config,
    message: str | None = None,
    autogenerate: bool = False,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: Sequence[str] | str | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    depends_on: Sequence[str] | str | None = None,
    renames: Sequence[str] = (),
    process_revision_directives: Any = None,
    confirm_renames: Callable[[str, str, str], bool] | None = None,
) -> Revision | None:
    """Write a new revision file; with ``autogenerate`` its operations are the differences
    between ``target_metadata`` and the database.  ``renames`` (``"users.fullname:name"``,
    ``"old_table:new_table"``) and the probable renames ``confirm_renames(kind, old, new)``
    accepts become renames instead of a drop and an add."""
    script = _script(config)
    labels = [branch_label] if isinstance(branch_label, str) else list(branch_label or [])
    dependencies = [depends_on] if isinstance(depends_on, str) else list(depends_on or [])
    if not autogenerate:
        created = script.generate_revision(
            rev_id, message, head=head, splice=splice, branch_labels=labels, depends_on=dependencies
        )
        config.print_stdout(f"  Generating {created.path} ... done")
        return created
    from athanor.migrate.autogenerate.api import autogenerate_revision

    return autogenerate_revision(
        config,
        script,
        message=message,
        head=head,
        splice=splice,
        branch_labels=labels,
        depends_on=dependencies,
        rev_id=rev_id,
        renames=renames,
        process_revision_directives=process_revision_directives,
        confirm_renames=confirm_renames,
    )


def merge(
    config: Config,
    revisions: Sequence[str],
    message: str | None = None,
    branch_label: str | None = None,
    rev_id: str | None = None,
) -> Revision:
    """Write a revision that merges ``revisions`` (e.g. two heads) back into one line."""
    script = _script(config)
    if len(revisions) < 2:
        raise CommandError("merge needs at least two revisions, e.g. 'merge -m msg heads'")
    parents = [script.get_revision(r).revision for r in revisions]
    created = script.generate_revision(
        rev_id,
        message,
        head=parents,
        splice=True,
        branch_labels=[branch_label] if branch_label else None,
    )
    config.print_stdout(f"  Generating {created.path} ... done")
    return created


def check(config: Config) -> None:
    """Exit with an error listing the differences if the models and the database disagree."""
    from athanor.migrate.autogenerate.api import check_database

    check_database(config, _script(config))


def lint(config: Config, revision: str | None = None) -> None:
    """Flag operations that lock or rewrite busy tables in the revisions the database has not
    run yet (or in ``revision``, or a ``START:END`` range), with the safe pattern for each;
    raises :class:`CheckFailed` (exit status 1) when something is flagged."""
    from athanor.migrate.lint import Linter

    script = _script(config)
    revision_map = script.revision_map
    findings: list[Any] = []
    linted: list[Revision] = []

    def run(heads: tuple[str, ...], context: MigrationContext) -> list[Step]:
        if revision is None:
            steps = revision_map.upgrade_steps(heads, "heads")
        elif ":" in revision:
            start, _, end = revision.partition(":")
            below = () if start in ("", "base") else revision_map.resolve(start, heads)
            steps = revision_map.upgrade_steps(below, end or "heads")
        else:
            steps = []
            linted.extend(script.get_revision(r) for r in revision_map.resolve(revision, heads))
        linted.extend(step.revision for step in steps)
        linter = Linter(context.dialect.name, context.opts.get("target_metadata"))
        for item in linted:
            findings.extend(linter.lint(item))
        return []

    run_env(config, script, run)
    for finding in findings:
        config.print_stdout(str(finding))
    flagged = [finding for finding in findings if not finding.note]
    if flagged:
        raise CheckFailed(
            f"{len(flagged)} operation(s) flagged in {len(linted)} revision(s); silence one "
            "with '# migrate-lint: ignore[RULE]' on its line"
        )
    config.print_stdout(f"No problems found in {len(linted)} revision(s).")
