"""Renames in autogenerate: a probable rename is reported in the output and the revision file;
``--rename`` (or a yes on the terminal) turns it into ``alter_column(new_column_name=...)`` /
``rename_table`` so the data stays, and never a drop and an add."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

import athanor as sa
from athanor.migrate import command
from migrate.migrate_project import Project, attributes_project, init_project


def _flat(source: str) -> str:
    """``source`` with calls the formatter split over lines joined back (for assertions)."""
    return re.sub(r"\(\s+", "(", re.sub(r",\s+", ", ", source))


def models(renamed: bool) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("display_name" if renamed else "fullname", sa.String(50), nullable=False),
        sa.Column("email", sa.String(100)),
    )
    sa.Table(
        "labels" if renamed else "tags",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.String(30)),
    )
    return metadata


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _started(root: Path, url: str) -> Project:
    project = attributes_project(root, url)
    config = project.config()
    config.attributes["target_metadata"] = models(renamed=False)
    command.revision(config, "start", autogenerate=True, rev_id="start")
    command.upgrade(config, "head")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (id, fullname) VALUES (1, 'Ada')"))
            conn.execute(sa.text("INSERT INTO tags (id, label) VALUES (1, 'x')"))
    finally:
        engine.dispose()
    return project


def test_probable_renames_are_reported_not_guessed(backend, tmp_path: Path) -> None:
    project = _started(tmp_path, backend.url)
    output = io.StringIO()
    config = project.config()
    config.stdout = output
    config.attributes["target_metadata"] = models(renamed=True)
    made = command.revision(config, "rename", autogenerate=True, rev_id="guess")
    assert made is not None and made.path is not None
    printed = output.getvalue()
    assert "Probable rename of column users.fullname to display_name" in printed
    assert "--rename users.fullname:display_name" in printed
    assert "Probable rename of table tags to labels" in printed
    source = Path(made.path).read_text()
    assert "    # Probable rename of column users.fullname to display_name" in source
    assert "#   --rename users.fullname:display_name" in source or (
        "use --rename users.fullname:display_name" in source
    )
    assert 'op.drop_column("users", "fullname")' in source
    assert all(len(line) <= 100 for line in source.splitlines())
    compile(source, made.path, "exec")


def test_confirmed_renames_keep_the_data(backend, tmp_path: Path) -> None:
    project = _started(tmp_path, backend.url)
    config = project.config()
    config.attributes["target_metadata"] = models(renamed=True)
    made = command.revision(
        config,
        "rename",
        autogenerate=True,
        rev_id="renamed",
        renames=["users.fullname:display_name", "tags:labels"],
    )
    assert made is not None and made.path is not None
    source = Path(made.path).read_text()
    assert 'op.alter_column("users", "fullname", new_column_name="display_name"' in _flat(source)
    assert 'op.rename_table("tags", "labels")' in source
    for absent in ("drop_column", "add_column", "drop_table", "create_table", "Probable"):
        assert absent not in source.split("def downgrade")[0]
    command.upgrade(config, "head")
    command.check(config)
    assert _rows(backend.url, "SELECT id, display_name FROM users") == [(1, "Ada")]
    assert _rows(backend.url, "SELECT id, label FROM labels") == [(1, "x")]
    command.downgrade(config, "start")
    assert _rows(backend.url, "SELECT id, fullname FROM users") == [(1, "Ada")]
    assert _rows(backend.url, "SELECT id, label FROM tags") == [(1, "x")]


@pytest.mark.backends("sqlite")
def test_confirm_callback_and_bad_rename(backend, tmp_path: Path) -> None:
    project = _started(tmp_path, backend.url)
    config = project.config()
    config.attributes["target_metadata"] = models(renamed=True)
    asked: list[tuple[str, str, str]] = []

    def confirm(kind: str, old: str, new: str) -> bool:
        asked.append((kind, old, new))
        return kind == "column"

    made = command.revision(
        config, "rename", autogenerate=True, rev_id="asked", confirm_renames=confirm
    )
    assert made is not None and made.path is not None
    assert asked == [("table", "tags", "labels"), ("column", "users.fullname", "display_name")]
    source = Path(made.path).read_text()
    assert 'new_column_name="display_name"' in source
    assert 'op.drop_table("tags")' in source and "Probable rename of table tags" in source
    Path(made.path).unlink()
    with pytest.raises(command.CommandError, match="users has no column 'nope'"):
        command.revision(config, "x", autogenerate=True, renames=["users.nope:display_name"])
    with pytest.raises(command.CommandError, match=r"write TABLE\.OLD_COLUMN:NEW_COLUMN"):
        command.revision(config, "x", autogenerate=True, renames=["users.fullname"])


COMMAND = [sys.executable, "-m", "athanor.cli.main", "migrate"]
MODELS_PY = """
import athanor as sa

metadata = sa.MetaData()
sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("display_name", sa.String(50), nullable=False),
    sa.Column("email", sa.String(100)),
)
sa.Table(
    "tags",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("label", sa.String(30)),
)
"""


@pytest.mark.backends("sqlite")
def test_terminal_confirmation(backend, tmp_path: Path) -> None:
    """With a terminal on stdin the CLI asks about each probable rename."""
    started = _started(tmp_path, backend.url)
    project = init_project(tmp_path / "cli", backend.url)
    for path in started.versions():
        (project.root / "migrations" / "versions" / path.name).write_text(path.read_text())
    project.write("models.py", MODELS_PY)
    project.use_metadata()
    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"y\n")
        environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        environment.update(PYTHONPATH=str(project.root), DATABASE_URL=backend.url)
        completed = subprocess.run(
            [*COMMAND, "revision", "--autogenerate", "-m", "rename", "--rev-id", "tty"],
            cwd=project.root,
            stdin=terminal,
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert completed.returncode == 0, completed.stderr
    assert "Is column users.fullname renamed to display_name" in completed.stdout
    [made] = [p for p in project.versions() if p.name.startswith("tty")]
    source = made.read_text()
    assert 'op.alter_column("users", "fullname", new_column_name="display_name"' in _flat(source)
    assert "drop_column" not in source.split("def downgrade")[0]
