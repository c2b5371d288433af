"""``athanor migrate`` run as a subprocess the way a user types it (seed 002 section 4)."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys

import pytest

import athanor as sa
from migrate.migrate_project import Project, init_project

SEED_REVISION = '''
"""Add users table

Revision ID: 001
Revises:
Create Date: 2025-12-21

"""
from athanor.migrate import op
import pytest

import athanor as sa

# revision identifiers
revision = '001'
down_revision = None
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(50), nullable=False),
        sa.Column('email', sa.String(100), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('now()')),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username')
    )

def downgrade() -> None:
    op.drop_table('users')
'''

MODELS = """
import pytest

import athanor as sa

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(50), nullable=False, unique=True),
    sa.Column("email", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(), server_default=sa.text("now()")),
)
posts = sa.Table(
    "posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False, index=True),
)
"""


def _tables(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return sorted(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_seed_workflow_end_to_end(project: Project) -> None:
    """init, target_metadata in env.py, revision --autogenerate, upgrade head, check,
    history, downgrade -1: the seed's commands with `alembic` replaced."""
    project.write("models.py", MODELS)
    project.use_metadata()
    made = project.run("revision", "--autogenerate", "-m", "Add users table")
    assert made.returncode == 0, made.stderr
    [revision_file] = project.versions()
    source = revision_file.read_text()
    assert 'op.create_table(\n        "users",' in source
    assert "from athanor.migrate import op" in source and "import athanor as sa" in source

    up = project.run("upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert "Running upgrade  -> " in up.stderr
    assert _tables(project.url) == ["alembic_version", "posts", "users"]

    check = project.run("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected." in check.stdout

    again = project.run("revision", "--autogenerate", "-m", "nothing")
    assert again.returncode == 0, again.stderr
    second = next(p for p in project.versions() if p != revision_file)
    assert "def upgrade() -> None:\n    pass" in second.read_text()
    second.unlink()

    history = project.run("history")
    assert history.returncode == 0
    assert "<base> -> " in history.stdout and "(head), Add users table" in history.stdout

    down = project.run("downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert _tables(project.url) == ["alembic_version"]
    assert project.run("current").stdout.strip() == ""


def test_seed_revision_file_runs_as_printed(project: Project) -> None:
    """The seed's example revision, `now()` default included, on every database: the default
    fills created_at with the insert time."""
    project.write("migrations/versions/001_add_users_table.py", SEED_REVISION)
    up = project.run("upgrade", "head")
    assert up.returncode == 0, up.stderr
    engine = sa.create_engine(project.url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (username, email) VALUES ('ada', 'a@x')"))
            created = conn.execute(sa.text("SELECT created_at FROM users")).scalar_one()
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert versions == [("001",)]
        assert created is not None
        if isinstance(created, str):
            created = datetime.datetime.fromisoformat(created)
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        assert abs((created - now).total_seconds()) < 24 * 3600
    finally:
        engine.dispose()
    assert project.run("current").stdout.startswith("<base> -> 001 (head)")
    down = project.run("downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert _tables(project.url) == ["alembic_version"]


def test_bad_input_gets_one_line_and_exit_2(project: Project, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("empty")
    no_config = init_project(elsewhere, project.url)
    (elsewhere / "athanor.ini").unlink()
    missing = no_config.run("upgrade", "head")
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "athanor migrate init" in missing.stderr

    project.run("revision", "-m", "one", "--rev-id", "abc1")
    project.run("revision", "-m", "two", "--rev-id", "abc2")
    for args, expected in (
        (("upgrade", "zzz"), "Can't locate revision identified by 'zzz'"),
        (("upgrade", "abc"), "ambiguous: it matches abc1, abc2"),
        (("downgrade", "+1"), "goes up"),
    ):
        result = project.run(*args)
        assert result.returncode == 2, result
        assert expected in result.stderr and "Traceback" not in result.stderr
    project.run("revision", "-m", "branch", "--rev-id", "abc3", "--head", "abc1", "--splice")
    two_heads = project.run("upgrade", "head")
    assert two_heads.returncode == 2
    assert "Multiple head revisions are present (abc2, abc3)" in two_heads.stderr
    assert project.run("upgrade", "heads").returncode == 0
    assert project.run("current").stdout.count("(head)") == 2


def test_url_precedence_flag_then_environment_then_ini(project: Project, tmp_path) -> None:
    project.run("revision", "-m", "one", "--rev-id", "r1")
    ini_db = tmp_path / "ini.db"
    env_db = tmp_path / "env.db"
    flag_db = tmp_path / "flag.db"
    ini = project.root / "athanor.ini"
    ini.write_text(
        ini.read_text().replace("driver://user:pass@localhost/dbname", f"sqlite:///{ini_db}")
    )
    assert project.run("upgrade", "head", url=False).returncode == 0
    assert ini_db.exists()
    env = {"DATABASE_URL": f"sqlite:///{env_db}"}
    assert project.run("upgrade", "head", url=False, env=env).returncode == 0
    assert env_db.exists()
    flagged = project.run("upgrade", "head", "--url", f"sqlite:///{flag_db}", url=False, env=env)
    assert flagged.returncode == 0, flagged.stderr
    assert flag_db.exists()


def test_offline_sql_renders_without_connecting(project: Project) -> None:
    project.write("migrations/versions/001_add_users_table.py", SEED_REVISION)
    rendered = project.run("upgrade", "head", "--sql")
    assert rendered.returncode == 0, rendered.stderr
    assert "CREATE TABLE alembic_version" in rendered.stdout
    assert "CREATE TABLE users" in rendered.stdout
    assert "INSERT INTO alembic_version (version_num) VALUES ('001');" in rendered.stdout
    assert _tables(project.url) == []


@pytest.mark.backends("sqlite")
def test_sql_output_into_a_closed_pipe(project: Project) -> None:
    """``upgrade head --sql | head -1``: no traceback when the reader stops early."""
    project.write(
        "migrations/versions/big1.py",
        '''
        """more SQL than a pipe holds"""
        from athanor.migrate import op

        revision = "big1"
        down_revision = None


        def upgrade() -> None:
            for number in range(20000):
                op.execute(f"SELECT {number}")
        ''',
    )
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment["DATABASE_URL"] = project.url
    reader = subprocess.run(
        f"{sys.executable} -m athanor.cli.main migrate upgrade head --sql | head -1",
        shell=True,
        cwd=project.root,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert reader.stdout.strip() in ("BEGIN;", "CREATE TABLE alembic_version (")
    assert "Traceback" not in reader.stderr and "BrokenPipeError" not in reader.stderr
