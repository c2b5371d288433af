"""create_mock_engine(), AssertionPool, the reset_on_return names and DontWrapMixin."""

from __future__ import annotations

from typing import Any

import pytest

import athanor
from athanor import exc
from athanor.engine import create_engine
from athanor.pool import AssertionPool, reset_commit, reset_none, reset_rollback
from athanor.sql import (
    Column,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    func,
    insert,
    literal,
    select,
    text,
)
from backends import Backend


def _schema() -> MetaData:
    metadata = MetaData()
    Table(
        "mk_parent",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("kind", Enum("a", "b", name="mk_kind")),
    )
    Table(
        "mk_child",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("mk_parent.id")),
    )
    return metadata


@pytest.mark.parametrize("url", ["sqlite://", "postgresql+psycopg://", "mysql+pymysql://"])
def test_mock_engine_hands_create_all_ddl_to_the_executor(url: str) -> None:
    seen: list[str] = []

    def executor(statement: Any, *parameters: Any) -> None:
        seen.append(str(statement.compile(dialect=engine.dialect)))

    engine = athanor.create_mock_engine(url, executor)
    _schema().create_all(engine)
    creates = [s.split("(")[0].strip() for s in seen]
    assert creates[-2:] == ["CREATE TABLE mk_parent", "CREATE TABLE mk_child"]
    assert ("CREATE TYPE mk_kind AS ENUM" in seen[0]) == url.startswith("postgresql")
    assert "FOREIGN KEY(parent_id)" in seen[-1].replace(" (", "(")


def test_mock_engine_ddl_runs_on_the_database(backend: Backend) -> None:
    statements: list[Any] = []
    mock = athanor.create_mock_engine(backend.url, lambda s, *p: statements.append(s))
    _schema().create_all(mock)
    engine = create_engine(backend.url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(statement)
            conn.execute(text("INSERT INTO mk_parent (id, kind) VALUES (1, 'a')"))
            conn.execute(text("INSERT INTO mk_child (id, parent_id) VALUES (1, 1)"))
            assert conn.scalar(text("SELECT count(*) FROM mk_child")) == 1
    finally:
        _schema().drop_all(engine)
        engine.dispose()


def test_assertion_pool_allows_one_connection_at_a_time(backend: Backend) -> None:
    engine = create_engine(backend.url, poolclass=AssertionPool)
    try:
        first = engine.connect()
        with pytest.raises(AssertionError, match="already checked out"):
            engine.connect()
        first.close()
        with engine.connect() as again:
            assert again.scalar(select(literal(1))) == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize(("choice", "kept"), [(reset_commit, 1), (reset_rollback, 0)])
def test_reset_on_return_names(backend: Backend, choice: Any, kept: int) -> None:
    table = Table("mk_reset", MetaData(), Column("id", Integer, primary_key=True))
    engine = create_engine(backend.url, pool_reset_on_return=choice)
    try:
        table.create(engine)
        raw = engine.raw_connection()  # a pooled driver connection: the pool resets it
        cursor = raw.cursor()
        if backend.is_sqlite:  # the driver connection is in autocommit mode until BEGIN
            cursor.execute("BEGIN")
        cursor.execute("INSERT INTO mk_reset (id) VALUES (1)")
        cursor.close()
        raw.close()  # no commit: the pool's reset decides
        with engine.connect() as check:
            assert check.scalar(select(func.count()).select_from(table)) == kept
    finally:
        engine.dispose()


def test_reset_none_leaves_the_transaction_to_the_application(backend: Backend) -> None:
    engine = create_engine(backend.url, pool_reset_on_return=reset_none)
    try:
        assert engine.pool._reset_on_return is None
    finally:
        engine.dispose()


class Refused(exc.DontWrapMixin, ValueError):
    """An application error raised while binding, which must reach the caller unchanged."""


class Checked(TypeDecorator[int]):
    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value < 0:
            raise Refused(f"negative: {value}")
        return value


def test_dont_wrap_mixin_errors_reach_the_caller_as_raised(backend: Backend) -> None:
    table = Table("mk_checked", MetaData(), Column("v", Checked()), Column("s", String(5)))
    engine = create_engine(backend.url)
    try:
        table.create(engine)
        with engine.begin() as conn, pytest.raises(Refused, match="negative: -1"):
            conn.execute(insert(table), [{"v": -1, "s": "x"}])
        with pytest.raises(exc.DBAPIError), engine.begin() as conn:
            conn.execute(text("INSERT INTO mk_missing VALUES (1)"))
    finally:
        engine.dispose()


def test_exception_classes_sit_where_sqlalchemy_puts_them() -> None:
    assert issubclass(exc.IllegalStateChangeError, exc.InvalidRequestError)
    assert issubclass(exc.UnboundExecutionError, exc.InvalidRequestError)
    assert issubclass(exc.UnreflectableTableError, exc.InvalidRequestError)
    assert issubclass(exc.DuplicateColumnError, exc.ArgumentError)
    assert issubclass(exc.ConstraintColumnNotFoundError, exc.ArgumentError)
    assert issubclass(exc.LegacyAPIWarning, exc.SADeprecationWarning)
    assert issubclass(exc.MovedIn20Warning, DeprecationWarning)
    assert exc.SADeprecationWarning("old", code="b8d9").code == "b8d9"


def test_typed_decorators_written_against_the_interface_modules_run(backend: Backend) -> None:
    from athanor.engine import Dialect as EngineDialect
    from athanor.engine.interfaces import Dialect
    from athanor.sql.sqltypes import String as SqlTypesString
    from athanor.sql.type_api import TypeEngine

    class Upper(TypeDecorator[str]):
        impl = SqlTypesString(20)
        cache_ok = True

        def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
            assert isinstance(dialect, Dialect)
            return None if value is None else value.upper()

        def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
            return String(40) if dialect.name == "postgresql" else String(20)

    assert EngineDialect is Dialect and SqlTypesString is String
    engine = create_engine(backend.url)
    try:
        assert isinstance(engine.dialect, Dialect)
        with engine.connect() as conn:
            assert conn.execute(select(literal("abc", Upper()))).scalar() == "ABC"
    finally:
        engine.dispose()
