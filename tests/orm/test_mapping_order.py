"""The order of a declarative class's table columns and of its mapper's properties, as
SQLAlchemy gives them: a user switching imports gets the same CREATE TABLE and the same
``inspect(Class).attrs``."""

from __future__ import annotations

import dataclasses

from athanor import Column, ForeignKey, Integer, String, inspect, select
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    column_property,
    composite,
    configure_mappers,
    declared_attr,
    deferred,
    mapped_column,
    relationship,
    synonym,
)


@dataclasses.dataclass
class Point:
    x: int
    y: int


class OrderBase(DeclarativeBase):
    pass


class Stamped:
    stamp: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(String(20), deferred=True)

    @declared_attr
    def revision(cls) -> Mapped[int | None]:  # noqa: N805 - called with the class
        return mapped_column()


class Plain:
    legacy = Column(Integer)


class Shape(Stamped, Plain, OrderBase):
    __tablename__ = "order_shapes"

    id: Mapped[int] = mapped_column(primary_key=True)
    edges = relationship("Edge", back_populates="shape")
    name: Mapped[str | None] = mapped_column(String(20))
    corners: Mapped[list[Corner]] = relationship()
    big = deferred(Column(String(50)))
    twice = column_property(id * 2)
    title = synonym("name")
    kind: Mapped[str | None] = mapped_column(String(10))
    px: Mapped[int | None]
    py: Mapped[int | None]
    at = composite(Point, "px", "py")

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "shape"}


class Square(Shape):
    __tablename__ = "order_squares"

    id: Mapped[int] = mapped_column(ForeignKey("order_shapes.id"), primary_key=True)
    side: Mapped[int | None]
    neighbours: Mapped[list[Corner]] = relationship(viewonly=True)

    __mapper_args__ = {"polymorphic_identity": "square"}


class Edge(OrderBase):
    __tablename__ = "order_edges"

    id: Mapped[int] = mapped_column(primary_key=True)
    shape_id: Mapped[int | None] = mapped_column(ForeignKey("order_shapes.id"))
    shape = relationship("Shape", back_populates="edges")


class Corner(OrderBase):
    __tablename__ = "order_corners"

    id: Mapped[int] = mapped_column(primary_key=True)
    shape_id: Mapped[int | None] = mapped_column(ForeignKey("order_shapes.id"))


def test_table_lists_the_class_columns_in_body_order_then_each_mixins() -> None:
    assert Shape.__table__.c.keys() == [
        "id", "name", "big", "kind", "px", "py",  # the class body, in order
        "stamp", "notes", "revision",  # the first mixin: plain columns, then @declared_attr
        "legacy",  # the next mixin in the MRO
    ]  # fmt: skip
    assert Square.__table__.c.keys() == ["id", "side"]


def test_mapper_lists_declared_properties_then_inherited_then_table_columns() -> None:
    configure_mappers()
    shape, square = inspect(Shape), inspect(Square)
    table_keys = ["id", "name", "big", "kind", "px", "py", "stamp", "notes", "revision", "legacy"]
    assert shape.attrs.keys() == ["edges", "corners", "twice", "title", "at", *table_keys]
    assert [p.key for p in shape.iterate_properties] == shape.attrs.keys()
    assert shape.column_attrs.keys() == ["twice", *table_keys]
    assert shape.columns.keys() == ["twice", *table_keys]
    assert shape.relationships.keys() == ["edges", "corners"]
    assert (shape.synonyms.keys(), shape.composites.keys()) == (["title"], ["at"])
    assert square.attrs.keys() == ["neighbours", *shape.attrs.keys(), "side"]
    assert square.relationships.keys() == ["neighbours", "edges", "corners"]
    assert inspect(Edge).attrs.keys() == ["shape", "id", "shape_id"]


def test_mixin_column_keeps_its_mapping_options() -> None:
    assert inspect(Shape).attrs.notes.deferred is True
    assert "notes" not in str(select(Shape))
