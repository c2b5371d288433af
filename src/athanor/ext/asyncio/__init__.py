"""asyncio support: ``create_async_engine``, the awaitable engine, connection and results, and
``AsyncSession`` (the ORM Session driven through the same bridge).

The synchronous engine does the work; async drivers are adapted to it through the greenlet
bridge (``athanor.util.concurrency``), so behaviour matches ``create_engine`` exactly.
"""

from athanor.ext.asyncio.engine import (
    AsyncConnection,
    AsyncEngine,
    AsyncTransaction,
    async_engine_from_config,
    create_async_engine,
    create_async_pool_from_url,
)
from athanor.ext.asyncio.result import (
    AsyncMappingResult,
    AsyncResult,
    AsyncScalarResult,
    AsyncTupleResult,
)
from athanor.ext.asyncio.scoping import async_scoped_session
from athanor.ext.asyncio.session import (
    AsyncAttrs,
    AsyncSession,
    AsyncSessionTransaction,
    async_object_session,
    async_session,
    async_sessionmaker,
    close_all_sessions,
)

__all__ = [
    "AsyncAttrs",
    "AsyncConnection",
    "AsyncEngine",
    "AsyncMappingResult",
    "AsyncResult",
    "AsyncScalarResult",
    "AsyncSession",
    "AsyncSessionTransaction",
    "AsyncTransaction",
    "AsyncTupleResult",
    "async_engine_from_config",
    "async_object_session",
    "async_scoped_session",
    "async_session",
    "async_sessionmaker",
    "close_all_sessions",
    "create_async_engine",
    "create_async_pool_from_url",
]
