"""The execution context, return_defaults(), RETURNING in parameter order and primary key rows.

These are what an ORM flush stands on: every parameter set of an executemany gets its
generated primary key and defaults back, matched to the right set.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import event, exc
from athanor.engine import Engine, ExecutionContext, create_engine
from athanor.sql import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from backends import Backend

metadata = MetaData()
items = Table(
    "ctx_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False),
    Column("qty", Integer, server_default=text("7")),
    Column("tag", String(20), default="fresh"),
)
tokens = Table(
    "ctx_tokens",
    metadata,
    Column("id", Uuid, primary_key=True, default=uuid.uuid4),
    Column("label", String(40)),
)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


def test_listeners_receive_an_execution_context(engine: Engine) -> None:
    seen: list[tuple[str, ExecutionContext, bool]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        assert context.cursor is cursor
        seen.append(("before", context, many))

    @event.listens_for(engine, "after_cursor_execute")
    def after(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        assert context.statement == statement
        seen.append(("after", context, many))

    stmt = insert(items).values(name="a")
    with engine.begin() as conn:
        result = conn.execute(stmt)
        context = seen[0][1]
        assert isinstance(context, ExecutionContext)
        assert context.isinsert and context.is_crud and not context.isupdate
        assert context.invoked_statement is stmt
        assert context.compiled is result.context.compiled
        assert context.connection is conn and context.engine is engine
        assert "INSERT INTO ctx_items" in (context.statement or "")
        assert context.inserted_primary_key_rows == [result.inserted_primary_key]
        seen.clear()
        conn.execute(update(items).values(name="b"))
        assert seen[0][1].isupdate and not seen[0][1].isinsert
        seen.clear()
        conn.execute(insert(items), [{"name": "x"}, {"name": "y"}])
        assert seen[0][1].executemany
        assert [dict(p) for p in seen[0][1].compiled_parameters] == [{"name": "x"}, {"name": "y"}]
        seen.clear()
        conn.execute(delete(items).where(items.c.name == "zzz"))
        assert seen[0][1].isdelete
        assert seen[0][1].parameters  # the driver parameters of the call


def test_handle_error_sees_the_execution_context(engine: Engine) -> None:
    contexts: list[Any] = []
    event.listen(engine, "handle_error", lambda ctx: contexts.append(ctx.execution_context))
    with engine.connect() as conn:
        with pytest.raises(exc.IntegrityError):
            conn.execute(insert(items).values(id=1, name=None))
        conn.rollback()
    (context,) = contexts
    assert isinstance(context, ExecutionContext)
    assert context.isinsert
    assert context.statement is not None and "INSERT" in context.statement


def test_statement_execution_options_reach_the_execution(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(items), [{"name": f"n{i}"} for i in range(10)])
    options: list[Any] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda conn, cursor, stmt, params, context, many: options.append(context.execution_options),
    )
    stmt = select(items.c.id).order_by(items.c.id).execution_options(yield_per=3)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        assert options[-1]["yield_per"] == 3
        assert result._source.yield_per == 3
        assert len(result.fetchall()) == 10
        # The connection's own execute(execution_options=) wins over the statement's.
        conn.execute(stmt, execution_options={"yield_per": 5}).fetchall()
        assert options[-1]["yield_per"] == 5


def test_statement_stream_results_uses_a_server_side_cursor(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(items), [{"name": f"n{i}"} for i in range(5)])
    stmt = select(items.c.name).order_by(items.c.id).execution_options(stream_results=True)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        assert result.is_server_side is engine.dialect.supports_server_side_cursors
        assert result.scalars().all() == [f"n{i}" for i in range(5)]


def test_return_defaults_single_row(engine: Engine) -> None:
    with engine.begin() as conn:
        result = conn.execute(insert(items).return_defaults(), {"name": "a"})
        assert not result.returns_rows
        defaults = result.returned_defaults
        assert defaults is not None
        assert defaults.id == result.inserted_primary_key[0]
        assert defaults.qty == 7
        assert "tag" not in defaults._fields  # a Python default, sent as a parameter
        assert result.inserted_primary_key_rows == [(defaults.id,)]
        assert conn.scalar(select(items.c.qty).where(items.c.id == defaults.id)) == 7


def test_return_defaults_named_columns(engine: Engine) -> None:
    with engine.begin() as conn:
        result = conn.execute(insert(items).return_defaults(items.c.qty).values(name="a"))
        defaults = result.returned_defaults
        assert defaults is not None
        assert defaults._mapping["qty"] == 7
        assert set(defaults._fields) == {"id", "qty"}


def test_return_defaults_supplemental_columns_make_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        stmt = insert(items).return_defaults(supplemental_cols=[items.c.name])
        result = conn.execute(stmt, [{"name": "a"}, {"name": "b"}])
        assert sorted(result.scalars().all()) == ["a", "b"]
        rows = result.returned_defaults_rows
        assert rows is not None and [r.qty for r in rows] == [7, 7]


@pytest.mark.parametrize("count", [3, 2500])
def test_executemany_return_defaults_in_parameter_order(engine: Engine, count: int) -> None:
    """Across several multi-row batches, each parameter set gets its own generated values."""
    params = [{"name": f"n{i}", "qty": i} for i in range(count)]
    stmt = insert(items).return_defaults(sort_by_parameter_order=True)
    with engine.begin() as conn:
        result = conn.execute(stmt, params)
        pks = result.inserted_primary_key_rows
        assert len(pks) == count
        assert all(pk is not None for pk in pks)
        stored = dict(conn.execute(select(items.c.id, items.c.name)).tuples().all())
    assert [stored[pk[0]] for pk in pks if pk is not None] == [p["name"] for p in params]
    defaults = result.returned_defaults_rows
    assert defaults is not None
    assert [row.qty for row in defaults if row is not None] == list(range(count))


def test_returning_sort_by_parameter_order_with_client_keys(engine: Engine) -> None:
    keys = [uuid.uuid4() for _ in range(40)]
    params = [{"id": k, "label": f"l{i}"} for i, k in enumerate(keys)]
    stmt = insert(tokens).returning(tokens.c.id, tokens.c.label, sort_by_parameter_order=True)
    with engine.begin() as conn:
        rows = conn.execute(stmt, params).all()
    assert [r.id for r in rows] == keys
    assert [r.label for r in rows] == [p["label"] for p in params]


def test_python_generated_keys_are_known_for_each_parameter_set(engine: Engine) -> None:
    with engine.begin() as conn:
        result = conn.execute(insert(tokens), [{"label": f"l{i}"} for i in range(5)])
        pks = result.inserted_primary_key_rows
        assert all(isinstance(pk[0], uuid.UUID) for pk in pks if pk is not None)
        stored = dict(conn.execute(select(tokens.c.id, tokens.c.label)).tuples().all())
    assert [stored[pk[0]] for pk in pks if pk is not None] == [f"l{i}" for i in range(5)]


def test_executemany_without_returning_reports_unknown_keys(engine: Engine) -> None:
    with engine.begin() as conn:
        result = conn.execute(insert(items), [{"name": "a"}, {"name": "b"}])
        assert result.inserted_primary_key_rows == [None, None]
        given = conn.execute(insert(items), [{"id": 100, "name": "a"}, {"id": 101, "name": "b"}])
        assert given.inserted_primary_key_rows == [(100,), (101,)]
        assert given.returned_defaults_rows is None


def test_update_returning_executemany_one_row_per_parameter_set(engine: Engine) -> None:
    stmt = (
        update(items)
        .where(items.c.id == bindparam("b_id"))
        .values(name=bindparam("b_name"))
        .returning(items.c.id, items.c.name)
    )
    with engine.begin() as conn:
        conn.execute(insert(items), [{"id": i, "name": f"n{i}"} for i in range(1, 4)])
        if not engine.dialect.update_returning:  # MariaDB: a clear error, nothing run
            with pytest.raises(exc.CompileError, match="RETURNING on UPDATE"):
                conn.execute(stmt, [{"b_id": 3, "b_name": "c"}, {"b_id": 1, "b_name": "a"}])
            return
        rows = conn.execute(stmt, [{"b_id": 3, "b_name": "c"}, {"b_id": 1, "b_name": "a"}])
        assert rows.all() == [(3, "c"), (1, "a")]


def test_return_defaults_with_returning_is_refused() -> None:
    with pytest.raises(exc.InvalidRequestError, match="return_defaults"):
        insert(items).return_defaults().returning(items.c.id)
    with pytest.raises(exc.InvalidRequestError, match="RETURNING is already"):
        insert(items).returning(items.c.id).return_defaults()


def test_inserted_primary_key_rows_needs_an_insert(engine: Engine) -> None:
    with engine.connect() as conn:
        result = conn.execute(select(func.count()).select_from(items))
        with pytest.raises(exc.InvalidRequestError, match="insert"):
            result.inserted_primary_key_rows  # noqa: B018
