"""``athanor migrate lint``: each rule flags its operation with the safe pattern, a comment
silences one operation, applied revisions are not linted, and the exit status is 1."""

from __future__ import annotations

import io
import os
import re

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


RAW = '''
"""raw sql"""
import athanor as sa
from athanor.migrate import op

revision = "raw2"
down_revision = "base1"


def upgrade() -> None:
    op.execute("CREATE INDEX ix_users_score ON users (score)")
    op.execute(sa.text("ALTER TABLE users ADD COLUMN x1 INTEGER NOT NULL"))
    op.execute("ALTER TABLE users ADD COLUMN x2 INTEGER NOT NULL DEFAULT 0, ADD x3 INTEGER")
    op.execute("ALTER TABLE users ALTER COLUMN score TYPE BIGINT")
    op.execute("ALTER TABLE users MODIFY score BIGINT")
    op.execute("ALTER TABLE users ADD CONSTRAINT fk_t FOREIGN KEY (x1) REFERENCES teams (id)")
    op.execute("UPDATE users SET score = 0 -- ; CREATE INDEX nope ON users (score)")
    op.execute("UPDATE users SET fullname = 'a;CREATE INDEX nope ON users (score)'")
    op.execute("DO $$ BEGIN PERFORM 1; END $$")
    with op.get_context().autocommit_block():
        op.create_index("ix_users_fullname", "users", ["fullname"], postgresql_concurrently=True)
        op.execute("CREATE INDEX CONCURRENTLY ix_users_legacy ON users (legacy)")
    op.create_index("ix_users_x1", "users", ["x1"], postgresql_concurrently=True)


def downgrade() -> None:
    pass
'''

_LINE = re.compile(r":(?P<lineno>\d+): (?P<note>note: )?\[(?P<rule>[\w-]+)\] (?P<message>.*)")


def test_raw_sql_and_autocommit_block(backend, tmp_path) -> None:
    project = attributes_project(tmp_path, backend.url)
    project.write("migrations/versions/base1.py", BASE)
    path = project.write("migrations/versions/raw2.py", RAW)
    command.upgrade(_config(project), "base1")
    lines, flagged = _lint(project)
    assert flagged
    source = path.read_text().splitlines()
    found: dict[tuple[str, str], str] = {}
    for line in lines:
        match = _LINE.search(line)
        assert match is not None, line
        code = source[int(match["lineno"]) - 1].strip()
        key = (code, ("note " if match["note"] else "") + match["rule"])
        found[key] = match["message"]
    execute = 'op.execute("'
    expected = {
        (f'{execute}ALTER TABLE users ALTER COLUMN score TYPE BIGINT")', "type-rewrite"),
        (f'{execute}ALTER TABLE users MODIFY score BIGINT")', "type-rewrite"),
        (f'{execute}DO $$ BEGIN PERFORM 1; END $$")', "note raw-sql-unchecked"),
        (
            'op.execute(sa.text("ALTER TABLE users ADD COLUMN x1 INTEGER NOT NULL"))',
            "not-null-without-default",
        ),
    }
    if backend.name == "postgresql":
        expected |= {
            (f'{execute}CREATE INDEX ix_users_score ON users (score)")', "index-not-concurrent"),
            (
                'op.create_index("ix_users_x1", "users", ["x1"], postgresql_concurrently=True)',
                "concurrently-in-transaction",
            ),
            (
                f"{execute}ALTER TABLE users ADD CONSTRAINT fk_t FOREIGN KEY (x1) REFERENCES "
                'teams (id)")',
                "foreign-key-not-valid",
            ),
        }
    assert set(found) == expected
    note = found[(f'{execute}DO $$ BEGIN PERFORM 1; END $$")', "note raw-sql-unchecked")]
    assert "can't tell" in note and "review it by hand" in note
    if backend.name == "postgresql":
        for rule in ("index-not-concurrent", "concurrently-in-transaction"):
            message = next(m for (_, r), m in found.items() if r == rule)
            assert "with op.get_context().autocommit_block():" in message
            assert "postgresql_concurrently=True" in message


@pytest.mark.backends("sqlite")
def test_notes_alone_do_not_fail(backend, tmp_path) -> None:
    project = attributes_project(tmp_path, backend.url)
    project.write("migrations/versions/base1.py", BASE)
    project.write(
        "migrations/versions/raw2.py",
        RAW.split("def upgrade() -> None:", maxsplit=1)[0]
        + 'def upgrade() -> None:\n    op.execute("CALL refresh_everything()")\n',
    )
    result = project.run("lint")
    assert result.returncode == 0, result.stderr
    assert "note: [raw-sql-unchecked]" in result.stdout
    assert "No problems found in 2 revision(s)." in result.stdout
