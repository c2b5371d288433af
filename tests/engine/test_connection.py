"""Connection behaviour on every backend: execute, commit as you go, begin, savepoints, close."""

from __future__ import annotations

import pytest

import athanor
from athanor import exc, text
from backends import driver_autocommit


@pytest.fixture
def engine(backend):
    engine = athanor.create_engine(backend.url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50))"))
    yield engine
    engine.dispose()


def count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM items")).scalar_one()


def test_text_with_named_parameters_round_trips(engine) -> None:
    with engine.connect() as conn:
        conn.execute(
            text("INSERT INTO items (id, name) VALUES (:id, :name)"), {"id": 1, "name": "a"}
        )
        row = conn.execute(text("SELECT id, name FROM items WHERE id = :id"), {"id": 1}).one()
        assert row.id == 1
        assert row.name == "a"
        assert row._mapping["name"] == "a"


def test_executemany_with_a_list_of_dicts(engine) -> None:
    with engine.begin() as conn:
        result = conn.execute(
            text("INSERT INTO items (id, name) VALUES (:id, :name)"),
            [{"id": i, "name": f"n{i}"} for i in range(25)],
        )
        assert result.rowcount == 25
    assert count(engine) == 25


def test_commit_as_you_go(engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO items (id, name) VALUES (1, 'kept')"))
        assert conn.in_transaction()
        conn.commit()
        assert not conn.in_transaction()
        conn.execute(text("INSERT INTO items (id, name) VALUES (2, 'dropped')"))
        conn.rollback()
    assert count(engine) == 1


def test_close_without_commit_rolls_back(engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO items (id, name) VALUES (1, 'lost')"))
    assert count(engine) == 0
    assert engine.pool.checkedout() == 0


def test_engine_begin_commits_and_rolls_back_on_error(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO items (id, name) VALUES (1, 'ok')"))
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("INSERT INTO items (id, name) VALUES (2, 'no')"))
        raise RuntimeError("boom")
    assert count(engine) == 1
    assert engine.pool.checkedout() == 0


def test_explicit_begin_block(engine) -> None:
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(text("INSERT INTO items (id, name) VALUES (1, 'x')"))
        assert not conn.in_transaction()
        with pytest.raises(exc.InvalidRequestError, match="already begun"):
            conn.execute(text("SELECT 1"))
            conn.begin()
    assert count(engine) == 1


def test_savepoints_roll_back_only_their_part(engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO items (id, name) VALUES (1, 'outer')"))
        with pytest.raises(ValueError), conn.begin_nested():
            conn.execute(text("INSERT INTO items (id, name) VALUES (2, 'inner')"))
            raise ValueError("undo the savepoint")
        with conn.begin_nested():
            conn.execute(text("INSERT INTO items (id, name) VALUES (3, 'kept inner')"))
        conn.commit()
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM items ORDER BY id")).scalars().all()
    assert ids == [1, 3]


def test_failed_statement_keeps_connection_usable_after_rollback(engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO items (id, name) VALUES (1, 'a')"))
        conn.commit()
        with pytest.raises(exc.IntegrityError) as caught:
            conn.execute(text("INSERT INTO items (id, name) VALUES (1, 'dup')"))
        assert caught.value.orig is not None
        assert caught.value.code == "gkpj", "the code SQLAlchemy gives an IntegrityError"
        assert "INSERT INTO items" in str(caught.value)
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM items")).scalar() == 1


def test_missing_table_error_is_wrapped(engine) -> None:
    # sqlite3 reports a missing table as OperationalError, the server drivers as ProgrammingError.
    with engine.connect() as conn, pytest.raises((exc.ProgrammingError, exc.OperationalError)) as e:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert e.value.code == ("f405" if isinstance(e.value, exc.ProgrammingError) else "e3q8")


def test_exec_driver_sql_uses_driver_paramstyle(engine, backend) -> None:
    marker = "?" if backend.is_sqlite else "%s"
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO items (id, name) VALUES ({marker}, {marker})", (7, "seven")
        )
        conn.exec_driver_sql(
            f"INSERT INTO items (id, name) VALUES ({marker}, {marker})", [(8, "a"), (9, "b")]
        )
    assert count(engine) == 3


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ([7, "seven"], r"as a tuple, \(1, 2\) rather than \[1, 2\]"),
        ([[7, "seven"], [8, "eight"]], r"those of many as a list of tuples"),
        ("ab", r"a tuple, a dictionary or a list of them, got str"),
        (iter([(7, "seven")]), r"got list_iterator"),
    ],
)
def test_exec_driver_sql_refuses_what_is_not_parameter_sets(engine, backend, parameters, message):
    marker = "?" if backend.is_sqlite else "%s"
    with engine.connect() as conn:
        with pytest.raises(exc.ArgumentError, match=message):
            conn.exec_driver_sql(
                f"INSERT INTO items (id, name) VALUES ({marker}, {marker})", parameters
            )
        assert conn.exec_driver_sql("SELECT 1", []).scalar() == 1
        assert conn.exec_driver_sql("SELECT 1", [()]).scalar() == 1


def test_executing_a_plain_string_says_to_use_text(engine) -> None:
    with engine.connect() as conn, pytest.raises(exc.ObjectNotExecutableError, match="text"):
        conn.execute("SELECT 1")  # type: ignore[arg-type]


def test_closed_connection_refuses_use(engine) -> None:
    conn = engine.connect()
    conn.close()
    assert conn.closed
    with pytest.raises(exc.ResourceClosedError):
        conn.execute(text("SELECT 1"))


def test_isolation_level_execution_option_and_reset(engine, backend) -> None:
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        assert driver_autocommit(conn) or backend.is_sqlite
        assert conn.get_isolation_level() != "AUTOCOMMIT"  # the database's level, not the mode
        conn.execute(text("INSERT INTO items (id, name) VALUES (1, 'auto')"))
    assert count(engine) == 1
    with engine.connect() as conn:
        assert not driver_autocommit(conn) or backend.is_sqlite


def test_isolation_level_reports_the_database_level_under_autocommit(engine, backend) -> None:
    """Like SQLAlchemy: the level is the database's; AUTOCOMMIT is a mode, seen in the
    execution options (or the engine's isolation_level)."""
    with engine.connect() as conn:
        usual = conn.get_isolation_level()
        conn.rollback()
        conn.execution_options(isolation_level="AUTOCOMMIT")
        assert conn.get_isolation_level() == usual == conn.default_isolation_level
        assert conn.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
    autocommit = athanor.create_engine(backend.url, isolation_level="AUTOCOMMIT")
    with autocommit.connect() as conn:
        assert conn.get_isolation_level() == usual
        assert driver_autocommit(conn)
    autocommit.dispose()


@pytest.mark.backends("postgresql", "mysql")
def test_read_committed_from_create_engine(backend) -> None:
    engine = athanor.create_engine(backend.url, isolation_level="READ COMMITTED")
    with engine.connect() as conn:
        assert conn.get_isolation_level() == "READ COMMITTED"
    engine.dispose()


def test_stream_results_yields_all_rows(engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO items (id, name) VALUES (:id, :name)"),
            [{"id": i, "name": str(i)} for i in range(300)],
        )
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=50).execute(
            text("SELECT id FROM items ORDER BY id")
        )
        seen = [row.id for row in result]
    assert seen == list(range(300))


def test_invalidate_reconnects_on_next_use(engine) -> None:
    with engine.connect() as conn:
        first = conn.connection.dbapi_connection
        conn.invalidate()
        assert conn.invalidated
        assert conn.execute(text("SELECT 1")).scalar() == 1
        assert conn.connection.dbapi_connection is not first


def test_dispose_and_keep_working(engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar() == 2
    engine.dispose(close=False)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 3")).scalar() == 3


def test_raw_connection(engine) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1
        cursor.close()
    finally:
        raw.close()
    assert engine.pool.checkedout() == 0


def test_percent_sign_in_compiled_sql_without_parameters(engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT '100%'")).scalar() == "100%"
        assert conn.execute(text("SELECT '50%' AS p WHERE 1 = :one"), {"one": 1}).scalar() == "50%"


def test_percent_in_quoted_identifiers(engine) -> None:
    from athanor import Column, Integer, MetaData, Table, insert, select

    weird = Table("100% table", MetaData(), Column("50% col", Integer, primary_key=True))
    weird.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(weird).values({"50% col": 3}))
    with engine.connect() as conn:
        assert conn.execute(select(weird)).scalar_one() == 3
        assert conn.scalar(select(weird.c["50% col"])) == 3


def test_leaked_connection_returns_to_pool_with_a_warning_naming_the_checkout(engine) -> None:
    import gc
    import warnings

    def leak() -> None:
        conn = engine.connect()
        conn.execute(text("SELECT 1"))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        leak()
        gc.collect()
    assert engine.pool.checkedout() == 0
    messages = [str(w.message) for w in caught if issubclass(w.category, exc.ConnectionLeakWarning)]
    assert messages, "expected a ConnectionLeakWarning"
    assert "test_connection.py" in messages[0]


def test_engine_level_execution_options(backend) -> None:
    engine = athanor.create_engine(backend.url, execution_options={"isolation_level": "AUTOCOMMIT"})
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE auto_t (x INTEGER)"))
        conn.execute(text("INSERT INTO auto_t VALUES (1)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM auto_t")).scalar() == 1
    engine.dispose()


@pytest.mark.backends("postgresql")
def test_stream_results_uses_a_server_side_cursor_on_postgresql(engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO items (id, name) VALUES (:id, 'x')"), [{"id": i} for i in range(10)]
        )
    with engine.connect() as conn:
        result = conn.execute(
            text("SELECT id FROM items ORDER BY id"),
            execution_options={"stream_results": True, "yield_per": 2},
        )
        first = result.fetchone()
        open_cursors = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_cursors WHERE name LIKE 'athanor%%'"
        ).scalar()
        rest = result.all()
    assert first is not None and first.id == 0
    assert open_cursors == 1
    assert [row.id for row in rest] == list(range(1, 10))


@pytest.mark.backends("mysql")
def test_mysql_skips_the_rollback_only_when_nothing_ran(engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        raw = conn.connection.dbapi_connection
        assert raw.transaction_may_be_open
    assert not raw.transaction_may_be_open  # rolled back on return
    rollbacks: list[object] = []
    real_rollback = type(raw).rollback
    with engine.connect() as conn:
        conn.connection.dbapi_connection.rollback = lambda: rollbacks.append(real_rollback(raw))
    del raw.rollback
    assert rollbacks == []  # a checkout that ran nothing costs no ROLLBACK


def test_missing_bind_value_shows_the_sql_and_the_parameters_given(engine) -> None:
    with engine.connect() as conn, pytest.raises(exc.StatementError) as caught:
        conn.execute(
            text("INSERT INTO items (id, name) VALUES (:id, :name)"), {"id": 7, "nmae": "typo"}
        )
    message = str(caught.value)
    assert "A value is required for bind parameter 'name'" in message
    assert "[SQL: INSERT INTO items (id, name) VALUES (" in message
    assert "[parameters: {'id': 7, 'nmae': 'typo'}]" in message


def test_missing_bind_value_in_an_executemany_names_the_sql_of_those_columns(engine) -> None:
    items = athanor.Table(
        "items",
        athanor.MetaData(),
        athanor.Column("id", athanor.Integer, primary_key=True),
        athanor.Column("name", athanor.String(50)),
    )
    with engine.connect() as conn, pytest.raises(exc.StatementError) as caught:
        conn.execute(items.insert(), [{"id": 1, "name": "a"}, {"id": 2}])
    message = str(caught.value)
    assert "bind parameter 'name'" in message
    assert "[SQL: INSERT INTO items (id, name) VALUES (" in message
    assert "{'id': 2}" in message


def test_missing_bind_value_masks_values_with_hide_parameters(backend) -> None:
    engine = athanor.create_engine(backend.url, hide_parameters=True)
    with engine.connect() as conn, pytest.raises(exc.StatementError) as caught:
        conn.execute(text("SELECT :a AS a, :b AS b"), {"a": "hunter2-secret"})
    message = str(caught.value)
    assert "[SQL: SELECT " in message
    assert "[SQL parameters hidden due to hide_parameters=True]" in message
    assert "hunter2-secret" not in message
    engine.dispose()


def test_a_dialect_overriding_do_commit_is_called(backend, monkeypatch) -> None:
    """The engine calls the driver's commit() itself only for a do_commit that does just
    that; a dialect's own do_commit is called, and commits."""
    from athanor.engine import create as create_module

    real = create_module._dialect_class_for
    calls: list[object] = []

    def recording_class_for(url, *, is_async):
        base = real(url, is_async=is_async)

        class Recording(base):
            def do_commit(self, dbapi_connection) -> None:
                calls.append(dbapi_connection)
                super().do_commit(dbapi_connection)

        return Recording

    plain = athanor.create_engine(backend.url)
    assert plain.dialect._commit_directly
    monkeypatch.setattr(create_module, "_dialect_class_for", recording_class_for)
    engine = athanor.create_engine(backend.url)
    try:
        assert not engine.dialect._commit_directly
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50))"))
        with engine.connect() as conn:
            conn.execute(text("INSERT INTO items (id, name) VALUES (1, 'a')"))
            conn.commit()
            driver_connection = conn.connection.dbapi_connection
        assert calls and calls[-1] is driver_connection
        assert count(plain) == 1
    finally:
        engine.dispose()
        plain.dispose()


def test_a_dialect_overriding_do_execute_is_called(backend, monkeypatch) -> None:
    """The engine calls cursor.execute() itself only while do_execute is the default; a
    dialect's own do_execute sees every statement with parameters."""
    from athanor.engine import create as create_module

    real = create_module._dialect_class_for
    seen: list[str] = []

    def recording_class_for(url, *, is_async):
        base = real(url, is_async=is_async)

        class Recording(base):
            def do_execute(self, cursor, statement, parameters) -> None:
                seen.append(statement)
                super().do_execute(cursor, statement, parameters)

        return Recording

    plain = athanor.create_engine(backend.url)
    assert plain.dialect._execute_directly
    monkeypatch.setattr(create_module, "_dialect_class_for", recording_class_for)
    engine = athanor.create_engine(backend.url)
    try:
        assert not engine.dialect._execute_directly
        items = athanor.table("items", athanor.column("id"), athanor.column("name"))
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50))"))
            conn.execute(athanor.insert(items), {"id": 1, "name": "a"})
        assert any(sql.startswith("INSERT INTO items") for sql in seen)
        with engine.connect() as conn:
            assert conn.execute(athanor.select(items.c.name)).scalar_one() == "a"
    finally:
        engine.dispose()
        plain.dispose()


def _items_table() -> athanor.Table:
    return athanor.Table(
        "items",
        athanor.MetaData(),
        athanor.Column("id", athanor.Integer, primary_key=True),
        athanor.Column("name", athanor.String(50)),
    )


def test_a_statement_object_run_again_is_found_by_identity(engine) -> None:
    """The engine's cache finds a statement object executed again without its structural key;
    clear_compiled_cache() forgets those too."""
    items = _items_table()
    statement = athanor.insert(items)
    cache = engine._compiled_cache
    with engine.begin() as conn:
        first = conn.execute(statement, {"id": 1, "name": "a"})
        held = cache.by_statement[id(statement)]
        second = conn.execute(statement, {"id": 2, "name": "b"})
    assert held[0] is statement
    assert cache.by_statement[id(statement)] is held
    assert first.inserted_primary_key == (1,)
    assert second.inserted_primary_key == (2,)
    engine.clear_compiled_cache()
    assert not cache.by_statement
    assert not cache
    with engine.begin() as conn:
        conn.execute(statement, {"id": 3, "name": "c"})
    assert count(engine) == 3


def test_a_row_less_result_reports_and_refuses_rows(engine) -> None:
    """A statement returning no rows gets a closed result with its counts; fetching raises,
    unique() and yield_per() do not."""
    items = _items_table()
    with engine.begin() as conn:
        result = conn.execute(athanor.insert(items), {"id": 7, "name": "a"})
        updated = conn.execute(athanor.update(items).values(name="b"))
    assert result.returns_rows is False
    assert result.rowcount == 1
    assert result.inserted_primary_key == (7,)
    assert result.context.isinsert
    assert result.closed
    assert updated.rowcount == 1
    assert updated.unique().yield_per(5) is updated
    with pytest.raises(exc.ResourceClosedError):
        updated.fetchall()
    with pytest.raises(exc.ResourceClosedError):
        result.one()
