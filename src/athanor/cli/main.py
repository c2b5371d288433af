"""Entry point of the ``athanor`` command: ``athanor --version``, ``athanor demo``,
``athanor migrate ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import athanor


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser, one subcommand per task."""
    parser = argparse.ArgumentParser(
        prog="athanor",
        description="athanor: a fast database toolkit with a SQLAlchemy 2.x-compatible API.",
    )
    parser.add_argument("--version", action="version", version=f"athanor {athanor.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="a guided tour of athanor on a SQLite file (or any database URL)"
    )
    demo.add_argument(
        "--url",
        default="sqlite:///athanor_demo.db",
        help="database URL to run the tour on (default: sqlite:///athanor_demo.db)",
    )
    from athanor.migrate.cli import add_parser

    add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the process exit status (2 for usage errors)."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "demo":
        from athanor.cli.demo import run_demo

        return run_demo(arguments.url, out=sys.stdout, err=sys.stderr)
    if arguments.command == "migrate":
        from athanor.migrate.cli import run

        return run(arguments)
    parser.print_usage(sys.stderr)
    print("athanor: error: choose a command, e.g. 'athanor demo'", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
