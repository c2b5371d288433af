"""``batch_alter_table(..., copy_from=Table)``: the copy-and-move of a table rendered with
``--sql`` from the definition given instead of the database, and the rendered SQL run by hand
keeps the rows, the index and the changes, on every database."""

from __future__ import annotations

import athanor as sa
from migrate.migrate_project import Project

REVISION = '''
"""tighten things"""
import athanor as sa
from athanor.migrate import op

revision = "tight1"
down_revision = None

THINGS = sa.Table(
    "bo_things",
    sa.MetaData(),
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("name", sa.String(20)),
    sa.Column("legacy", sa.String(10)),
    sa.Column("score", sa.Integer(), server_default="0"),
    sa.Index("ix_bo_things_score", "score"),
)


def upgrade() -> None:
    with op.batch_alter_table("bo_things", recreate="RECREATE", copy_from=THINGS) as batch_op:
        batch_op.alter_column("name", nullable=False, existing_type=sa.String(20))
        batch_op.drop_column("legacy")
        batch_op.add_column(sa.Column("added", sa.String(5)))


def downgrade() -> None:
    pass
'''


def _create(url: str) -> None:
    metadata = sa.MetaData()
    table = sa.Table(
        "bo_things",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(20)),
        sa.Column("legacy", sa.String(10)),
        sa.Column("score", sa.Integer(), server_default="0"),
        sa.Index("ix_bo_things_score", "score"),
    )
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(table.insert(), [{"id": 1, "name": "a", "legacy": "x", "score": 5}])
    finally:
        engine.dispose()


def _run_script(url: str, sql: str) -> None:
    """Run the statements of ``--sql`` output as a DBA would, one by one."""
    statements = [
        "\n".join(line for line in chunk.splitlines() if not line.startswith("--")).strip()
        for chunk in sql.split(";\n")
    ]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            for statement in statements:
                if statement and statement not in ("BEGIN", "COMMIT"):
                    conn.exec_driver_sql(statement)
            conn.commit()
    finally:
        engine.dispose()


def test_copy_from_renders_the_rebuild_offline(project: Project, backend) -> None:
    _create(project.url)
    # SQLite rebuilds the table by itself ("auto"); elsewhere the rebuild is asked for.
    recreate = "auto" if backend.name == "sqlite" else "always"
    project.write("migrations/versions/tight1.py", REVISION.replace("RECREATE", recreate))
    result = project.run("upgrade", "head", "--sql")
    assert result.returncode == 0, result.stderr
    sql = result.stdout
    order = [
        "CREATE TABLE _athanor_tmp_bo_things",
        "INSERT INTO _athanor_tmp_bo_things (id, name, score) SELECT id, name, score FROM",
        "DROP TABLE bo_things",
        "RENAME",
        "CREATE INDEX ix_bo_things_score ON bo_things",
        "INSERT INTO alembic_version",
    ]
    positions = [sql.index(piece) for piece in order]
    assert positions == sorted(positions), sql

    _run_script(project.url, sql)
    engine = sa.create_engine(project.url)
    try:
        inspector = sa.inspect(engine)
        columns = {c["name"]: c for c in inspector.get_columns("bo_things")}
        assert list(columns) == ["id", "name", "score", "added"]
        assert columns["name"]["nullable"] is False
        assert [i["name"] for i in inspector.get_indexes("bo_things")] == ["ix_bo_things_score"]
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, name, score, added FROM bo_things")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "a", 5, None)]
    current = project.run("current")
    assert current.stdout.startswith("<base> -> tight1 (head)"), current.stdout + current.stderr


def test_copy_from_must_name_the_table(project: Project, backend) -> None:
    project.write(
        "migrations/versions/tight1.py",
        REVISION.replace("RECREATE", "always").replace(
            'batch_alter_table("bo_things"', 'batch_alter_table("other"'
        ),
    )
    result = project.run("upgrade", "head", "--sql")
    assert result.returncode == 2
    assert "copy_from=...) got a Table named 'bo_things'" in result.stderr
