"""The constructor a declarative class gets for its column attributes once it is used: the same
signature, errors, events and inheritance as the default constructor, and objects that flush
alike, on every database."""

from __future__ import annotations

import inspect as pyinspect
from typing import Any

import pytest

from athanor import ForeignKey, String, create_engine, event, inspect, select
from athanor.ext.hybrid import hybrid_property
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    column_property,
    mapped_column,
    registry,
    relationship,
    synonym,
    validates,
)


class Base(DeclarativeBase):
    pass


class Plain(Base):
    __tablename__ = "gen_ctor_plain"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(30))


class Odd(Base):
    """Attribute names the constructor's own code uses, and a keyword-like one."""

    __tablename__ = "gen_ctor_odd"

    id: Mapped[int] = mapped_column(primary_key=True)
    self_: Mapped[str | None] = mapped_column("self", String(10))
    type: Mapped[str | None] = mapped_column(String(10))
    kw: Mapped[str | None] = mapped_column(String(10))
    d: Mapped[str | None] = mapped_column(String(10))
    p: Mapped[str | None] = mapped_column(String(10))
    _cls: Mapped[str | None] = mapped_column("cls", String(10))


class Parent(Base):
    __tablename__ = "gen_ctor_parent"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    children: Mapped[list[Child]] = relationship(back_populates="parent")


class Child(Base):
    __tablename__ = "gen_ctor_child"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("gen_ctor_parent.id"))
    parent: Mapped[Parent | None] = relationship(back_populates="children")


class Aliased(Base):
    """Keywords for a synonym and a hybrid with a setter, next to a column_property."""

    __tablename__ = "gen_ctor_aliased"

    id: Mapped[int] = mapped_column(primary_key=True)
    _secret: Mapped[str | None] = mapped_column("secret", String(30))
    label: Mapped[str | None] = mapped_column(String(30))
    title = synonym("label")
    shout = column_property(label + "!")

    @hybrid_property
    def secret(self) -> str | None:
        return self._secret

    @secret.inplace.setter
    def _secret_setter(self, value: str) -> None:
        self._secret = value[::-1]


@pytest.fixture
def engine(backend: Any) -> Any:
    eng = create_engine(backend.url)
    Base.metadata.drop_all(eng)
    Base.metadata.create_all(eng)
    yield eng
    Base.metadata.drop_all(eng)
    eng.dispose()


def _history(obj: Any, key: str) -> tuple[Any, ...]:
    return tuple(inspect(obj).attrs[key].history)


def test_signature_and_errors_are_the_default_constructors() -> None:
    Plain(name="warm")  # the first object gives the class its constructor
    assert "__init__" in Plain.__dict__
    assert str(pyinspect.signature(Plain)) == "(**kwargs: 'Any') -> 'None'"
    assert Plain.__init__.__name__ == "__init__"
    with pytest.raises(TypeError, match="'colour' is an invalid keyword argument for Plain"):
        Plain(name="a", colour="red")
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        Plain("a")


def test_given_values_count_as_added_and_missing_ones_stay_unset() -> None:
    Plain(name="warm")
    obj = Plain(note="n", name="a")
    assert obj.__dict__.keys() == {"name", "note"}
    assert _history(obj, "name") == (["a"], (), ())
    assert _history(obj, "note") == (["n"], (), ())
    empty = Plain()
    assert _history(empty, "name") == ((), (), ())
    assert Plain(id=None, name="b").id is None


def test_attribute_names_the_constructor_uses_itself() -> None:
    for _ in range(2):
        obj = Odd(self_="s", type="t", kw="k", d="d", p="p", _cls="c")
        assert (obj.self_, obj.type, obj.kw, obj.d, obj.p, obj._cls) == tuple("stkdpc")
        assert _history(obj, "kw") == (["k"], (), ())


def test_relationship_synonym_hybrid_and_column_property_keywords(engine: Any) -> None:
    Child(name="warm")
    parent = Parent(name="p")
    child = Child(name="c", parent=parent)
    assert parent.children == [child]
    Aliased(label="warm")
    aliased = Aliased(title="t", secret="abc")
    assert (aliased.label, aliased._secret) == ("t", "cba")
    with Session(engine) as session:
        session.add_all([child, aliased])
        session.commit()
        assert child.parent_id == parent.id
        assert session.scalars(select(Aliased.shout)).one() == "t!"


class Recorded(Base):
    """Two hybrids with setters that note the order they are set in."""

    __tablename__ = "gen_ctor_recorded"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(30))
    setters: list[str] = []

    @hybrid_property
    def first(self) -> str | None:
        return self.name

    @first.inplace.setter
    def _first_setter(self, value: str) -> None:
        self.setters.append("first")

    @hybrid_property
    def second(self) -> str | None:
        return self.name

    @second.inplace.setter
    def _second_setter(self, value: str) -> None:
        self.setters.append("second")


def test_other_keywords_are_set_in_the_order_given_after_the_columns() -> None:
    Recorded(name="warm")
    obj = Recorded(second="2", name="n", first="1")
    assert Recorded.setters == ["second", "first"]
    # The state made for the other keywords counts the column values as set.
    assert _history(obj, "name") == (["n"], (), ())
    with pytest.raises(TypeError, match="'colour' is an invalid keyword argument for Recorded"):
        Recorded(name="a", colour="red")


def test_listeners_added_after_first_use_are_seen(engine: Any) -> None:
    Plain(name="warm")
    seen: list[Any] = []

    def on_init(target: Any, args: Any, kwargs: Any) -> None:
        seen.append(dict(kwargs))

    def on_set(target: Any, value: Any, old: Any, initiator: Any) -> None:
        seen.append(value)

    event.listen(Plain, "init", on_init)
    try:
        Plain(note="n", name="a")
    finally:
        event.remove(Plain, "init", on_init)
    # The keywords reach the listener in the order they were given.
    assert seen == [{"note": "n", "name": "a"}]
    assert list(seen[0]) == ["note", "name"]
    Plain(name="b")
    event.listen(Plain.name, "set", on_set)
    try:
        Plain(name="c")
    finally:
        event.remove(Plain.name, "set", on_set)
    Plain(name="d")
    assert seen[1:] == ["c"]
    with Session(engine) as session:
        session.add(Plain(name="e"))
        session.commit()
        assert session.scalars(select(Plain.name)).all() == ["e"]


def test_a_user_init_wins_and_may_call_the_default() -> None:
    calls: list[Any] = []

    class Own(Base):
        __tablename__ = "gen_ctor_own"

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(30))
        note: Mapped[str | None] = mapped_column(String(30))

        def __init__(self, name: str) -> None:
            calls.append(name)
            super().__init__(name=name, note="own")

    for _ in range(2):
        obj = Own("x")
        assert (obj.name, obj.note) == ("x", "own")
    assert calls == ["x", "x"]
    assert Own.__init__.__wrapped__.__qualname__.endswith("Own.__init__")  # type: ignore[attr-defined]
    assert str(pyinspect.signature(Own)) == "(name: 'str') -> 'None'"


def test_a_subclass_mapped_later_constructs_with_its_own_attributes() -> None:
    order: list[str] = []

    class Animal(Base):
        __tablename__ = "gen_ctor_animal"

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str | None] = mapped_column(String(30))

    Animal(name="warm")
    assert "__init__" in Animal.__dict__

    class Dog(Animal):
        __tablename__ = "gen_ctor_dog"

        id: Mapped[int] = mapped_column(ForeignKey("gen_ctor_animal.id"), primary_key=True)
        bark: Mapped[str | None] = mapped_column(String(10))
        tail: Mapped[str | None] = mapped_column(String(10))

        @validates("tail", "bark")
        def _seen(self, key: str, value: str) -> str:
            order.append(key)
            return value

    # The base's constructor made for its own attributes is gone: the subclass inherits
    # the default one again, which sets the keywords in the order given.
    assert "__init__" not in Animal.__dict__
    dog = Dog(tail="short", name="rex", bark="woof")
    assert order == ["tail", "bark"]
    assert (dog.bark, dog.tail, dog.name) == ("woof", "short", "rex")
    assert Animal(name="cat").name == "cat"
    assert "__init__" not in Animal.__dict__


def test_attributes_added_or_removed_later() -> None:
    class Late(Base):
        __tablename__ = "gen_ctor_late"

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str | None] = mapped_column(String(30))
        note: Mapped[str | None] = mapped_column(String(30))

    Late(name="warm")
    Late.extra = mapped_column(String(10))  # type: ignore[attr-defined]
    assert Late(extra="e").extra == "e"  # type: ignore[call-arg]
    Late(name="again")
    del Late.note
    with pytest.raises(TypeError, match="'note' is an invalid keyword argument for Late"):
        Late(note="n")


def test_registry_mapped_class_gets_its_constructor_back_on_listener_changes() -> None:
    reg = registry()

    @reg.mapped
    class Decorated:
        __tablename__ = "gen_ctor_decorated"

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str | None] = mapped_column(String(30))

    original = Decorated.__dict__["__init__"]
    Decorated(name="warm")
    assert Decorated.__dict__["__init__"] is not original
    seen: list[Any] = []

    def on_init(target: Any, args: Any, kwargs: Any) -> None:
        seen.append(kwargs)

    event.listen(Decorated, "init", on_init)
    try:
        assert Decorated.__dict__["__init__"] is original
        Decorated(name="x")
    finally:
        event.remove(Decorated, "init", on_init)
    assert seen == [{"name": "x"}]
    reg.dispose()


def test_objects_made_either_way_flush_alike(engine: Any) -> None:
    first = Plain(name="a", note="x")
    rest = [Plain(name=f"n{i}") for i in range(30)] + [
        Plain(name="o", note="only"),
        Plain(id=500, name="k"),
    ]
    with Session(engine) as session:
        session.add_all([first, *rest])
        session.commit()
        keys = [o.id for o in (first, *rest)]
    assert keys[-1] == 500 and None not in keys and len(set(keys)) == len(keys)
    with Session(engine) as session:
        rows = session.execute(select(Plain.id, Plain.name, Plain.note).order_by(Plain.id)).all()
    expected = [(keys[0], "a", "x")] + [(keys[i + 1], f"n{i}", None) for i in range(30)]
    expected += [(keys[31], "o", "only"), (500, "k", None)]
    assert [tuple(r) for r in rows] == sorted(expected)
