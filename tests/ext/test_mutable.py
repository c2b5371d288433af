"""athanor.ext.mutable: in-place changes of dict/list/set values and composites are flushed."""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import JSON, Column, Integer, PickleType, String, Table, create_engine, select
from athanor.ext.asyncio import AsyncSession, create_async_engine
from athanor.ext.mutable import (
    Mutable,
    MutableComposite,
    MutableDict,
    MutableList,
    MutableSet,
)
from athanor.orm import DeclarativeBase, Mapped, Session, composite, mapped_column, registry


@dataclasses.dataclass
class Point(MutableComposite):
    x: int
    y: int

    def __setattr__(self, key: str, value: Any) -> None:
        object.__setattr__(self, key, value)
        self.changed()


class Base(DeclarativeBase):
    pass


class Document(Base):
    __tablename__ = "mutable_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(20), default="")
    data: Mapped[dict[str, Any]] = mapped_column(MutableDict.as_mutable(JSON), default=dict)
    tags: Mapped[list[str]] = mapped_column(MutableList.as_mutable(JSON), default=list)
    labels: Mapped[set[str] | None] = mapped_column(MutableSet.as_mutable(PickleType))
    plain: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pos: Mapped[Point] = composite(mapped_column("px"), mapped_column("py"))


class Counter(Mutable, dict[str, int]):
    """A dict of counts whose bump() is tracked."""

    @classmethod
    def coerce(cls, key: str, value: Any) -> Any:
        return cls(value) if isinstance(value, dict) else super().coerce(key, value)

    def bump(self, name: str) -> None:
        dict.__setitem__(self, name, self.get(name, 0) + 1)
        self.changed()


class Blob(PickleType):
    """A type of its own, whose columns hold Counter values."""


Counter.associate_with(Blob)


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


def _stored(engine: Any) -> tuple[Any, ...]:
    table = Document.__table__
    with engine.connect() as conn:
        row = conn.execute(
            select(table.c.data, table.c.tags, table.c.labels, table.c.px, table.c.py)
        ).one()
    return tuple(row)


def test_assigned_and_loaded_values_are_converted(engine: Any) -> None:
    with Session(engine) as session:
        doc = Document(data={"a": 1}, tags=["x"], labels={"l"}, plain={"p": 1}, pos=Point(1, 2))
        assert type(doc.data) is MutableDict and type(doc.tags) is MutableList
        assert type(doc.labels) is MutableSet and type(doc.plain) is dict
        session.add(doc)
        session.commit()
        assert type(doc.data) is MutableDict and doc.data == {"a": 1}
        doc.data = {"b": 2}
        assert type(doc.data) is MutableDict
        session.commit()
    with Session(engine) as session:
        loaded = session.scalars(select(Document)).one()
        assert type(loaded.data) is MutableDict and loaded.data == {"b": 2}
        assert not session.dirty
        with pytest.raises(ValueError, match=r"Attribute 'tags' takes MutableList.*got int 5"):
            loaded.tags = 5


def test_in_place_changes_are_flushed(engine: Any) -> None:
    with Session(engine) as session:
        doc = Document(data={"a": 1}, tags=["x"], labels={"l"}, pos=Point(1, 2))
        session.add(doc)
        session.commit()
        doc.data["b"] = 2
        assert list(session.dirty) == [doc]
        doc.tags.append("y")
        doc.tags += ["z"]
        doc.labels.add("m")
        doc.pos.x = 10
        session.commit()
        assert _stored(engine)[:1] == ({"a": 1, "b": 2},)
        stored = _stored(engine)
        assert stored[1] == ["x", "y", "z"] and stored[2] == {"l", "m"}
        assert stored[3:] == (10, 2)
        del doc.data["a"]
        doc.tags.pop(0)
        doc.labels.discard("l")
        session.commit()
        assert _stored(engine)[:3] == ({"b": 2}, ["y", "z"], {"m"})
        # A plain JSON dict changed in place is not seen.
        doc.plain = {"p": 1}
        session.commit()
        doc.plain["q"] = 2
        assert not session.dirty


def test_values_survive_pickling(engine: Any) -> None:
    with Session(engine) as session:
        session.add(Document(data={"a": 1}, pos=Point(0, 0)))
        session.commit()
        copy = pickle.loads(pickle.dumps(session.scalars(select(Document)).one()))
    with Session(engine) as session:
        copy = session.merge(copy)
        copy.data["k"] = "v"
        session.commit()
        assert _stored(engine)[0] == {"a": 1, "k": "v"}


def test_associate_with_a_type(engine: Any) -> None:
    reg = registry()
    table = Table(
        "mutable_counters", reg.metadata, Column("id", Integer, primary_key=True), Column("c", Blob)
    )

    class Tally:
        pass

    reg.map_imperatively(Tally, table)
    reg.metadata.create_all(engine)
    with Session(engine) as session:
        tally = Tally()
        tally.c = {"a": 1}  # type: ignore[attr-defined]
        session.add(tally)
        session.commit()
        tally.c.bump("a")  # type: ignore[attr-defined]
        session.commit()
        assert session.execute(select(table.c.c)).scalar_one() == {"a": 2}


def test_async_session(backend: Any) -> None:
    async def run() -> Any:
        engine = create_async_engine(backend.async_url())
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            async with AsyncSession(engine, expire_on_commit=False) as session:
                doc = Document(data={"a": 1}, pos=Point(1, 1))
                session.add(doc)
                await session.commit()
                doc.data["b"] = 2
                doc.pos.y = 5
                await session.commit()
            async with AsyncSession(engine) as session:
                found = (await session.scalars(select(Document))).one()
                return dict(found.data), found.pos
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == ({"a": 1, "b": 2}, Point(1, 5))
