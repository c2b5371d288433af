"""Engine and pool events as the seeds use them, on every backend."""

from __future__ import annotations

import pytest

import athanor
from athanor import event, exc, text
from athanor.engine import Engine


@pytest.fixture
def engine(backend):
    engine = athanor.create_engine(backend.url)
    yield engine
    engine.dispose()


def test_connect_and_checkout_listeners_on_the_engine(engine) -> None:
    calls: list[str] = []

    @event.listens_for(engine, "connect")
    def receive_connect(dbapi_conn, connection_record):
        calls.append("connect")

    @event.listens_for(engine, "checkout")
    def receive_checkout(dbapi_conn, connection_record, connection_proxy):
        calls.append("checkout")

    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert calls == ["connect", "checkout", "checkout"]
    assert event.contains(engine, "checkout", receive_checkout)
    event.remove(engine, "checkout", receive_checkout)
    assert not event.contains(engine, "checkout", receive_checkout)
    with engine.connect():
        pass
    assert calls.count("checkout") == 2


def test_per_connection_settings_through_connect_listener(engine, backend) -> None:
    @event.listens_for(engine, "connect")
    def set_setting(dbapi_conn, conn_record):
        cursor = dbapi_conn.cursor()
        if backend.name == "postgresql":
            cursor.execute("SET application_name = 'athanor-events'")
        elif backend.name == "mysql":
            cursor.execute("SET @athanor_tenant = 'tenant-1'")
        else:
            cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    query = {
        "postgresql": "SHOW application_name",
        "mysql": "SELECT @athanor_tenant",
        "sqlite": "PRAGMA foreign_keys",
    }[backend.name]
    expected = {"postgresql": "athanor-events", "mysql": "tenant-1", "sqlite": 1}[backend.name]
    with engine.connect() as conn:
        assert conn.exec_driver_sql(query).scalar() == expected


def test_before_execute_sees_the_seed_signature(engine) -> None:
    seen: list[tuple] = []

    @event.listens_for(engine, "before_execute")
    def before_execute(conn, clauseelement, multiparams, params, execution_options):
        seen.append((clauseelement, multiparams, params, dict(execution_options)))

    statement = text("SELECT :x")
    with engine.connect() as conn:
        assert conn.execute(statement, {"x": 5}).scalar() == 5
    assert seen == [(statement, [], {"x": 5}, {})]


def test_before_execute_retval_replaces_the_statement(engine) -> None:
    def swap(conn, clauseelement, multiparams, params, execution_options):
        return text("SELECT 42"), multiparams, {}

    event.listen(engine, "before_execute", swap, retval=True)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 42


def test_cursor_events_and_transaction_events(engine) -> None:
    calls: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: calls.append("before_cursor"))
    event.listen(engine, "after_cursor_execute", lambda *a: calls.append("after_cursor"))
    event.listen(engine, "begin", lambda conn: calls.append("begin"))
    event.listen(engine, "commit", lambda conn: calls.append("commit"))
    event.listen(engine, "rollback", lambda conn: calls.append("rollback"))
    event.listen(engine, "engine_connect", lambda conn: calls.append("engine_connect"))
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        conn.commit()
    assert calls == [
        "engine_connect",
        "begin",
        "before_cursor",
        "after_cursor",
        "commit",
    ]


def test_cursor_events_see_positional_parameters_as_tuples(engine, backend) -> None:
    seen: list[tuple[str, object, bool]] = []

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(("before", parameters, executemany))
        return statement, parameters

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append(("after", parameters, executemany))

    marker = "?" if backend.is_sqlite else "%s"
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE evt_params (id INTEGER)")
        conn.exec_driver_sql(f"INSERT INTO evt_params (id) VALUES ({marker})", [(1,), (2,)])
        seen.clear()
        conn.exec_driver_sql("SELECT 1")
        conn.exec_driver_sql(f"SELECT {marker}", (3,))
        conn.execute(text("SELECT 4"))
        assert conn.execute(text("SELECT id FROM evt_params WHERE id = :x"), {"x": 2}).all()
        conn.exec_driver_sql("DROP TABLE evt_params")
    assert seen[:-2] == [
        ("before", (), False),
        ("after", (), False),
        ("before", (3,), False),
        ("after", (3,), False),
        ("before", (), False),
        ("after", (), False),
        ("before", (2,), False),
        ("after", (2,), False),
    ]


@pytest.mark.parametrize("event_name", ["before_cursor_execute", "after_cursor_execute"])
def test_raising_cursor_listener_closes_its_cursor(engine, event_name) -> None:
    """A cursor listener that raises ends the statement; its cursor is closed, not leaked,
    and the connection goes on working."""
    cursors: list[object] = []

    def refuse(conn, cursor, statement, parameters, context, executemany):
        cursors.append(cursor)
        raise RuntimeError("listener refuses")

    event.listen(engine, event_name, refuse, retval=event_name == "before_cursor_execute")
    with engine.connect() as conn:
        with pytest.raises(RuntimeError, match="listener refuses"):
            conn.execute(text("SELECT 1"))
        event.remove(engine, event_name, refuse)
        assert conn.execute(text("SELECT 2")).scalar() == 2
    (cursor,) = cursors
    with pytest.raises(Exception, match=r"(?i)closed"):
        cursor.execute("SELECT 3")


def test_savepoint_event(engine) -> None:
    names: list[str] = []
    event.listen(engine, "savepoint", lambda conn, name: names.append(name))
    with engine.connect() as conn:
        with conn.begin_nested():
            conn.execute(text("SELECT 1"))
        conn.rollback()
    assert len(names) == 1
    assert names[0].startswith("athanor_sp_")


def _record_statement_events(engine: Engine) -> list[tuple[str, object]]:
    """Listen to every transaction and statement event of ``engine``; the list the
    listeners append to, one (event, statement or savepoint name) pair per call."""
    calls: list[tuple[str, object]] = []

    def before_execute(conn, clause, multiparams, params, options):
        calls.append(("before_execute", clause))

    def after_execute(conn, clause, multiparams, params, options, result):
        calls.append(("after_execute", clause))

    def before_cursor(conn, cursor, statement, parameters, context, executemany):
        assert context is not None and context.cursor is cursor
        calls.append(("before_cursor_execute", statement))

    def after_cursor(conn, cursor, statement, parameters, context, executemany):
        calls.append(("after_cursor_execute", statement))

    event.listen(engine, "before_execute", before_execute)
    event.listen(engine, "after_execute", after_execute)
    event.listen(engine, "before_cursor_execute", before_cursor)
    event.listen(engine, "after_cursor_execute", after_cursor)
    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, lambda conn, name=name: calls.append((name, None)))
    event.listen(engine, "savepoint", lambda conn, sp: calls.append(("savepoint", sp)))
    for name in ("release_savepoint", "rollback_savepoint"):
        event.listen(engine, name, lambda conn, sp, ctx, name=name: calls.append((name, sp)))
    return calls


def test_savepoint_statements_fire_the_execution_events(engine) -> None:
    """SAVEPOINT, RELEASE SAVEPOINT and ROLLBACK TO SAVEPOINT are statements to execution
    listeners (a query counter or tracer sees them), each after its savepoint event; BEGIN,
    COMMIT and ROLLBACK fire only their transaction events."""
    calls = _record_statement_events(engine)
    with engine.connect() as conn:
        with conn.begin():
            kept = conn.begin_nested()
            kept.commit()
            undone = conn.begin_nested()
            undone.rollback()
        conn.begin_nested()
        conn.rollback()

    def steps(sql: str, clause_type: type) -> list[tuple[str, object]]:
        clause = calls[len(expected)][1]
        assert isinstance(clause, clause_type)
        assert str(clause) == sql
        return [
            ("before_execute", clause),
            ("before_cursor_execute", sql),
            ("after_cursor_execute", sql),
            ("after_execute", clause),
        ]

    expected: list[tuple[str, object]] = [("begin", None), ("savepoint", kept.name)]
    expected += steps(f"SAVEPOINT {kept.name}", athanor.SavepointClause)
    expected.append(("release_savepoint", kept.name))
    expected += steps(f"RELEASE SAVEPOINT {kept.name}", athanor.ReleaseSavepointClause)
    expected.append(("savepoint", undone.name))
    expected += steps(f"SAVEPOINT {undone.name}", athanor.SavepointClause)
    expected.append(("rollback_savepoint", undone.name))
    expected += steps(f"ROLLBACK TO SAVEPOINT {undone.name}", athanor.RollbackToSavepointClause)
    expected += [("commit", None), ("begin", None)]
    last = calls[len(expected)][1]
    expected.append(("savepoint", last))
    expected += steps(f"SAVEPOINT {last}", athanor.SavepointClause)
    expected.append(("rollback", None))
    assert calls == expected


def test_savepoints_with_execution_listeners_keep_their_effects(engine) -> None:
    """Run through the general execution path, savepoints still release and roll back what
    they should on the database."""
    calls = _record_statement_events(engine)
    table = athanor.Table(
        "sp_events", athanor.MetaData(), athanor.Column("id", athanor.Integer, primary_key=True)
    )
    table.create(engine)
    try:
        with engine.connect() as conn:
            with conn.begin():
                with conn.begin_nested():
                    conn.execute(table.insert(), {"id": 1})
                with pytest.raises(ZeroDivisionError), conn.begin_nested():
                    conn.execute(table.insert(), {"id": 2})
                    raise ZeroDivisionError
            assert conn.scalars(athanor.select(table.c.id)).all() == [1]
        assert sum(1 for name, _ in calls if name == "before_cursor_execute") >= 6
    finally:
        table.drop(engine)


def test_handle_error_listener_sees_the_original_exception(engine) -> None:
    contexts = []
    event.listen(engine, "handle_error", contexts.append)
    with engine.connect() as conn, pytest.raises(exc.DBAPIError):
        conn.execute(text("SELECT * FROM missing_table_xyz"))
    assert len(contexts) == 1
    assert contexts[0].statement.startswith("SELECT * FROM missing_table_xyz")
    assert contexts[0].is_disconnect is False


def test_class_level_listener_applies_to_every_engine(backend) -> None:
    seen: list[object] = []

    def on_engine_connect(conn):
        seen.append(conn)

    event.listen(Engine, "engine_connect", on_engine_connect)
    try:
        first = athanor.create_engine(backend.url)
        with first.connect():
            pass
        assert len(seen) == 1
    finally:
        event.remove(Engine, "engine_connect", on_engine_connect)
    with first.connect():
        pass
    assert len(seen) == 1
    first.dispose()


def test_checkout_listener_raising_disconnection_error_gets_a_fresh_connection(engine) -> None:
    refused: list[object] = []

    @event.listens_for(engine, "checkout")
    def refuse_first(dbapi_conn, record, proxy):
        if not refused:
            refused.append(dbapi_conn)
            raise exc.DisconnectionError("simulated stale connection")

    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        assert conn.connection.dbapi_connection is not refused[0]


def test_engine_disposed_event(engine) -> None:
    disposed: list[object] = []
    event.listen(engine, "engine_disposed", disposed.append)
    engine.dispose()
    assert disposed == [engine]


def test_unknown_event_name_is_refused(engine) -> None:
    with pytest.raises(exc.InvalidRequestError, match="No such event 'bogus'"):
        event.listen(engine, "bogus", lambda: None)


def test_listener_on_an_option_engine_fires_only_for_it(backend) -> None:
    engine = athanor.create_engine(backend.url)
    tagged = engine.execution_options(logging_token="reports")
    seen: list[tuple[str, str]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def on_parent(conn, cursor, statement, parameters, context, executemany):
        seen.append(("parent", statement))

    @event.listens_for(tagged, "before_cursor_execute")
    def on_option(conn, cursor, statement, parameters, context, executemany):
        seen.append(("option", statement))

    with engine.connect() as conn:
        conn.execute(text("SELECT 1 AS from_parent"))
    assert seen == [("parent", "SELECT 1 AS from_parent")]

    seen.clear()
    with tagged.connect() as conn:
        conn.execute(text("SELECT 2 AS from_option"))
    # the parent's listeners run on its option engines too, first
    assert seen == [("parent", "SELECT 2 AS from_option"), ("option", "SELECT 2 AS from_option")]

    @event.listens_for(engine, "before_cursor_execute")
    def added_later(conn, cursor, statement, parameters, context, executemany):
        seen.append(("later", statement))

    seen.clear()
    event.remove(engine, "before_cursor_execute", on_parent)
    with tagged.connect() as conn:
        conn.execute(text("SELECT 3 AS again"))
    assert seen == [("later", "SELECT 3 AS again"), ("option", "SELECT 3 AS again")]
    assert event.contains(tagged, "before_cursor_execute", on_option)
    assert not event.contains(engine, "before_cursor_execute", on_option)
    engine.dispose()


def test_nested_option_engines_inherit_their_whole_chain() -> None:
    engine = athanor.create_engine("sqlite://")
    first = engine.execution_options(a=1)
    second = first.execution_options(b=2)
    seen: list[str] = []
    event.listen(engine, "engine_connect", lambda conn: seen.append("engine"))
    event.listen(first, "engine_connect", lambda conn: seen.append("first"))
    event.listen(second, "engine_connect", lambda conn: seen.append("second"))
    second.connect().close()
    assert seen == ["engine", "first", "second"]
    seen.clear()
    first.connect().close()
    assert seen == ["engine", "first"]
    assert second.get_execution_options() == {"a": 1, "b": 2}
