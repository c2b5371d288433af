"""A migration project made by ``athanor migrate init`` and a way to run the command as a
user types it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from athanor.migrate import Config
from athanor.migrate.operations import Operations
from athanor.migrate.runtime import MigrationContext


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Project:
    """A migration project in a temporary directory, on one test database."""

    root: Path
    url: str

    def run(self, *args: str, env: dict[str, str] | None = None, url: bool = True) -> Run:
        """``athanor migrate ARGS`` as a subprocess in the project directory."""
        environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        environment["PYTHONPATH"] = str(self.root)
        if url:
            environment["DATABASE_URL"] = self.url
        environment.update(env or {})
        completed = subprocess.run(
            [sys.executable, "-m", "athanor.cli.main", "migrate", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=environment,
            timeout=180,
            check=False,
        )
        return Run(completed.returncode, completed.stdout, completed.stderr)

    def write(self, relative: str, source: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip())
        return path

    def use_metadata(self, spec: str = "models:metadata") -> None:
        """Point the generated env.py's target_metadata at ``module:attribute``."""
        env_py = self.root / "migrations" / "env.py"
        module, _, attribute = spec.partition(":")
        source = env_py.read_text().replace(
            "target_metadata = None",
            f"from {module} import {attribute}\n\ntarget_metadata = {attribute}",
        )
        env_py.write_text(source)

    def config(self) -> Config:
        """A Config for calling the commands in-process."""
        config = Config(str(self.root / "athanor.ini"))
        config.set_main_option("script_location", str(self.root / "migrations"))
        config.set_main_option("sqlalchemy.url", self.url)
        return config

    def versions(self) -> list[Path]:
        return sorted((self.root / "migrations" / "versions").glob("*.py"))


def init_project(root: Path, url: str) -> Project:
    """Lay out a project with ``athanor migrate init`` (in-process, for speed)."""
    from athanor.migrate import command

    config = Config(None)
    config.config_file_name = str(root / "athanor.ini")
    command.init(config, str(root / "migrations"))
    ini = root / "athanor.ini"
    ini.write_text(ini.read_text().replace(f"= {root / 'migrations'}", "= migrations"))
    return Project(root, url)


@contextmanager
def operations(url: str) -> Iterator[tuple[Operations, Any]]:
    """``op`` on a connection to ``url``, outside any revision, committed at the end."""
    from athanor import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection=connection)
            with Operations.context(context) as op:
                yield op, connection
            connection.commit()
    finally:
        engine.dispose()


ATTRIBUTES_ENV_PY = """
from athanor import create_engine, pool
from athanor.migrate import context

config = context.config
engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
try:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=config.attributes.get("target_metadata"),
            **config.attributes.get("configure", {}),
        )
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
"""


def attributes_project(root: Path, url: str) -> Project:
    """A project whose env.py takes the models from ``config.attributes["target_metadata"]``,
    so that in-process tests can change them between commands."""
    project = init_project(root, url)
    (root / "migrations" / "env.py").write_text(ATTRIBUTES_ENV_PY)
    return project
