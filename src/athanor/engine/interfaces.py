"""``athanor.engine.interfaces``: the names code written for SQLAlchemy annotates dialects,
contexts and driver objects with (``def process_bind_param(self, value, dialect: Dialect)``).
"""

from typing import Any, Literal

from athanor.engine.connection import ExceptionContext
from athanor.engine.context import ExecutionContext
from athanor.engine.default import DefaultDialect
from athanor.sql.compiler import Compiled
from athanor.sql.ddl import TypeCompiler

Dialect = DefaultDialect
"""The base of every dialect: ``isinstance(engine.dialect, Dialect)`` holds for all of them."""

DBAPIConnection = Any
"""A driver's connection object (PEP 249)."""

DBAPICursor = Any
"""A driver's cursor object (PEP 249)."""

IsolationLevel = Literal[
    "SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED", "READ UNCOMMITTED", "AUTOCOMMIT"
]
"""The ``isolation_level`` values every database accepts."""

__all__ = [
    "Compiled",
    "DBAPIConnection",
    "DBAPICursor",
    "Dialect",
    "ExceptionContext",
    "ExecutionContext",
    "IsolationLevel",
    "TypeCompiler",
]
