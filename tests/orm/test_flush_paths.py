"""The cheap paths of a flush and of a session's life, and their fall-backs, on every database:
one new row keyed by lastrowid, several keyed by one INSERT ... RETURNING, and sessions sharing
their class's event dispatch until one of them gets a listener of its own."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from tests.orm.orm_models import StatementLog

from athanor import ForeignKey, String, create_engine, event, inspect, select, text
from athanor.exc import IntegrityError, PendingRollbackError
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    object_session,
    sessionmaker,
)
from athanor.orm.base import _SWEEP_MIN, _sessions


class Base(DeclarativeBase):
    pass


class Plain(Base):
    __tablename__ = "flush_plain"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))


class Stamped(Base):
    __tablename__ = "flush_stamped"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), server_default=text("'new'"))


class Named(Base):
    __tablename__ = "flush_named"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    plain_id: Mapped[int | None] = mapped_column(ForeignKey("flush_plain.id"))


class Odd(Base):
    """Attribute keys that differ from column names, and names that need quoting."""

    __tablename__ = "flush_odd"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str | None] = mapped_column("it's a label", String(30))
    note: Mapped[str | None] = mapped_column("note \\ text", String(30))


class Defaulted(Base):
    __tablename__ = "flush_defaulted"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), default="unnamed")
    version: Mapped[int] = mapped_column()

    __mapper_args__ = {"version_id_col": version}


class Pet(Base):
    """A joined-table hierarchy: a flush of one subclass object writes two tables."""

    __tablename__ = "flush_pet"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(30))

    __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "pet"}


class Cat(Pet):
    __tablename__ = "flush_cat"

    id: Mapped[int] = mapped_column(ForeignKey("flush_pet.id"), primary_key=True)
    lives: Mapped[int] = mapped_column()

    __mapper_args__ = {"polymorphic_identity": "cat"}


@pytest.fixture
def engine(backend: Any) -> Any:
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


def _inserts(log: StatementLog) -> list[str]:
    return [s for s in log.statements if s.lstrip().upper().startswith("INSERT")]


def _stored(engine: Any, model: Any) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        table = model.__table__
        return [tuple(r) for r in session.execute(select(table).order_by(*table.primary_key))]


def test_one_new_object_gets_its_key_with_or_without_returning(engine: Any, backend: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        first = Plain(name="a")
        session.add(first)
        session.flush()
        key = first.id
        session.add(Plain(name="b"))
        session.commit()
    inserts = _inserts(log)
    assert len(inserts) == 2
    # Where the cursor reports the autoincrement key, one row needs no RETURNING.
    assert [("RETURNING" in s.upper()) for s in inserts] == [backend.name == "postgresql"] * 2
    assert isinstance(key, int)
    assert _stored(engine, Plain) == [(key, "a"), (key + 1, "b")]


def test_one_object_flushes_without_listeners_store_what_they_report(engine: Any) -> None:
    """With no connection event listened to, a one-object INSERT goes straight to the cursor:
    generated keys, server defaults and given keys come out as on the general path."""
    assert not engine.dispatch.before_cursor_execute and not engine.dispatch.after_execute
    with Session(engine) as session:
        plain = Plain(name="quiet")
        session.add(plain)
        session.flush()
        plain_key = plain.id
        stamped = Stamped(name="s")
        session.add(stamped)
        session.commit()
        again = Stamped(name="t")  # a second run of the statement reads rows by a known shape
        session.add(again)
        session.flush()
        assert (again.id, again.status) == (2, "new")
        session.commit()
        session.add(Named(code="n1", plain_id=plain_key))
        session.commit()
        assert session.get(Plain, plain_key) is plain
        assert (stamped.id, stamped.status) == (1, "new")
    assert _stored(engine, Plain) == [(plain_key, "quiet")]
    assert _stored(engine, Stamped) == [(1, "s", "new"), (2, "t", "new")]
    assert _stored(engine, Named) == [("n1", plain_key)]


def test_connection_events_fire_for_a_one_object_flush(engine: Any) -> None:
    """A connection listener sends the one-object INSERT through execute(): each event fires
    once, with the statement, its execution context and its result."""
    seen: list[tuple[str, Any]] = []

    def before_execute(conn: Any, clause: Any, multiparams: Any, params: Any, opts: Any) -> None:
        seen.append(("before_execute", dict(params)))

    def after_execute(conn: Any, clause: Any, mp: Any, p: Any, opts: Any, result: Any) -> None:
        seen.append(("after_execute", result.context.isinsert))

    def before_cursor(
        conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: Any
    ) -> Any:
        seen.append(("before_cursor_execute", sql.split(maxsplit=1)[0]))

    def after_cursor(conn: Any, cur: Any, sql: str, params: Any, context: Any, many: Any) -> Any:
        seen.append(("after_cursor_execute", context.isinsert))

    listeners = [
        ("before_execute", before_execute),
        ("after_execute", after_execute),
        ("before_cursor_execute", before_cursor),
        ("after_cursor_execute", after_cursor),
    ]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    try:
        with Session(engine) as session:
            obj = Plain(name="heard")
            session.add(obj)
            session.commit()
            key = obj.id
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)
    assert seen == [
        ("before_execute", {"name": "heard"}),
        ("before_cursor_execute", "INSERT"),
        ("after_cursor_execute", True),
        ("after_execute", True),
        ("before_execute", {}),
        ("before_cursor_execute", "SELECT"),
        ("after_cursor_execute", False),
        ("after_execute", False),
    ]
    assert _stored(engine, Plain) == [(key, "heard")]


def test_several_new_objects_get_keys_in_order_from_one_statement(engine: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        objects = [Plain(name=f"n{i}") for i in range(5)]
        session.add_all(objects)
        session.flush()
        keys = [o.id for o in objects]
        session.commit()
    assert len(_inserts(log)) == 1
    assert _stored(engine, Plain) == [(k, f"n{i}") for i, k in enumerate(keys)]


def test_one_row_with_a_server_default_still_reads_it_back(engine: Any, backend: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        obj = Stamped(name="s")
        session.add(obj)
        session.flush()
        if backend.name != "mysql" or "RETURNING" in _inserts(log)[0].upper():
            assert obj.__dict__["status"] == "new"
        assert obj.status == "new"
        session.commit()
        assert obj.status == "new"
    assert _stored(engine, Stamped) == [(obj.id, "s", "new")]


def test_one_row_with_a_given_key_is_inserted_as_given(engine: Any) -> None:
    with Session(engine) as session:
        parent = Plain(name="p")
        session.add(parent)
        session.flush()
        session.add(Named(code="x1", plain_id=parent.id))
        session.commit()
        assert session.get(Named, "x1") is not None
    assert _stored(engine, Named)[0][0] == "x1"


def test_failed_one_row_insert_leaves_the_object_pending_without_a_key(engine: Any) -> None:
    with Session(engine) as session:
        session.add(Named(code="dup"))
        session.commit()
    with Session(engine) as session:
        obj = Plain(name="ok")
        session.add(obj)
        session.flush()
        ok_key = obj.id
        session.commit()
    session = Session(engine)
    dup = Named(code="dup")
    fresh = Plain(name="again")
    session.add_all([fresh, dup])
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert "id" not in fresh.__dict__
    assert fresh not in session
    session.close()
    assert _stored(engine, Plain) == [(ok_key, "ok")]


def test_sessions_share_dispatch_until_one_listens(engine: Any) -> None:
    seen: list[str] = []
    one, two = Session(engine), Session(engine)
    assert one.dispatch is two.dispatch
    event.listen(one, "before_commit", lambda s: seen.append("one"))
    assert one.dispatch is not two.dispatch
    one.commit()
    two.commit()
    assert seen == ["one"]
    three = Session(engine)
    three.commit()
    assert seen == ["one"]


def test_class_listener_reaches_sessions_made_before_it(engine: Any) -> None:
    maker = sessionmaker(engine)
    seen: list[str] = []
    early_plain, early_made = Session(engine), maker()

    def plain_listener(session: Session) -> None:
        seen.append("session")

    def made_listener(session: Session) -> None:
        seen.append("maker")

    event.listen(Session, "before_commit", plain_listener)
    event.listen(maker, "before_commit", made_listener)
    try:
        early_plain.commit()
        assert seen == ["session"]
        seen.clear()
        early_made.commit()
        assert seen == ["session", "maker"]
        seen.clear()
        event.listen(early_made, "before_commit", lambda s: seen.append("own"))
        early_made.commit()
        assert seen == ["session", "maker", "own"]
    finally:
        event.remove(Session, "before_commit", plain_listener)
        event.remove(maker, "before_commit", made_listener)
    seen.clear()
    early_plain.commit()
    maker().commit()
    assert seen == []


def test_parameters_of_renamed_and_quoted_columns(engine: Any) -> None:
    with Session(engine) as session:
        session.add_all([Odd(label="a'b", note="x\\y"), Odd(label=None), Odd(id=50, note="given")])
        session.commit()
    stored = _stored(engine, Odd)
    assert [row[1:] for row in stored] == [("a'b", "x\\y"), (None, None), (None, "given")]
    assert stored[-1][0] == 50


def test_python_defaults_and_version_counter_take_the_general_path(engine: Any) -> None:
    with Session(engine) as session:
        objects = [Defaulted(), Defaulted(name="given"), Defaulted()]
        session.add_all(objects)
        session.flush()
        assert [o.__dict__["name"] for o in objects] == ["unnamed", "given", "unnamed"]
        assert [o.__dict__["version"] for o in objects] == [1, 1, 1]
        session.commit()
    assert [row[1:] for row in _stored(engine, Defaulted)] == [
        ("unnamed", 1),
        ("given", 1),
        ("unnamed", 1),
    ]


def test_new_rows_of_two_tables_go_parent_table_first_without_relationships(
    engine: Any,
) -> None:
    """Two mappers without relationships: the rows are still ordered by the tables' foreign
    key (the child object was added first), which a one-mapper flush need not do."""
    log = StatementLog(engine)
    with Session(engine) as session:
        session.add(Named(code="c1", plain_id=7))
        session.add(Plain(id=7, name="parent"))
        session.commit()
    tables = [s.split()[2].strip('"`') for s in _inserts(log)]
    assert tables == ["flush_plain", "flush_named"]
    assert _stored(engine, Named) == [("c1", 7)]


def test_one_object_of_a_joined_subclass_writes_both_tables(engine: Any) -> None:
    with Session(engine) as session:
        cat = Cat(name="tom", lives=9)
        session.add(cat)
        session.commit()
        key = cat.id
    assert _stored(engine, Pet) == [(key, "cat", "tom")]
    assert _stored(engine, Cat) == [(key, 9)]


def test_mapper_listeners_fire_for_a_one_object_flush(engine: Any) -> None:
    seen: list[tuple[str, Any]] = []

    def before(mapper: Any, connection: Any, target: Any) -> None:
        seen.append(("before_insert", target.id))

    def after(mapper: Any, connection: Any, target: Any) -> None:
        seen.append(("after_insert", target.id))

    event.listen(Plain, "before_insert", before)
    event.listen(Plain, "after_insert", after)
    try:
        with Session(engine) as session:
            obj = Plain(name="heard")
            session.add(obj)
            session.commit()
            key = obj.id
    finally:
        event.remove(Plain, "before_insert", before)
        event.remove(Plain, "after_insert", after)
    assert seen == [("before_insert", None), ("after_insert", key)]


def test_flush_events_of_a_one_object_commit(engine: Any) -> None:
    """Flush events listened to take a one-object flush through the unit of work: each fires
    once, in order, and sees the object pending, then persistent."""
    seen: list[tuple[str, Any]] = []
    session = Session(engine)
    obj = Plain(name="flushed")

    def record(name: str) -> Any:
        return lambda *args: seen.append((name, obj in session.new))

    names = ("before_flush", "after_flush", "pending_to_persistent", "after_flush_postexec")
    for name in names:
        event.listen(session, name, record(name))
    with session:
        session.add(obj)
        session.commit()
        key = obj.id
    assert seen == [
        ("before_flush", True),
        ("after_flush", True),
        ("pending_to_persistent", False),
        ("after_flush_postexec", False),
    ]
    assert _stored(engine, Plain) == [(key, "flushed")]


def test_failed_one_object_flush_rolls_back_and_the_session_works_again(engine: Any) -> None:
    """A one-object flush without listeners fails: the object stays pending without a key,
    the session wants rollback() first, and after it the next one-object commit succeeds."""
    with Session(engine) as session:
        session.add(Named(code="dup"))
        session.commit()
    session = Session(engine)
    dup = Named(code="dup")
    session.add(dup)
    with pytest.raises(IntegrityError):
        session.flush()
    assert dup in session.new
    with pytest.raises(PendingRollbackError):
        session.commit()
    session.rollback()
    assert dup not in session and inspect(dup).key is None
    assert engine.pool.checkedout() == 0
    session.add(Named(code="fresh"))
    session.commit()
    session.close()
    assert _stored(engine, Named) == [("dup", None), ("fresh", None)]


def test_session_transaction_events_of_a_one_object_commit(engine: Any) -> None:
    """Each transaction event fires once, in order, with its arguments, when listened to."""
    seen: list[str] = []
    session = Session(engine)
    for name in (
        "after_transaction_create",
        "after_begin",
        "before_commit",
        "after_commit",
        "after_transaction_end",
    ):
        event.listen(session, name, lambda *args, name=name: seen.append(name))
    with session:
        session.add(Plain(name="e"))
        session.commit()
    assert seen == [
        "after_transaction_create",
        "before_commit",
        "after_transaction_create",  # the flush's subtransaction
        "after_begin",
        "after_transaction_end",
        "after_commit",
        "after_transaction_end",
    ]


def test_rollback_events_fire_in_order(engine: Any) -> None:
    """after_rollback, then after_transaction_end, then after_soft_rollback (SQLAlchemy's order)."""
    seen: list[str] = []
    session = Session(engine)
    for name in ("after_rollback", "after_transaction_end", "after_soft_rollback"):
        event.listen(session, name, lambda *args, name=name: seen.append(name))
    with session:
        session.add(Plain(name="r"))
        session.flush()
        session.rollback()
    assert seen == [
        "after_transaction_end",  # the flush's subtransaction
        "after_rollback",
        "after_transaction_end",
        "after_soft_rollback",
    ]


def test_a_listener_added_by_before_commit_sees_the_same_commit(engine: Any) -> None:
    seen: list[str] = []
    session = Session(engine)

    def add_after_commit(s: Session) -> None:
        event.listen(s, "after_commit", lambda _s: seen.append("after_commit"))

    event.listen(session, "before_commit", add_after_commit)
    with session:
        session.add(Plain(name="late"))
        session.commit()
    assert seen == ["after_commit"]


def test_a_session_collected_without_close_leaves_the_registry(engine: Any) -> None:
    session = Session(engine)
    obj = Plain(name="kept")
    session.add(obj)
    assert object_session(obj) is session
    key = session.hash_key
    assert _sessions.get(key) is session
    del session
    gc.collect()
    assert object_session(obj) is None
    assert _sessions.get(key) is None
    # Its reference goes at the registry's next sweep, which new sessions bring about.
    for _ in range(2 * _sessions.sweep_at):
        Session(engine)
    assert key not in _sessions.refs
    assert len(_sessions.refs) < _sessions.sweep_at


def test_the_registry_sweep_keeps_live_sessions_and_stays_bounded(engine: Any) -> None:
    kept = Session(engine)
    obj = Plain(name="kept")
    kept.add(obj)
    dead_keys = []
    for _ in range(10 * _SWEEP_MIN):
        dead_keys.append(Session(engine).hash_key)
    assert _sessions.get(kept.hash_key) is kept
    assert object_session(obj) is kept
    assert kept in _sessions.values()
    assert len(_sessions.refs) < _sessions.sweep_at
    assert len([key for key in dead_keys if key in _sessions.refs]) < _sessions.sweep_at
    kept.close()


def test_close_detaches_loaded_pending_and_deleted_objects(engine: Any) -> None:
    with Session(engine) as session:
        session.add_all([Plain(id=1, name="a"), Plain(id=2, name="b")])
        session.commit()
    session = Session(engine)
    loaded, doomed = session.get(Plain, 1), session.get(Plain, 2)
    pending = Plain(name="c")
    session.add(pending)
    session.delete(doomed)
    session.close()
    assert [object_session(o) for o in (loaded, doomed, pending)] == [None, None, None]
    assert list(session.identity_map.keys()) == []


def test_close_without_a_transaction_still_detaches_its_objects(engine: Any) -> None:
    """close() skips its work only when the session holds nothing: a pending object added
    before any connection was used, and an object kept after the commit, are detached."""
    session = Session(engine)
    pending = Plain(name="p")
    session.add(pending)
    assert session.in_transaction()  # add() begins it, without a connection yet
    assert engine.pool.checkedout() == 0
    session.close()
    assert object_session(pending) is None and pending not in session
    assert not session.in_transaction()
    with Session(engine) as session:
        kept = Plain(name="k")
        session.add(kept)
        session.commit()
        assert not session.in_transaction() and kept in session
    assert object_session(kept) is None
    assert list(session.identity_map.keys()) == []


def test_commit_ends_the_transaction_and_expires_every_object(engine: Any) -> None:
    """After commit the session has no transaction, its objects are expired and load again
    (in a new transaction), and a commit with nothing in the identity map works too."""
    with Session(engine) as session:
        session.commit()  # nothing to expire
        assert not session.in_transaction()
        obj = Plain(name="kept")
        session.add(obj)
        session.commit()
        assert not session.in_transaction()
        assert inspect(obj).expired
        assert "name" not in obj.__dict__
        assert obj.name == "kept"
        assert session.in_transaction()


def test_one_row_inserts_find_their_compiled_form_by_the_statement(engine: Any) -> None:
    cache = engine._compiled_cache
    with Session(engine) as session:
        session.add(Plain(name="first"))
        session.commit()
    (held,) = [
        entry
        for entry in cache.by_statement.values()
        if getattr(entry[0], "table", None) is Plain.__table__
    ]
    with Session(engine) as session:
        session.add(Plain(name="second"))
        session.commit()
        names = session.scalars(select(Plain.name).order_by(Plain.id)).all()
    assert names == ["first", "second"]
    assert cache.by_statement[id(held[0])] is held  # found again, not compiled again


def test_the_statements_found_by_identity_are_bounded(engine: Any) -> None:
    from athanor import insert
    from athanor.engine.engine import _BY_STATEMENT_KEPT

    cache = engine._compiled_cache
    for _ in range(_BY_STATEMENT_KEPT + 5):
        cache.remember(insert(Plain.__table__), None, [])
    assert 0 < len(cache.by_statement) <= _BY_STATEMENT_KEPT


def test_one_row_inserts_without_a_compiled_cache(backend: Any) -> None:
    eng = create_engine(backend.url, query_cache_size=0)
    Base.metadata.create_all(eng)
    try:
        for name in ("a", "b"):
            with Session(eng) as session:
                session.add(Plain(name=name))
                session.commit()
        with Session(eng) as session:
            assert session.scalars(select(Plain.name).order_by(Plain.id)).all() == ["a", "b"]
    finally:
        Base.metadata.drop_all(eng)
        eng.dispose()
