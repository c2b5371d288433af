"""Two deploys migrating the same database at once: the advisory lock makes the second wait
for the first, so each revision runs exactly once and both runs succeed."""

from __future__ import annotations

import threading

import pytest

import athanor as sa
from migrate.migrate_project import Project, Run

SLOW_FIRST = '''
"""slow first"""
import time

import athanor as sa
from athanor.migrate import op

revision = "lock1"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(20), nullable=False),
    )
    time.sleep(1.5)
    op.execute("INSERT INTO runs (name) VALUES ('lock1')")


def downgrade() -> None:
    op.drop_table("runs")
'''

SECOND = '''
"""second"""
from athanor.migrate import op

revision = "lock2"
down_revision = "lock1"


def upgrade() -> None:
    op.execute("INSERT INTO runs (name) VALUES ('lock2')")


def downgrade() -> None:
    op.execute("DELETE FROM runs WHERE name = 'lock2'")
'''


@pytest.mark.backends("postgresql", "mysql")
def test_concurrent_upgrades_run_each_revision_once(project: Project) -> None:
    project.write("migrations/versions/lock1.py", SLOW_FIRST)
    project.write("migrations/versions/lock2.py", SECOND)
    results: list[Run] = []

    def deploy() -> None:
        results.append(project.run("upgrade", "head"))

    deploys = [threading.Thread(target=deploy) for _ in range(2)]
    for thread in deploys:
        thread.start()
    for thread in deploys:
        thread.join()
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    engine = sa.create_engine(project.url)
    try:
        with engine.connect() as conn:
            names = conn.execute(sa.text("SELECT name FROM runs ORDER BY id")).scalars().all()
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert names == ["lock1", "lock2"]
    assert [tuple(v) for v in versions] == [("lock2",)]
