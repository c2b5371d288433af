"""SQLite upserts (ON CONFLICT) and RETURNING: compiled SQL and behaviour."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from athanor import exc
from athanor.dialects import sqlite
from athanor.dialects.sqlite import insert
from athanor.engine import Engine, create_engine
from athanor.sql import Column, Integer, MetaData, String, Table, select
from backends import Backend

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(20), nullable=False, unique=True),
    Column("qty", Integer, nullable=False),
)


def test_on_conflict_sql() -> None:
    stmt = insert(items).values(sku="a", qty=1)
    stmt = stmt.on_conflict_do_update(index_elements=["sku"], set_={"qty": stmt.excluded.qty})
    assert stmt.compile(dialect=sqlite.dialect()).string == (
        "INSERT INTO items (sku, qty) VALUES (?, ?) ON CONFLICT (sku) "
        "DO UPDATE SET qty = excluded.qty"
    )
    with pytest.raises(exc.CompileError, match="index_elements"):
        insert(items).values(sku="a", qty=1).on_conflict_do_nothing(constraint="uq").compile(
            dialect=sqlite.dialect()
        )


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


@pytest.mark.backends("sqlite")
def test_upsert_and_returning_behaviour(engine: Engine) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        assert conn.execute(insert(items).values(sku="a", qty=1)).inserted_primary_key == (1,)
        stmt = insert(items).values(sku="a", qty=7)
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["sku"], set_={"qty": stmt.excluded.qty})
        )
        assert conn.execute(select(items.c.qty)).scalar() == 7
        conn.execute(insert(items).values(sku="a", qty=9).on_conflict_do_nothing())
        assert conn.execute(select(items.c.qty)).scalar() == 7
        row = conn.execute(insert(items).values(sku="b", qty=2).returning(items.c.id)).one()
        assert row.id == 2
