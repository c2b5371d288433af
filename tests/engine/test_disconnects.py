"""Fault injection: connections killed on the server side, with and without pre-ping."""

from __future__ import annotations

import pytest

import athanor
from athanor import exc, text

pytestmark = pytest.mark.backends("postgresql", "mysql")


def server_id(conn, backend) -> int:
    query = "SELECT pg_backend_pid()" if backend.name == "postgresql" else "SELECT CONNECTION_ID()"
    return int(conn.execute(text(query)).scalar_one())


def checked_in_session_ids(engine, backend, count: int) -> list[int]:
    """Open ``count`` connections at once, note their server ids, return them to the pool."""
    connections = [engine.connect() for _ in range(count)]
    ids = [server_id(conn, backend) for conn in connections]
    for conn in connections:
        conn.close()
    return ids


def test_pre_ping_hides_killed_connections(backend) -> None:
    engine = athanor.create_engine(backend.url, pool_size=3, pool_pre_ping=True)
    for session_id in checked_in_session_ids(engine, backend, 3):
        backend.kill_session(session_id)
    for _ in range(3):
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    assert engine.pool.checkedout() == 0
    engine.dispose()


def test_without_pre_ping_the_error_is_a_wrapped_disconnect_then_recovery(backend) -> None:
    engine = athanor.create_engine(backend.url, pool_size=2)
    ids = checked_in_session_ids(engine, backend, 2)
    for session_id in ids:
        backend.kill_session(session_id)
    with engine.connect() as conn, pytest.raises(exc.DBAPIError) as caught:
        conn.execute(text("SELECT 1"))
    assert caught.value.connection_invalidated is True
    assert isinstance(caught.value, (exc.OperationalError, exc.InterfaceError))
    assert engine.pool.checkedout() == 0
    # The pool invalidated the other, older connection too: both next checkouts work.
    with engine.connect() as first, engine.connect() as second:
        assert first.execute(text("SELECT 1")).scalar() == 1
        assert second.execute(text("SELECT 1")).scalar() == 1
        assert {server_id(first, backend), server_id(second, backend)}.isdisjoint(ids)
    engine.dispose()


def test_disconnect_inside_a_transaction_needs_rollback_then_reconnects(backend) -> None:
    engine = athanor.create_engine(backend.url, pool_size=1)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        backend.kill_session(server_id(conn, backend))
        with pytest.raises(exc.DBAPIError):
            conn.execute(text("SELECT 1"))
        assert conn.invalidated
        with pytest.raises(exc.PendingRollbackError):
            conn.execute(text("SELECT 1"))
        conn.rollback()
        assert conn.execute(text("SELECT 5")).scalar() == 5
    assert engine.pool.checkedout() == 0
    engine.dispose()


def test_unreachable_server_is_a_wrapped_operational_error(backend) -> None:
    url = athanor.make_url(backend.url).set(port=1)
    engine = athanor.create_engine(url, connect_args={"connect_timeout": 2})
    with pytest.raises(exc.OperationalError):
        engine.connect()
    assert engine.pool.checkedout() == 0
