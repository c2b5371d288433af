"""Smaller commands and options: ``stamp`` on one branch keeping the others, ``stamp --purge``
over a version table holding unknown revisions, the project's own revision template, and a
SQLite table recreation asked for with ``--sql`` without ``copy_from`` (which needs the live
table, so it is refused with a message naming ``copy_from``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import athanor as sa
from athanor.migrate import command
from athanor.migrate.util import CommandError
from migrate.migrate_project import Project

ALTER = '''
"""alter"""
import athanor as sa
from athanor.migrate import op

revision = "alter1"
down_revision = None


def upgrade() -> None:
    op.alter_column("things", "name", nullable=False, existing_type=sa.String(20))


def downgrade() -> None:
    pass
'''


def _versions(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            return sorted(row[0] for row in rows)
    finally:
        engine.dispose()


def _insert_version(url: str, version: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version}
            )
    finally:
        engine.dispose()


def test_stamp_purge_replaces_unknown_revisions(project: Project, backend) -> None:
    config = project.config()
    command.revision(config, "one", rev_id="one1")
    command.revision(config, "two", rev_id="two2")
    command.stamp(config, "one1")
    _insert_version(project.url, "gone9")
    assert _versions(project.url) == ["gone9", "one1"]
    # Without --purge an unknown revision in the table is an error that names the fix.
    refused = project.run("stamp", "head")
    assert refused.returncode == 2
    assert "holds gone9, which no revision file has" in refused.stderr
    assert "stamp --purge" in refused.stderr
    assert _versions(project.url) == ["gone9", "one1"]
    purged = project.run("stamp", "head", "--purge")
    assert purged.returncode == 0, purged.stderr
    assert _versions(project.url) == ["two2"]
    command.stamp(config, "base", purge=True)
    assert _versions(project.url) == []


def test_stamp_replaces_only_its_own_branch(project: Project, backend) -> None:
    config = project.config()
    command.revision(config, "a", rev_id="a1")
    command.revision(config, "a two", rev_id="a2")
    command.revision(config, "b", rev_id="b1", head="base", branch_label="other")
    command.revision(config, "b two", rev_id="b2", head="b1")
    steps = [
        (("stamp", "a2"), ["a2"]),
        (("stamp", "b1"), ["a2", "b1"]),  # another branch: a row of its own
        (("stamp", "b2"), ["a2", "b2"]),  # up its own line: replaces b1
        (("stamp", "a1"), ["a1", "b2"]),  # down its own line: replaces a2
        (("stamp", "a2", "b1"), ["a2", "b1"]),
        (("stamp", "b2", "--purge"), ["b2"]),  # purge: exactly the targets
        (("stamp", "heads"), ["a2", "b2"]),
        (("stamp", "base"), []),
    ]
    for arguments, expected in steps:
        result = project.run(*arguments)
        assert result.returncode == 0, (arguments, result.stderr)
        assert _versions(project.url) == expected, arguments
    offline = project.run("stamp", "a1", "--sql")
    assert offline.returncode == 0, offline.stderr
    assert "INSERT INTO alembic_version (version_num) VALUES ('a1')" in offline.stdout
    assert "DELETE" not in offline.stdout


@pytest.mark.backends("sqlite")
def test_project_revision_template(project: Project) -> None:
    template = project.root / "migrations" / "script.py.tmpl"
    template.write_text(
        template.read_text().replace(
            "# revision identifiers",
            "# Reviewed by: ${message} / ${up_revision}\n# revision identifiers",
        )
    )
    made = command.revision(project.config(), 'say "hi"', rev_id="tmpl1")
    assert made.path is not None
    source = Path(made.path).read_text()
    assert source.startswith('"""say "hi"\n\nRevision ID: tmpl1\nRevises:\nCreate Date: ')
    assert '# Reviewed by: say "hi" / tmpl1' in source
    assert 'revision = "tmpl1"\ndown_revision = None' in source
    compile(source, made.path, "exec")
    template.write_text(template.read_text() + "${nope}\n")
    with pytest.raises(CommandError, match=r"Bad revision template .*'nope'"):
        command.revision(project.config(), "x", rev_id="tmpl2")


@pytest.mark.backends("sqlite")
def test_sqlite_recreate_with_sql_is_refused(project: Project) -> None:
    project.write("migrations/versions/alter1.py", ALTER)
    result = project.run("upgrade", "head", "--sql")
    assert result.returncode == 2
    assert "needs the table copied into a new one" in result.stderr
    assert "op.batch_alter_table('things', copy_from=sa.Table('things'" in result.stderr
    assert "Traceback" not in result.stderr
