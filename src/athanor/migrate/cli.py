"""``athanor migrate [-c CONFIG] [--url URL] [-x KEY=VALUE] COMMAND``: the command line.

The database URL is ``--url``, else the ``DATABASE_URL`` environment variable, else
``sqlalchemy.url`` of the ini file.  Bad input gets one line on stderr and exit status 2; a
revision that fails gets one line naming it and exit status 1; ``check`` exits 1 when the
models and the database differ.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from athanor import exc
from athanor.migrate import command
from athanor.migrate.config import Config
from athanor.migrate.util import CheckFailed, CommandError, MigrationFailed

DEFAULT_CONFIG = "athanor.ini"
FALLBACK_CONFIG = "alembic.ini"


def add_parser(commands: Any) -> None:
    """Add ``migrate`` and its subcommands to the ``athanor`` command's subparsers."""
    parser = commands.add_parser(
        "migrate",
        help="schema migrations: init, revision [--autogenerate], upgrade, downgrade, ...",
        description="Schema migrations with revision files, as Alembic.",
    )
    _add_common(parser, argparse.SUPPRESS)
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="migrate_command", metavar="COMMAND")
    original = sub.add_parser

    def add_with_common(name: str, **kw: Any) -> Any:
        return original(name, parents=[common], **kw)

    sub.add_parser = add_with_common

    init = sub.add_parser("init", help="create a migration environment in DIR")
    init.add_argument("directory", metavar="DIR")
    init.add_argument("--package", action="store_true", help="add __init__.py files")

    revision = sub.add_parser("revision", help="write a new revision file")
    revision.add_argument("-m", "--message")
    revision.add_argument("--autogenerate", action="store_true")
    revision.add_argument("--sql", action="store_true")
    revision.add_argument(
        "--rename",
        action="append",
        default=[],
        metavar="TABLE.OLD:NEW",
        help="a column (TABLE.OLD:NEW) or table (OLD:NEW) rename for autogenerate",
    )
    revision.add_argument("--rev-id")
    revision.add_argument("--head", default="head")
    revision.add_argument("--splice", action="store_true")
    revision.add_argument("--branch-label", action="append")
    revision.add_argument("--depends-on", action="append")
    revision.add_argument("--version-path")

    for name, default_help in (
        ("upgrade", "upgrade to TARGET (head, heads, an id or prefix, +N, REV+N)"),
        ("downgrade", "downgrade to TARGET (base, an id or prefix, -N, REV-N)"),
    ):
        step = sub.add_parser(name, help=default_help)
        step.add_argument("revision", metavar="TARGET")
        step.add_argument("--sql", action="store_true", help="print the SQL, don't connect")
        step.add_argument("--tag")

    current = sub.add_parser("current", help="show the database's revision")
    current.add_argument("-v", "--verbose", action="store_true")

    history = sub.add_parser("history", help="list the revisions, newest first")
    history.add_argument("-r", "--rev-range")
    history.add_argument("-v", "--verbose", action="store_true")
    history.add_argument("-i", "--indicate-current", action="store_true")

    heads = sub.add_parser("heads", help="show the head revisions")
    heads.add_argument("-v", "--verbose", action="store_true")
    heads.add_argument("--resolve-dependencies", action="store_true")

    branches = sub.add_parser("branches", help="show the branch points")
    branches.add_argument("-v", "--verbose", action="store_true")

    show = sub.add_parser("show", help="show one revision")
    show.add_argument("rev", metavar="REV")

    stamp = sub.add_parser("stamp", help="set the version table without running migrations")
    stamp.add_argument("revision", metavar="REV", nargs="+")
    stamp.add_argument("--sql", action="store_true")
    stamp.add_argument("--tag")
    stamp.add_argument("--purge", action="store_true")

    merge = sub.add_parser("merge", help="write a revision merging two or more revisions")
    merge.add_argument("revisions", metavar="REV", nargs="+")
    merge.add_argument("-m", "--message")
    merge.add_argument("--branch-label")
    merge.add_argument("--rev-id")

    sub.add_parser("check", help="exit 1 if the models and the database differ")

    lint = sub.add_parser(
        "lint",
        help="flag lock-heavy or breaking operations in pending revisions (exit 1 if any)",
    )
    lint.add_argument(
        "revision", metavar="REV", nargs="?", help="a revision or START:END (default: pending)"
    )


def _add_common(parser: argparse.ArgumentParser, default: Any) -> None:
    """The options accepted before and after the subcommand name."""
    parser.add_argument(
        "-c",
        "--config",
        default=default,
        help=f"the ini file (default: ./{DEFAULT_CONFIG}, else ./{FALLBACK_CONFIG})",
    )
    parser.add_argument(
        "-n", "--name", default=default, help="the ini section to read (default: athanor/alembic)"
    )
    parser.add_argument(
        "--url", default=default, help="database URL (overrides DATABASE_URL and the ini file)"
    )
    parser.add_argument(
        "-x",
        action="append",
        default=default,
        metavar="KEY=VALUE",
        help="extra argument for env.py",
    )


def _config(arguments: argparse.Namespace) -> Config:
    for name in ("config", "name", "url"):
        if not hasattr(arguments, name):
            setattr(arguments, name, None)
    if not hasattr(arguments, "x"):
        arguments.x = []
    path = arguments.config
    if path is None:
        path = DEFAULT_CONFIG
        if not Path(path).exists() and Path(FALLBACK_CONFIG).exists():
            path = FALLBACK_CONFIG
    if arguments.migrate_command == "init":
        config = Config(None, ini_section=arguments.name, cmd_opts=arguments)
        config.config_file_name = path
        return config
    config = Config(path, ini_section=arguments.name, cmd_opts=arguments)
    url = arguments.url or os.environ.get("DATABASE_URL")
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def _dispatch(config: Config, arguments: argparse.Namespace) -> None:
    name = arguments.migrate_command
    if name == "init":
        command.init(config, arguments.directory, package=arguments.package)
    elif name == "revision":
        command.revision(
            config,
            message=arguments.message,
            autogenerate=arguments.autogenerate,
            sql=arguments.sql,
            head=arguments.head,
            splice=arguments.splice,
            branch_label=arguments.branch_label,
            version_path=arguments.version_path,
            rev_id=arguments.rev_id,
            depends_on=arguments.depends_on,
            renames=arguments.rename,
            confirm_renames=_ask_rename if sys.stdin.isatty() else None,
        )
    elif name in ("upgrade", "downgrade"):
        getattr(command, name)(config, arguments.revision, sql=arguments.sql, tag=arguments.tag)
    elif name == "current":
        command.current(config, verbose=arguments.verbose)
    elif name == "history":
        command.history(config, arguments.rev_range, arguments.verbose, arguments.indicate_current)
    elif name == "heads":
        command.heads(config, arguments.verbose, arguments.resolve_dependencies)
    elif name == "branches":
        command.branches(config, arguments.verbose)
    elif name == "show":
        command.show(config, arguments.rev)
    elif name == "stamp":
        command.stamp(
            config, arguments.revision, sql=arguments.sql, tag=arguments.tag, purge=arguments.purge
        )
    elif name == "merge":
        command.merge(
            config, arguments.revisions, arguments.message, arguments.branch_label, arguments.rev_id
        )
    elif name == "check":
        command.check(config)
    elif name == "lint":
        command.lint(config, arguments.revision)


def _ask_rename(kind: str, old: str, new: str) -> bool:
    """Ask on the terminal whether a probable rename is one (the answer defaults to no)."""
    try:
        answer = input(f"Is {kind} {old} renamed to {new} (keeping its data)? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def run(arguments: argparse.Namespace) -> int:
    """Run ``athanor migrate ...``; returns the exit status."""
    if arguments.migrate_command is None:
        print(
            "athanor migrate: error: choose a command, e.g. 'athanor migrate init migrations'",
            file=sys.stderr,
        )
        return 2
    try:
        config = _config(arguments)
        _dispatch(config, arguments)
    except CommandError as error:
        print(f"athanor migrate: error: {error}", file=sys.stderr)
        return 2
    except MigrationFailed as error:
        print(f"athanor migrate: error: {error}", file=sys.stderr)
        return 1
    except CheckFailed as error:
        print(str(error), file=sys.stderr)
        return 1
    except (exc.ArgumentError, exc.NoSuchModuleError) as error:
        print(f"athanor migrate: error: {_first_line(error)}", file=sys.stderr)
        return 2
    except exc.SQLAlchemyError as error:
        print(
            f"athanor migrate: error: {type(error).__name__}: {_first_line(error)}", file=sys.stderr
        )
        return 1
    except BrokenPipeError:
        # The reader went away (``upgrade head --sql | head``): stop quietly, and keep the
        # interpreter from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
