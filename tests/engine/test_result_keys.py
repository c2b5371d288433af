"""Result keys resolve against the statement actually executed, also on a compiled-cache hit.

Statements of the same shape share one compiled form and one result shape; the column objects
of a new ``alias()`` or subquery must still find their columns in the rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from athanor import exc
from athanor.engine import Engine, create_engine
from athanor.sql import Column, Integer, MetaData, String, Table, func, insert, select
from backends import Backend

metadata = MetaData()
things = Table(
    "rk_things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("size", Integer),
)


@pytest.fixture(params=[500, 0], ids=["cached", "uncached"])
def engine(backend: Backend, request: pytest.FixtureRequest) -> Iterator[Engine]:
    eng = create_engine(backend.url, query_cache_size=request.param)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(insert(things), [{"id": i, "name": f"t{i}", "size": i * 10} for i in (1, 2)])
    yield eng
    eng.dispose()


def test_new_alias_of_the_same_shape_resolves(engine: Engine) -> None:
    with engine.connect() as conn:
        for _ in range(3):
            alias = things.alias()
            row = conn.execute(select(alias.c.id, alias.c.name).order_by(alias.c.id)).first()
            assert row is not None
            assert row._mapping[alias.c.name] == "t1"
            assert row._mapping[alias.c.id] == 1
            assert alias.c.name in row._mapping


def test_new_subquery_of_the_same_shape_resolves(engine: Engine) -> None:
    with engine.connect() as conn:
        for limit in (15, 16, 17):
            sub = (
                select(things.c.name, (things.c.size + 1).label("bigger"))
                .where(things.c.size < limit)
                .subquery()
            )
            result = conn.execute(
                select(sub.c.name, sub.c.bigger, func.count().label("n")).group_by(
                    sub.c.name, sub.c.bigger
                )
            )
            rows = result.all()
            assert [r._mapping[sub.c.bigger] for r in rows] == [11]
            again = conn.execute(select(sub.c.name, sub.c.bigger))
            assert again.scalars(sub.c.bigger).all() == [11]
            assert conn.execute(select(sub.c.name, sub.c.bigger)).columns(sub.c.name).all() == [
                ("t1",)
            ]


def test_columns_not_in_the_statement_are_refused(engine: Engine) -> None:
    with engine.connect() as conn:
        alias = things.alias()
        conn.execute(select(alias.c.name)).all()
        other = things.alias()
        row = conn.execute(select(other.c.name).where(other.c.id == 1)).one()
        with pytest.raises(exc.NoSuchColumnError):
            row._mapping[other.c.size]
        with pytest.raises(exc.NoSuchColumnError):
            row._mapping[things.c.name]
        differently_named = things.alias("named")
        with pytest.raises(exc.NoSuchColumnError):
            row._mapping[differently_named.c.name]


def test_self_join_of_identical_aliases_resolves_each_side(engine: Engine) -> None:
    """Two same-shape anonymous aliases cannot be told apart by shape: rows are keyed by the
    executed statement's own columns."""
    with engine.connect() as conn:
        for _ in range(3):
            left, right = things.alias(), things.alias()
            stmt = select(left.c.name, right.c.size).where(left.c.id == right.c.id)
            row = conn.execute(stmt.order_by(left.c.id)).first()
            assert row is not None
            assert row._mapping[left.c.name] == "t1"
            assert row._mapping[right.c.size] == 10
            with pytest.raises(exc.NoSuchColumnError):
                row._mapping[right.c.name]
