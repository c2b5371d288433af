"""The engine layer: ``create_engine``, ``Engine``, ``Connection``, transactions and results."""

from athanor.engine.connection import Connection, ExceptionContext
from athanor.engine.context import ExecutionContext
from athanor.engine.create import create_engine, create_pool_from_url, engine_from_config
from athanor.engine.default import DefaultDialect
from athanor.engine.engine import Engine, OptionEngine
from athanor.engine.interfaces import Dialect
from athanor.engine.mock import create_mock_engine
from athanor.engine.reflection import Inspector, ObjectKind, ObjectScope
from athanor.engine.result import (
    ChunkedIteratorResult,
    CursorResult,
    FrozenResult,
    MappingResult,
    Result,
    ScalarResult,
    TupleResult,
)
from athanor.engine.row import Row, RowMapping
from athanor.engine.transaction import NestedTransaction, RootTransaction, Transaction
from athanor.url import URL, make_url

__all__ = [
    "URL",
    "ChunkedIteratorResult",
    "Connection",
    "CursorResult",
    "DefaultDialect",
    "Dialect",
    "Engine",
    "ExceptionContext",
    "ExecutionContext",
    "FrozenResult",
    "Inspector",
    "MappingResult",
    "NestedTransaction",
    "ObjectKind",
    "ObjectScope",
    "OptionEngine",
    "Result",
    "RootTransaction",
    "Row",
    "RowMapping",
    "ScalarResult",
    "Transaction",
    "TupleResult",
    "create_engine",
    "create_mock_engine",
    "create_pool_from_url",
    "engine_from_config",
    "make_url",
]
