"""asyncio support: ``create_async_engine`` and the awaitable engine, connection and results.

The synchronous engine does the work; async drivers are adapted to it through the greenlet
bridge (``athanor.util.concurrency``), so behaviour matches ``create_engine`` exactly.
"""

from athanor.ext.asyncio.engine import (
    AsyncConnection,
    AsyncEngine,
    AsyncTransaction,
    async_engine_from_config,
    create_async_engine,
)
from athanor.ext.asyncio.result import AsyncMappingResult, AsyncResult, AsyncScalarResult

__all__ = [
    "AsyncConnection",
    "AsyncEngine",
    "AsyncMappingResult",
    "AsyncResult",
    "AsyncScalarResult",
    "AsyncTransaction",
    "async_engine_from_config",
    "create_async_engine",
]
