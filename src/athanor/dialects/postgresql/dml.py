"""PostgreSQL ``insert()`` with ``ON CONFLICT DO NOTHING / DO UPDATE`` (upserts)."""

from __future__ import annotations

from typing import Any

from athanor.sql.dml import OnConflictDoNothing, OnConflictDoUpdate, OnConflictInsert


class Insert(OnConflictInsert):
    """``INSERT`` with :meth:`on_conflict_do_update` / :meth:`on_conflict_do_nothing`."""


def insert(table: Any) -> Insert:
    """A PostgreSQL INSERT that can take ``ON CONFLICT``."""
    return Insert(table)


__all__ = ["Insert", "OnConflictDoNothing", "OnConflictDoUpdate", "insert"]
