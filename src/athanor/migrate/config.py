"""The migration configuration: the ini file (``athanor.ini`` or an Alembic ``alembic.ini``),
command-line options and values set by the caller, as Alembic's ``Config``."""

from __future__ import annotations

import os
import sys
from configparser import ConfigParser
from pathlib import Path
from typing import Any, TextIO

from athanor.migrate.util import CommandError

DEFAULT_SECTIONS = ("athanor", "alembic")
"""The main section's name: ``[athanor]`` in files ``athanor migrate init`` writes, ``[alembic]``
in an Alembic project's ini; the first one present is used unless ``--name`` says."""


class Config:
    """Options of one migration environment: the main ini section (``script_location``,
    ``sqlalchemy.url``, ``version_table`` ...) plus anything the command line or env.py sets."""

    def __init__(
        self,
        file_: str | os.PathLike[str] | None = None,
        ini_section: str | None = None,
        output_buffer: TextIO | None = None,
        stdout: TextIO | None = None,
        cmd_opts: Any = None,
        config_args: dict[str, str] | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        self.config_file_name: str | None = str(file_) if file_ is not None else None
        self.output_buffer = output_buffer
        self.stdout = stdout if stdout is not None else sys.stdout
        self.cmd_opts = cmd_opts
        self.config_args = dict(config_args or {})
        self.attributes: dict[str, Any] = dict(attributes or {})
        here = Path(self.config_file_name).resolve().parent if self.config_file_name else Path.cwd()
        self.file_config = ConfigParser({"here": str(here), **self.config_args})
        if self.config_file_name is not None:
            path = Path(self.config_file_name)
            if not path.is_file():
                raise CommandError(
                    f"No config file {self.config_file_name!r} found; run 'athanor migrate init "
                    "DIR' to create one, or point at yours with -c"
                )
            self.file_config.read(path, encoding="utf-8")
        if ini_section is None:
            found = [name for name in DEFAULT_SECTIONS if self.file_config.has_section(name)]
            ini_section = found[0] if found else DEFAULT_SECTIONS[0]
        self.config_ini_section = ini_section
        if not self.file_config.has_section(ini_section):
            self.file_config.add_section(ini_section)

    def print_stdout(self, text: str, *arg: Any) -> None:
        """Print a line of command output (``text % arg`` when arguments are given)."""
        print(text % arg if arg else text, file=self.stdout)

    def get_section(
        self, name: str, default: dict[str, str] | None = None
    ) -> dict[str, str] | None:
        """All options of ini section ``name`` as a dict, or ``default`` if there is none."""
        if not self.file_config.has_section(name):
            return default
        return dict(self.file_config.items(name))

    def get_section_option(self, section: str, name: str, default: str | None = None) -> str | None:
        """One option of ini section ``section``."""
        if not self.file_config.has_section(section):
            return default
        return self.file_config.get(section, name, fallback=default)

    def set_section_option(self, section: str, name: str, value: str) -> None:
        """Set an option (``%`` is escaped, so values are taken literally)."""
        if not self.file_config.has_section(section):
            self.file_config.add_section(section)
        self.file_config.set(section, name, value.replace("%", "%%"))

    def get_main_option(self, name: str, default: str | None = None) -> str | None:
        """An option of the main section (``script_location``, ``sqlalchemy.url`` ...)."""
        return self.get_section_option(self.config_ini_section, name, default)

    def set_main_option(self, name: str, value: str) -> None:
        """Set an option of the main section, e.g. ``sqlalchemy.url`` from the environment."""
        self.set_section_option(self.config_ini_section, name, value)

    def get_x_argument(self, as_dictionary: bool = False) -> Any:
        """The ``-x KEY=VALUE`` arguments of the command line, as a list or a dict."""
        values: list[str] = list(getattr(self.cmd_opts, "x", None) or [])
        if not as_dictionary:
            return values
        pairs = {}
        for item in values:
            key, _, value = item.partition("=")
            pairs[key] = value
        return pairs
