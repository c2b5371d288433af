"""Errors of the migration tool."""

from __future__ import annotations


class CommandError(Exception):
    """A migration command could not run because of its input (unknown revision, ambiguous
    prefix, missing configuration); the CLI prints it on one line and exits with status 2."""


class MigrationFailed(Exception):
    """A revision script failed while running; names the revision, wraps the cause."""

    def __init__(self, revision: str, doc: str, cause: BaseException) -> None:
        self.revision = revision
        self.cause = cause
        first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        detail = f"{type(cause).__name__}: {first_line}" if first_line else type(cause).__name__
        super().__init__(f"revision {revision} ({doc}) failed: {detail}")


class CheckFailed(Exception):
    """``check`` found differences between the models and the database (exit status 1)."""
