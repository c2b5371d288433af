"""athanor: a fast database toolkit with a SQLAlchemy 2.x-compatible API.

``import athanor as sa`` gives the same names as ``import sqlalchemy as sa``: engines, the SQL
expression language, schema objects and types.
"""

from athanor import event, exc, pool
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
from athanor.inspection import inspect
from athanor.sql import *  # noqa: F403
from athanor.sql import __all__ as _sql_names

__version__ = "0.1.0"

__all__ = [  # noqa: PLE0604
    "URL",
    "ChunkedIteratorResult",
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
    *_sql_names,
]
