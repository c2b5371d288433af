"""Composite attributes: one value object over several columns (``composite()``)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Column, Integer, String, Table, and_, exc, insert, inspect, select, update
from athanor.ext.asyncio import AsyncSession, create_async_engine
from athanor.orm import (
    Composite,
    CompositeProperty,
    DeclarativeBase,
    Mapped,
    Session,
    aliased,
    composite,
    mapped_column,
    registry,
)
from athanor.schema import CreateTable


@dataclasses.dataclass
class Point:
    x: int
    y: int


class LegacyPoint:
    """A composite class that is not a dataclass."""

    def __init__(self, x: Any, y: Any) -> None:
        self.x = x
        self.y = y

    def __composite_values__(self) -> tuple[Any, Any]:
        return self.x, self.y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LegacyPoint) and (other.x, other.y) == (self.x, self.y)

    def __hash__(self) -> int:
        return hash((self.x, self.y))

    def __repr__(self) -> str:
        return f"LegacyPoint({self.x}, {self.y})"


class GreaterComparator(Composite.Comparator):
    """``>`` on every column, the documented way to add operators."""

    def __gt__(self, other: Any) -> Any:  # type: ignore[override]
        return and_(
            *[
                a > b
                for a, b in zip(
                    self.__clause_element__().clauses, dataclasses.astuple(other), strict=True
                )
            ]
        )


class Base(DeclarativeBase):
    pass


class Vertex(Base):
    __tablename__ = "composite_vertices"

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[Point] = composite(
        mapped_column("x1"), mapped_column("y1"), comparator_factory=GreaterComparator
    )
    end: Mapped[Point] = composite(mapped_column("x2"), mapped_column("y2"))


class Label(Base):
    """Columns mapped on their own, the composite naming them (attribute names and columns)."""

    __tablename__ = "composite_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(20))
    px: Mapped[int | None]
    py: Mapped[int | None]
    qx = mapped_column(Integer)
    qy = mapped_column(Integer)
    at: Mapped[LegacyPoint | None] = composite(LegacyPoint, "px", "py")
    anchor = composite(LegacyPoint, qx, qy)


class Marker(Base):
    """A deferred composite: its columns load together when it is first read."""

    __tablename__ = "composite_markers"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[Point] = composite(mapped_column("mx"), mapped_column("my"), deferred=True)


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s


def _rows(session: Session) -> list[tuple[Any, ...]]:
    table = Vertex.__table__
    return [tuple(r) for r in session.execute(select(table).order_by(table.c.id))]


def test_columns_come_from_the_dataclass_fields() -> None:
    ddl = str(CreateTable(Vertex.__table__))
    for name in ("x1", "y1", "x2", "y2"):
        assert f"{name} INTEGER NOT NULL" in ddl
    assert [c.key for c in inspect(Vertex).composites.start.columns] == ["x1", "y1"]
    assert isinstance(inspect(Vertex).attrs.start, CompositeProperty)
    # The inline columns are attributes of their own too.
    assert str(Vertex.x1 == 1) == str(Vertex.__table__.c.x1 == 1)  # type: ignore[attr-defined]
    assert "px INTEGER" in str(CreateTable(Label.__table__))


def test_flush_reads_and_assigns_whole_values(session: Session) -> None:
    v = Vertex(start=Point(3, 4), end=Point(5, 6))
    session.add(v)
    session.commit()
    assert _rows(session) == [(1, 3, 4, 5, 6)]
    assert v.start == Point(3, 4) and v.start is v.start
    v.end = Point(7, 8)
    assert list(session.dirty) == [v]
    session.commit()
    assert _rows(session) == [(1, 3, 4, 7, 8)]
    session.expunge_all()
    loaded = session.get(Vertex, 1)
    assert loaded is not None and (loaded.start, loaded.end) == (Point(3, 4), Point(7, 8))


def test_column_changes_show_in_the_composite(session: Session) -> None:
    v = Vertex(start=Point(1, 2), end=Point(3, 4))
    session.add(v)
    session.flush()
    first = v.start
    v.x1 = 10  # type: ignore[attr-defined]
    assert v.start == Point(10, 2) and v.start is not first
    # An in-place change of a plain (not mutable) composite value is not tracked: the
    # attribute answers the columns' values.
    v.end.x = 99
    assert v.end == Point(3, 4)
    session.commit()
    assert _rows(session) == [(1, 10, 2, 3, 4)]


def test_compares_in_queries(session: Session) -> None:
    session.add_all(
        [Vertex(start=Point(3, 4), end=Point(5, 6)), Vertex(start=Point(1, 1), end=Point(3, 4))]
    )
    session.commit()

    def ids(criterion: Any) -> list[int]:
        return list(session.scalars(select(Vertex.id).where(criterion).order_by(Vertex.id)))

    assert ids(Vertex.start == Point(3, 4)) == [1]
    assert ids(Vertex.end == Point(3, 4)) == [2]
    assert ids(Vertex.start != Point(3, 4)) == [2]
    # Each operator applies to every column, ANDed: != holds where every column differs,
    # so a row with an equal x is not one (what SQLAlchemy renders too).
    assert ids(Vertex.start != Point(3, 5)) == [2]
    assert ids(Vertex.start != Point(0, 0)) == [1, 2]
    assert ids(Vertex.start == None) == []  # noqa: E711
    assert ids(Vertex.start != None) == [1, 2]  # noqa: E711
    assert ids(Vertex.start > Point(2, 2)) == [1]
    assert ids(Vertex.end < Point(5, 5)) == [2]
    assert ids(Vertex.end >= Point(3, 4)) == [1, 2]
    assert ids(Vertex.end <= Point(3, 5)) == [2]
    with pytest.raises(exc.InvalidRequestError, match=r"Vertex.end .*comparator_factory"):
        Vertex.end.in_([Point(1, 1)])
    ordered = session.scalars(select(Vertex.id).order_by(Vertex.end)).all()
    assert list(ordered) == [2, 1]


def test_history_of_a_composite_comes_from_its_columns(session: Session) -> None:
    v = Vertex(start=Point(1, 2), end=Point(3, 4))
    assert inspect(v).attrs.start.history == ([Point(1, 2)], (), ())  # new: all added
    session.add(v)
    session.commit()
    # Expired by the commit: its columns load for the history.
    assert inspect(v).attrs.start.history == ((), [Point(1, 2)], ())
    assert inspect(v).attrs.start.load_history() == ((), [Point(1, 2)], ())
    v.start = Point(5, 6)
    assert inspect(v).attrs.start.history == ([Point(5, 6)], (), [Point(1, 2)])
    assert inspect(v).attrs.end.history == ((), [Point(3, 4)], ())
    v.y2 = 9  # one column of the composite
    assert inspect(v).attrs.end.history == ([Point(3, 9)], (), [Point(3, 4)])
    session.commit()
    assert session.execute(select(Vertex.start, Vertex.end)).one() == (Point(5, 6), Point(3, 9))
    assert v.end == Point(3, 9)
    assert inspect(v).attrs.end.history == ((), [Point(3, 9)], ())


def test_history_of_an_expired_composite_loads_its_columns(session: Session, sql_log: Any) -> None:
    session.add(Vertex(start=Point(1, 2), end=Point(3, 4)))
    session.commit()
    v = session.scalars(select(Vertex)).one()
    session.expire(v, ["x1"])
    sql_log.clear()
    assert inspect(v).attrs.start.history == ((), [Point(1, 2)], ())
    assert len(sql_log.selects) == 1 and "y1" not in sql_log.selects[0]
    session.expire(v)
    assert inspect(v).attrs.end.history == ((), [Point(3, 4)], ())
    assert len(sql_log.selects) == 2
    session.expire(v)
    session.expunge(v)
    assert inspect(v).attrs.start.history == ((), (), ())  # detached: nothing to load from


def test_selects_composite_values(session: Session) -> None:
    session.add(Vertex(start=Point(3, 4), end=Point(5, 6)))
    session.commit()
    row = session.execute(select(Vertex.start, Vertex.end)).one()
    assert tuple(row) == (Point(3, 4), Point(5, 6))
    assert row.start == Point(3, 4)
    assert session.scalars(select(Vertex.end)).all() == [Point(5, 6)]


def test_orm_dml_takes_composite_values(session: Session) -> None:
    session.execute(
        insert(Vertex),
        [
            {"id": 1, "start": Point(1, 2), "end": Point(3, 4)},
            {"id": 2, "start": Point(5, 6), "end": Point(7, 8)},
        ],
    )
    session.execute(insert(Vertex).values(id=3, start=Point(0, 0), end=Point(0, 1)))
    v = session.get(Vertex, 1)
    assert v is not None and v.end == Point(3, 4)
    session.execute(
        update(Vertex).where(Vertex.start == Point(1, 2)).values({Vertex.end: Point(9, 9)})
    )
    assert v.end == Point(9, 9)  # the session's object follows (synchronize_session)
    session.execute(update(Vertex).where(Vertex.id == 2).values(start=Point(8, 8)))
    session.execute(update(Vertex), [{"id": 3, "end": Point(2, 2)}])
    assert _rows(session) == [(1, 1, 2, 9, 9), (2, 8, 8, 7, 8), (3, 0, 0, 2, 2)]


def test_none_and_legacy_classes(session: Session) -> None:
    label = Label(text="a")
    assert label.at is None  # nothing set on a new object
    label.anchor = LegacyPoint(1, 2)
    session.add(label)
    session.commit()
    assert label.anchor == LegacyPoint(1, 2)
    # A loaded row always has a value, even when its columns are NULL.
    assert label.at == LegacyPoint(None, None)
    label.at = LegacyPoint(5, 6)
    session.commit()
    assert session.scalars(select(Label.text).where(Label.at == LegacyPoint(5, 6))).all() == ["a"]
    label.at = None
    session.commit()
    assert (label.px, label.py) == (None, None)
    assert session.scalars(select(Label.id).where(Label.at == None)).all() == [1]  # noqa: E711


def test_bad_values_name_the_attribute() -> None:
    with pytest.raises(exc.ArgumentError, match=r"Label.anchor takes a LegacyPoint.*got 5"):
        Label().anchor = 5
    with pytest.raises(exc.ArgumentError, match=r"Point takes 2 values \(x, y\) but 1"):

        class Broken(Base):
            __tablename__ = "composite_broken"
            id: Mapped[int] = mapped_column(primary_key=True)
            p: Mapped[Point] = composite(mapped_column("bx"))

    with pytest.raises(exc.ArgumentError, match=r"Nowhere.p has no class"):

        class Nowhere(Base):
            __tablename__ = "composite_nowhere"
            id: Mapped[int] = mapped_column(primary_key=True)
            p = composite(mapped_column("nx", Integer))


def test_imperative_mapping(engine: Any) -> None:
    reg = registry()
    table = Table(
        "composite_segments",
        reg.metadata,
        Column("id", Integer, primary_key=True),
        Column("ax", Integer),
        Column("ay", Integer),
    )

    class Segment:
        pass

    reg.map_imperatively(Segment, table, properties={"a": composite(Point, table.c.ax, table.c.ay)})
    reg.metadata.create_all(engine)
    with Session(engine) as session:
        seg = Segment()
        seg.a = Point(9, 8)  # type: ignore[attr-defined]
        session.add(seg)
        session.commit()
        assert session.scalars(select(Segment.a)).one() == Point(9, 8)  # type: ignore[attr-defined]
        assert session.execute(select(table.c.ax, table.c.ay)).one() == (9, 8)


def test_async_session(backend: Any) -> None:
    async def run() -> list[Any]:
        engine = create_async_engine(backend.async_url())
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            async with AsyncSession(engine, expire_on_commit=False) as session:
                v = Vertex(start=Point(1, 2), end=Point(3, 4))
                session.add(v)
                await session.commit()
                v.end = Point(5, 6)
                await session.commit()
                found = await session.scalars(select(Vertex.end).where(Vertex.start == Point(1, 2)))
                return [*found, v.start]
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == [Point(5, 6), Point(1, 2)]


def test_aliased_class_compares_its_own_columns(session: Session) -> None:
    session.add_all(
        [Vertex(start=Point(0, 0), end=Point(1, 1)), Vertex(start=Point(1, 1), end=Point(2, 2))]
    )
    session.commit()
    nxt = aliased(Vertex)
    chained = (
        select(Vertex.id, nxt.id)
        .join(nxt, Vertex.x2 == nxt.x1)  # type: ignore[attr-defined]
        .where(nxt.start == Point(1, 1), Vertex.start != nxt.start)
    )
    assert session.execute(chained).all() == [(1, 2)]


def test_deferred_composite_loads_its_columns_at_once(session: Session, sql_log: Any) -> None:
    session.add(Marker(at=Point(4, 5)))
    session.commit()
    session.expunge_all()
    marker = session.scalars(select(Marker)).one()
    assert "mx" not in marker.__dict__
    sql_log.clear()
    assert marker.at == Point(4, 5)
    assert len(sql_log.statements) == 1
