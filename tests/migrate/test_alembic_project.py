"""An existing Alembic project (``alembic.ini`` with its ``[alembic]`` section, an env.py in
Alembic's shape reading ``DATABASE_URL``, revision files) runs with ``-c alembic.ini`` once
its imports say ``athanor`` instead of ``alembic``/``sqlalchemy``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import athanor as sa

ALEMBIC_INI = """
# A generic, single-database configuration.

[alembic]
script_location = %(here)s/alembic
prepend_sys_path = .
version_path_separator = os
sqlalchemy.url = driver://user:pass@localhost/dbname

[post_write_hooks]

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""

ENV_PY = """
import os
from logging.config import fileConfig

from athanor import engine_from_config, pool
from athanor.migrate import context

from models import metadata

config = context.config
config.set_main_option("sqlalchemy.url", os.environ["DATABASE_URL"])
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = metadata


def offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    offline()
else:
    online()
"""

REVISION = '''
"""create accounts

Revision ID: 1975ea83b712
Revises:
Create Date: 2024-03-01 10:00:00.000000

"""
from typing import Sequence, Union

from athanor.migrate import op
import athanor as sa


# revision identifiers, used by Alembic.
revision: str = '1975ea83b712'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'account',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('name', sa.String(50), nullable=False),
        sa.Column('description', sa.Unicode(200)),
    )


def downgrade() -> None:
    op.drop_table('account')
'''

MODELS = """
import athanor as sa

metadata = sa.MetaData()
sa.Table(
    "account",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("description", sa.Unicode(200)),
)
"""


def _write(path: Path, source: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip())


def test_alembic_project_runs_with_c(backend, tmp_path: Path) -> None:
    _write(tmp_path / "alembic.ini", ALEMBIC_INI)
    _write(tmp_path / "alembic" / "env.py", ENV_PY)
    _write(tmp_path / "alembic" / "script.py.mako", "# Alembic's Mako template, unused\n")
    _write(tmp_path / "alembic" / "versions" / "1975ea83b712_create_accounts.py", REVISION)
    _write(tmp_path / "models.py", MODELS)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment["DATABASE_URL"] = backend.url

    def migrate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "athanor.cli.main", "migrate", "-c", "alembic.ini", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            check=False,
        )

    up = migrate("upgrade", "head")
    assert up.returncode == 0, up.stderr
    # The ini's [logger_alembic] (level INFO) governs the migration messages.
    assert "INFO  [athanor.migrate.runtime] Running upgrade  -> 1975ea83b712" in up.stderr
    check = migrate("check")
    assert check.returncode == 0, check.stdout + check.stderr
    current = migrate("current")
    assert current.stdout.startswith("<base> -> 1975ea83b712 (head), create accounts")
    engine = sa.create_engine(backend.url)
    try:
        assert sa.inspect(engine).has_table("account")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [
                ("1975ea83b712",)
            ]
    finally:
        engine.dispose()
    down = migrate("downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert migrate("current").stdout.strip() == ""


def test_alembic_logger_level_is_honoured(backend, tmp_path: Path) -> None:
    _write(tmp_path / "alembic.ini", ALEMBIC_INI.replace("level = INFO", "level = WARN"))
    _write(tmp_path / "alembic" / "env.py", ENV_PY)
    _write(tmp_path / "alembic" / "versions" / "1975ea83b712_create_accounts.py", REVISION)
    _write(tmp_path / "models.py", MODELS)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment["DATABASE_URL"] = backend.url
    command = [sys.executable, "-m", "athanor.cli.main", "migrate", "-c", "alembic.ini"]
    quiet = subprocess.run(
        [*command, "upgrade", "head"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert "Running upgrade" not in quiet.stderr
    down = subprocess.run(
        [*command, "downgrade", "base"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert down.returncode == 0, down.stderr
    assert down.stderr == ""
