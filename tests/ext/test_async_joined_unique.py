"""AsyncSession results with joined eager collections behave as the sync Session's: reading
them without ``unique()`` raises, with it each parent (or row of entities) comes once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from athanor import ForeignKey, String, create_engine, exc, select
from athanor.ext.asyncio import AsyncSession, create_async_engine
from athanor.orm import DeclarativeBase, Mapped, Session, joinedload, mapped_column, relationship
from backends import Backend

pytestmark = pytest.mark.usefixtures("async_driver")


class Base(DeclarativeBase):
    pass


class Crate(Base):
    __tablename__ = "aju_crate"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    bottles: Mapped[list[Bottle]] = relationship(order_by="Bottle.id")


class Bottle(Base):
    __tablename__ = "aju_bottle"

    id: Mapped[int] = mapped_column(primary_key=True)
    crate_id: Mapped[int] = mapped_column(ForeignKey("aju_crate.id"))


def _fill(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            [
                Crate(label="red", bottles=[Bottle(), Bottle(), Bottle()]),
                Crate(label="white", bottles=[Bottle()]),
            ]
        )
        session.commit()
    engine.dispose()


def test_joined_eager_collections_need_unique_as_in_sync(backend: Backend) -> None:
    _fill(backend.url)
    by_entity = select(Crate).options(joinedload(Crate.bottles)).order_by(Crate.id)
    by_pair = (
        select(Crate, Bottle)
        .join(Crate.bottles)
        .options(joinedload(Crate.bottles))
        .order_by(Bottle.id)
    )

    async def scenario() -> dict[str, Any]:
        engine = create_async_engine(backend.async_url())
        found: dict[str, Any] = {}
        try:
            async with AsyncSession(engine) as session:
                for name, stmt in (("entity", by_entity), ("pair", by_pair)):
                    with pytest.raises(exc.InvalidRequestError, match="unique"):
                        (await session.execute(stmt)).all()
                    with pytest.raises(exc.InvalidRequestError, match="unique"):
                        (await session.scalars(stmt)).all()
                    with pytest.raises(exc.InvalidRequestError, match="unique"):
                        (await session.execute(stmt)).scalars().first()
                    found[name] = (await session.execute(stmt)).unique().all()
                found["scalars"] = (await session.scalars(by_entity)).unique().all()
        finally:
            await engine.dispose()
        return found

    found = asyncio.run(scenario())
    assert [(c.label, len(c.bottles)) for (c,) in found["entity"]] == [("red", 3), ("white", 1)]
    assert [c.label for c in found["scalars"]] == ["red", "white"]
    assert [(c.label, b.id) for c, b in found["pair"]] == [
        ("red", 1),
        ("red", 2),
        ("red", 3),
        ("white", 4),
    ]
    engine = create_engine(backend.url)
    with Session(engine) as session:
        for stmt in (by_entity, by_pair):
            with pytest.raises(exc.InvalidRequestError, match="unique"):
                session.execute(stmt).all()
    engine.dispose()
