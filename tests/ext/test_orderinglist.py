"""athanor.ext.orderinglist: a list relationship that keeps its members' positions in step."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import ForeignKey, String, create_engine, exc, select
from athanor.ext.asyncio import AsyncSession, create_async_engine
from athanor.ext.orderinglist import (
    OrderingList,
    count_from_0,
    count_from_1,
    count_from_n_factory,
    ordering_list,
)
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


class Slide(Base):
    __tablename__ = "ordering_slides"

    id: Mapped[int] = mapped_column(primary_key=True)
    bullets: Mapped[list[Bullet]] = relationship(
        order_by="Bullet.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
    )
    steps: Mapped[list[Step]] = relationship(
        order_by="Step.number",
        collection_class=ordering_list("number", count_from=1, reorder_on_append=True),
    )


class Bullet(Base):
    __tablename__ = "ordering_bullets"

    id: Mapped[int] = mapped_column(primary_key=True)
    slide_id: Mapped[int | None] = mapped_column(ForeignKey("ordering_slides.id"))
    position: Mapped[int | None]
    text: Mapped[str] = mapped_column(String(20))


class Step(Base):
    __tablename__ = "ordering_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    slide_id: Mapped[int | None] = mapped_column(ForeignKey("ordering_slides.id"))
    number: Mapped[int | None]
    text: Mapped[str] = mapped_column(String(20))


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


def _texts_by_position(session: Session) -> list[tuple[int | None, str]]:
    rows = session.execute(select(Bullet.position, Bullet.text).order_by(Bullet.position))
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _positions(items: list[Any], attr: str = "position") -> list[tuple[Any, str]]:
    return [(getattr(b, attr), b.text) for b in items]


def test_ordering_functions() -> None:
    assert [count_from_0(i, None) for i in range(3)] == [0, 1, 2]
    assert [count_from_1(i, None) for i in range(3)] == [1, 2, 3]
    assert [count_from_n_factory(10)(i, None) for i in range(2)] == [10, 11]
    with pytest.raises(exc.ArgumentError, match="count_from= or ordering_func="):
        ordering_list("position", count_from=1, ordering_func=count_from_0)
    with pytest.raises(exc.ArgumentError, match='ordering_list\\("position"\\)'):
        OrderingList()


def test_positions_follow_list_changes(engine: Any) -> None:
    with Session(engine) as session:
        slide = Slide(bullets=[Bullet(text="a"), Bullet(text="b")])
        slide.bullets.append(Bullet(text="d"))
        slide.bullets.insert(2, Bullet(text="c"))
        assert _positions(slide.bullets) == [(0, "a"), (1, "b"), (2, "c"), (3, "d")]
        # reorder_on_append: appended members are numbered even when they have a number.
        slide.steps.extend([Step(text="one", number=7), Step(text="two")])
        assert _positions(slide.steps, "number") == [(1, "one"), (2, "two")]
        session.add(slide)
        session.commit()
        assert _texts_by_position(session) == [(0, "a"), (1, "b"), (2, "c"), (3, "d")]

        slide.bullets.remove(slide.bullets[1])  # b
        popped = slide.bullets.pop(0)  # a
        assert popped.text == "a"
        slide.bullets.append(popped)
        assert popped.position == 0  # an appended member keeps the position it has
        slide.bullets.insert(len(slide.bullets), slide.bullets.pop())
        session.commit()
        assert _texts_by_position(session) == [(0, "c"), (1, "d"), (2, "a")]

        slide.bullets[0], slide.bullets[2] = slide.bullets[2], slide.bullets[0]
        del slide.bullets[1]
        session.commit()
        assert _texts_by_position(session) == [(0, "a"), (1, "c")]

        slide.bullets.sort(key=lambda b: b.text, reverse=True)
        slide.bullets.reorder()
        session.commit()
        assert _texts_by_position(session) == [(0, "c"), (1, "a")]


def test_loaded_lists_keep_stored_positions(engine: Any) -> None:
    with Session(engine) as session:
        session.add(Slide(id=1))
        session.add_all(
            [Bullet(slide_id=1, position=p, text=t) for p, t in ((0, "x"), (5, "y"), (9, "z"))]
        )
        session.commit()
    with Session(engine) as session:
        slide = session.scalars(select(Slide).options(selectinload(Slide.bullets))).one()
        assert _positions(slide.bullets) == [(0, "x"), (5, "y"), (9, "z")]
        assert not session.dirty
        slide.bullets = [slide.bullets[2], Bullet(text="new"), slide.bullets[0]]
        # Members keeping a position keep it (reorder_on_append=False); new ones are numbered.
        assert _positions(slide.bullets) == [(9, "z"), (1, "new"), (0, "x")]
        slide.bullets.reorder()
        session.commit()
        assert _texts_by_position(session) == [(0, "z"), (1, "new"), (2, "x")]


def test_async_session(backend: Any) -> None:
    async def run() -> list[tuple[Any, str]]:
        engine = create_async_engine(backend.async_url())
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            async with AsyncSession(engine) as session:
                slide = Slide(bullets=[Bullet(text="a"), Bullet(text="b")])
                slide.bullets.insert(0, Bullet(text="first"))
                session.add(slide)
                await session.commit()
                rows = await session.execute(
                    select(Bullet.position, Bullet.text).order_by(Bullet.position)
                )
                return [tuple(r) for r in rows]  # type: ignore[misc]
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == [(0, "first"), (1, "a"), (2, "b")]
