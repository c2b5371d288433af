"""A whole session at the terminal, every command a separate ``athanor migrate`` process:
init, edit the ini and env.py, autogenerate, upgrade, change the models (a new column and a
renamed one), autogenerate with ``--rename``, inspect, lint, downgrade, stamp."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import athanor as sa

MODELS_V1 = """
import athanor as sa

metadata = sa.MetaData()
sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("fullname", sa.String(80), nullable=False),
)
"""

MODELS_V2 = MODELS_V1.replace('"fullname"', '"display_name"').replace(
    "nullable=False),\n)", 'nullable=False),\n    sa.Column("bio", sa.Text()),\n)'
)


@pytest.mark.backends("postgresql", "mysql")  # test_cli.py's shorter session runs on all three
def test_terminal_session(backend, tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment["PYTHONPATH"] = str(tmp_path)

    def migrate(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "athanor.cli.main", "migrate", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            check=False,
        )
        if ok:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    assert "Generating" in migrate("init", "migrations").stdout
    ini = tmp_path / "athanor.ini"
    ini.write_text(ini.read_text().replace("driver://user:pass@localhost/dbname", backend.url))
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata = None", "from models import metadata\n\ntarget_metadata = metadata"
        )
    )
    (tmp_path / "models.py").write_text(MODELS_V1)
    migrate("revision", "--autogenerate", "-m", "create users", "--rev-id", "a1")
    migrate("upgrade", "head")
    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (id, fullname) VALUES (1, 'Ada')"))
    finally:
        engine.dispose()

    (tmp_path / "models.py").write_text(MODELS_V2)
    drifted = migrate("check", ok=False)
    assert drifted.returncode == 1 and 'op.add_column("users"' in drifted.stderr
    migrate(
        "revision",
        "--autogenerate",
        "-m",
        "profile",
        "--rev-id",
        "b2",
        "--rename",
        "users.fullname:display_name",
    )
    source = next((tmp_path / "migrations" / "versions").glob("b2_*.py")).read_text()
    assert 'new_column_name="display_name"' in source and 'op.add_column("users"' in source
    lint = migrate("lint", ok=False)
    assert lint.returncode == 1 and "[rename]" in lint.stdout
    migrate("upgrade", "+1")
    assert migrate("current").stdout.startswith("a1 -> b2 (head), profile")
    assert "No new upgrade operations detected." in migrate("check").stdout
    assert "Rev: b2 (head)" in migrate("show", "b2").stdout
    history = migrate("history", "-v").stdout
    assert history.index("a1 -> b2") < history.index("<base> -> a1")
    assert migrate("heads").stdout.startswith("a1 -> b2 (head)")
    engine = sa.create_engine(backend.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT display_name FROM users")).all() == [("Ada",)]
    finally:
        engine.dispose()

    migrate("downgrade", "-1")
    assert migrate("current").stdout.startswith("<base> -> a1")
    migrate("stamp", "head")
    assert migrate("current").stdout.startswith("a1 -> b2 (head)")
    migrate("stamp", "a1")
    migrate("downgrade", "base")
    assert migrate("current").stdout.strip() == ""
