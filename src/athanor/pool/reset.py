"""What a pool does with a connection handed back: the ``reset_on_return`` choices by name."""

from __future__ import annotations

from enum import StrEnum


class ResetStyle(StrEnum):
    """A ``reset_on_return`` value; each member equals the string the pool also accepts."""

    reset_rollback = "rollback"
    reset_commit = "commit"
    reset_none = "none"


reset_rollback = ResetStyle.reset_rollback
reset_commit = ResetStyle.reset_commit
reset_none = ResetStyle.reset_none
