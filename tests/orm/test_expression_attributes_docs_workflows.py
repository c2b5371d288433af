"""The documentation's "SQL Expressions as Mapped Attributes" and hybrid attribute workflows
(hybrids with expression, setter, comparator and update expression written as
``.inplace`` classmethods; hybrids of aliased classes and in ``filter_by()``; column
properties and query expressions on aliases), plus ``group_by(Entity)``, on every database,
with a small hotel of their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Engine, ForeignKey, String, create_engine, exc, func, select, update
from athanor.ext.hybrid import Comparator, hybrid_method, hybrid_property
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    aliased,
    column_property,
    mapped_column,
    query_expression,
    relationship,
    with_expression,
)
from athanor.sql.elements import ColumnElement


class HotelBase(DeclarativeBase):
    pass


class Lowered(Comparator[str]):
    """Compares case-insensitively, every operator through ``operate()``."""

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement:
        return op(func.lower(self.__clause_element__()), *[func.lower(o) for o in other])


class Suite(HotelBase):
    __tablename__ = "xad_suite"

    id: Mapped[int] = mapped_column(primary_key=True)
    floor: Mapped[str] = mapped_column(String(10))
    wing: Mapped[str] = mapped_column(String(10))
    width: Mapped[int]
    depth: Mapped[int]
    guests: Mapped[list[Guest]] = relationship(back_populates="suite", order_by="Guest.id")
    remark: Mapped[str | None] = query_expression(default_expr=func.lower("NONE"))

    @hybrid_property
    def code(self) -> str:
        return f"{self.floor}-{self.wing}"

    @code.inplace.expression
    @classmethod
    def _code_expression(cls) -> ColumnElement:
        return cls.floor + "-" + cls.wing

    @code.inplace.setter
    def _code_setter(self, value: str) -> None:
        self.floor, self.wing = value.split("-", 1)

    @code.inplace.update_expression
    @classmethod
    def _code_update(cls, value: str) -> list[tuple[Any, Any]]:
        floor, wing = value.split("-", 1)
        return [(cls.floor, floor), (cls.wing, wing)]

    @hybrid_property
    def area(self) -> int:
        return self.width * self.depth

    @hybrid_method
    def larger_than(self, size: int) -> Any:
        return self.area > size


class Guest(HotelBase):
    __tablename__ = "xad_guest"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    suite_id: Mapped[int] = mapped_column(ForeignKey("xad_suite.id"))
    suite: Mapped[Suite] = relationship(back_populates="guests")

    @hybrid_property
    def handle(self) -> str:
        return self.name.lower()

    @handle.inplace.comparator
    @classmethod
    def _handle_comparator(cls) -> Lowered:
        return Lowered(cls.name)


class LoweredEquality(Comparator[str]):  # noqa: PLW1641 - unhashable, as users write them
    """Redefines ``==`` alone (other operators compare the plain column)."""

    def __eq__(self, other: Any) -> ColumnElement:  # type: ignore[override]
        return func.lower(self.__clause_element__()) == func.lower(other)


class Visitor(HotelBase):
    __tablename__ = "xad_visitor"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))

    @hybrid_property
    def nick(self) -> str:
        return self.name.lower()

    @nick.inplace.comparator
    @classmethod
    def _nick_comparator(cls) -> LoweredEquality:
        return LoweredEquality(cls.name)

    @nick.inplace.update_expression
    @classmethod
    def _nick_update(cls, value: str) -> list[tuple[Any, Any]]:
        return [(cls.name, value.title())]


Suite.guest_count = column_property(  # type: ignore[attr-defined]
    select(func.count(Guest.id))
    .where(Guest.suite_id == Suite.id)
    .correlate_except(Guest)
    .scalar_subquery(),
    deferred=True,
)


@pytest.fixture
def engine(backend: Any) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    HotelBase.metadata.create_all(eng)
    with Session(eng) as session:
        first = Suite(floor="1", wing="east", width=4, depth=5)
        first.guests = [Guest(name="Ann"), Guest(name="Bob")]
        second = Suite(floor="2", wing="west", width=2, depth=2)
        second.code = "3-north"  # the hybrid's setter
        session.add_all([first, second])
        session.commit()
    yield eng
    eng.dispose()


def test_hybrid_expression_setter_and_method(engine: Engine) -> None:
    with Session(engine) as session:
        codes = session.scalars(select(Suite.code).order_by(Suite.id)).all()
        assert codes == ["1-east", "3-north"]
        assert session.scalars(select(Suite.id).where(Suite.code == "3-north")).all() == [2]
        assert session.scalars(select(Suite.id).where(Suite.larger_than(10))).all() == [1]
        assert session.scalars(select(Suite.id).filter_by(code="1-east")).all() == [1]
        suite = session.get(Suite, 1)
        assert suite is not None and (suite.code, suite.area) == ("1-east", 20)


def test_custom_comparator_applies_to_every_operator(engine: Engine) -> None:
    with Session(engine) as session:
        assert session.scalars(select(Guest.name).where(Guest.handle == "ANN")).all() == ["Ann"]
        others = session.scalars(select(Guest.name).where(Guest.handle != "ann")).all()
        assert others == ["Bob"]


def test_comparator_hybrid_with_its_own_eq_keys_an_update(engine: Engine) -> None:
    """A comparator that redefines ``__eq__`` (which makes its class unhashable) still gives
    a class-level attribute usable as an ``update().values()`` key, and its ``==`` applies."""
    with Session(engine) as session:
        session.add_all([Visitor(name="Cy"), Visitor(name="Di")])
        session.flush()
        assert session.scalars(select(Visitor.id).where(Visitor.nick == "DI")).all() == [2]
        assert session.scalars(select(Visitor.name).where(Visitor.nick != "Cy")).all() == ["Di"]
        assert session.scalars(select(Guest.name).where(Guest.handle.like("a%"))).all() == ["Ann"]
        session.execute(update(Visitor).where(Visitor.id == 2).values({Visitor.nick: "dora"}))
        names = session.scalars(select(Visitor.name).order_by(Visitor.id)).all()
        assert names == ["Cy", "Dora"]
        assert session.scalars(select(Visitor.nick).where(Visitor.id == 1)).all() == ["Cy"]


def test_update_expression_sets_the_columns_the_hybrid_stands_for(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(update(Suite).where(Suite.id == 1).values({Suite.code: "9-south"}))
        session.execute(update(Suite).where(Suite.id == 2).values(code="8-up"))
        session.commit()
        rows = session.execute(select(Suite.floor, Suite.wing).order_by(Suite.id)).all()
        assert [tuple(r) for r in rows] == [("9", "south"), ("8", "up")]


def test_hybrids_column_properties_and_query_expressions_of_an_alias(engine: Engine) -> None:
    other = aliased(Suite)
    with Session(engine) as session:
        rows = session.execute(
            select(other.code, other.area, other.guest_count).order_by(other.id)
        ).all()
        assert [tuple(r) for r in rows] == [("1-east", 20, 2), ("3-north", 4, 0)]
        bigger = session.scalars(select(other.id).where(other.larger_than(10))).all()
        assert bigger == [1]
        suites = session.scalars(select(other).order_by(other.id)).all()
        assert [s.remark for s in suites] == ["none", "none"]
        marked = session.scalars(
            select(Suite)
            .options(with_expression(Suite.remark, Suite.wing + "!"))
            .order_by(Suite.id)
            .execution_options(populate_existing=True)
        ).all()
        assert [s.remark for s in marked] == ["east!", "north!"]


def test_group_by_an_entity_groups_by_its_columns(engine: Engine) -> None:
    with Session(engine) as session:
        stmt = (
            select(Suite, func.count(Guest.id))
            .join(Suite.guests)
            .group_by(Suite)
            .order_by(Suite.id)
        )
        assert [(s.code, n) for s, n in session.execute(stmt)] == [("1-east", 2)]
        alias = aliased(Suite)
        by_alias = (
            select(alias.id, func.count(Guest.id))
            .join(alias.guests)
            .group_by(alias)
            .order_by(alias.id)
        )
        assert [tuple(r) for r in session.execute(by_alias)] == [(1, 2)]


def test_hybrids_and_column_properties_are_selected_under_their_names(engine: Engine) -> None:
    with Session(engine) as session:
        result = session.execute(
            select(Suite.code, Suite.area, Suite.guest_count).order_by(Suite.id).limit(1)
        )
        assert list(result.keys()) == ["code", "area", "guest_count"]
        row = result.one()
        assert (row.code, row.area, row.guest_count) == ("1-east", 20, 2)
        inner = select(Suite.id, Suite.area).subquery()
        assert session.scalars(select(inner.c.area).where(inner.c.id == 2)).all() == [4]


def test_a_subclass_overrides_a_hybrid_expression() -> None:
    class Base(DeclarativeBase):
        pass

    class Sign(Base):
        __tablename__ = "xad_sign"
        id: Mapped[int] = mapped_column(primary_key=True)
        text: Mapped[str] = mapped_column(String(20))
        kind: Mapped[str] = mapped_column(String(10))
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "sign"}

        @hybrid_property
        def shown(self) -> str:
            return self.text

    class Caution(Sign):
        __mapper_args__ = {"polymorphic_identity": "warning"}

        @Sign.shown.overrides.expression
        @classmethod
        def shown(cls) -> ColumnElement:
            return func.upper(cls.text)

    assert "upper" in str(select(Caution.shown)).lower()
    assert "upper" not in str(select(Sign.shown)).lower()
    assert Caution(text="slow").shown == "slow"


def test_column_property_subquery_in_a_class_body_before_a_related_class_exists(
    backend: Any,
) -> None:
    class Base(DeclarativeBase):
        pass

    class Visit(Base):
        __tablename__ = "cb_visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        lodger_id: Mapped[int] = mapped_column(ForeignKey("cb_lodger.id"))
        lodger: Mapped[Lodger] = relationship(back_populates="visits")

    # Visit.lodger names Lodger, which its class body below is still making: the subquery
    # written there does not configure the mappers yet.
    class Lodger(Base):
        __tablename__ = "cb_lodger"
        id: Mapped[int] = mapped_column(primary_key=True)
        visits: Mapped[list[Visit]] = relationship(back_populates="lodger")
        visit_count: Mapped[int] = column_property(
            select(func.count(Visit.id))
            .where(Visit.lodger_id == id)
            .correlate_except(Visit)
            .scalar_subquery()
        )

    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    with Session(eng) as session:
        session.add(Lodger(id=1, visits=[Visit(id=1), Visit(id=2)]))
        session.commit()
        assert session.scalars(select(Lodger.visit_count)).all() == [2]

    class Broken(Base):
        __tablename__ = "cb_broken"
        id: Mapped[int] = mapped_column(primary_key=True)
        other: Mapped[Missing] = relationship()  # type: ignore[name-defined]  # noqa: F821

    # A class that never appears still fails the first query, naming itself.
    with Session(eng) as session, pytest.raises(exc.InvalidRequestError, match="'Missing'"):
        session.execute(select(Lodger))
    Base.registry.dispose()
    eng.dispose()
