"""The ORM tutorial's workflow through AsyncSession on every async driver: a session factory,
adding and committing, selecting, loading related objects the async ways (selectinload,
awaitable_attrs, refresh naming the relationship, run_sync), the refusal of a plain lazy
load, ORM-enabled DML, rollback and streaming, with no connection left checked out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from athanor import delete, exc, func, insert, inspect, select, update
from athanor.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from athanor.orm import Session, selectinload
from backends import Backend
from orm.library_models import Author, Book, LibraryBase, Loan, library, table_rows

pytestmark = pytest.mark.usefixtures("async_driver")


async def _workflow(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(LibraryBase.metadata.create_all)
        factory = async_sessionmaker(engine, expire_on_commit=False)
        async with factory() as session, session.begin():
            session.add_all(library())
        async with factory() as session:
            await _reads(session)
        async with factory() as session:
            await _writes(session)
        assert engine.pool.checkedout() == 0
    finally:
        await engine.dispose()


async def _reads(session: AsyncSession) -> None:
    le_guin = (await session.scalars(select(Author).where(Author.name == "Le Guin"))).one()
    assert await session.get(Author, 1) is le_guin
    with pytest.raises(exc.MissingGreenlet) as refused:
        _ = le_guin.books
    assert "Author.books" in str(refused.value)
    assert "selectinload(Author.books)" in str(refused.value)
    assert [b.title for b in await le_guin.awaitable_attrs.books] == ["Earthsea", "Dispossessed"]
    assert le_guin.books[0].author is le_guin  # loaded now: plain access works

    pratchett = await session.get_one(Author, 2)
    await session.refresh(pratchett, ["books"])
    assert [b.title for b in pratchett.books] == ["Mort"]

    authors = (
        await session.scalars(
            select(Author)
            .options(selectinload(Author.books).selectinload(Book.loans))
            .order_by(Author.id)
        )
    ).all()
    assert [[len(b.loans) for b in a.books] for a in authors] == [[2, 0], [1], []]

    def borrowers(sync_session: Session) -> list[str]:
        # Inside run_sync, implicit lazy loading is allowed again.
        mort = sync_session.get(Book, 3)
        assert mort is not None
        return [loan.borrower for loan in mort.loans] + [mort.author.name]

    assert await session.run_sync(borrowers) == ["cy", "Pratchett"]
    rows = (await session.execute(select(Author.name, Author.country).order_by(Author.id))).all()
    assert rows[2].name == "Banks" and rows[2].country is None
    streamed = await session.stream_scalars(select(Book.title).order_by(Book.id))
    assert [title async for title in streamed] == ["Earthsea", "Dispossessed", "Mort"]
    assert await session.scalar(select(func.count()).select_from(Loan)) == 3


async def _writes(session: AsyncSession) -> None:
    made = (
        await session.scalars(
            insert(Author).returning(Author, sort_by_parameter_order=True),
            [{"name": "Atwood", "country": "CA"}, {"name": "Ishiguro"}],
        )
    ).all()
    assert [a.name for a in made] == ["Atwood", "Ishiguro"] and inspect(made[0]).persistent
    await session.execute(update(Author).where(Author.country == "CA").values(country="XX"))
    assert made[0].country == "XX"
    await session.execute(delete(Author).where(Author.name == "Ishiguro"))
    assert inspect(made[1]).was_deleted
    await session.commit()

    banks = await session.get_one(Author, 3)
    banks.country = "UK"
    session.add(Author(name="Pending"))
    await session.flush()
    await session.rollback()
    assert await banks.awaitable_attrs.country is None  # rolled back, expired, reloaded
    assert await session.scalar(select(func.count()).select_from(Author)) == 4

    mort = await session.get_one(Book, 3)
    for loan in await mort.awaitable_attrs.loans:
        await session.delete(loan)
    await session.delete(mort)
    await session.commit()
    assert await session.get(Book, 3) is None


def test_tutorial_workflow_with_async_session(backend: Backend) -> None:
    asyncio.run(_workflow(backend.async_url()))
    sync_engine = _sync_engine(backend)
    try:
        assert table_rows(sync_engine, "SELECT name, country FROM lib_authors ORDER BY id") == [
            ("Le Guin", "US"),
            ("Pratchett", "UK"),
            ("Banks", None),
            ("Atwood", "XX"),
        ]
        assert table_rows(sync_engine, "SELECT title FROM lib_books ORDER BY id") == [
            ("Earthsea",),
            ("Dispossessed",),
        ]
    finally:
        sync_engine.dispose()


def _sync_engine(backend: Backend) -> Any:
    from athanor import create_engine

    return create_engine(backend.url)
