"""New objects of declarative classes: the constructor stores plain column values as they are
and leaves the object's state to its first use, unless something must see the values go in
(validators, ``set`` or ``init`` listeners, relationships, a state already made); on every
database."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from athanor import ForeignKey, String, create_engine, event, inspect, select
from athanor.ext.flask import mapped_to_dict
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    validates,
)
from athanor.orm.attributes import set_committed_value
from athanor.orm.base import NO_VALUE
from athanor.orm.exc import UnmappedInstanceError


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "new_state_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(30))


class Checked(Base):
    __tablename__ = "new_state_checked"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))

    @validates("name")
    def _upper(self, key: str, value: str) -> str:
        if not value:
            raise ValueError("empty name")
        return value.upper()


class Owner(Base):
    __tablename__ = "new_state_owner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    pets: Mapped[list[Pet]] = relationship(back_populates="owner")


class Pet(Base):
    __tablename__ = "new_state_pet"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("new_state_owner.id"))
    owner: Mapped[Owner | None] = relationship(back_populates="pets")


class Early(Base):
    """Its own ``__init__`` sets an attribute before the declarative constructor runs."""

    __tablename__ = "new_state_early"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(30))

    def __init__(self, **kw: Any) -> None:
        self.note = "early"
        super().__init__(**kw)


@pytest.fixture
def engine(backend: Any) -> Any:
    eng = create_engine(backend.url)
    Base.metadata.drop_all(eng)
    Base.metadata.create_all(eng)
    yield eng
    Base.metadata.drop_all(eng)
    eng.dispose()


def _rows(engine: Any, model: Any) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        table = model.__table__
        return [tuple(r) for r in session.execute(select(table).order_by(table.c.id))]


def test_constructed_values_count_as_added_until_flushed(engine: Any) -> None:
    item = Item(name="a")
    state = inspect(item)
    assert item._sa_instance_state is state
    assert state.transient
    assert tuple(state.attrs.name.history) == (["a"], (), ())
    assert tuple(state.attrs.note.history) == ((), (), ())
    with Session(engine) as session:
        session.add(item)
        assert state.pending and session.is_modified(item)
        session.flush()
        assert state.persistent and tuple(state.attrs.name.history) == ((), ["a"], ())
        session.commit()
        key = item.id
    assert _rows(engine, Item) == [(key, "a", None)]


def test_a_new_object_given_values_is_modified_until_flushed(engine: Any) -> None:
    # As SQLAlchemy's: a transient or pending object with attribute values set counts as
    # modified (whichever way its constructor stored them), one without as not; the flush
    # that inserts it (one object alone, or several) leaves it unmodified.
    plain, checked, early = Item(name="a"), Checked(name="b"), Early(name="c")
    empty, later, owner = Item(), Item(), Owner(name="o", pets=[Pet(name="p")])
    later.name = "d"
    assert inspect(empty).transient and not inspect(empty).modified
    made = [plain, checked, early, later, owner, owner.pets[0]]
    assert all(inspect(o).transient and inspect(o).modified for o in made)
    with Session(engine) as session:
        session.add_all([plain, checked, early, later, owner])
        assert all(inspect(o).pending and inspect(o).modified for o in made)
        assert not session.dirty
        session.flush()
        assert not any(inspect(o).modified for o in made)
        alone = Item(name="e")
        session.add(alone)
        assert inspect(alone).modified
        session.commit()
        assert not inspect(alone).modified
        gone = Item(name="f")
        session.add(gone)
        session.expunge(gone)
        assert inspect(gone).transient and inspect(gone).modified
    assert [r[1] for r in _rows(engine, Item)] == ["a", "d", "e"]


def test_state_made_on_first_use_counts_constructed_values_as_added(engine: Any) -> None:
    # Each first use makes the state: an attribute set, a committed value, add().
    changed = Item(name="a", note="n")
    changed.name = "b"
    assert tuple(inspect(changed).attrs.name.history) == (["b"], (), ())
    assert tuple(inspect(changed).attrs.note.history) == (["n"], (), ())
    committed = Item(name="c")
    set_committed_value(committed, "name", "d")
    assert tuple(inspect(committed).attrs.name.history) == ((), ["d"], ())
    committed.name = "e"
    assert tuple(inspect(committed).attrs.name.history) == (["e"], (), ["d"])
    with Session(engine) as session:
        session.add_all(iter([changed, committed]))
        session.commit()
        ids = [changed.id, committed.id]
    assert _rows(engine, Item) == sorted([(ids[0], "b", "n"), (ids[1], "e", None)])


def test_validators_run_in_the_constructor(engine: Any) -> None:
    assert Checked(name="abc").name == "ABC"
    with pytest.raises(ValueError, match="empty name"):
        Checked(name="")
    with Session(engine) as session:
        session.add_all([Checked(name="x"), Checked(name="y")])
        session.commit()
    assert [r[1] for r in _rows(engine, Checked)] == ["X", "Y"]


def test_listeners_added_or_removed_later_are_seen_by_the_constructor(engine: Any) -> None:
    seen: list[Any] = []

    def on_set(target: Any, value: Any, old: Any, initiator: Any) -> None:
        seen.append(("set", value))

    def on_init(target: Any, args: Any, kwargs: Any) -> None:
        seen.append(("init", dict(kwargs)))

    Item(name="before")
    event.listen(Item.name, "set", on_set)
    try:
        Item(name="during")
        assert seen == [("set", "during")]
    finally:
        event.remove(Item.name, "set", on_set)
    Item(name="after")
    assert seen == [("set", "during")]
    event.listen(Item, "init", on_init)
    try:
        Item()
        Item(name="i")
    finally:
        event.remove(Item, "init", on_init)
    assert seen[1:] == [("init", {}), ("init", {"name": "i"})]


def test_relationship_arguments_keep_both_sides_in_step(engine: Any) -> None:
    owner = Owner(name="o")
    pet = Pet(name="p", owner=owner)
    assert owner.pets == [pet]
    with Session(engine) as session:
        session.add(pet)
        session.commit()
        assert pet.owner_id == owner.id
        expected = [(pet.id, "p", owner.id)]
    assert _rows(engine, Pet) == expected


def test_values_set_before_the_constructor_are_kept(engine: Any) -> None:
    obj = Early(name="e")
    assert tuple(inspect(obj).attrs.name.history) == (["e"], (), ())
    assert tuple(inspect(obj).attrs.note.history) == (["early"], (), ())
    with Session(engine) as session:
        session.add(obj)
        session.commit()
        key = obj.id
    assert _rows(engine, Early) == [(key, "e", "early")]


def test_unknown_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="'colour' is an invalid keyword argument for Item"):
        Item(name="a", colour="red")


def test_add_all_takes_any_iterable_and_leaves_the_collector_as_it_was(engine: Any) -> None:
    assert gc.isenabled()
    with Session(engine) as session:
        session.add_all(Item(name=f"n{i}") for i in range(3))
        assert gc.isenabled()
        assert len(session.new) == 3
        session.commit()
    gc.disable()
    try:
        with Session(engine) as session:
            session.add_all([Item(name="x")])
            session.commit()
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert [r[1] for r in _rows(engine, Item)] == ["n0", "n1", "n2", "x"]


def test_loaded_columns_of_a_new_object_as_json() -> None:
    assert mapped_to_dict(Item(name="a")) == {"name": "a"}


def test_objects_of_several_shapes_in_one_flush(engine: Any) -> None:
    # Given keys, a missing value and a None key each change the INSERT's columns; the
    # usual objects around them still get their generated keys in order.
    objects = [
        Item(name="a", note="x"),
        Item(id=100, name="b", note="y"),
        Item(name="c"),
        Item(id=None, name="d", note="z"),
        Item(name="e", note="w"),
    ]
    with Session(engine) as session:
        session.add_all(objects)
        session.flush()
        keys = [o.id for o in objects]
        assert keys[1] == 100 and None not in keys and len(set(keys)) == 5
        assert objects[2].note is None
        session.commit()
    names = ["a", "b", "c", "d", "e"]
    notes = ["x", "y", None, "z", "w"]
    assert _rows(engine, Item) == sorted(zip(keys, names, notes, strict=True))


def test_commit_expires_every_object_and_close_detaches_them(engine: Any) -> None:
    with Session(engine) as session:
        kept = [Item(name=f"k{i}") for i in range(3)]
        session.add_all([*kept, Item(name="unreferenced")])
        session.commit()
        gc.collect()
        assert all("name" not in o.__dict__ and inspect(o).persistent for o in kept)
        assert [o.name for o in kept] == ["k0", "k1", "k2"]
        session.commit()
        assert inspect(kept[0]).expired
    assert all(inspect(o).detached for o in kept)
    assert sorted(r[1] for r in _rows(engine, Item)) == ["k0", "k1", "k2", "unreferenced"]


def _pending_view(session: Session, objects: list[Any]) -> list[Any]:
    """What add_all left: per object its state's fields and attribute histories."""
    return [
        (
            inspect(o).pending,
            inspect(o).session is session,
            inspect(o).committed_state,
            inspect(o).modified,
            [tuple(inspect(o).attrs[k].history) for k in ("id", "name", "note")],
        )
        for o in objects
    ]


def test_add_all_makes_the_same_pending_objects_as_add_with_listeners(engine: Any) -> None:
    # Without attach listeners add_all makes states in one loop; with one, each object
    # goes through add(): the objects, their histories and the rows come out the same.
    def batch() -> list[Any]:
        stray = Item(name="s")
        stray.extra = "not mapped"  # an attribute outside the mapping is no column value
        return [Item(name="a", note="x"), stray, Item(name="c")]

    plain_objects, heard_objects = batch(), batch()
    heard: list[Any] = []
    with Session(engine) as plain, Session(engine) as listened:
        event.listen(listened, "transient_to_pending", lambda s, o: heard.append(o))
        plain.add_all(plain_objects)
        listened.add_all(heard_objects)
        assert heard == heard_objects
        view = _pending_view(plain, plain_objects)
        assert view == _pending_view(listened, heard_objects)
        assert view[1][2] == {"name": NO_VALUE}
        assert view[0][4] == [((), (), ()), (["a"], (), ()), (["x"], (), ())]
        keys = []
        for session, objects in ((plain, plain_objects), (listened, heard_objects)):
            session.flush()
            keys += [o.id for o in objects]
            session.commit()
    rows = _rows(engine, Item)
    assert [r[1:] for r in rows] == [("a", "x"), ("s", None), ("c", None)] * 2
    assert keys == [r[0] for r in rows]


def test_add_all_of_mixed_objects_keeps_their_order(engine: Any) -> None:
    # Objects that need add() (a state already made, relationships, a validator) between
    # plain new ones: each is added where it stands, so the rows go in in that order.
    made = Item(name="made")
    inspect(made)
    owner = Owner(name="o", pets=[Pet(name="p")])
    objects = [Item(name="first"), made, owner, Checked(name="c"), Item(name="last")]
    with Session(engine) as session:
        session.add_all(objects)
        assert list(session.new) == [*objects[:3], owner.pets[0], *objects[3:]]
        session.commit()
        assert objects[0].id < made.id < objects[-1].id
    assert [r[1] for r in _rows(engine, Item)] == ["first", "made", "last"]
    assert [r[1] for r in _rows(engine, Checked)] == ["C"]
    assert [r[1] for r in _rows(engine, Pet)] == ["p"]


def test_add_all_refuses_an_unmapped_object_and_adds_those_before_it(engine: Any) -> None:
    first = Item(name="a")
    with Session(engine) as session:
        with pytest.raises(UnmappedInstanceError):
            session.add_all([first, object(), Item(name="b")])
        assert list(session.new) == [first]


def test_objects_added_in_a_savepoint_leave_with_its_rollback(engine: Any) -> None:
    with Session(engine) as session:
        before = Item(name="before")
        session.add_all([before])
        savepoint = session.begin_nested()
        inside = [Item(name="in1"), Item(name="in2")]
        session.add_all(inside)
        savepoint.rollback()
        assert all(inspect(o).transient for o in inside)
        assert inspect(before).persistent
        session.commit()
    assert [r[1] for r in _rows(engine, Item)] == ["before"]


def test_objects_of_one_shape_share_a_committed_state_until_one_changes_it() -> None:
    # Objects with the same keys share the read-only committed state their mapper keeps for
    # that shape; a change to one object's history gives it a copy of its own.
    first, second = Item(name="a", note="n"), Item(name="b", note="m")
    first_state, second_state = inspect(first), inspect(second)
    assert first_state.committed_state is second_state.committed_state
    with pytest.raises(TypeError):
        first_state.committed_state["name"] = "written"  # type: ignore[index]
    set_committed_value(first, "name", "z")
    assert first_state.committed_state is not second_state.committed_state
    assert set(second_state.committed_state) == {"name", "note"}
    assert tuple(inspect(first).attrs.name.history) == ((), ["z"], ())
    assert tuple(second_state.attrs.name.history) == (["b"], (), ())
    assert tuple(inspect(Item(name="c", note="o")).attrs.name.history) == (["c"], (), ())


def test_other_keys_in_a_new_objects_dict_are_no_attribute_changes() -> None:
    # Keys of no column attribute (set on the object before its state) are not history, and
    # the mapper keeps no shape with such keys (they could come in any number).
    mapper = inspect(Item)
    for n in range(100):
        item = Item(name="a")
        item.__dict__[f"extra_{n}"] = n
        state = inspect(item)
        assert state.committed_state == {"name": NO_VALUE}
        assert tuple(state.attrs.name.history) == (["a"], (), ())
    assert not [keys for keys in mapper._fresh_committed if any("extra" in k for k in keys)]


def _unset_fields(state: Any) -> list[str]:
    from athanor.orm.state import InstanceState

    missing = []
    for name in InstanceState.__slots__:
        if name in InstanceState._set_later:
            continue
        try:
            getattr(state, name)
        except AttributeError:
            missing.append(name)
    return missing


def test_every_way_of_making_a_state_sets_every_field(engine: Any) -> None:
    """States are made in four places (the constructor's first use, add_all, the loader and
    new_state()), each setting the fields itself for speed: none may leave one unset."""
    from athanor.orm.state import new_state

    with Session(engine) as session:
        added = Item(name="added")
        session.add(added)
        in_batch = Item(name="in batch")
        session.add_all([in_batch])
        session.commit()
        added_id = added.id
    with Session(engine) as session:
        loaded = session.get(Item, added_id)
        assert loaded is not None
        made_directly = new_state(Item(name="direct"), inspect(Item))
        states = {
            "add": inspect(added),
            "add_all": inspect(in_batch),
            "loaded": inspect(loaded),
            "new_state": made_directly,
        }
        assert {path: _unset_fields(state) for path, state in states.items()} == {
            path: [] for path in states
        }
