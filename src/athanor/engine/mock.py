"""``create_mock_engine()``: an engine that hands statements to a function instead of a
database, to see the DDL ``metadata.create_all()`` would run (or any statement's SQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from athanor.dialects import load_dialect_class, resolve_key
from athanor.url import URL, make_url


class MockConnection:
    """Stands for both engine and connection: ``execute(statement)`` calls the executor
    with the statement object (compile it with ``statement.compile(dialect=mock.dialect)``).

    Nothing exists in a mock database, so ``create_all()`` emits every CREATE statement."""

    def __init__(self, dialect: Any, executor: Callable[..., Any]) -> None:
        self.dialect = dialect
        self._executor = executor

    @property
    def engine(self) -> MockConnection:
        return self

    @property
    def name(self) -> str:
        return str(self.dialect.name)

    def connect(self, **kwargs: Any) -> MockConnection:
        return self

    @contextmanager
    def begin(self) -> Iterator[MockConnection]:
        yield self

    def get_execution_options(self) -> Mapping[str, Any]:
        return {}

    def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> Any:
        """Hand ``statement`` (and ``parameters``, when given) to the executor."""
        if parameters is None:
            return self._executor(statement)
        return self._executor(statement, parameters)


def _nothing_exists(*args: Any, **kwargs: Any) -> bool:
    return False


def create_mock_engine(url: str | URL, executor: Callable[..., Any], **kw: Any) -> MockConnection:
    """A mock engine for the dialect of ``url`` (``"postgresql://"``; no driver is loaded and
    no connection made) whose ``execute()`` calls ``executor(statement, *parameters)``."""
    dialect_class = load_dialect_class(resolve_key(make_url(url)))
    mock_class = type(
        f"Mock{dialect_class.__name__}",
        (dialect_class,),
        {
            "has_table": _nothing_exists,
            "has_type": _nothing_exists,
            "has_sequence": _nothing_exists,
            "has_index": _nothing_exists,
        },
    )
    return MockConnection(mock_class(), executor)
