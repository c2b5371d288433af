"""PostgreSQL upserts (ON CONFLICT) and RETURNING: compiled SQL and behaviour."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from athanor import exc
from athanor.dialects import postgresql
from athanor.dialects.postgresql import insert
from athanor.engine import Engine, create_engine
from athanor.sql import Column, Integer, MetaData, String, Table, UniqueConstraint, select
from backends import Backend

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(20), nullable=False),
    Column("qty", Integer, nullable=False),
    UniqueConstraint("sku", name="uq_items_sku"),
)


def test_on_conflict_do_update_sql() -> None:
    stmt = insert(items).values(sku="a", qty=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[items.c.sku],
        set_={"qty": items.c.qty + stmt.excluded.qty},
        where=items.c.qty < 100,
    )
    compiled = stmt.compile(dialect=postgresql.dialect())
    assert compiled.string == (
        "INSERT INTO items (sku, qty) VALUES (%(sku)s, %(qty)s) ON CONFLICT (sku) "
        "DO UPDATE SET qty = items.qty + excluded.qty WHERE items.qty < %(qty_1)s RETURNING id"
    )
    assert compiled.params == {"sku": "a", "qty": 1, "qty_1": 100}


def test_on_conflict_named_constraint_and_do_nothing_sql() -> None:
    stmt = insert(items).values(sku="a", qty=1).on_conflict_do_nothing(constraint="uq_items_sku")
    assert str(stmt.compile(dialect=postgresql.dialect())).startswith(
        "INSERT INTO items (sku, qty) VALUES (%(sku)s, %(qty)s) ON CONFLICT ON CONSTRAINT "
        "uq_items_sku DO NOTHING"
    )
    with pytest.raises(exc.ArgumentError, match="set_"):
        insert(items).on_conflict_do_update(index_elements=["sku"])
    with pytest.raises(exc.ArgumentError, match="index_elements"):
        insert(items).on_conflict_do_update(set_={"qty": 1})


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


@pytest.mark.backends("postgresql")
def test_upsert_behaviour(engine: Engine) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        first = conn.execute(insert(items).values(sku="a", qty=1))
        assert first.inserted_primary_key == (1,)
        stmt = insert(items).values(sku="a", qty=5)
        stmt = stmt.on_conflict_do_update(
            index_elements=["sku"], set_={"qty": items.c.qty + stmt.excluded.qty}
        )
        conn.execute(stmt)
        assert conn.execute(select(items.c.qty).where(items.c.sku == "a")).scalar() == 6
        conn.execute(insert(items).values(sku="a", qty=9).on_conflict_do_nothing())
        assert conn.execute(select(items.c.qty).where(items.c.sku == "a")).scalar() == 6
        rows = conn.execute(
            insert(items)
            .values([{"sku": "b", "qty": 2}, {"sku": "c", "qty": 3}])
            .returning(items.c.sku, items.c.qty)
        ).all()
        assert sorted(rows) == [("b", 2), ("c", 3)]
        returned = conn.execute(
            items.update().where(items.c.sku == "b").values(qty=20).returning(items.c.qty)
        ).scalar_one()
        assert returned == 20


@pytest.mark.backends("postgresql")
def test_numeric_dollar_paramstyle_executes(backend: Backend) -> None:
    eng = create_engine(backend.url)
    try:
        metadata.create_all(eng)
        with eng.begin() as conn:
            conn.execute(items.insert(), [{"sku": f"s{i}", "qty": i} for i in range(10)])
            ids = conn.execute(
                select(items.c.qty).where(items.c.qty.in_([2, 3]), items.c.sku != "x")
            ).scalars()
            assert sorted(ids) == [2, 3]
    finally:
        eng.dispose()
