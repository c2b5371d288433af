"""``athanor migrate lint``: each rule flags its operation with the safe pattern, a comment
silences one operation, applied revisions are not linted, and the exit status is 1."""

from __future__ import annotations

import io
import os

import pytest

import athanor as sa
from athanor.cli.main import main
from athanor.migrate import Config, command
from athanor.migrate.util import CheckFailed
from migrate.migrate_project import Project, attributes_project

BASE = '''
"""base"""
import athanor as sa
from athanor.migrate import op

revision = "base1"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fullname", sa.String(50)),
        sa.Column("legacy", sa.String(10)),
        sa.Column("score", sa.Integer()),
    )
    op.create_table("teams", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("teams")
    op.drop_table("users")
'''

RISKY = '''
"""risky"""
import athanor as sa
from athanor.migrate import op

revision = "risky2"
down_revision = "base1"


def upgrade() -> None:
    op.create_index("ix_users_score", "users", ["score"])
    op.add_column("users", sa.Column("team_id", sa.Integer(), nullable=False))
    op.alter_column("users", "score", type_=sa.BigInteger(), existing_type=sa.Integer())
    op.alter_column("users", "fullname", type_=sa.String(80), existing_type=sa.String(50))
    op.create_foreign_key("fk_users_team", "users", "teams", ["team_id"], ["id"])
    op.alter_column("users", "fullname", new_column_name="display_name")
    op.drop_column("users", "legacy")
    # migrate-lint: ignore[not-null-without-default]
    op.add_column("users", sa.Column("flag", sa.Integer(), nullable=False))
    op.add_column("users", sa.Column("level", sa.Integer(), nullable=False, server_default="1"))
    op.create_index(  # migrate-lint: ignore
        "ix_users_level", "users", ["level"]
    )


def downgrade() -> None:
    pass
'''

MODELS = sa.MetaData()
sa.Table(
    "users",
    MODELS,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("legacy", sa.String(10)),
)


def _config(project: Project) -> Config:
    config = project.config()
    config.attributes["target_metadata"] = MODELS
    return config


def _lint(project: Project, revision: str | None = None) -> tuple[list[str], bool]:
    config = _config(project)
    config.stdout = output = io.StringIO()
    flagged = False
    try:
        command.lint(config, revision)
    except CheckFailed:
        flagged = True
    return output.getvalue().splitlines(), flagged


def test_rules_and_silencing(backend, tmp_path) -> None:
    project = attributes_project(tmp_path, backend.url)
    project.write("migrations/versions/base1.py", BASE)
    path = project.write("migrations/versions/risky2.py", RISKY)
    command.upgrade(_config(project), "base1")
    lines, flagged = _lint(project)
    assert flagged
    source = path.read_text().splitlines()
    found = {}
    for line in lines:
        location, _, message = line.partition(": [")
        lineno = int(location.rsplit(":", 1)[1])
        rule, _, text = message.partition("] ")
        found[(source[lineno - 1].strip().split("(")[0], rule)] = text
    expected = {
        ("op.add_column", "not-null-without-default"),
        ("op.alter_column", "type-rewrite"),
        ("op.alter_column", "rename"),
        ("op.drop_column", "drop-mapped"),
    }
    if backend.name == "postgresql":
        expected |= {
            ("op.create_index", "index-not-concurrent"),
            ("op.create_foreign_key", "foreign-key-not-valid"),
        }
    assert set(found) == expected
    # SQLite copies the table for any type change, so widening the VARCHAR is flagged too.
    assert len(lines) == len(expected) + (1 if backend.name == "sqlite" else 0)
    assert "backfill" in found[("op.add_column", "not-null-without-default")]
    assert "add a new column of the new type" in found[("op.alter_column", "type-rewrite")]
    assert "later release" in found[("op.alter_column", "rename")]
    assert "remove it from the models" in found[("op.drop_column", "drop-mapped")]
    if backend.name == "postgresql":
        assert "postgresql_concurrently=True" in found[("op.create_index", "index-not-concurrent")]
        fk = found[("op.create_foreign_key", "foreign-key-not-valid")]
        assert "postgresql_not_valid=True" in fk and "VALIDATE CONSTRAINT" in fk

    # Applied revisions are not linted; a named revision is.
    command.upgrade(_config(project), "head")
    assert _lint(project) == (["No problems found in 0 revision(s)."], False)
    assert _lint(project, "base1") == (["No problems found in 1 revision(s)."], False)
    assert _lint(project, "risky2")[1]


@pytest.mark.backends("postgresql")
def test_safe_patterns_pass_and_run(backend, tmp_path) -> None:
    project = attributes_project(tmp_path, backend.url)
    project.write("migrations/versions/base1.py", BASE)
    project.write(
        "migrations/versions/safe2.py",
        '''
        """safe"""
        import athanor as sa
        from athanor.migrate import op

        revision = "safe2"
        down_revision = "base1"


        def upgrade() -> None:
            op.add_column("users", sa.Column("team_id", sa.Integer(), nullable=True))
            op.create_foreign_key(
                "fk_users_team", "users", "teams", ["team_id"], ["id"], postgresql_not_valid=True
            )
            op.execute("ALTER TABLE users VALIDATE CONSTRAINT fk_users_team")
            op.alter_column("users", "fullname", type_=sa.String(80), existing_type=sa.String(50))


        def downgrade() -> None:
            op.drop_constraint("fk_users_team", "users", type_="foreignkey")
            op.drop_column("users", "team_id")
        ''',
    )
    assert _lint(project) == (["No problems found in 2 revision(s)."], False)
    command.upgrade(_config(project), "head")
    engine = sa.create_engine(backend.url)
    try:
        [fk] = sa.inspect(engine).get_foreign_keys("users")
    finally:
        engine.dispose()
    assert fk["name"] == "fk_users_team"


@pytest.mark.backends("sqlite")
def test_cli_exit_status(backend, tmp_path, capsys) -> None:
    project = attributes_project(tmp_path, backend.url)
    project.write("migrations/versions/base1.py", BASE)
    project.write("migrations/versions/risky2.py", RISKY)
    cwd = os.getcwd()
    os.chdir(project.root)
    try:
        assert main(["migrate", "--url", backend.url, "lint", "base1"]) == 0
        assert main(["migrate", "--url", backend.url, "lint"]) == 1
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    assert "[not-null-without-default]" in captured.out
    assert "silence one with '# migrate-lint: ignore[RULE]'" in captured.err
