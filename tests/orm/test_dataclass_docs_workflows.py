"""The declarative dataclass documentation's workflows (class-level options given to the
base, field options on mapped_column() and relationship(), insert_default with default=None,
mixins, ``registry.mapped_as_dataclass``) on every database, with a small orchard of their
own; and a column's default applying when an object's attribute is None at INSERT."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Engine, ForeignKey, String, create_engine, func, select
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    MappedAsDataclass,
    Session,
    mapped_column,
    registry,
    relationship,
)


class OrchardBase(MappedAsDataclass, DeclarativeBase, kw_only=True, repr=False):
    pass


class Planted(MappedAsDataclass):
    planted: Mapped[int] = mapped_column(insert_default=func.abs(-2024), default=None)


class Orchard(Planted, OrchardBase):
    __tablename__ = "dcw_orchard"

    id: Mapped[int] = mapped_column(init=False, primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    rows: Mapped[int] = mapped_column(default=4, compare=False)
    trees: Mapped[list[Tree]] = relationship(default_factory=list, back_populates="orchard")


class Tree(OrchardBase, repr=True):
    __tablename__ = "dcw_tree"

    id: Mapped[int] = mapped_column(init=False, primary_key=True)
    fruit: Mapped[str] = mapped_column(String(20))
    orchard_id: Mapped[int | None] = mapped_column(ForeignKey("dcw_orchard.id"), init=False)
    orchard: Mapped[Orchard | None] = relationship(default=None, back_populates="trees")


@pytest.fixture
def engine(backend: Any) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    OrchardBase.metadata.create_all(eng)
    yield eng
    eng.dispose()


def test_options_given_to_the_base_hold_for_subclasses_unless_overridden() -> None:
    with pytest.raises(TypeError):
        Orchard("positional")  # kw_only=True from the base
    orchard = Orchard(name="hill")
    assert "__repr__" not in Orchard.__dict__  # repr=False from the base
    assert orchard.rows == 4
    assert repr(Tree(fruit="fig")) == "Tree(id=None, fruit='fig', orchard_id=None, orchard=None)"
    assert Orchard(name="a", rows=1) == Orchard(name="a", rows=9)  # rows: compare=False
    assert [f.name for f in dataclasses.fields(Orchard)] == [
        "planted",
        "id",
        "name",
        "rows",
        "trees",
    ]


def test_insert_default_applies_when_the_dataclass_default_none_is_left(engine: Engine) -> None:
    with Session(engine) as session:
        orchard = Orchard(name="vale", trees=[Tree(fruit="plum")])
        dated = Orchard(name="old", planted=1999)
        assert orchard.planted is None and orchard.trees[0].orchard is orchard
        session.add_all([orchard, dated])
        session.flush()
        assert (orchard.planted, dated.planted) == (2024, 1999)
        session.commit()
        found = session.execute(select(Orchard.name, Orchard.planted).order_by(Orchard.id))
        assert [tuple(r) for r in found] == [("vale", 2024), ("old", 1999)]


def test_mapped_as_dataclass_decorator_with_options(engine: Engine) -> None:
    reg = registry()

    @reg.mapped_as_dataclass(unsafe_hash=True, kw_only=True)
    class Crate:
        __tablename__ = "dcw_crate"

        id: Mapped[int] = mapped_column(primary_key=True)
        label: Mapped[str] = mapped_column(String(20), default="apples")

    assert hash(Crate(id=1)) == hash(Crate(id=1))
    with pytest.raises(TypeError):
        Crate(1)  # type: ignore[misc]
    reg.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Crate(id=5))
        session.commit()
        assert session.scalars(select(Crate.label)).all() == ["apples"]


class DefaultsBase(DeclarativeBase):
    pass


class Barrel(DefaultsBase):
    __tablename__ = "dcw_barrel"

    id: Mapped[int] = mapped_column(primary_key=True)
    litres: Mapped[int | None] = mapped_column(default=50)
    made: Mapped[int | None] = mapped_column(default=lambda: 7)
    wood: Mapped[str | None] = mapped_column(String(10), insert_default=func.lower("OAK"))


def test_none_at_insert_lets_the_column_default_apply(backend: Any) -> None:
    eng = create_engine(backend.url)
    DefaultsBase.metadata.create_all(eng)
    with Session(eng) as session:
        barrel = Barrel(litres=None, made=None, wood=None)
        session.add(barrel)
        session.flush()
        assert (barrel.litres, barrel.made, barrel.wood) == (50, 7, "oak")
        session.commit()
        rows = session.execute(select(Barrel.litres, Barrel.made, Barrel.wood)).all()
        assert [tuple(r) for r in rows] == [(50, 7, "oak")]
    eng.dispose()


def test_another_dataclass_provider_sees_the_types_inside_mapped() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Base(
        MappedAsDataclass,
        DeclarativeBase,
        dataclass_callable=pydantic.dataclasses.dataclass,
    ):
        pass

    class Label(Base):
        __tablename__ = "dcw_label"
        id: Mapped[int] = mapped_column(init=False, primary_key=True)
        text: Mapped[str] = mapped_column(String(20))
        size: Mapped[int | None] = mapped_column(default=None)

    assert Label(text="jam").text == "jam"
    with pytest.raises(pydantic.ValidationError):
        Label(text=5)  # type: ignore[arg-type]
    assert Label.__annotations__["text"] == "Mapped[str]"  # restored after the dataclass
