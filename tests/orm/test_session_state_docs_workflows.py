"""Session state management as the ORM guide documents it (merge with load=False, joining a
session into an outside transaction), on every database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Engine, ForeignKey, String, create_engine, event, exc, inspect, select
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from athanor.orm import exc as orm_exc


class StateBase(DeclarativeBase):
    pass


class Orchard(StateBase):
    __tablename__ = "sd_orchards"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    acres: Mapped[int] = mapped_column(default=1)
    trees: Mapped[list[Tree]] = relationship(back_populates="orchard", order_by="Tree.id")


class Tree(StateBase):
    __tablename__ = "sd_trees"

    id: Mapped[int] = mapped_column(primary_key=True)
    fruit: Mapped[str] = mapped_column(String(20))
    orchard_id: Mapped[int | None] = mapped_column(ForeignKey("sd_orchards.id"))
    orchard: Mapped[Orchard | None] = relationship(back_populates="trees")


@pytest.fixture
def engine(backend: Any) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    StateBase.metadata.create_all(eng)
    yield eng
    eng.dispose()


def statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda c, cur, st, *a: seen.append(st))
    return seen


def names(session: Session) -> list[str]:
    return list(session.scalars(select(Orchard.name).order_by(Orchard.name)))


def test_merge_without_load_trusts_the_object(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        orchard = Orchard(name="north", trees=[Tree(fruit="fig")])
        session.add(orchard)
        session.commit()
    seen = statements(engine)
    with Session(engine) as session:
        merged = session.merge(orchard, load=False)
        assert seen == []  # nothing loaded, nothing compared
        assert merged is not orchard and inspect(merged).persistent
        assert merged.trees[0] is not orchard.trees[0] and inspect(merged.trees[0]).persistent
        assert not session.is_modified(merged) and not session.dirty
        session.commit()
        assert not any(s.lstrip().upper().startswith("UPDATE") for s in seen)
        assert merged.name == "north"  # expired by the commit, loaded again
    with pytest.raises(exc.InvalidRequestError, match="never flushed"):
        Session(engine).merge(Orchard(name="new"), load=False)
    orchard.name = "changed"
    with pytest.raises(exc.InvalidRequestError, match="unflushed changes"):
        Session(engine).merge(orchard, load=False)


def test_join_transaction_modes(engine: Engine) -> None:
    # create_savepoint: the session's commit and rollback work on a SAVEPOINT of its own
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        session.add(Orchard(name="kept"))
        session.commit()
        session.add(Orchard(name="dropped"))
        session.flush()
        session.rollback()
        assert names(session) == ["kept"] and outer.is_active
        session.close()
        outer.rollback()
    # rollback_only: commit leaves the outer transaction alone, rollback rolls it back
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="rollback_only")
        session.add(Orchard(name="a"))
        session.commit()
        assert outer.is_active
        session.add(Orchard(name="b"))
        session.flush()
        session.rollback()
        assert not outer.is_active and not conn.in_transaction()
    # the default joins a plain transaction the same way, and close() leaves it be
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn)
        session.add(Orchard(name="c"))
        session.flush()
        session.close()
        assert outer.is_active
        outer.rollback()
    # ... and a savepoint with one of its own
    with engine.connect() as conn:
        outer = conn.begin()
        conn.begin_nested()
        session = Session(bind=conn)
        session.add(Orchard(name="d"))
        session.flush()
        session.rollback()
        assert outer.is_active and names(session) == []
        session.close()
        outer.rollback()
    # control_fully: the session's commit is the outer transaction's
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="control_fully")
        session.add(Orchard(name="e"))
        session.commit()
        assert not outer.is_active
    with Session(engine) as session:
        assert names(session) == ["e"]
    with pytest.raises(exc.ArgumentError, match="join_transaction_mode='savepoint'"):
        Session(engine, join_transaction_mode="savepoint")


def test_history_dirty_and_partial_expire(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Orchard(name="west", acres=3))
        session.commit()
        orchard = session.scalars(select(Orchard)).one()
        # an attribute's history: lists for the values, () for the empty parts
        assert tuple(inspect(orchard).attrs.name.history) == ((), ["west"], ())
        orchard.name = "east"
        assert tuple(inspect(orchard).attrs.name.history) == (["east"], (), ["west"])
        assert inspect(orchard).unmodified_intersection(["name", "acres", "no"]) == {"acres"}
        # unmodified: every mapped attribute without a change, loaded or not
        assert inspect(orchard).unmodified == {"id", "acres", "trees"}
        # dirty is optimistic: set to the same value is in it, with no net change
        orchard.name = "west"
        orchard.acres = 3
        assert list(session.dirty) == [orchard] and not session.is_modified(orchard)
        session.expire(orchard)
        assert inspect(orchard).expired_attributes == {"id", "name", "acres", "trees"}
        assert inspect(orchard).unloaded == {"id", "name", "acres", "trees"}
        assert inspect(orchard).unmodified == {"id", "name", "acres", "trees"}
        orchard.name = "west"
        # expire / refresh only the attributes named
        orchard.name = "north"
        orchard.acres = 9
        session.expire(orchard, ["name"])
        assert "name" not in orchard.__dict__ and orchard.acres == 9
        assert orchard.name == "west"
        orchard.name = "south"
        session.refresh(orchard, ["name", "trees"])
        assert (orchard.name, orchard.acres, orchard.trees) == ("west", 9, [])
        session.rollback()
        assert orchard.acres == 3


def test_async_session_joins_an_outside_transaction(backend: Any, engine: Engine) -> None:
    from athanor.ext.asyncio import AsyncSession, create_async_engine

    async def main() -> None:
        async_engine = create_async_engine(backend.async_url())
        try:
            async with async_engine.connect() as conn:
                outer = await conn.begin()
                session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
                session.add(Orchard(name="kept"))
                await session.commit()
                session.add(Orchard(name="dropped"))
                await session.flush()
                await session.rollback()
                assert (await session.scalars(select(Orchard.name))).all() == ["kept"]
                assert outer.is_active
                await session.close()
                await outer.rollback()
            async with AsyncSession(async_engine) as session:
                assert (await session.scalars(select(Orchard.name))).all() == []
        finally:
            await async_engine.dispose()

    asyncio.run(main())


def test_state_transitions_of_one_object(engine: Engine) -> None:
    with Session(engine) as session:
        orchard = Orchard(name="south")
        session.add(orchard)
        session.expunge(orchard)  # pending -> transient
        assert inspect(orchard).transient and Session.object_session(orchard) is None
        session.add(orchard)
        session.commit()
        assert Session.object_session(orchard) is session
        assert Session.identity_key(instance=orchard) == inspect(orchard).identity_key
        session.delete(orchard)
        session.flush()
        assert inspect(orchard).deleted
        with pytest.raises(exc.InvalidRequestError, match="has been deleted"):
            session.add(orchard)
        session.rollback()  # the DELETE is undone: persistent again
        assert inspect(orchard).persistent and orchard in session
        session.close()
        assert inspect(orchard).detached
        with pytest.raises(orm_exc.DetachedInstanceError, match="not bound to a Session"):
            _ = orchard.trees
        session.add(orchard)  # a closed session can be used again
        assert orchard.trees == []


class Hive(StateBase):
    __tablename__ = "sd_hives"

    id: Mapped[int] = mapped_column(primary_key=True)
    colony: Mapped[str] = mapped_column(String(20))
    frames: Mapped[list[Frame]] = relationship(
        back_populates="hive", cascade="all, delete-orphan", order_by="Frame.id"
    )


class Frame(StateBase):
    __tablename__ = "sd_frames"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    hive_id: Mapped[int | None] = mapped_column(ForeignKey("sd_hives.id"))
    hive: Mapped[Hive | None] = relationship(back_populates="frames")


def test_merge_builds_the_whole_graph_before_any_flush(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        hive = Hive(colony="a", frames=[Frame(label="one"), Frame(label="two")])
        session.add(hive)
        session.commit()
        hive_id, first_id = hive.id, hive.frames[0].id
    # a new frame of the detached hive: the hive is loaded while the frame is half made
    with Session(engine) as session:
        frame = session.merge(Frame(label="three", hive=hive))
        assert inspect(frame).pending and frame.hive is session.get(Hive, hive_id)
        session.commit()
        assert [f.label for f in frame.hive.frames] == ["one", "two", "three"]
    # a detached hive whose collection holds only "one": the merge makes the others orphans
    edited = Hive(id=hive_id, colony="c", frames=[Frame(id=first_id, label="uno")])
    with Session(engine) as session:
        merged = session.merge(edited)
        session.commit()
        assert [f.label for f in merged.frames] == ["uno"]
        assert session.scalars(select(Frame.label)).all() == ["uno"]  # "three" too
