"""Operations at the edges: column names the database reserves, and expression server
defaults kept when SQLite recreates a table."""

from __future__ import annotations

import pytest

import athanor as sa
from migrate.migrate_project import operations

RESERVED = ("over", "rows", "recursive", "system", "period")


def test_reserved_words_as_column_names(backend) -> None:
    with operations(backend.url) as (op, connection):
        op.create_table(
            "window_frames",
            sa.Column("id", sa.Integer(), primary_key=True),
            *[sa.Column(name, sa.Integer(), nullable=True) for name in RESERVED[:3]],
        )
        op.create_index("ix_window_frames_rows", "window_frames", ["rows"])
        op.add_column("window_frames", sa.Column("system", sa.String(10)))
        op.alter_column("window_frames", "rows", type_=sa.BigInteger(), existing_type=sa.Integer())
        op.alter_column(
            "window_frames", "over", new_column_name="period", existing_type=sa.Integer()
        )
        op.alter_column(
            "window_frames",
            "recursive",
            server_default="7",
            existing_type=sa.Integer(),
        )
        connection.execute(sa.text("INSERT INTO window_frames (id) VALUES (1)"))
        op.drop_column("window_frames", "system")
    engine = sa.create_engine(backend.url)
    try:
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("window_frames")}
        with engine.connect() as conn:
            row = conn.execute(sa.select(sa.table("window_frames", sa.column("recursive")))).one()
    finally:
        engine.dispose()
    assert list(columns) == ["id", "period", "rows", "recursive"]
    assert isinstance(columns["rows"]["type"], sa.BigInteger)
    assert row == (7,)


@pytest.mark.backends("sqlite")
def test_recreate_keeps_expression_defaults(backend) -> None:
    with operations(backend.url) as (op, connection):
        op.create_table(
            "events",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("at", sa.DateTime(), server_default=sa.text("(datetime('now'))")),
            sa.Column("stamped", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP")),
            sa.Column("total", sa.Integer(), server_default=sa.text("(1 + 2)")),
            sa.Column("label", sa.String(10)),
            sa.Column("kind", sa.String(10), server_default="a:b"),
        )
        op.alter_column(
            "events",
            "label",
            nullable=False,
            server_default=sa.text("(lower('X'))"),
            existing_type=sa.String(10),
        )
        op.alter_column("events", "total", type_=sa.BigInteger(), existing_type=sa.Integer())
        op.add_column("events", sa.Column("seen", sa.DateTime(), server_default=sa.func.now()))
        connection.execute(sa.text("INSERT INTO events (id) VALUES (1)"))
        row = connection.execute(sa.text("SELECT * FROM events")).mappings().one()
        sql = connection.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'events'"))
        ddl = sql.scalar()
    assert row["at"] is not None and row["stamped"] is not None and row["seen"] is not None
    assert (row["total"], row["label"], row["kind"]) == (3, "x", "a:b")
    assert "DEFAULT (lower('X')) NOT NULL" in ddl
