"""A flush of many new objects whose only generated value is an autoincrement key: on SQLite
and MySQL/MariaDB the keys are counted from each INSERT's ``lastrowid`` instead of read back
with RETURNING, where the database vouches for them; everywhere else, and wherever a guard
fails, they are read back.  Each test checks that every object's key is the key of its own
row in the database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from tests.orm.orm_models import StatementLog

from athanor import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from athanor.exc import IntegrityError, InvalidRequestError
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column
from athanor.orm.exc import FlushError
from athanor.orm.unitofwork import COUNTED_KEYS_MIN

MANY = 2 * 1000 + 7
"""More rows than one multi-row INSERT takes (1000 per statement), and not a multiple."""


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "counted_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))


class Stamped(Base):
    __tablename__ = "counted_stamped"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), server_default=text("'new'"))


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    Base.metadata.drop_all(eng)
    Base.metadata.create_all(eng)
    yield eng
    Base.metadata.drop_all(eng)
    eng.dispose()


def _rows(engine: Any, table: Any) -> dict[Any, str]:
    with engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(select(table.c.id, table.c.name))}


def _check(engine: Any, objects: list[Any], table: Any = None) -> None:
    """Each object's key is its own row's, and the table holds no other row of theirs."""
    stored = _rows(engine, table if table is not None else type(objects[0]).__table__)
    keys = [o.id for o in objects]
    assert len(set(keys)) == len(keys)
    assert {k: stored.get(k) for k in keys} == {o.id: o.name for o in objects}


def _inserts(log: StatementLog) -> list[str]:
    return [s.upper() for s in log.statements if s.lstrip().upper().startswith("INSERT")]


def test_many_objects_get_the_keys_of_their_rows(engine: Any, backend: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        session.add_all([Item(name=f"old {i}") for i in range(5)])
        session.commit()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM counted_item WHERE id > 2"))
    log = StatementLog(engine)
    with Session(engine, expire_on_commit=False) as session:
        objects = [Item(name=f"item {i}") for i in range(MANY)]
        session.add_all(objects)
        session.commit()
        inserts = _inserts(log)
        _check(engine, objects)
        assert session.get(Item, objects[-1].id) is objects[-1]
    returning = [("RETURNING" in s) for s in inserts]
    if backend.name == "sqlite":
        # The first row alone (its key read back), then the rest counted.
        assert returning == [True, False, False, False]
        assert [o.id for o in objects[:2]] == [3, 4]
    elif backend.name == "mysql":
        assert not any(returning) and len(inserts) == 3
    else:
        assert all(returning)
    assert [o.id for o in objects] == list(range(objects[0].id, objects[0].id + MANY))


def test_few_objects_read_their_keys_back(engine: Any) -> None:
    log = StatementLog(engine)
    with Session(engine, expire_on_commit=False) as session:
        objects = [Item(name=f"few {i}") for i in range(COUNTED_KEYS_MIN - 1)]
        session.add_all(objects)
        session.commit()
    assert len(_inserts(log)) == 1
    _check(engine, objects)


def test_server_defaults_are_read_back(engine: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        objects = [Stamped(name=f"s {i}") for i in range(50)]
        session.add_all(objects)
        session.commit()
        assert {o.status for o in objects} == {"new"}
    _check(engine, objects)


def test_given_keys_mixed_in(engine: Any) -> None:
    objects = [
        Item(id=10_000 + i, name=f"given {i}") if i % 3 == 0 else Item(name=f"made {i}")
        for i in range(90)
    ]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(objects)
        session.commit()
    _check(engine, objects)
    assert [o.id for o in objects[::3]] == [10_000 + i for i in range(0, 90, 3)]


def test_insert_listeners_see_the_keys(engine: Any) -> None:
    """before_insert may give a key itself; after_insert sees every object's key."""
    seen: list[tuple[int, str]] = []

    def before(mapper: Any, connection: Any, obj: Any) -> None:
        obj.name = obj.name.upper()
        if obj.name.endswith("7"):
            obj.id = 50_000 + int(obj.name.split()[-1])

    def after(mapper: Any, connection: Any, obj: Any) -> None:
        seen.append((obj.id, obj.name))

    event.listen(Item, "before_insert", before)
    event.listen(Item, "after_insert", after)
    try:
        objects = [Item(name=f"heard {i}") for i in range(60)]
        with Session(engine, expire_on_commit=False) as session:
            session.add_all(objects)
            session.commit()
    finally:
        event.remove(Item, "before_insert", before)
        event.remove(Item, "after_insert", after)
    _check(engine, objects)
    assert sorted(seen) == sorted((o.id, o.name) for o in objects)
    assert all(o.name.startswith("HEARD") for o in objects)


def test_a_failed_flush_leaves_no_keys(engine: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        session.add(Item(id=5, name="taken"))
        session.commit()
    objects = [Item(name=f"n {i}") for i in range(40)]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all([*objects, Item(id=5, name="again")])
        with pytest.raises(IntegrityError):
            session.commit()
        assert all("id" not in o.__dict__ for o in objects)
        assert all(inspect(o).key is None and inspect(o).pending for o in objects)
    assert _rows(engine, Item.__table__) == {5: "taken"}


def test_a_failed_flush_takes_back_keys_and_defaults_read_back(engine: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        session.add(Stamped(id=5, name="taken"))
        session.commit()
    stamped = [Stamped(name=f"s {i}") for i in range(COUNTED_KEYS_MIN + 5)]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all([*stamped, Stamped(id=5, name="again")])
        with pytest.raises(IntegrityError):
            session.commit()
        for o in stamped:
            assert "id" not in o.__dict__ and "status" not in o.__dict__
            assert inspect(o).key is None
    assert _rows(engine, Stamped.__table__) == {5: "taken"}


def test_refresh_flush_reports_each_object_of_a_multi_row_insert(engine: Any) -> None:
    seen: list[tuple[str, list[str]]] = []

    def refreshed(target: Any, context: Any, attrs: Any) -> None:
        seen.append((target.name, sorted(attrs)))

    event.listen(Stamped, "refresh_flush", refreshed)
    try:
        objects = [Stamped(name=f"r {i}") for i in range(COUNTED_KEYS_MIN + 5)]
        with Session(engine, expire_on_commit=False) as session:
            session.add_all(objects)
            session.commit()
    finally:
        event.remove(Stamped, "refresh_flush", refreshed)
    assert seen == [(o.name, ["status"]) for o in objects]
    _check(engine, objects)


# --- SQLite guards ----------------------------------------------------------------------------


def _sqlite(backend: Any) -> None:
    if backend.name != "sqlite":
        pytest.skip("a SQLite guard")


def _mapped(table: Table) -> Any:
    class Base2(DeclarativeBase):
        pass

    return type("Row", (Base2,), {"__table__": table})


def test_sqlite_autoincrement_table_never_reuses_keys(engine: Any, backend: Any) -> None:
    _sqlite(backend)
    metadata = MetaData()
    table = Table(
        "counted_auto",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(40)),
        sqlite_autoincrement=True,
    )
    metadata.create_all(engine)
    model = _mapped(table)
    with Session(engine, expire_on_commit=False) as session:
        session.add_all([model(name=f"old {i}") for i in range(30)])
        session.commit()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM counted_auto WHERE id > 10"))
    objects = [model(name=f"new {i}") for i in range(MANY)]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(objects)
        session.commit()
    _check(engine, objects, table)
    assert objects[0].id == 31
    with engine.connect() as conn:
        seq = conn.execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'counted_auto'"))
        assert seq.scalar() == 30 + MANY
    metadata.drop_all(engine)


def test_sqlite_trigger_writing_the_same_table(engine: Any, backend: Any) -> None:
    _sqlite(backend)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER counted_echo AFTER INSERT ON counted_item "
                "WHEN NEW.name LIKE 'echo%' BEGIN "
                "INSERT INTO counted_item (name) VALUES ('copy of ' || NEW.name); END"
            )
        )
    log = StatementLog(engine)
    objects = [Item(name=f"echo {i}" if i % 5 == 0 else f"plain {i}") for i in range(60)]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(objects)
        session.commit()
    assert any("RETURNING" in s for s in _inserts(log)[1:])
    _check(engine, objects)
    stored = _rows(engine, Item.__table__)
    assert len(stored) == 60 + 12


def test_sqlite_temp_trigger_counts_too(engine: Any, backend: Any) -> None:
    _sqlite(backend)
    log = StatementLog(engine)
    with Session(engine, expire_on_commit=False) as session:
        session.execute(
            text(
                "CREATE TEMP TRIGGER counted_temp AFTER INSERT ON counted_item "
                "WHEN NEW.name = 'x 3' BEGIN "
                "INSERT INTO counted_item (name) VALUES ('extra'); END"
            )
        )
        objects = [Item(name=f"x {i}") for i in range(40)]
        session.add_all(objects)
        session.flush()
        _check_in(session, objects)
        session.rollback()
    assert ["RETURNING" in s for s in _inserts(log)] == [True, True]


def _check_in(session: Session, objects: list[Any]) -> None:
    stored = dict(session.execute(select(Item.id, Item.name)).tuples().all())
    assert {o.id: stored.get(o.id) for o in objects} == {o.id: o.name for o in objects}


def test_sqlite_keys_up_to_the_end_of_the_rowid_range(engine: Any, backend: Any) -> None:
    """Keys are counted up to 2**63 - 1, the largest rowid."""
    _sqlite(backend)
    top = 2**63 - 1
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO counted_item (id, name) VALUES ({top - 60}, 'high')"))
    log = StatementLog(engine)
    objects = [Item(name=f"end {i}") for i in range(60)]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(objects)
        session.commit()
    _check(engine, objects)
    assert [o.id for o in objects] == list(range(top - 59, top + 1))
    assert ["RETURNING" in s for s in _inserts(log)] == [True, False]


def test_sqlite_key_that_is_not_the_rowid(engine: Any, backend: Any) -> None:
    """A table made elsewhere whose ``INT PRIMARY KEY`` is not the rowid: its keys are not
    counted (a row would get NULL, which the flush reports)."""
    _sqlite(backend)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counted_int (id INT PRIMARY KEY, name VARCHAR(40))"))
    metadata = MetaData()
    table = Table(
        "counted_int", metadata, Column("id", Integer, primary_key=True), Column("name", String)
    )
    model = _mapped(table)
    try:
        with Session(engine, expire_on_commit=False) as session:
            session.add_all([model(name=f"i {i}") for i in range(30)])
            with pytest.raises(FlushError, match="NULL identity"):
                session.commit()
        assert _rows(engine, table) == {}
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE counted_int"))


def test_sqlite_ignored_rows_fail_the_flush(engine: Any, backend: Any) -> None:
    _sqlite(backend)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE counted_ignore (id INTEGER PRIMARY KEY, "
                "name VARCHAR(40) UNIQUE ON CONFLICT IGNORE)"
            )
        )
    metadata = MetaData()
    table = Table(
        "counted_ignore",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(40)),
    )
    model = _mapped(table)
    try:
        for dup in (0, 33):
            names = [f"u {i}" for i in range(40)]
            names[dup] = names[dup + 1]
            with Session(engine, expire_on_commit=False) as session:
                session.add_all([model(name=n) for n in names])
                with pytest.raises(FlushError):
                    session.commit()
            assert _rows(engine, table) == {}
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE counted_ignore"))


# --- MySQL/MariaDB guards ---------------------------------------------------------------------


def _mysql(backend: Any) -> None:
    if backend.name != "mysql":
        pytest.skip("a MySQL/MariaDB guard")


def test_mysql_concurrent_inserts_from_another_connection(engine: Any, backend: Any) -> None:
    _mysql(backend)
    other = create_engine(backend.url, isolation_level="AUTOCOMMIT")
    stop = threading.Event()
    written: list[int] = []

    def insert_elsewhere() -> None:
        with other.connect() as conn:
            while not stop.is_set() and len(written) < 5000:
                conn.execute(Item.__table__.insert(), {"name": "elsewhere"})
                written.append(1)

    log = StatementLog(engine)
    thread = threading.Thread(target=insert_elsewhere)
    thread.start()
    try:
        for _ in range(3):
            objects = [Item(name=f"batch {i}") for i in range(MANY)]
            with Session(engine, expire_on_commit=False) as session:
                session.add_all(objects)
                session.commit()
            _check(engine, objects)
    finally:
        stop.set()
        thread.join()
        other.dispose()
    assert written
    assert not any("RETURNING" in s for s in _inserts(log))
    stored = _rows(engine, Item.__table__)
    assert list(stored.values()).count("elsewhere") == len(written)


def test_mysql_increment_other_than_one(engine: Any, backend: Any) -> None:
    _mysql(backend)

    @event.listens_for(engine, "connect")
    def step_by_three(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET SESSION auto_increment_increment = 3")
        cursor.close()

    engine.dispose()
    log = StatementLog(engine)
    objects = [Item(name=f"three {i}") for i in range(60)]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(objects)
        session.commit()
    _check(engine, objects)
    assert all("RETURNING" in s for s in _inserts(log))
    assert objects[1].id - objects[0].id == 3


def test_mysql_trigger_and_other_engines(engine: Any, backend: Any) -> None:
    _mysql(backend)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER counted_key BEFORE INSERT ON counted_item FOR EACH ROW "
                "SET NEW.id = IF(NEW.name LIKE 'pick%', 900000 + "
                "CAST(SUBSTRING(NEW.name, 6) AS UNSIGNED), NEW.id)"
            )
        )
    objects = [Item(name=f"pick {i}" if i % 2 else f"auto {i}") for i in range(60)]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(objects)
        session.commit()
    _check(engine, objects)
    assert objects[1].id == 900001
    metadata = MetaData()
    table = Table(
        "counted_myisam",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(40)),
        mysql_engine="MyISAM",
    )
    metadata.create_all(engine)
    model = _mapped(table)
    log = StatementLog(engine)
    try:
        rows = [model(name=f"m {i}") for i in range(40)]
        with Session(engine, expire_on_commit=False) as session:
            session.add_all(rows)
            session.commit()
        _check(engine, rows, table)
        assert all("RETURNING" in s for s in _inserts(log))
    finally:
        metadata.drop_all(engine)


def test_sqlite_random_rowids_fail_the_flush(engine: Any, backend: Any) -> None:
    """Once the largest rowid is taken SQLite picks the next ones at random, so the keys an
    INSERT ... RETURNING gives, sorted, are not in VALUES order: the flush fails rather than
    give objects the keys of other rows."""
    _sqlite(backend)
    top = 2**63 - 1
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO counted_item (id, name) VALUES ({top - 25}, 'high')"))
    objects = [Item(name=f"end {i}") for i in range(60)]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(objects)
        with pytest.raises(InvalidRequestError, match="not in the order of its rows"):
            session.commit()
    assert _rows(engine, Item.__table__) == {top - 25: "high"}
    assert all(o.id is None for o in objects)


def test_sqlite_ignored_row_fails_a_one_row_flush(engine: Any, backend: Any) -> None:
    """A row the table's ``ON CONFLICT IGNORE`` skips leaves ``lastrowid`` at the previous
    row's key: the flush fails instead of giving the object that key."""
    _sqlite(backend)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE counted_ignore (id INTEGER PRIMARY KEY, name VARCHAR(40), "
                "UNIQUE (name) ON CONFLICT IGNORE)"
            )
        )
    metadata = MetaData()
    table = Table(
        "counted_ignore", metadata, Column("id", Integer, primary_key=True), Column("name", String)
    )
    model = _mapped(table)
    try:
        with Session(engine, expire_on_commit=False) as session:
            session.add(model(name="a"))
            session.commit()
            session.add(model(name="b"))
            session.commit()
            again = model(name="a")
            session.add(again)
            with pytest.raises(FlushError, match="'counted_ignore' did not insert the row"):
                session.commit()
            assert again.id is None
        with engine.begin() as conn:
            result = conn.execute(table.insert(), {"name": "b"})
            assert result.rowcount == 0
            assert result.inserted_primary_key == (None,)
            result = conn.execute(table.insert(), {"name": "c"})
            assert result.inserted_primary_key == (3,)
        assert _rows(engine, table) == {1: "a", 2: "b", 3: "c"}
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE counted_ignore"))
