"""psycopg: a finished cursor is kept for the physical connection's next checkout, and used
again only while it behaves as a new cursor would (adapters registered since are honoured)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import text
from athanor.engine import Engine, create_engine
from athanor.pool import StaticPool
from backends import Backend

pytestmark = pytest.mark.backends("postgresql")


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url, pool_size=1, max_overflow=0)
    yield eng
    eng.dispose()


def _select_text(engine: Engine) -> tuple[Any, Any]:
    """One checkout running a text SELECT: its value, and the driver connection."""
    with engine.connect() as conn:
        value = conn.execute(text("SELECT 'abc'::text")).scalar()
        return value, conn.connection.dbapi_connection


def _keep_a_cursor(engine: Engine) -> Any:
    """A checkout that leaves its cursor to the next one; the pool entry."""
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        entry = conn.connection._connection_record
    assert entry.kept_cursor is not None
    return entry


def test_the_next_checkout_uses_the_kept_cursor(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar()
        entry = conn.connection._connection_record
    kept = entry.kept_cursor
    assert kept is not None and not kept[1].closed
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar() == 2
        assert entry.kept_cursor is None  # taken by this checkout
    assert entry.kept_cursor[1] is kept[1]


def test_a_loader_registered_between_checkouts_is_used(engine: Engine) -> None:
    from psycopg.types.string import TextLoader

    class Upper(TextLoader):
        def load(self, data: Any) -> str:
            return str(super().load(data)).upper()

    assert _select_text(engine)[0] == "abc"
    _keep_a_cursor(engine)
    with engine.connect() as conn:
        conn.connection.dbapi_connection.adapters.register_loader("text", Upper)
    assert _select_text(engine)[0] == "ABC"


def test_a_dumper_registered_between_checkouts_is_used(engine: Engine) -> None:
    from psycopg.adapt import Dumper

    class Marker:
        pass

    class MarkerDumper(Dumper):
        def dump(self, obj: Any) -> bytes:
            return b"marked"

    _keep_a_cursor(engine)
    with engine.connect() as conn:
        conn.connection.dbapi_connection.adapters.register_dumper(Marker, MarkerDumper)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT CAST(:v AS text)"), {"v": Marker()}).scalar() == "marked"


def test_a_cursor_is_not_current_after_the_row_factory_changed(engine: Engine) -> None:
    from psycopg.rows import dict_row, tuple_row

    entry = _keep_a_cursor(engine)
    dbapi_connection, cursor = entry.kept_cursor
    assert engine.dialect.cursor_current(dbapi_connection, cursor)
    dbapi_connection.row_factory = dict_row
    try:
        assert not engine.dialect.cursor_current(dbapi_connection, cursor)
    finally:
        dbapi_connection.row_factory = tuple_row
    assert engine.dialect.cursor_current(dbapi_connection, cursor)


def test_a_cursor_class_set_between_checkouts_is_used(engine: Engine) -> None:
    import psycopg

    entry = _keep_a_cursor(engine)
    dbapi_connection = entry.kept_cursor[0]
    dbapi_connection.cursor_factory = psycopg.ClientCursor
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 3")).scalar() == 3
            assert type(conn._spare_cursor) is psycopg.ClientCursor
    finally:
        dbapi_connection.cursor_factory = psycopg.Cursor


def test_an_invalidated_connection_forgets_its_kept_cursor(engine: Engine) -> None:
    entry = _keep_a_cursor(engine)
    first = entry.kept_cursor[0]
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar()
        conn.invalidate()
    assert entry.kept_cursor is None
    assert _keep_a_cursor(engine) is entry
    assert entry.kept_cursor[0] is not first


def test_a_static_pool_keeps_no_cursor(backend: Backend) -> None:
    engine = create_engine(backend.url, poolclass=StaticPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()
            entry = conn.connection._connection_record
        assert entry.kept_cursor is None
    finally:
        engine.dispose()


def test_a_cursor_holding_more_than_a_small_row_is_closed(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT generate_series(1, 3)")).scalars().all() == [1, 2, 3]
        entry = conn.connection._connection_record
        cursor = conn._spare_cursor
    assert entry.kept_cursor is None and cursor is not None and cursor.closed
    with engine.connect() as conn:
        assert len(conn.execute(text("SELECT repeat('x', 10000)")).scalar()) == 10000
        cursor = conn._spare_cursor
    assert entry.kept_cursor is None and cursor.closed
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 7")).scalar() == 7
    assert entry.kept_cursor is not None
