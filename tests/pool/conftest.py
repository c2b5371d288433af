"""Fixtures for the pool tests: real sqlite3 connections and an event recorder."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from athanor import event
from athanor.pool import Pool


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    """A SQLite database file with a table ``t(x)``."""
    path = str(tmp_path / "pool.db")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def creator(db_path: str) -> Callable[[], sqlite3.Connection]:
    """A creator opening real sqlite3 connections to :func:`db_path` (thread-shareable)."""

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(db_path, check_same_thread=False)

    return connect


def is_closed(conn: sqlite3.Connection) -> bool:
    """Whether a sqlite3 connection has been closed."""
    try:
        conn.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False


@pytest.fixture
def closed() -> Callable[[sqlite3.Connection], bool]:
    """``closed(conn)`` tells whether a sqlite3 connection was closed."""
    return is_closed


class EventLog:
    """Records every pool event fired on the pools it is attached to."""

    NAMES = (
        "connect",
        "first_connect",
        "checkout",
        "checkin",
        "reset",
        "invalidate",
        "soft_invalidate",
        "close",
        "detach",
        "close_detached",
    )

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def attach(self, pool: Pool) -> EventLog:
        for name in self.NAMES:
            event.listen(pool, name, self._recorder(name))
        return self

    def _recorder(self, name: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def args(self, name: str) -> list[tuple[Any, ...]]:
        return [args for called, args in self.calls if called == name]

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture
def events() -> Iterator[EventLog]:
    """An :class:`EventLog`; ``events.attach(pool)`` starts recording."""
    yield EventLog()
