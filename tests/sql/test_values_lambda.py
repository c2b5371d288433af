"""values(), lambda_stmt() and the smaller constructs (try_cast, tablesample, within_group,
funcfilter, cte, outparam, quoted_name, custom_op, bitwise_not, modifier) on every database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor import exc
from athanor.dialects import mysql, postgresql, sqlite
from athanor.engine import create_engine
from athanor.orm import DeclarativeBase, Session
from athanor.sql import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bitwise_not,
    column,
    cte,
    custom_op,
    func,
    funcfilter,
    insert,
    lambda_stmt,
    literal,
    modifier,
    outparam,
    quoted_name,
    select,
    tablesample,
    try_cast,
    values,
    within_group,
)
from backends import Backend

DIALECTS = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.dialect(),
    "mysql": mysql.dialect(),
}

metadata = MetaData()
people = Table(
    "vl_people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40)),
    Column("score", Integer),
)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Any]:
    engine = create_engine(backend.url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def pairs() -> Any:
    return values(column("id", Integer), column("name", String), name="pairs")


# --- values() ---------------------------------------------------------------------------


def test_values_is_a_from_object_with_named_columns(engine: Any) -> None:
    v = pairs().data([(1, "one"), (2, "two")]).data([(3, "three")])
    with engine.connect() as conn:
        rows = conn.execute(select(v.c.id, v.c.name).order_by(v.c.id)).all()
    assert [tuple(r) for r in rows] == [(1, "one"), (2, "two"), (3, "three")]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.lists(
        st.tuples(
            st.integers(-(2**31), 2**31 - 1),
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
        ),
        min_size=1,
        max_size=12,
    ),
    literal_binds=st.booleans(),
)
def test_values_rows_round_trip(
    engine: Any, rows: list[tuple[int, str]], literal_binds: bool
) -> None:
    numbered = [(i, number, text) for i, (number, text) in enumerate(rows)]
    v = values(
        column("pos", Integer),
        column("n", Integer),
        column("s", String),
        name="vals",
        literal_binds=literal_binds,
    ).data(numbered)
    with engine.connect() as conn:
        got = conn.execute(select(v.c.pos, v.c.n, v.c.s).order_by(v.c.pos)).all()
    assert [tuple(r) for r in got] == numbered


def test_values_joined_to_a_table_and_aliased(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(people),
            [{"id": 1, "name": "ann", "score": 5}, {"id": 2, "name": "bo", "score": 7}],
        )
        bonus = values(column("person", Integer), column("bonus", Integer)).data([(1, 10), (2, 20)])
        named = bonus.alias("bonus")
        query = (
            select(people.c.name, people.c.score + named.c.bonus)
            .join_from(people, named, people.c.id == named.c.person)
            .order_by(people.c.id)
        )
        assert [tuple(r) for r in conn.execute(query)] == [("ann", 15), ("bo", 27)]
        # the same shape with other values reuses the compiled form
        again = values(column("person", Integer), column("bonus", Integer)).data([(1, 1), (2, 2)])
        other = again.alias("bonus")
        query = (
            select(people.c.score + other.c.bonus)
            .join_from(people, other, people.c.id == other.c.person)
            .order_by(people.c.id)
        )
        assert conn.scalars(query).all() == [6, 9]


def test_scalar_values_on_the_right_of_in(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(insert(people), [{"id": i, "name": f"p{i}", "score": i} for i in range(1, 6)])
        wanted = values(column("id", Integer)).data([(2,), (4,)]).scalar_values()
        found = conn.scalars(
            select(people.c.id).where(people.c.id.in_(wanted)).order_by(people.c.id)
        )
        assert found.all() == [2, 4]


def test_values_per_dialect_syntax() -> None:
    v = pairs().data([(1, "a")])
    stmt = select(v.c.id)
    assert "(VALUES (" in str(stmt.compile(dialect=DIALECTS["postgresql"]))
    assert ") AS pairs (id, name)" in str(stmt.compile(dialect=DIALECTS["postgresql"]))
    assert "column1 AS id" in str(stmt.compile(dialect=DIALECTS["sqlite"]))
    assert "UNION ALL" not in str(stmt.compile(dialect=DIALECTS["mysql"]))
    two = select(pairs().data([(1, "a"), (2, "b")]).c.id)
    assert " UNION ALL SELECT " in str(two.compile(dialect=DIALECTS["mysql"]))
    inline = values(column("x", Integer), literal_binds=True).data([(7,)])
    assert "VALUES (7)" in str(select(inline.c.x).compile(dialect=DIALECTS["postgresql"]))


def test_values_bad_input_is_a_clear_error() -> None:
    with pytest.raises(exc.CompileError, match=r"no rows.*\.data\("):
        str(select(pairs().c.id).compile(dialect=DIALECTS["postgresql"]))
    with pytest.raises(exc.ArgumentError, match="one value for each of the 2 columns"):
        pairs().data([(1,)])
    with pytest.raises(exc.ArgumentError, match=r"column\('name', Type\)"):
        values("id")  # type: ignore[arg-type]


# --- lambda_stmt() -----------------------------------------------------------------------


def _by_score(minimum: int, name: str | None) -> Any:
    stmt = lambda_stmt(lambda: select(people.c.id).where(people.c.score >= minimum))
    if name is not None:
        stmt += lambda s: s.where(people.c.name == name)
    stmt += lambda s: s.order_by(people.c.id)
    return stmt


def test_lambda_statement_runs_with_its_captured_values(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(people), [{"id": i, "name": f"p{i % 2}", "score": i} for i in range(1, 7)]
        )
        assert conn.scalars(_by_score(3, None)).all() == [3, 4, 5, 6]
        assert conn.scalars(_by_score(5, None)).all() == [5, 6]
        assert conn.scalars(_by_score(2, "p0")).all() == [2, 4, 6]
    assert "WHERE vl_people.score >=" in str(_by_score(1, None))


def test_lambda_statement_in_an_orm_session(engine: Any) -> None:
    class Base(DeclarativeBase):
        pass

    class Person(Base):
        __table__ = people

    with engine.begin() as conn:
        conn.execute(
            insert(people), [{"id": 1, "name": "a", "score": 3}, {"id": 2, "name": "b", "score": 9}]
        )
    with Session(engine) as session:
        stmt = lambda_stmt(lambda: select(Person).where(Person.score > 5))
        found = session.scalars(stmt).all()
        assert [(type(p), p.name) for p in found] == [(Person, "b")]


def test_lambda_statement_needs_a_callable_returning_a_statement() -> None:
    with pytest.raises(exc.ArgumentError, match="callable"):
        lambda_stmt(select(people))  # type: ignore[arg-type]
    with pytest.raises(exc.ArgumentError, match="not a statement"):
        str(lambda_stmt(lambda: 5))


# --- smaller constructs ------------------------------------------------------------------


def test_try_cast_is_sql_servers_and_a_clear_error_here(backend: Backend) -> None:
    expr = try_cast(people.c.name, Integer)
    assert "TRY_CAST(vl_people.name AS INTEGER)" in str(select(expr))
    with pytest.raises(exc.CompileError, match="no TRY_CAST; use cast"):
        select(expr).compile(dialect=DIALECTS[backend.name])


def test_tablesample(engine: Any, backend: Backend) -> None:
    sample = tablesample(people, 100, name="sampled", seed=7)
    stmt = select(func.count()).select_from(sample)
    if backend.name != "postgresql":
        with pytest.raises(exc.CompileError, match="no TABLESAMPLE"):
            stmt.compile(dialect=engine.dialect)
        return
    with engine.begin() as conn:
        conn.execute(insert(people), [{"id": i, "name": "x", "score": i} for i in range(1, 21)])
        assert conn.scalar(stmt) == 20
        bernoulli = people.tablesample(func.bernoulli(0), name="none_of_them")
        assert conn.scalar(select(func.count()).select_from(bernoulli)) == 0
    assert "TABLESAMPLE system(" in str(stmt.compile(dialect=engine.dialect))
    assert "REPEATABLE (" in str(stmt.compile(dialect=engine.dialect))


def test_standalone_within_group_funcfilter_and_cte(engine: Any, backend: Backend) -> None:
    with engine.begin() as conn:
        conn.execute(insert(people), [{"id": i, "name": "n", "score": i * 10} for i in range(1, 6)])
        base = cte(select(people.c.id, people.c.score).where(people.c.id > 1), name="above_one")
        assert conn.scalar(select(func.sum(base.c.score))) == 140
        if backend.name != "mysql":  # MySQL and MariaDB have no FILTER clause
            counted = funcfilter(func.count(people.c.id), people.c.score > 20)
            assert conn.scalar(select(counted)) == 3
        if backend.name == "postgresql":
            median = within_group(func.percentile_cont(0.5), people.c.score)
            assert conn.scalar(select(median)) == 30


def test_custom_op_bitwise_not_and_modifier(engine: Any, backend: Backend) -> None:
    with engine.connect() as conn:
        plus = literal(5).operate(custom_op("+"), 3)
        assert conn.scalar(select(plus)) == 8
        greater = literal(5).operate(custom_op(">", is_comparison=True, return_type=Boolean), 3)
        assert isinstance(greater.type, Boolean)
        assert bool(conn.scalar(select(greater))) is True
        flipped = conn.scalar(select(bitwise_not(literal(5))))
        assert flipped == (2**64 - 6 if backend.name == "mysql" else -6)
        assert conn.scalar(select(modifier.lower("AbC"))) == "abc"


def test_outparam_and_quoted_name(engine: Any) -> None:
    param = outparam("result", Integer)
    assert param.isoutparam and param.key == "result"
    forced = Table(
        "vl_quoted",
        MetaData(),
        Column(quoted_name("MixedCase", quote=True), Integer, primary_key=True),
        Column(quoted_name("plain", quote=True), Integer),
    )
    sql = str(select(forced).compile(dialect=engine.dialect))
    q = engine.dialect.identifier_preparer.initial_quote
    assert f"{q}MixedCase{q}" in sql and f"{q}plain{q}" in sql
    forced.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(forced), [{"MixedCase": 1, "plain": 2}])
        assert tuple(conn.execute(select(forced)).one()) == (1, 2)
    never = column(quoted_name("Lower", quote=False))
    assert "SELECT Lower" in str(select(never).compile(dialect=DIALECTS["postgresql"]))
