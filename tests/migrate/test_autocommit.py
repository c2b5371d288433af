"""``op.get_context().autocommit_block()``: a PostgreSQL ``CREATE INDEX CONCURRENTLY`` inside an
upgrade, the migration transaction committed before the block and begun again after it, the
version table right afterwards, and ``--sql`` showing the COMMIT and BEGIN."""

from __future__ import annotations

import athanor as sa
from migrate.migrate_project import Project

BASE = '''
"""base"""
import athanor as sa
from athanor.migrate import op

revision = "base1"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "ac_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(20)),
    )


def downgrade() -> None:
    op.drop_table("ac_items")
'''

CONCURRENT = '''
"""index concurrently"""
import athanor as sa
from athanor.migrate import op

revision = "conc2"
down_revision = "base1"


def upgrade() -> None:
    op.add_column("ac_items", sa.Column("before_block", sa.Integer()))
    with op.get_context().autocommit_block():
        op.create_index("ix_ac_items_code", "ac_items", ["code"], postgresql_concurrently=True)
    op.add_column("ac_items", sa.Column("after_block", sa.Integer()))


def downgrade() -> None:
    op.drop_column("ac_items", "after_block")
    with op.get_context().autocommit_block():
        op.drop_index("ix_ac_items_code", "ac_items", postgresql_concurrently=True)
    op.drop_column("ac_items", "before_block")
'''

FAILING = '''
"""fails after the block"""
from athanor.migrate import op

revision = "fail3"
down_revision = "conc2"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("UPDATE ac_items SET code = 'x'")
    op.execute("SELECT no_such_column FROM ac_items")


def downgrade() -> None:
    pass
'''


def _schema(url: str) -> tuple[list[str], list[str], list[str]]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        columns = [c["name"] for c in inspector.get_columns("ac_items")]
        indexes = sorted(i["name"] for i in inspector.get_indexes("ac_items"))
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        return columns, indexes, sorted(r[0] for r in rows)
    finally:
        engine.dispose()


def test_concurrent_index_in_an_upgrade(project: Project, backend) -> None:
    project.write("migrations/versions/base1.py", BASE)
    project.write("migrations/versions/conc2.py", CONCURRENT)
    result = project.run("upgrade", "head")
    assert result.returncode == 0, result.stderr
    columns, indexes, versions = _schema(project.url)
    assert columns == ["id", "code", "before_block", "after_block"]
    assert indexes == ["ix_ac_items_code"]
    assert versions == ["conc2"]
    assert "running a block in autocommit mode" in result.stderr

    # A failure after the block: the work before it stays (committed with the block), and
    # the version table says where the run stopped.
    project.write("migrations/versions/fail3.py", FAILING)
    failed = project.run("upgrade", "head")
    assert failed.returncode == 1
    assert "fail3" in failed.stderr and "Traceback" not in failed.stderr
    assert _schema(project.url)[2] == ["conc2"]
    (project.root / "migrations" / "versions" / "fail3.py").unlink()

    back = project.run("downgrade", "base1")
    assert back.returncode == 0, back.stderr
    assert _schema(project.url) == (["id", "code"], [], ["base1"])


def test_concurrent_index_offline(project: Project, backend) -> None:
    project.write("migrations/versions/base1.py", BASE)
    project.write("migrations/versions/conc2.py", CONCURRENT)
    result = project.run("upgrade", "head", "--sql")
    assert result.returncode == 0, result.stderr
    sql = result.stdout
    create = sql.index("CREATE INDEX")
    if backend.name == "postgresql":
        # One transaction for the run, ended before the block and begun again after it.
        assert "CREATE INDEX CONCURRENTLY ix_ac_items_code" in sql
        begin = sql.index("BEGIN;")
        commit = sql.index("COMMIT;", begin)
        again = sql.index("BEGIN;", commit)
        assert begin < sql.index("before_block") < commit < create < again
        assert again < sql.index("after_block") < sql.index("COMMIT;", again)
        assert sql.rstrip().endswith("COMMIT;")
    else:
        assert "CONCURRENTLY" not in sql
        assert "BEGIN;" not in sql and "COMMIT;" not in sql


def test_concurrently_outside_the_block_fails_on_postgresql(project: Project, backend) -> None:
    project.write("migrations/versions/base1.py", BASE)
    project.write(
        "migrations/versions/conc2.py",
        CONCURRENT.replace(
            "    with op.get_context().autocommit_block():\n        op.create", "    op.create", 1
        ),
    )
    result = project.run("upgrade", "head")
    if backend.name == "postgresql":
        assert result.returncode == 1
        assert "CONCURRENTLY cannot run inside a transaction block" in result.stderr
        # The run was one transaction, so nothing of it stays (not even the version table).
        engine = sa.create_engine(project.url)
        try:
            names = sa.inspect(engine).get_table_names()
        finally:
            engine.dispose()
        assert "ac_items" not in names and "alembic_version" not in names
    else:
        assert result.returncode == 0, result.stderr
