"""athanor: a fast database toolkit with a SQLAlchemy 2.x-compatible API.

``import athanor as sa`` gives the same names as ``import sqlalchemy as sa``: engines, the SQL
expression language, schema objects and types.
"""

from athanor import event, exc, pool, schema
from athanor.engine import (
    URL,
    ChunkedIteratorResult,
    Connection,
    CursorResult,
    Engine,
    ExceptionContext,
    ExecutionContext,
    FrozenResult,
    Inspector,
    MappingResult,
    NestedTransaction,
    Result,
    RootTransaction,
    Row,
    RowMapping,
    ScalarResult,
    Transaction,
    TupleResult,
    create_engine,
    create_pool_from_url,
    engine_from_config,
    make_url,
)
from athanor.engine.mock import create_mock_engine
from athanor.inspection import inspect
from athanor.pool import (
    AssertionPool,
    NullPool,
    Pool,
    QueuePool,
    SingletonThreadPool,
    StaticPool,
)
from athanor.sql import *  # noqa: F403
from athanor.sql import __all__ as _sql_names

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # The asyncio pool is imported only when asked for (see athanor.pool).
    if name == "AsyncAdaptedQueuePool":
        return pool.AsyncAdaptedQueuePool
    raise AttributeError(f"module 'athanor' has no attribute {name!r}")


__all__ = [  # noqa: PLE0604
    "URL",
    "ChunkedIteratorResult",
    "AssertionPool",
    "NullPool",
    "Pool",
    "QueuePool",
    "SingletonThreadPool",
    "StaticPool",
    "create_mock_engine",
    "Connection",
    "CursorResult",
    "Engine",
    "ExceptionContext",
    "ExecutionContext",
    "FrozenResult",
    "Inspector",
    "MappingResult",
    "NestedTransaction",
    "Result",
    "RootTransaction",
    "Row",
    "RowMapping",
    "ScalarResult",
    "Transaction",
    "TupleResult",
    "create_engine",
    "create_pool_from_url",
    "engine_from_config",
    "event",
    "exc",
    "inspect",
    "make_url",
    "pool",
    "schema",
    *_sql_names,
]
