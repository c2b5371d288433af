"""Transactions per database: a failing revision on PostgreSQL rolls the whole run back; on
MySQL and SQLite the revisions before it stay applied and recorded."""

from __future__ import annotations

import pytest

import athanor as sa
from athanor.migrate import command
from athanor.migrate.util import MigrationFailed
from migrate.migrate_project import Project

GOOD = '''
"""good"""
import athanor as sa
from athanor.migrate import op

revision = "good1"
down_revision = None


def upgrade() -> None:
    op.create_table("kept", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("kept")
'''

BAD = '''
"""bad"""
from athanor.migrate import op

revision = "bad2"
down_revision = "good1"


def upgrade() -> None:
    op.execute("SELECT * FROM no_such_table")


def downgrade() -> None:
    pass
'''


def _state(url: str) -> tuple[list[str], list[str]]:
    engine = sa.create_engine(url)
    try:
        tables = sorted(sa.inspect(engine).get_table_names())
        versions: list[str] = []
        if "alembic_version" in tables:
            with engine.connect() as conn:
                versions = [
                    r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                ]
        return tables, versions
    finally:
        engine.dispose()


def test_failed_revision_is_named_and_state_is_consistent(project: Project, backend) -> None:
    project.write("migrations/versions/good1.py", GOOD)
    project.write("migrations/versions/bad2.py", BAD)
    with pytest.raises(
        MigrationFailed,
        match=r"revision bad2 \(bad\) failed: ProgrammingError|"
        r"revision bad2 \(bad\) failed: OperationalError",
    ):
        command.upgrade(project.config(), "head")
    tables, versions = _state(project.url)
    if backend.name == "postgresql":
        assert tables == [] and versions == []
    else:
        assert tables == ["alembic_version", "kept"] and versions == ["good1"]


def test_cli_names_the_failed_revision(project: Project) -> None:
    project.write("migrations/versions/good1.py", GOOD)
    project.write("migrations/versions/bad2.py", BAD)
    result = project.run("upgrade", "head")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("athanor migrate: error: revision bad2 (bad) failed:")
    assert "Traceback" not in result.stderr
