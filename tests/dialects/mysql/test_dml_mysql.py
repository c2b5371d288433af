"""MySQL/MariaDB upserts (ON DUPLICATE KEY UPDATE) and RETURNING: compiled SQL and behaviour."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from athanor import exc
from athanor.dialects import mysql
from athanor.dialects.mysql import insert
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


def test_on_duplicate_key_update_sql() -> None:
    stmt = insert(items).values(sku="a", qty=1)
    stmt = stmt.on_duplicate_key_update(qty=items.c.qty + stmt.inserted.qty, sku="z")
    compiled = stmt.compile(dialect=mysql.dialect())
    assert compiled.string == (
        "INSERT INTO items (sku, qty) VALUES (%s, %s) "
        "ON DUPLICATE KEY UPDATE qty = items.qty + VALUES(qty), sku = %s"
    )
    assert compiled.params == {"sku": "a", "qty": 1, "sku_1": "z"}
    with pytest.raises(exc.ArgumentError, match="at least one"):
        insert(items).on_duplicate_key_update({})


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


@pytest.mark.backends("mysql")
def test_upsert_behaviour(engine: Engine) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        assert conn.execute(insert(items).values(sku="a", qty=1)).inserted_primary_key == (1,)
        stmt = insert(items).values(sku="a", qty=5)
        conn.execute(stmt.on_duplicate_key_update(qty=items.c.qty + stmt.inserted.qty))
        assert conn.execute(select(items.c.qty).where(items.c.sku == "a")).scalar() == 6
        conn.execute(insert(items), [{"sku": f"s{i}", "qty": i} for i in range(50)])
        assert conn.execute(select(items.c.qty).where(items.c.sku == "s49")).scalar() == 49


@pytest.mark.backends("mysql")
def test_returning_on_mariadb(engine: Engine) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        if not engine.dialect.is_mariadb:
            pytest.skip("RETURNING needs MariaDB")
        row = conn.execute(
            insert(items).values(sku="r", qty=3).returning(items.c.id, items.c.qty)
        ).one()
        assert tuple(row) == (1, 3)
        with pytest.raises(exc.CompileError, match="UPDATE"):
            conn.execute(items.update().values(qty=1).returning(items.c.id))
