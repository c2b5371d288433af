"""@compiles rules: custom constructs, overridden built-ins and types, on every database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import exc, inspect
from athanor.dialects import mysql, postgresql, sqlite
from athanor.engine import create_engine
from athanor.ext.asyncio import create_async_engine
from athanor.ext.compiler import compiles, deregister
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column
from athanor.schema import CreateTable, DDLElement
from athanor.sql import (
    Column,
    ColumnClause,
    ColumnElement,
    Executable,
    FunctionElement,
    Integer,
    MetaData,
    String,
    Table,
    UserDefinedType,
    column,
    func,
    insert,
    literal,
    select,
    table,
)
from athanor.sql.elements import ClauseElement
from athanor.sql.functions import GenericFunction
from backends import Backend

DIALECTS = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.dialect(),
    "mysql": mysql.dialect(),
}


class Bracketed(ColumnClause):
    """A column rendered in brackets (no database understands it: compile-only)."""

    inherit_cache = True


@compiles(Bracketed)
def _bracketed(element: Any, compiler: Any, **kw: Any) -> str:
    return f"[{element.name}]"


class greatest(FunctionElement):  # noqa: N801 - a SQL function's name
    """The larger argument: ``greatest()`` on PostgreSQL and MariaDB, ``max()`` on SQLite."""

    type = Integer()
    inherit_cache = True


@compiles(greatest)
def _greatest(element: Any, compiler: Any, **kw: Any) -> str:
    return f"greatest({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


class InsertFromSelect(Executable, ClauseElement):
    """``INSERT INTO table <select>``: a statement of the user's own."""

    def __init__(self, target: Any, query: Any) -> None:
        self.target = target
        self.query = query


@compiles(InsertFromSelect)
def _insert_from_select(element: Any, compiler: Any, **kw: Any) -> str:
    target = compiler.process(element.target, asfrom=True, **kw)
    return f"INSERT INTO {target} {compiler.process(element.query, **kw)}"


class DropIfExists(DDLElement):
    """``DROP TABLE IF EXISTS``: a DDL statement of the user's own."""

    def __init__(self, target: Any) -> None:
        self.target = target


@compiles(DropIfExists)
def _drop_if_exists(element: Any, compiler: Any, **kw: Any) -> str:
    return f"DROP TABLE IF EXISTS {compiler.format_table(element.target)}"


class Word(UserDefinedType[str]):
    """A short string whose DDL name differs per database."""

    cache_ok = True


@compiles(Word)
def _word(type_: Any, compiler: Any, **kw: Any) -> str:
    return "VARCHAR(12)"


@compiles(Word, "postgresql")
def _word_pg(type_: Any, compiler: Any, **kw: Any) -> str:
    return "CHARACTER VARYING(12)"


metadata = MetaData()
numbers = Table(
    "cx_numbers", metadata, Column("id", Integer, primary_key=True), Column("n", Integer)
)
words = Table("cx_words", metadata, Column("id", Integer, primary_key=True), Column("w", Word()))


@pytest.fixture
def engine(backend: Backend) -> Iterator[Any]:
    engine = create_engine(backend.url)
    yield engine
    engine.dispose()


def test_a_rule_for_every_dialect_renders_a_custom_column() -> None:
    stmt = select(Bracketed("x"), Bracketed("y"))
    for dialect in DIALECTS.values():
        assert stmt.compile(dialect=dialect).string == "SELECT [x], [y]"
    assert str(stmt) == "SELECT [x], [y]"


def test_a_dialect_rule_wins_over_the_default_one() -> None:
    stmt = select(greatest(column("a"), column("b")))
    assert "max(a, b)" in stmt.compile(dialect=DIALECTS["sqlite"]).string
    assert "greatest(a, b)" in stmt.compile(dialect=DIALECTS["postgresql"]).string
    assert "greatest(a, b)" in stmt.compile(dialect=DIALECTS["mysql"]).string


def test_custom_function_runs_with_bound_values(engine: Any) -> None:
    with engine.connect() as conn:
        assert conn.scalar(select(greatest(literal(3), literal(7), literal(5)))) == 7
        # the same shape again (a cached compiled form) with other values
        assert conn.scalar(select(greatest(literal(11), literal(2), literal(5)))) == 11


def test_keyword_arguments_reach_the_rule_and_the_elements_it_renders() -> None:
    seen: list[dict[str, Any]] = []

    class Traced(ColumnElement[int]):
        def __init__(self, inner: Any) -> None:
            self.inner = inner

    @compiles(Traced)
    def _traced(element: Any, compiler: Any, **kw: Any) -> str:
        seen.append(kw)
        return f"({compiler.process(element.inner, **kw)})"

    stmt = select(Traced(literal(5)))
    sql = stmt.compile(dialect=DIALECTS["postgresql"], compile_kwargs={"literal_binds": True})
    assert sql.string.startswith("SELECT (5)")
    assert seen[-1].get("literal_binds") is True


def test_a_statement_of_ones_own_executes(engine: Any) -> None:
    metadata.create_all(engine)
    source = table("cx_numbers", column("id"), column("n"))
    with engine.begin() as conn:
        conn.execute(insert(numbers), [{"id": i, "n": i * 10} for i in (1, 2, 3)])
        query = select(source.c.id + 10, source.c.n + 1).where(source.c.id >= 2)
        conn.execute(InsertFromSelect(numbers, query))
        rows = conn.execute(select(numbers.c.id, numbers.c.n).order_by(numbers.c.id)).all()
    assert [tuple(r) for r in rows] == [(1, 10), (2, 20), (3, 30), (12, 21), (13, 31)]


def test_a_ddl_statement_of_ones_own_executes(engine: Any) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(DropIfExists(numbers))
        conn.execute(DropIfExists(numbers))  # a second time: IF EXISTS
    assert "cx_numbers" not in inspect(engine).get_table_names()


def test_overriding_create_table_and_calling_the_original(engine: Any) -> None:
    @compiles(CreateTable)
    def _if_not_exists(element: Any, compiler: Any, **kw: Any) -> str:
        sql: str = compiler.visit_create_table(element, **kw)
        return sql.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1)

    try:
        with engine.begin() as conn:
            conn.execute(CreateTable(numbers))
            conn.execute(CreateTable(numbers))  # would fail without IF NOT EXISTS
        assert "IF NOT EXISTS" in str(CreateTable(numbers).compile(dialect=engine.dialect))
    finally:
        deregister(CreateTable)
    assert "IF NOT EXISTS" not in str(CreateTable(numbers).compile(dialect=engine.dialect))
    with pytest.raises(exc.DBAPIError), engine.begin() as conn:
        conn.execute(CreateTable(numbers))


def test_a_type_rule_renders_ddl_and_values_round_trip(engine: Any) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(words), [{"id": 1, "w": "alpha"}, {"id": 2, "w": "beta"}])
        assert conn.scalars(select(words.c.w).order_by(words.c.id)).all() == ["alpha", "beta"]
    (found,) = [c for c in inspect(engine).get_columns("cx_words") if c["name"] == "w"]
    assert getattr(found["type"], "length", None) == 12
    pg = str(CreateTable(words).compile(dialect=DIALECTS["postgresql"]))
    assert "w CHARACTER VARYING(12)" in pg


def test_overriding_a_built_in_type_for_one_dialect() -> None:
    @compiles(String, "sqlite")
    def _text(type_: Any, compiler: Any, **kw: Any) -> str:
        return "TEXT"

    t = Table("cx_s", MetaData(), Column("s", String(20)))
    try:
        assert "s TEXT" in str(CreateTable(t).compile(dialect=DIALECTS["sqlite"]))
        assert "s VARCHAR(20)" in str(CreateTable(t).compile(dialect=DIALECTS["postgresql"]))
    finally:
        deregister(String)
    assert "s VARCHAR(20)" in str(CreateTable(t).compile(dialect=DIALECTS["sqlite"]))


def test_a_subclass_uses_its_parents_rule_until_it_has_its_own() -> None:
    class Child(Bracketed):
        inherit_cache = True

    assert str(select(Child("c"))) == "SELECT [c]"

    @compiles(Child, "postgresql")
    def _child(element: Any, compiler: Any, **kw: Any) -> str:
        return f"<{element.name}>"

    try:
        assert select(Child("c")).compile(dialect=DIALECTS["postgresql"]).string == "SELECT <c>"
        assert select(Child("c")).compile(dialect=DIALECTS["sqlite"]).string == "SELECT [c]"
    finally:
        deregister(Child)
    assert select(Child("c")).compile(dialect=DIALECTS["postgresql"]).string == "SELECT [c]"


def test_a_construct_without_a_rule_for_the_dialect_is_a_clear_error() -> None:
    class PgOnly(ColumnElement[int]):
        pass

    @compiles(PgOnly, "postgresql")
    def _pg(element: Any, compiler: Any, **kw: Any) -> str:
        return "1"

    assert select(PgOnly()).compile(dialect=DIALECTS["postgresql"]).string.startswith("SELECT 1")
    with pytest.raises(exc.UnsupportedCompilationError, match=r"PgOnly.*sqlite.*@compiles"):
        select(PgOnly()).compile(dialect=DIALECTS["sqlite"])


def test_compiles_refuses_what_is_not_a_construct() -> None:
    with pytest.raises(exc.ArgumentError, match="ClauseElement or TypeEngine"):
        compiles(int)  # type: ignore[arg-type]


def test_a_subclass_of_a_built_in_does_not_share_its_cached_sql(engine: Any) -> None:
    class Doubled(ColumnClause):
        """Renders its name twice; deliberately no inherit_cache (never cached)."""

    @compiles(Doubled)
    def _doubled(element: Any, compiler: Any, **kw: Any) -> str:
        return f"{element.name} + {element.name}"

    source = table("cx_numbers", column("n"))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(numbers), [{"id": 1, "n": 4}])
        plain = select(ColumnClause("n", Integer(), _selectable=None)).select_from(source)
        doubled = select(Doubled("n", Integer())).select_from(source)
        assert conn.scalar(plain) == 4
        assert conn.scalar(doubled) == 8
        assert conn.scalar(plain) == 4
        with_cache = select(Bracketed("n")).select_from(source)
        assert "[n]" in str(with_cache)
        assert (
            with_cache._generate_cache_key()[0]
            != select(column("n")).select_from(source)._generate_cache_key()[0]
        )


class Base(DeclarativeBase):
    pass


class Gauge(Base):
    __tablename__ = "cx_gauges"
    id: Mapped[int] = mapped_column(primary_key=True)
    low: Mapped[int]
    high: Mapped[int]


def test_custom_construct_in_orm_queries(engine: Any) -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Gauge(id=1, low=3, high=9), Gauge(id=2, low=8, high=4)])
        session.commit()
        top = session.scalars(select(greatest(Gauge.low, Gauge.high)).order_by(Gauge.id)).all()
        assert top == [9, 8]
        found = session.scalars(select(Gauge).where(greatest(Gauge.low, Gauge.high) == 8)).all()
        assert [g.id for g in found] == [2]


def test_custom_construct_through_an_async_engine(backend: Backend) -> None:
    async def main() -> list[Any]:
        async_engine = create_async_engine(backend.async_url())
        try:
            async with async_engine.connect() as conn:
                result = await conn.execute(select(greatest(literal(2), literal(6))))
                return list(result.scalars())
        finally:
            await async_engine.dispose()

    assert asyncio.run(main()) == [6]


class lower_case(GenericFunction):  # noqa: N801 - a SQL function's name
    """``func.lower_case(x)`` renders ``lower(x)`` and is typed as a string."""

    name = "lower"
    identifier = "lower_case"
    type = String()


def test_a_generic_function_class_is_what_func_builds(engine: Any) -> None:
    call = func.lower_case("AbC")
    assert isinstance(call, lower_case)
    assert isinstance(call.type, String)
    assert "lower(" in str(call)
    with engine.connect() as conn:
        assert conn.scalar(select(call)) == "abc"
