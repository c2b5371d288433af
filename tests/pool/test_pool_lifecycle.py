"""Reset on return, recycle, pre-ping, invalidation, detach, info and leak detection."""

from __future__ import annotations

import gc
import sqlite3
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from athanor import event, exc
from athanor.pool import (
    ConnectionPoolEntry,
    DefaultPoolDialect,
    PoolResetState,
    QueuePool,
    SingletonThreadPool,
)

Creator = Callable[[], sqlite3.Connection]
Closed = Callable[[sqlite3.Connection], bool]


def count_rows(db_path: str) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    finally:
        conn.close()


# -- reset on return -------------------------------------------------------------------------


def test_rollback_on_return_by_default(creator: Creator, db_path: str, events: Any) -> None:
    pool = QueuePool(creator, pool_size=1)
    events.attach(pool)
    conn = pool.connect()
    conn.cursor().execute("INSERT INTO t VALUES (1)")
    raw = conn.dbapi_connection
    assert raw.in_transaction
    conn.close()
    assert not raw.in_transaction
    assert count_rows(db_path) == 0
    (args,) = events.args("reset")
    assert args[0] is raw
    assert isinstance(args[1], ConnectionPoolEntry)
    state = args[2]
    assert isinstance(state, PoolResetState)
    assert (state.transaction_was_reset, state.terminate_only, state.asyncio_safe) == (
        False,
        False,
        True,
    )


@pytest.mark.parametrize("action", ["rollback", "commit"])
def test_reset_calls_an_overriding_dialect_method_else_the_driver(
    creator: Creator, db_path: str, action: str
) -> None:
    """The engine's default dialect resets with the DBAPI method itself; a dialect that
    overrides the method has it called."""
    from athanor.engine.default import DefaultDialect

    calls: list[Any] = []

    class Overriding(DefaultDialect):
        def do_rollback(self, dbapi_connection: Any) -> None:
            calls.append("rollback")
            dbapi_connection.rollback()

        def do_commit(self, dbapi_connection: Any) -> None:
            calls.append("commit")
            dbapi_connection.commit()

    for dialect, expected in ((DefaultDialect(), []), (Overriding(), [action])):
        calls.clear()
        pool = QueuePool(creator, pool_size=1, reset_on_return=action, dialect=dialect)
        conn = pool.connect()
        conn.cursor().execute("INSERT INTO t VALUES (1)")
        raw = conn.dbapi_connection
        conn.close()
        assert not raw.in_transaction
        assert calls == expected
        pool.dispose()
    assert count_rows(db_path) == (2 if action == "commit" else 0)


@pytest.mark.parametrize("setting", ["commit"])
def test_commit_on_return(creator: Creator, db_path: str, setting: str) -> None:
    pool = QueuePool(creator, pool_size=1, reset_on_return=setting)
    conn = pool.connect()
    conn.cursor().execute("INSERT INTO t VALUES (1)")
    conn.close()
    assert count_rows(db_path) == 1


@pytest.mark.parametrize("setting", [None, False, "none"])
def test_no_reset_still_fires_the_reset_event(creator: Creator, setting: Any, events: Any) -> None:
    pool = QueuePool(creator, pool_size=1, reset_on_return=setting)
    events.attach(pool)
    conn = pool.connect()
    conn.cursor().execute("INSERT INTO t VALUES (1)")
    raw = conn.dbapi_connection
    conn.close()
    assert raw.in_transaction
    assert events.names()[-2:] == ["reset", "checkin"]
    raw.rollback()


def test_invalid_reset_on_return_is_rejected(creator: Creator) -> None:
    with pytest.raises(exc.ArgumentError, match="'rollback', 'commit', 'discard' or None"):
        QueuePool(creator, reset_on_return="sometimes")


def test_discard_needs_a_dialect(creator: Creator) -> None:
    with pytest.raises(exc.ArgumentError, match="pool_reset_on_return='discard'"):
        QueuePool(creator, reset_on_return="discard")
    with pytest.raises(exc.ArgumentError, match="needs the dialect"):
        QueuePool(creator, reset_on_return="discard", dialect=DefaultPoolDialect())


def test_a_caller_that_says_it_reset_still_gets_an_open_transaction_rolled_back(
    creator: Creator, events: Any
) -> None:
    pool = QueuePool(creator, pool_size=1)
    events.attach(pool)
    conn = pool.connect()
    conn.cursor().execute("INSERT INTO t VALUES (1)")
    raw = conn.dbapi_connection
    conn._checkin(True)
    assert not raw.in_transaction
    assert raw.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert events.args("reset")[0][2].transaction_was_reset is True


def test_a_failing_reset_invalidates_the_connection(
    creator: Creator, events: Any, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenRollback(DefaultPoolDialect):
        def do_rollback(self, dbapi_connection: Any) -> None:
            raise sqlite3.OperationalError("connection lost during rollback")

    pool = QueuePool(creator, pool_size=1, dialect=BrokenRollback())
    events.attach(pool)
    conn = pool.connect()
    raw = conn.dbapi_connection
    conn.close()
    assert "Exception during reset" in caplog.text
    assert [args[0] for args in events.args("invalidate")] == [raw]
    assert events.args("checkin")[-1][0] is None
    assert pool.stats().invalidations == 1
    again = pool.connect()
    assert again.dbapi_connection is not raw
    again.close()


# -- recycle ---------------------------------------------------------------------------------


def test_recycle_replaces_old_connections_at_checkout(
    creator: Creator, closed: Closed, events: Any
) -> None:
    pool = QueuePool(creator, pool_size=1, recycle=0.05)
    events.attach(pool)
    conn = pool.connect()
    old = conn.dbapi_connection
    conn.close()
    young = pool.connect()
    assert young.dbapi_connection is old
    young.close()
    time.sleep(0.1)
    events.clear()
    aged = pool.connect()
    assert aged.dbapi_connection is not old
    assert closed(old)
    assert events.names() == ["close", "connect", "checkout"]
    aged.close()


# -- pre-ping --------------------------------------------------------------------------------


def test_pre_ping_replaces_a_dead_connection(creator: Creator, events: Any) -> None:
    pool = QueuePool(creator, pool_size=2, pre_ping=True)
    events.attach(pool)
    conn = pool.connect()
    other = pool.connect()
    dead = conn.dbapi_connection
    survivor = other.dbapi_connection
    conn.close()
    other.close()
    dead.close()
    replacement = pool.connect()
    assert replacement.dbapi_connection is not dead
    assert replacement.cursor().execute("SELECT 1").fetchone() == (1,)
    invalidated = events.args("invalidate")
    assert invalidated[0][0] is dead
    assert isinstance(invalidated[0][2], sqlite3.ProgrammingError)
    # a dead connection suggests a server restart: older connections are replaced too
    second = pool.connect()
    assert second.dbapi_connection is not survivor
    assert pool.stats().invalidations == 1
    replacement.close()
    second.close()


def test_pre_ping_does_not_ping_a_new_connection() -> None:
    pings: list[Any] = []

    class CountingPing(DefaultPoolDialect):
        def do_ping(self, dbapi_connection: Any) -> bool:
            pings.append(dbapi_connection)
            return True

    pool = QueuePool(lambda: sqlite3.connect(":memory:"), pool_size=1, pre_ping=True)
    pool._dialect = CountingPing()
    conn = pool.connect()
    conn.close()
    assert pings == []
    conn = pool.connect()
    conn.close()
    assert len(pings) == 1


def test_pre_ping_false_answer_means_dead(creator: Creator) -> None:
    class SaysDead(DefaultPoolDialect):
        def do_ping(self, dbapi_connection: Any) -> bool:
            return False

    pool = QueuePool(creator, pool_size=1, pre_ping=True, dialect=SaysDead())
    conn = pool.connect()
    first = conn.dbapi_connection
    conn.close()
    conn = pool.connect()
    assert conn.dbapi_connection is not first
    conn.close()


def test_pre_ping_error_that_is_not_a_disconnect_propagates(creator: Creator) -> None:
    class Confused(DefaultPoolDialect):
        def do_ping(self, dbapi_connection: Any) -> bool:
            raise ValueError("ping went wrong")

        def is_disconnect(self, error: BaseException, dbapi_connection: Any) -> bool:
            return False

    pool = QueuePool(creator, pool_size=1, pre_ping=True, dialect=Confused())
    pool.connect().close()
    with pytest.raises(ValueError, match="ping went wrong"):
        pool.connect()
    assert pool.checkedout() == 0
    assert pool.checkedin() == 1


def test_pre_ping_raises_when_the_fresh_connection_fails_too(db_path: str) -> None:
    state = {"up": True}

    def connect() -> sqlite3.Connection:
        if not state["up"]:
            raise sqlite3.OperationalError("database is down")
        return sqlite3.connect(db_path, check_same_thread=False)

    pool = QueuePool(connect, pool_size=1, pre_ping=True)
    conn = pool.connect()
    conn.dbapi_connection.close()
    conn.close()
    state["up"] = False
    with pytest.raises(sqlite3.OperationalError, match="database is down"):
        pool.connect()
    assert pool.checkedout() == 0
    state["up"] = True
    conn = pool.connect()
    assert conn.cursor().execute("SELECT 1").fetchone() == (1,)
    conn.close()


# -- invalidation ----------------------------------------------------------------------------


def test_invalidate_closes_and_the_entry_reconnects(
    creator: Creator, closed: Closed, events: Any
) -> None:
    pool = QueuePool(creator, pool_size=1)
    events.attach(pool)
    conn = pool.connect()
    raw = conn.dbapi_connection
    entry = conn._connection_record
    error = RuntimeError("boom")
    events.clear()
    conn.invalidate(error)
    assert closed(raw)
    assert not conn.is_valid
    assert events.names() == ["invalidate", "close", "checkin"]
    assert events.args("invalidate")[0] == (raw, entry, error)
    assert events.args("checkin")[0] == (None, entry)
    assert pool.checkedout() == 0
    events.clear()
    again = pool.connect()
    assert again._connection_record is entry
    assert again.dbapi_connection is not raw
    assert events.names() == ["connect", "checkout"]
    with pytest.raises(exc.InvalidRequestError):
        conn.invalidate()
    again.close()


def test_soft_invalidate_keeps_the_connection_until_returned(
    creator: Creator, closed: Closed, events: Any
) -> None:
    pool = QueuePool(creator, pool_size=1)
    events.attach(pool)
    conn = pool.connect()
    raw = conn.dbapi_connection
    conn.invalidate(soft=True)
    assert conn.is_valid
    assert conn.cursor().execute("SELECT 1").fetchone() == (1,)
    assert events.names()[-1] == "soft_invalidate"
    conn.close()
    assert not closed(raw)
    again = pool.connect()
    assert again.dbapi_connection is not raw
    assert closed(raw)
    again.close()


def test_pool_invalidate_marks_every_older_connection_stale(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=3)
    a, b, c = pool.connect(), pool.connect(), pool.connect()
    raws = {a.dbapi_connection, b.dbapi_connection, c.dbapi_connection}
    b.close()
    c.close()
    pool._invalidate(a, RuntimeError("server gone"))
    assert not a.is_valid
    assert pool.checkedout() == 0
    fresh = [pool.connect() for _ in range(3)]
    fresh_raws = {conn.dbapi_connection for conn in fresh}
    assert not raws & fresh_raws
    for conn in fresh:
        conn.close()
    again = [pool.connect() for _ in range(3)]
    assert {conn.dbapi_connection for conn in again} == fresh_raws
    for conn in again:
        conn.close()


def test_checkout_listener_disconnection_retries_with_a_fresh_connection(
    creator: Creator,
) -> None:
    pool = QueuePool(creator, pool_size=1)
    first = pool.connect()
    stale = first.dbapi_connection
    first.close()
    seen: list[Any] = []

    def check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        seen.append(dbapi_connection)
        if dbapi_connection is stale:
            raise exc.DisconnectionError("stale")

    event.listen(pool, "checkout", check)
    conn = pool.connect()
    assert seen[0] is stale
    assert conn.dbapi_connection is seen[1]
    assert conn.dbapi_connection is not stale
    assert pool.stats().invalidations == 1
    conn.close()


def test_checkout_listener_that_always_disconnects_gives_up(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=1)
    attempts: list[int] = []

    def refuse(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        attempts.append(1)
        raise exc.DisconnectionError("never good")

    event.listen(pool, "checkout", refuse)
    with pytest.raises(exc.DisconnectionError, match="never good"):
        pool.connect()
    assert len(attempts) == 3
    assert pool.checkedout() == 0


def test_invalidate_pool_error_from_a_listener_invalidates_all(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=2)
    a, b = pool.connect(), pool.connect()
    old = {a.dbapi_connection, b.dbapi_connection}
    a.close()
    b.close()
    fired: list[int] = []

    def once(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if not fired:
            fired.append(1)
            raise exc.InvalidatePoolError("failover")

    event.listen(pool, "checkout", once)
    x, y = pool.connect(), pool.connect()
    assert not old & {x.dbapi_connection, y.dbapi_connection}
    x.close()
    y.close()


def test_other_checkout_listener_errors_return_the_connection(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=1)

    def fail(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        raise LookupError("listener bug")

    event.listen(pool, "checkout", fail)
    with pytest.raises(LookupError):
        pool.connect()
    assert pool.checkedout() == 0
    assert pool.checkedin() == 1


# -- detach, info, proxy behaviour --------------------------------------------------------


def test_detach_takes_the_connection_out_of_the_pool(
    creator: Creator, closed: Closed, events: Any
) -> None:
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=0.1)
    events.attach(pool)
    conn = pool.connect()
    raw = conn.dbapi_connection
    conn.info["role"] = "reporting"
    conn.detach()
    assert conn.is_detached
    assert conn.info == {"role": "reporting"}
    assert conn.record_info is None
    assert events.args("detach")[0][0] is raw
    assert pool.checkedout() == 0
    other = pool.connect()
    assert other.dbapi_connection is not raw
    assert "role" not in other.info
    assert conn.cursor().execute("SELECT 1").fetchone() == (1,)
    events.clear()
    conn.close()
    assert closed(raw)
    assert events.names() == ["reset", "close_detached"]
    assert events.args("reset")[0][1] is None
    other.close()


def test_info_follows_the_physical_connection(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=1)
    conn = pool.connect()
    conn.info["x"] = 1
    conn.record_info["y"] = 2
    conn.close()
    conn = pool.connect()
    assert conn.info == {"x": 1}
    assert conn.record_info == {"y": 2}
    conn.invalidate()
    conn = pool.connect()
    assert conn.info == {}
    assert conn.record_info == {"y": 2}
    conn.close()


def test_proxy_forwards_to_the_dbapi_connection(creator: Creator, db_path: str) -> None:
    pool = QueuePool(creator, pool_size=1)
    conn = pool.connect()
    assert conn.driver_connection is conn.dbapi_connection
    assert conn._connection_record is not None
    assert conn._connection_record.driver_connection is conn.dbapi_connection
    assert conn._connection_record.in_use
    conn.cursor().execute("INSERT INTO t VALUES (5)")
    conn.commit()
    assert count_rows(db_path) == 1
    entry = conn._connection_record
    conn.close()
    assert not entry.in_use
    assert conn.info == {}
    assert not conn.is_detached
    conn.close()
    assert pool.checkedout() == 0
    with pytest.raises(exc.InvalidRequestError, match="closed"):
        conn.cursor()
    with pool.connect() as inside:
        assert inside.is_valid
    assert pool.checkedout() == 0


def test_creator_errors_on_reconnect_leave_the_pool_consistent(db_path: str) -> None:
    state = {"up": True}

    def connect() -> sqlite3.Connection:
        if not state["up"]:
            raise sqlite3.OperationalError("down")
        return sqlite3.connect(db_path, check_same_thread=False)

    pool = QueuePool(connect, pool_size=1)
    conn = pool.connect()
    conn.invalidate()
    state["up"] = False
    with pytest.raises(sqlite3.OperationalError):
        pool.connect()
    assert pool.checkedout() == 0
    state["up"] = True
    pool.connect().close()


# -- leaks -----------------------------------------------------------------------------------


def leak_one(pool: Any) -> None:
    conn = pool.connect()  # the leak site
    conn.cursor().execute("INSERT INTO t VALUES (1)")


LEAK_LINE = leak_one.__code__.co_firstlineno + 1


def test_a_garbage_collected_connection_returns_with_a_warning(
    creator: Creator, db_path: str
) -> None:
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=0.5)
    states: list[PoolResetState] = []
    event.listen(pool, "reset", lambda dbapi_connection, record, state: states.append(state))
    with pytest.warns(exc.ConnectionLeakWarning) as caught:
        leak_one(pool)
        gc.collect()
    message = str(caught[0].message)
    assert f"test_pool_lifecycle.py:{LEAK_LINE} in leak_one()" in message
    assert caught[0].lineno == LEAK_LINE
    assert pool.checkedout() == 0
    assert count_rows(db_path) == 0
    assert [state.asyncio_safe for state in states] == [False]
    pool.connect().close()


def test_a_leaked_connection_in_a_reference_cycle_returns_too(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=0.5)

    def make_cycle() -> None:
        holder: dict[str, Any] = {"conn": pool.connect()}
        holder["self"] = holder

    with pytest.warns(exc.ConnectionLeakWarning, match="in make_cycle"):
        make_cycle()
        assert pool.checkedout() == 1
        gc.collect()
    assert pool.checkedout() == 0


def test_leak_site_skips_athanor_frames(creator: Creator) -> None:
    pool = SingletonThreadPool(creator)

    def take() -> None:
        pool.connect()

    line = take.__code__.co_firstlineno + 1
    with pytest.warns(exc.ConnectionLeakWarning, match=rf"test_pool_lifecycle.py:{line} in take"):
        take()
        gc.collect()
    assert pool.checkedout() == 0


def test_checkout_without_a_python_caller(creator: Creator) -> None:
    import greenlet

    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=0.5)
    with pytest.warns(exc.ConnectionLeakWarning, match="unknown location"):
        conn = greenlet.greenlet(pool.connect).switch()
        assert conn._origin_code is None
        del conn
        gc.collect()
    assert pool.checkedout() == 0


def test_leak_site_is_not_looked_for_while_leak_warnings_are_filtered_out(
    creator: Creator,
) -> None:
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", exc.ConnectionLeakWarning)
        conn = pool.connect()
        assert conn._origin_code is None
        warnings.simplefilter("always", exc.ConnectionLeakWarning)  # shown at leak time
        del conn
        gc.collect()
    (warning,) = caught
    assert "its checkout site was not recorded" in str(warning.message)
    assert pool.checkedout() == 0


@pytest.mark.parametrize(
    "filters",
    [
        # the default filters (ResourceWarning ignored) behind a conditional "always"
        [("always", {"message": "The pooled connection"})],
        [("always", {"module": ".*test_pool_lifecycle"})],
        # an unconditional one for a base class decides before the later "ignore"
        [("ignore", {"category": ResourceWarning}), ("default", {"category": Warning})],
    ],
)
def test_leak_site_is_recorded_whenever_a_filter_could_show_the_warning(
    creator: Creator, filters: list[tuple[str, dict[str, Any]]]
) -> None:
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("ignore", ResourceWarning)
        for action, options in filters:
            warnings.filterwarnings(action, **{"category": exc.ConnectionLeakWarning, **options})
        leak_one(pool)
        gc.collect()
    (warning,) = caught
    assert f"test_pool_lifecycle.py:{LEAK_LINE} in leak_one()" in str(warning.message)
    assert pool.checkedout() == 0


def test_leak_site_follows_filter_changes(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=3, max_overflow=0, timeout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", exc.ConnectionLeakWarning)
        first = pool.connect()
        warnings.simplefilter("default", exc.ConnectionLeakWarning)
        second = pool.connect()
        warnings.simplefilter("ignore", exc.ConnectionLeakWarning)
        third = pool.connect()
    assert first._origin_code is None
    assert second._origin_code is test_leak_site_follows_filter_changes.__code__
    assert third._origin_code is None
    for conn in (first, second, third):
        conn.close()
