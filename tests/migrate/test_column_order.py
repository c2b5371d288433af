"""Column order when a dropped column comes back: ``ALTER TABLE ... ADD`` puts it last on
every database, so a downgrade that re-adds a dropped column restores the columns but not
their order; on SQLite a table recreation (``batch_alter_table``) with ``insert_after`` /
``insert_before`` puts it back where it was, keeping the rows."""

from __future__ import annotations

import pytest

import athanor as sa
from migrate.migrate_project import operations


def _setup(url: str) -> None:
    metadata = sa.MetaData()
    table = sa.Table(
        "co_items",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.String(10)),
        sa.Column("b", sa.String(10)),
        sa.Column("c", sa.String(10)),
    )
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(table.insert(), [{"id": 1, "a": "x", "b": "y", "c": "z"}])
    finally:
        engine.dispose()


def _columns(url: str) -> tuple[list[str], list[tuple[object, ...]]]:
    engine = sa.create_engine(url)
    try:
        names = [c["name"] for c in sa.inspect(engine).get_columns("co_items")]
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, a, c FROM co_items")).all()
        return names, [tuple(r) for r in rows]
    finally:
        engine.dispose()


def test_re_added_column_goes_last(backend) -> None:
    _setup(backend.url)
    with operations(backend.url) as (op, _):
        op.drop_column("co_items", "b")
        op.add_column("co_items", sa.Column("b", sa.String(10)))
    assert _columns(backend.url) == (["id", "a", "c", "b"], [(1, "x", "z")])


@pytest.mark.backends("sqlite")
def test_recreation_restores_the_position(backend) -> None:
    _setup(backend.url)
    with operations(backend.url) as (op, _):
        op.drop_column("co_items", "b")
        with op.batch_alter_table("co_items", recreate="always") as batch_op:
            batch_op.add_column(sa.Column("b", sa.String(10)), insert_after="a")
        with op.batch_alter_table("co_items", recreate="always") as batch_op:
            batch_op.add_column(sa.Column("first", sa.Integer()), insert_before="id")
    assert _columns(backend.url) == (["first", "id", "a", "b", "c"], [(1, "x", "z")])
