"""Connection pools: ``QueuePool`` (the default), ``NullPool``, ``StaticPool``,
``SingletonThreadPool`` and, for asyncio engines, ``AsyncAdaptedQueuePool``.

A pool lends out :class:`PoolProxiedConnection` objects wrapping DBAPI connections and keeps
one :class:`ConnectionPoolEntry` per physical connection.  Pools fire the events ``connect``,
``first_connect``, ``checkout``, ``checkin``, ``reset``, ``invalidate``, ``soft_invalidate``,
``close``, ``detach`` and ``close_detached``, and log to the ``athanor.pool`` logger.
"""

from __future__ import annotations

import importlib
from typing import Any

from athanor.pool.assertion_pool import AssertionPool
from athanor.pool.base import (
    ConnectionPoolEntry,
    DefaultPoolDialect,
    Pool,
    PoolDialect,
    PoolProxiedConnection,
    PoolResetState,
)
from athanor.pool.null_pool import NullPool
from athanor.pool.queue_pool import QueuePool, ThreadWaiter, Waiter
from athanor.pool.reset import ResetStyle, reset_commit, reset_none, reset_rollback
from athanor.pool.singleton_thread_pool import SingletonThreadPool
from athanor.pool.static_pool import StaticPool
from athanor.pool.stats import PoolStats

__all__ = [
    "AssertionPool",
    "AsyncAdaptedQueuePool",
    "ConnectionPoolEntry",
    "DefaultPoolDialect",
    "NullPool",
    "Pool",
    "PoolDialect",
    "PoolProxiedConnection",
    "PoolResetState",
    "PoolStats",
    "QueuePool",
    "ResetStyle",
    "SingletonThreadPool",
    "StaticPool",
    "ThreadWaiter",
    "Waiter",
    "reset_commit",
    "reset_none",
    "reset_rollback",
]


def __getattr__(name: str) -> Any:
    # The asyncio pool lives with the async support and is imported only when asked for.
    if name == "AsyncAdaptedQueuePool":
        module = importlib.import_module("athanor.pool.async_adapted_queue_pool")
        return module.AsyncAdaptedQueuePool
    raise AttributeError(f"module 'athanor.pool' has no attribute {name!r}")
