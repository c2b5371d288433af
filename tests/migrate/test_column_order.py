"""Column order when a dropped column comes back: a plain ``ALTER TABLE ... ADD`` puts it
last, so a downgrade that re-adds a dropped column restores the columns but not their order;
``insert_after`` / ``insert_before`` put it back where it was, keeping the rows: by table
recreation (``batch_alter_table``) on SQLite, by ``AFTER``/``FIRST`` on MySQL/MariaDB."""

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


@pytest.mark.backends("mysql")
def test_mysql_places_added_columns_without_recreating(backend) -> None:
    """MySQL/MariaDB say where an added column goes (``AFTER``/``FIRST``), so a batch (or
    ``op.add_column``) with ``insert_after``/``insert_before`` restores the order in place."""
    _setup(backend.url)
    with operations(backend.url) as (op, _):
        op.drop_column("co_items", "b")
        with op.batch_alter_table("co_items") as batch_op:
            batch_op.add_column(sa.Column("b", sa.String(10)), insert_after="a")
        op.add_column("co_items", sa.Column("first", sa.Integer()), insert_before="id")
        op.add_column("co_items", sa.Column("second", sa.Integer()), insert_before="a")
    assert _columns(backend.url) == (
        ["first", "id", "second", "a", "b", "c"],
        [(1, "x", "z")],
    )


def test_offline_mysql_renders_after_and_asks_for_it_instead_of_before() -> None:
    import io

    from athanor.migrate.operations import Operations
    from athanor.migrate.runtime import MigrationContext
    from athanor.migrate.util import CommandError

    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="mysql", opts={"as_sql": True, "output_buffer": buffer}
    )
    with Operations.context(context) as op:
        op.add_column("co_items", sa.Column("b", sa.String(10)), insert_after="a")
        with pytest.raises(CommandError, match="insert_after"):
            op.add_column("co_items", sa.Column("z", sa.Integer()), insert_before="id")
    assert "ALTER TABLE co_items ADD b VARCHAR(10) AFTER a" in buffer.getvalue()
