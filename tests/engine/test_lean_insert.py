"""The engine's one-row transaction without a Connection (``Engine._insert_committer``):
what it writes, what it leaves the pool, and when it steps aside for the general path."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from athanor import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from athanor.engine.engine import LeanCommitFailed
from athanor.exc import IntegrityError

metadata = MetaData()
thing = Table(
    "lean_thing",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(30), unique=True),
)


@pytest.fixture
def engine(backend: Any) -> Any:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    with eng.connect():
        pass  # an idle connection for the committer's checkout
    yield eng
    eng.dispose()


def _insert(engine: Any) -> Any:
    """An INSERT the committer takes: one whose RETURNING (where the database has it) is
    asked for, as the ORM asks, rather than added by the engine."""
    statement = insert(thing)
    if engine.dialect.insert_returning:
        statement = statement.returning(thing.c.id)
    return statement


def _names(engine: Any) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(thing.c.name).order_by(thing.c.id)))


def _committer(engine: Any) -> Any:
    commit_insert = engine._insert_committer(_insert(engine), {"name": "x"})
    assert commit_insert is not None
    return commit_insert


def test_accept_sees_the_key_before_the_commit_and_may_undo_it(engine: Any) -> None:
    """Given ``accept``, the committer hands it the key and the row the INSERT gave while
    the transaction is still open; what it raises rolls the INSERT back."""
    commit_insert = _committer(engine)
    seen: list[Any] = []

    def accept(pk: Any, row: Any) -> None:
        seen.append((row[0] if row is not None else pk[0], engine.pool.checkedout()))

    checkouts = engine.pool.stats().total_checkouts
    assert commit_insert({"name": "kept"}, accept) is True
    ((key, checked_out),) = seen
    assert isinstance(key, int) and checked_out == 1
    assert engine.pool.checkedout() == 0

    def refuse(pk: Any, row: Any) -> None:
        raise LookupError("not this one")

    with pytest.raises(LookupError):
        commit_insert({"name": "undone"}, refuse)
    assert engine.pool.checkedout() == 0
    assert engine.pool.stats().total_checkouts == checkouts + 2
    assert _names(engine) == ["kept"]


def test_a_committer_reuses_its_cursor_but_not_after_a_failure(engine: Any) -> None:
    """The committer's cursor stays on the pool entry for its next run on that connection;
    after a failed INSERT it is closed and forgotten, and the next run makes a new one."""
    commit_insert = _committer(engine)
    commit_insert({"name": "one"})
    (entry,) = [e for e in engine.pool._idle if e.kept_cursor is not None]
    conn, cursor = entry.kept_cursor
    assert conn is entry.dbapi_connection
    commit_insert({"name": "two"})
    assert entry.kept_cursor[1] is cursor
    with pytest.raises(IntegrityError):
        commit_insert({"name": "two"})
    assert entry.kept_cursor is None
    commit_insert({"name": "three"})
    assert entry.kept_cursor is not None and entry.kept_cursor[1] is not cursor
    assert _names(engine) == ["one", "two", "three"]


def test_no_committer_is_made_for_listeners_and_options(engine: Any) -> None:
    """Whenever something could see the difference from the start, no committer is made and
    the caller takes the general path; once it is gone a committer serves again."""

    def quiet(*args: Any) -> None:
        return None

    for target, name in (
        (engine, "before_cursor_execute"),
        (engine.pool, "checkout"),
        (engine.pool, "reset"),
    ):
        event.listen(target, name, quiet)
        try:
            assert engine._insert_committer(_insert(engine), {"name": "x"}) is None
        finally:
            event.remove(target, name, quiet)
    optioned = _insert(engine).execution_options(foo=1)
    assert engine._insert_committer(optioned, {"name": "x"}) is None
    optioned_engine = engine.execution_options(foo=1)
    assert optioned_engine._insert_committer(_insert(engine), {"name": "x"})({"name": "x"}) is None
    assert engine.pool.checkedout() == 0
    assert _committer(engine)({"name": "served"}) is not None
    assert _names(engine) == ["served"]


def test_a_connection_replaced_meanwhile_is_reconnected(engine: Any) -> None:
    connects = engine.pool.stats().connects
    commit_insert = _committer(engine)
    with engine.connect() as conn:
        conn.invalidate()
    assert commit_insert({"name": "fresh"}) is not None
    assert engine.pool.stats().connects == connects + 1
    assert _names(engine) == ["fresh"]


@pytest.mark.backends("sqlite")
def test_a_reset_that_fails_on_return_discards_the_connection(engine: Any) -> None:
    """The direct checkin still resets, and a connection whose reset fails is replaced."""
    connects = engine.pool.stats().connects
    conn = engine.connect()
    conn.connection.dbapi_connection.close()  # the rollback on return will raise
    conn.close()
    assert engine.pool.checkedout() == 0
    assert engine.pool.stats().invalidations == 1
    assert _committer(engine)({"name": "after"}) is not None
    assert engine.pool.stats().connects == connects + 1
    assert _names(engine) == ["after"]


def test_a_returned_connection_goes_to_a_waiting_checkout(backend: Any) -> None:
    """With every connection out, a checkout waits; the one returned is handed to it."""
    eng = create_engine(backend.url, pool_size=1, max_overflow=0, pool_timeout=5)
    got: list[Any] = []
    holder = eng.connect()
    waiter = threading.Thread(target=lambda: got.append(eng.connect()))
    waiter.start()
    while eng.pool.stats().waits == 0:
        threading.Event().wait(0.001)
    holder.close()
    waiter.join(5)
    assert got and not got[0].closed
    assert eng.pool.checkedout() == 1
    got[0].close()
    assert eng.pool.checkedout() == 0
    eng.dispose()


def test_a_committer_writes_commits_and_returns_the_connection(engine: Any) -> None:
    commit_insert = _committer(engine)
    checkouts = engine.pool.stats().total_checkouts
    first = commit_insert({"name": "one"})
    second = commit_insert({"name": "two"})
    assert isinstance(first[0], int) and second[0] > first[0]
    assert engine.pool.checkedout() == 0
    assert engine.pool.stats().total_checkouts == checkouts + 2
    assert _names(engine) == ["one", "two"]


def test_a_committer_steps_aside_for_what_came_after_it_was_made(
    engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever could see the difference and came after the committer was made makes it do
    nothing (None) for the caller's general path: a listener (even once removed, the
    committer serves no longer; a new one does), pool debug logging, engine logging, a
    disposed pool, no idle connection, execution options."""

    def quiet(*args: Any) -> None:
        return None

    for target, name in ((engine, "commit"), (engine.pool, "checkin")):
        commit_insert = _committer(engine)
        event.listen(target, name, quiet)
        try:
            assert commit_insert({"name": "x"}) is None
            assert engine._insert_committer(_insert(engine), {"name": "x"}) is None
        finally:
            event.remove(target, name, quiet)
        assert commit_insert({"name": "x"}) is None
    commit_insert = _committer(engine)
    engine.pool.echo = "debug"
    assert commit_insert({"name": "x"}) is None
    engine.pool.echo = None
    with caplog.at_level(logging.INFO, logger="athanor.engine"):
        assert commit_insert({"name": "x"}) is None
    assert commit_insert({"name": "served"}) is not None
    with engine.connect():
        assert commit_insert({"name": "x"}) is None
    engine.dispose()
    with engine.connect():
        pass
    assert commit_insert({"name": "x"}) is None
    assert _committer(engine)({"name": "after dispose"}) is not None
    commit_insert = _committer(engine)
    engine.update_execution_options(foo=1)
    assert commit_insert({"name": "x"}) is None
    assert engine.pool.checkedout() == 0
    assert _names(engine) == ["served", "after dispose"]


def test_a_committer_serves_on_after_another_engine_is_made(engine: Any, backend: Any) -> None:
    """A new engine's pool gets connect-time listeners, which no committer depends on: the
    committers of other engines keep serving.  Such a listener added later still fires."""
    commit_insert = _committer(engine)
    other = create_engine(backend.url)
    with other.connect():
        pass
    other.dispose()
    assert commit_insert({"name": "after another engine"}) is not None
    opened: list[Any] = []
    event.listen(engine, "connect", lambda dbapi_connection, record: opened.append(record))
    assert commit_insert({"name": "after a connect listener"}) is not None
    engine.dispose()
    with engine.connect():
        pass
    assert len(opened) == 1
    assert _names(engine) == ["after another engine", "after a connect listener"]


def test_a_committer_s_failed_insert_leaves_nothing_open(engine: Any, backend: Any) -> None:
    """The INSERT fails: the error is wrapped as a Connection's would be, the transaction is
    rolled back (the server sees the connection idle, not in a transaction) and the
    connection is back in the pool."""
    with engine.begin() as conn:
        conn.execute(insert(thing), {"name": "dup"})
        pid = conn.scalar(text("SELECT pg_backend_pid()")) if backend.name == "postgresql" else 0
    commit_insert = _committer(engine)
    with pytest.raises(IntegrityError) as caught:
        commit_insert({"name": "dup"})
    assert "INSERT INTO lean_thing" in str(caught.value)
    assert engine.pool.checkedout() == 0
    if backend.name == "postgresql":
        observer = create_engine(backend.url)
        with observer.connect() as conn:
            state = conn.scalar(
                text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        observer.dispose()
        assert state == "idle"
    with engine.connect() as conn:
        assert not conn.in_transaction()
        assert conn.scalar(select(thing.c.name)) == "dup"
    assert _committer(engine)({"name": "after"}) is not None
    assert _names(engine) == ["dup", "after"]


@pytest.mark.backends("sqlite", "postgresql")
def test_a_committer_s_failed_commit_leaves_the_connection_to_the_caller(backend: Any) -> None:
    """The COMMIT fails (a deferred foreign key): LeanCommitFailed carries the connection,
    checked out and without a transaction, its ended transaction, the wrapped error and the
    key the INSERT gave."""
    eng = create_engine(backend.url)
    if backend.name == "sqlite":
        event.listen(eng, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
    deferred = MetaData()
    Table("lean_parent", deferred, Column("id", Integer, primary_key=True))
    child = Table(
        "lean_child",
        deferred,
        Column("id", Integer, primary_key=True),
        Column(
            "parent_id",
            Integer,
            ForeignKey("lean_parent.id", deferrable=True, initially="DEFERRED"),
        ),
    )
    deferred.create_all(eng)
    statement = insert(child)
    if eng.dialect.insert_returning:
        statement = statement.returning(child.c.id)
    commit_insert = eng._insert_committer(statement, {"parent_id": 1})
    assert commit_insert is not None
    with pytest.raises(LeanCommitFailed) as caught:
        commit_insert({"parent_id": 404})
    failed = caught.value
    assert isinstance(failed.failure, IntegrityError) and "COMMIT" in str(failed.failure)
    assert isinstance(failed.values[0], int)
    assert eng.pool.checkedout() == 1 and not failed.connection.in_transaction()
    failed.connection.close()
    assert eng.pool.checkedout() == 0
    with eng.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(child)) == 0
    deferred.drop_all(eng)
    eng.dispose()


@pytest.mark.backends("sqlite")
def test_on_sqlite_an_insert_without_foreign_keys_is_its_own_transaction(backend: Any) -> None:
    """SQLite runs a statement outside a transaction as one of its own: the committer sends
    no BEGIN (nor COMMIT) for a table without foreign keys, but keeps them where a deferred
    foreign key may fail the COMMIT, and when ``accept`` may want the row undone."""
    eng = create_engine(backend.url)
    sent: list[str] = []
    event.listen(eng, "connect", lambda conn, _: conn.set_trace_callback(sent.append))
    keyed = MetaData()
    parent = Table(
        "lean_alone_parent",
        keyed,
        Column("id", Integer, primary_key=True),
        Column("name", String(30)),
    )
    child = Table(
        "lean_alone_child",
        keyed,
        Column("id", Integer, primary_key=True),
        Column("parent_id", Integer, ForeignKey("lean_alone_parent.id")),
    )
    keyed.create_all(eng)
    with eng.connect():
        pass
    alone = eng._insert_committer(insert(parent), {"name": "a"})
    with_key = eng._insert_committer(insert(child), {"parent_id": 1})
    assert alone is not None and with_key is not None

    def ends(run: Any) -> list[str]:
        del sent[:]
        run()
        return [sql for sql in sent if sql in ("BEGIN", "COMMIT")]

    assert ends(lambda: alone({"name": "b"})) == []
    assert ends(lambda: alone({"name": "c"}, lambda pk, row: None)) == ["BEGIN", "COMMIT"]
    assert ends(lambda: with_key({"parent_id": 1})) == ["BEGIN", "COMMIT"]
    with eng.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(parent)) == 2
        assert conn.scalar(select(func.count()).select_from(child)) == 1
    keyed.drop_all(eng)
    eng.dispose()
