"""A flush of many new objects on every database: their INSERT parameters go to the statement
as value rows (no dict per object) unless someone watches the connection, the transaction
takes over the session's record of them, and commit expires them in one loop; each test
checks the rows written, the objects' state and what listeners saw."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import String, create_engine, event, func, insert, inspect, select
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column
from athanor.sql.compiler import ValueRows
from orm.orm_models import CommitRefused, refusing_commits

MANY = 1000 + 21
"""More rows than one multi-row INSERT takes, and more than the counted-keys minimum."""


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "batch_customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(40))


class Supplier(Base):
    __tablename__ = "batch_supplier"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    Base.metadata.drop_all(eng)
    Base.metadata.create_all(eng)
    yield eng
    Base.metadata.drop_all(eng)
    eng.dispose()


def _stored(engine: Any, model: Any) -> dict[int, tuple[Any, ...]]:
    table = model.__table__
    with engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(select(table))}


def _customers(n: int, prefix: str = "c") -> list[Customer]:
    return [Customer(name=f"{prefix}{i}", note=f"note {i}") for i in range(n)]


def test_many_objects_get_the_keys_of_their_rows(engine: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        objects = _customers(MANY)
        session.add_all(objects)
        session.commit()
        assert session.get(Customer, objects[-1].id) is objects[-1]
        assert all(inspect(o).persistent and not inspect(o).modified for o in objects)
    assert _stored(engine, Customer) == {o.id: (o.name, o.note) for o in objects}


def test_a_listener_added_after_a_flush_sees_the_usual_parameter_sets(engine: Any) -> None:
    """The first flush goes unwatched; a before_cursor_execute listener added afterwards sees
    the next flush's INSERT with a list of dicts as its parameter sets and each object's
    values in the driver's parameters, and the rows are written the same."""
    contexts: dict[int, Any] = {}
    sent: list[Any] = []

    def before_cursor(
        conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: Any
    ) -> Any:
        if sql.lstrip().upper().startswith("INSERT") and context.executemany:
            contexts[id(context)] = context
            sent.extend(params.values() if isinstance(params, dict) else params)

    with Session(engine) as session:
        first = _customers(MANY, "first")
        session.add_all(first)
        session.flush()
        event.listen(engine, "before_cursor_execute", before_cursor)
        try:
            second = _customers(MANY, "second")
            session.add_all(second)
            session.flush()
        finally:
            event.remove(engine, "before_cursor_execute", before_cursor)
        keys = [(o.id, o.name, o.note) for o in first + second]
        session.commit()
    assert contexts and all(type(c.compiled_parameters) is list for c in contexts.values())
    sets = [s for c in contexts.values() for s in c.compiled_parameters]
    expected = [{"name": f"second{i}", "note": f"note {i}"} for i in range(MANY)]
    # SQLite inserts the first row on its own, before the executemany of the others.
    assert len(sets) >= MANY - 1 and sets == expected[-len(sets) :]
    assert "second7" in sent and "note 7" in sent
    assert _stored(engine, Customer) == {k: (name, note) for k, name, note in keys}


def test_objects_of_other_shapes_among_the_usual_ones(engine: Any) -> None:
    """An object with its key given, one without a note set and one with None as its note
    take the per-object parameters; every row is written as its object says."""
    with Session(engine, expire_on_commit=False) as session:
        objects = _customers(MANY)
        objects[5] = Customer(id=10_000, name="given", note="k")
        objects[7] = Customer(name="unset")
        objects[9] = Customer(name="none", note=None)
        session.add_all(objects)
        session.commit()
    assert objects[5].id == 10_000
    assert objects[7].note is None
    assert _stored(engine, Customer) == {o.id: (o.name, o.note) for o in objects}


def test_rollback_after_flushes_of_many_objects_makes_them_transient(engine: Any) -> None:
    """The transaction's record of what it inserted (taken over from the session at the first
    flush, added to at the second) puts every object back to transient on rollback."""
    with Session(engine) as session:
        first, second = _customers(MANY, "a"), _customers(MANY, "b")
        session.add_all(first)
        session.flush()
        session.add_all(second)
        assert len(session.new) == MANY
        session.flush()
        assert not session.new
        session.rollback()
        assert all(inspect(o).transient for o in first + second)
        assert len(session.identity_map) == 0
        session.add_all(first)
        session.commit()
    assert sorted(name for name, _ in _stored(engine, Customer).values()) == sorted(
        f"a{i}" for i in range(MANY)
    )


def test_savepoint_rollback_forgets_only_its_own_objects(engine: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        outer = _customers(MANY, "outer")
        session.add_all(outer)
        session.flush()
        savepoint = session.begin_nested()
        inner = _customers(MANY, "inner")
        session.add_all(inner)
        session.flush()
        savepoint.rollback()
        assert all(inspect(o).transient for o in inner)
        assert all(inspect(o).persistent for o in outer)
        session.commit()
    assert len(_stored(engine, Customer)) == MANY


def test_objects_stay_weakly_referenced_after_commit(engine: Any) -> None:
    with Session(engine) as session:
        objects = _customers(MANY)
        session.add_all(objects)
        session.commit()
        assert len(session.identity_map) == MANY
        key = inspect(objects[0]).key
        del objects
        gc.collect()
        assert len(session.identity_map) == 0
        assert session.identity_map.get(key) is None
        assert session.get(Customer, key[1]) is not None  # loaded again, not the dead entry


def test_entries_of_collected_objects_are_pruned_as_the_map_grows(engine: Any) -> None:
    with Session(engine) as session:
        for round_ in range(4):
            session.add_all(_customers(MANY, prefix=f"r{round_}-"))
            session.commit()
            gc.collect()
        # A flush prunes the map once it has doubled since the last time: its size stays
        # within twice the most objects it held alive.
        assert len(session.identity_map._dict) <= 2 * MANY
        kept = session.scalars(select(Customer).limit(5)).all()
        session.identity_map.prune()
        assert len(session.identity_map._dict) == len(kept)
        assert all(session.identity_map.get(inspect(o).key) is o for o in kept)


def test_one_object_commits_in_a_long_lived_session_keep_the_map_small(engine: Any) -> None:
    # Each commit of a lone new object takes the one-object path: its entry must be pruned
    # too, or every later commit walks all the collected objects' entries.
    with Session(engine) as session:
        for number in range(300):
            session.add(Customer(name=f"one-{number}"))
            session.commit()
        assert len(session.identity_map._dict) <= 64
        assert session.scalar(select(func.count()).select_from(Customer)) == 300


def test_commit_expires_objects_of_two_classes_added_in_turn(engine: Any) -> None:
    expired: list[tuple[Any, Any]] = []

    def on_expire(target: Any, attrs: Any) -> None:
        expired.append((target, attrs))

    event.listen(Supplier, "expire", on_expire)
    try:
        with Session(engine) as session:
            objects: list[Any] = []
            for i in range(MANY // 2):
                objects += [Customer(name=f"c{i}", note=None), Supplier(name=f"s{i}")]
            session.add_all(objects)
            session.commit()
            assert all(inspect(o).expired and "name" not in o.__dict__ for o in objects)
            suppliers = [o for o in objects if isinstance(o, Supplier)]
            assert expired == [(s, None) for s in suppliers]
            assert [o.name for o in objects[:4]] == ["c0", "s0", "c1", "s1"]
    finally:
        event.remove(Supplier, "expire", on_expire)


def test_value_rows_as_executemany_parameters(engine: Any) -> None:
    """Core takes a ValueRows like any list of parameter sets; a listener gets the list of
    dicts it stands for."""
    table = Supplier.__table__
    rows = ValueRows(("name",), [(f"v{i}",) for i in range(30)])
    assert rows[2] == {"name": "v2"} and list(rows[1:3]) == [{"name": "v1"}, {"name": "v2"}]
    with engine.begin() as conn:
        conn.execute(insert(table), rows)
    seen: list[Any] = []

    def before_execute(conn: Any, clause: Any, multiparams: Any, params: Any, opts: Any) -> None:
        seen.append(multiparams)

    event.listen(engine, "before_execute", before_execute)
    try:
        with engine.begin() as conn:
            conn.execute(insert(table), ValueRows(("name",), [("w0",), ("w1",)]))
    finally:
        event.remove(engine, "before_execute", before_execute)
    assert seen == [[{"name": "w0"}, {"name": "w1"}]]
    names = sorted(name for (name,) in _stored(engine, Supplier).values())
    assert names == sorted([f"v{i}" for i in range(30)] + ["w0", "w1"])


def test_pending_objects_of_several_shapes_keep_their_own_history(engine: Any) -> None:
    """add_all gives each new object the committed state of the values it holds: objects
    with the usual values, with fewer, with an unmapped attribute too, of two classes in
    turn; each one's history and the rows written say what it was given, and a change to
    one of the objects that share a committed state is that object's own."""
    usual = Customer(name="usual", note="n")
    fewer = Customer(name="fewer")
    fewer_too = Customer(name="fewer too")
    extra = Customer(name="extra", note="e")
    extra.unmapped = "not a column"  # type: ignore[attr-defined]
    supplier = Supplier(name="s")
    later = Customer(name="later", note="l")
    with Session(engine, expire_on_commit=False) as session:
        session.add_all([usual, supplier, fewer, extra, later, fewer_too])
        for obj in (usual, extra, later):
            state = inspect(obj)
            assert set(state.committed_state) == {"name", "note"}
            assert list(state.attrs.note.history.added) == [obj.note]
        assert set(inspect(fewer).committed_state) == {"name"}
        assert not inspect(fewer).attrs.note.history.added
        assert list(inspect(supplier).attrs.name.history.added) == ["s"]
        # Shared until an attribute not set before changes: that object gets its own copy.
        assert inspect(usual).committed_state is inspect(later).committed_state
        usual.note = "changed"
        assert list(inspect(later).attrs.note.history.added) == ["l"]
        assert list(inspect(usual).attrs.note.history.added) == ["changed"]
        assert inspect(fewer).committed_state is inspect(fewer_too).committed_state
        fewer_too.note = "set later"
        assert set(inspect(fewer_too).committed_state) == {"name", "note"}
        assert set(inspect(fewer).committed_state) == {"name"}
        assert not inspect(fewer).attrs.note.history.added
        session.commit()
        assert all(not inspect(o).committed_state for o in (usual, fewer, extra, later, fewer_too))
    rows = _stored(engine, Customer)
    assert sorted(rows.values()) == sorted(
        [
            ("usual", "changed"),
            ("fewer", None),
            ("extra", "e"),
            ("later", "l"),
            ("fewer too", "set later"),
        ]
    )


def test_pending_objects_with_the_usual_keys_in_another_order(engine: Any) -> None:
    """An object whose ``__dict__`` holds the usual keys in another order gets the same
    committed state as the usual ones, made for it rather than copied."""
    usual = Customer(name="usual", note="n")
    turned = Customer(note="t")
    turned.__dict__["name"] = "turned"
    assert list(turned.__dict__) == ["note", "name"]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all([usual, turned, Customer(name="after", note="a")])
        assert inspect(turned).committed_state == inspect(usual).committed_state
        assert list(inspect(turned).attrs.name.history.added) == ["turned"]
        session.commit()
    assert sorted(_stored(engine, Customer).values()) == [
        ("after", "a"),
        ("turned", "t"),
        ("usual", "n"),
    ]


def test_commit_expiry_drops_mapped_values_only_and_tells_each_listener_in_turn(
    engine: Any,
) -> None:
    """Commit drops every mapped value (unmapped attributes stay) from objects of runs
    nobody listens to and of a listened class alike; a listener is told of each of its
    objects once that object is expired, and before the next one is."""
    seen: list[tuple[str, bool, list[bool]]] = []
    suppliers: list[Any] = []

    def on_expire(target: Any, attrs: Any) -> None:
        loaded = ["name" in s.__dict__ for s in suppliers]
        seen.append((target.unmapped, inspect(target).expired, loaded))

    event.listen(Supplier, "expire", on_expire)
    try:
        with Session(engine) as session:
            objects: list[Any] = []
            for i in range(3):
                objects += [Customer(name=f"c{i}", note="n"), Customer(name=f"d{i}")]
                objects.append(Supplier(name=f"s{i}"))
            suppliers += objects[2::3]
            for obj in objects:
                obj.unmapped = obj.name
            session.add_all(objects)
            session.commit()
            assert seen == [
                ("s0", True, [False, True, True]),
                ("s1", True, [False, False, True]),
                ("s2", True, [False, False, False]),
            ]
            for obj in objects:
                state = inspect(obj)
                assert state.expired and not state.committed_state and not state.modified
                assert set(obj.__dict__) == {"_sa_instance_state", "unmapped"}
            assert [o.name for o in objects] == [o.unmapped for o in objects]
    finally:
        event.remove(Supplier, "expire", on_expire)


def test_a_flush_of_new_objects_keys_them_and_forgets_their_changes(engine: Any) -> None:
    with Session(engine) as session:
        kept = Customer(name="kept", note="k")
        session.add(kept)
        session.commit()
        kept.note = "changed"
        objects = _customers(MANY)
        session.add_all(objects)
        session.flush()
        for obj in (objects[0], objects[-1], kept):
            state = inspect(obj)
            assert state.persistent and not state.committed_state and not state.modified
            assert session.identity_map.get(state.key) is obj
            assert not state.attrs.note.history.has_changes()
        session.rollback()
        assert all(inspect(o).transient for o in (objects[0], objects[-1]))
        assert kept.note == "k"


def test_pending_to_persistent_listeners_see_the_changes_being_written(engine: Any) -> None:
    seen: list[tuple[bool, list[Any]]] = []
    session = Session(engine)

    @event.listens_for(session, "pending_to_persistent")
    def persistent(sess: Any, obj: Any) -> None:
        state = inspect(obj)
        seen.append((state.key in sess.identity_map, list(state.attrs.note.history.added)))

    with session:
        objects = _customers(30)
        session.add_all(objects)
        session.flush()
        assert seen == [(True, [f"note {i}"]) for i in range(30)]
        assert not any(inspect(o).committed_state for o in objects)


def test_a_map_left_with_collected_objects_only_has_none(engine: Any) -> None:
    with Session(engine) as session:
        session.add(Customer(name="gone"))
        session.commit()
        session.scalars(select(Customer)).one()  # loaded and dropped at once
        gc.collect()
        assert session.identity_map._dict  # the entry stays until pruned
        assert not session.identity_map.has_objects()
        kept = session.scalars(select(Customer)).one()
        assert session.identity_map.has_objects()
        session.close()
        assert inspect(kept).detached


def test_a_flush_of_new_objects_keys_and_commits_each_of_them(engine: Any) -> None:
    # The INSERT's own loop enters each object in the identity map and forgets its changes.
    with Session(engine) as session:
        objects = _customers(MANY)
        session.add_all(objects)
        session.flush()
        assert not session.new
        for obj in objects:
            state = inspect(obj)
            assert state.persistent and not state.modified
            assert session.identity_map.get(state.key) is obj
            assert state.key[1] == (obj.id,)
            assert tuple(state.attrs.name.history) == ((), [obj.name], ())
        session.rollback()
        assert all(inspect(o).transient for o in objects)
        assert len(session.identity_map) == 0
    assert _stored(engine, Customer) == {}


def test_expiry_drops_the_values_an_object_has_and_keeps_its_own_attributes(
    engine: Any,
) -> None:
    with Session(engine) as session:
        objects = _customers(MANY)
        session.add_all(objects)
        session.flush()
        del objects[0].__dict__["note"]  # one value missing: dropped key by key
        objects[1].extra = "kept"  # not mapped: stays
        session.commit()
        assert all(set(o.__dict__) <= {"_sa_instance_state", "extra"} for o in objects)
        assert objects[1].extra == "kept"
        assert objects[0].note == "note 0" and objects[2].note == "note 2"


def test_a_failed_commit_leaves_the_written_objects_flushed(engine: Any) -> None:
    """The COMMIT after a flush of many new objects and a changed one fails (a connection
    listener raises): every written object is persistent with its key and values and no
    changes left, as after a flush, until the session rolls back, which makes the new ones
    transient again; the commit that follows writes them."""
    with Session(engine) as session:
        kept = Customer(name="kept", note="old")
        session.add(kept)
        session.commit()
        assert kept.id is not None  # loaded again
        objects = _customers(MANY)
        session.add_all(objects)
        kept.note = "changed"
        with refusing_commits(engine), pytest.raises(CommitRefused):
            session.commit()
        for obj in [kept, *objects]:
            state = inspect(obj)
            assert state.persistent and not state.modified and not state.committed_state
            assert state.identity == (obj.__dict__["id"],)
            assert not state.attrs.name.history.has_changes()
        assert kept.__dict__["note"] == "changed" and objects[3].__dict__["name"] == "c3"
        assert session.get(Customer, objects[-1].id) is objects[-1]
        session.rollback()
        assert all(inspect(o).transient for o in objects)
        session.add_all(objects)
        session.commit()
        assert not inspect(kept).modified and kept.note == "old"
    assert len(_stored(engine, Customer)) == MANY + 1
