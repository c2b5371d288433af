"""``joinedload(..., innerjoin=True)`` below an outer joined load nests its JOIN inside the
outer one (``LEFT OUTER JOIN (b JOIN c ON ...) ON ...``); ``innerjoin="unnested"`` joins
outer instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Column, ForeignKey, String, Table, create_engine, select
from athanor.orm import DeclarativeBase, Mapped, Session, joinedload, mapped_column, relationship
from orm.orm_models import StatementLog


class NestBase(DeclarativeBase):
    pass


book_labels = Table(
    "nest_book_labels",
    NestBase.metadata,
    Column("book_id", ForeignKey("nest_books.id"), primary_key=True),
    Column("label_id", ForeignKey("nest_labels.id"), primary_key=True),
)


class Author(NestBase):
    __tablename__ = "nest_authors"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    books: Mapped[list[Book]] = relationship(order_by="Book.id")


class Book(NestBase):
    __tablename__ = "nest_books"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("nest_authors.id"))
    chapters: Mapped[list[Chapter]] = relationship(order_by="Chapter.id")
    reviews: Mapped[list[Review]] = relationship(order_by="Review.id")
    labels: Mapped[list[Label]] = relationship(secondary=book_labels, order_by="Label.id")


class Chapter(NestBase):
    __tablename__ = "nest_chapters"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    book_id: Mapped[int] = mapped_column(ForeignKey("nest_books.id"))
    pages: Mapped[list[Page]] = relationship(order_by="Page.id")


class Page(NestBase):
    __tablename__ = "nest_pages"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("nest_chapters.id"))


class Review(NestBase):
    __tablename__ = "nest_reviews"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    book_id: Mapped[int] = mapped_column(ForeignKey("nest_books.id"))


class Label(NestBase):
    __tablename__ = "nest_labels"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(20))


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    """Author 1: book 10 (chapter 100 with page 1000, chapter 101 without pages, a review,
    label "x") and book 11 (nothing); author 2: no books."""
    eng = create_engine(backend.url)
    NestBase.metadata.create_all(eng)
    with Session(eng) as session:
        label = Label(id=1, name="x")
        session.add_all(
            [
                Author(
                    id=1,
                    books=[
                        Book(
                            id=10,
                            chapters=[Chapter(id=100, pages=[Page(id=1000)]), Chapter(id=101)],
                            reviews=[Review(id=7)],
                            labels=[label],
                        ),
                        Book(id=11),
                    ],
                ),
                Author(id=2),
            ]
        )
        session.commit()
    yield eng
    eng.dispose()


def _load(engine: Any, *options: Any, limit: int | None = None) -> tuple[list[Author], str]:
    log = StatementLog(engine)
    stmt = select(Author).order_by(Author.id).options(*options)
    if limit is not None:
        stmt = stmt.limit(limit)
    with Session(engine) as session:
        authors = list(session.scalars(stmt).unique())
    assert len(log.selects) == 1, log.selects
    return authors, log.selects[0]


def _books(authors: list[Author]) -> list[tuple[int, list[int]]]:
    return [(a.id, [b.id for b in a.__dict__["books"]]) for a in authors]


@pytest.mark.parametrize("limit", [None, 5])
def test_innerjoin_below_outer_nests_inside_the_outer_join(engine: Any, limit: int | None) -> None:
    authors, sql = _load(
        engine, joinedload(Author.books).joinedload(Book.chapters, innerjoin=True), limit=limit
    )
    # Author 2 (no books) stays; book 11 (no chapters) is dropped, as an inner join drops it.
    assert _books(authors) == [(1, [10]), (2, [])]
    assert [c.id for c in authors[0].books[0].__dict__["chapters"]] == [100, 101]
    assert "LEFT OUTER JOIN (" in sql


def test_unnested_joins_outer_and_keeps_every_intermediate_object(engine: Any) -> None:
    authors, sql = _load(
        engine, joinedload(Author.books).joinedload(Book.chapters, innerjoin="unnested")
    )
    assert _books(authors) == [(1, [10, 11]), (2, [])]
    assert authors[0].books[1].__dict__["chapters"] == []
    assert "LEFT OUTER JOIN (" not in sql


def test_innerjoin_chain_below_outer_nests_every_level(engine: Any) -> None:
    authors, sql = _load(
        engine,
        joinedload(Author.books)
        .joinedload(Book.chapters, innerjoin=True)
        .joinedload(Chapter.pages, innerjoin=True),
    )
    # Only chapter 100 has a page; book 10 keeps it alone, book 11 goes.
    assert _books(authors) == [(1, [10]), (2, [])]
    assert [c.id for c in authors[0].books[0].chapters] == [100]
    assert [p.id for p in authors[0].books[0].chapters[0].__dict__["pages"]] == [1000]
    assert sql.count("LEFT OUTER JOIN") == 1


def test_outer_load_below_a_nested_inner_one_and_a_sibling(engine: Any) -> None:
    authors, _ = _load(
        engine,
        joinedload(Author.books)
        .joinedload(Book.chapters, innerjoin=True)
        .joinedload(Chapter.pages),
        joinedload(Author.books).joinedload(Book.reviews),
    )
    assert _books(authors) == [(1, [10]), (2, [])]
    book = authors[0].books[0]
    assert [(c.id, [p.id for p in c.__dict__["pages"]]) for c in book.chapters] == [
        (100, [1000]),
        (101, []),
    ]
    assert [r.id for r in book.__dict__["reviews"]] == [7]


def test_many_to_many_innerjoin_below_outer(engine: Any) -> None:
    authors, _ = _load(engine, joinedload(Author.books).joinedload(Book.labels, innerjoin=True))
    assert _books(authors) == [(1, [10]), (2, [])]
    assert [lb.name for lb in authors[0].books[0].__dict__["labels"]] == ["x"]


def test_innerjoin_throughout_drops_parents_without_children(engine: Any) -> None:
    authors, sql = _load(
        engine,
        joinedload(Author.books, innerjoin=True).joinedload(Book.chapters, innerjoin=True),
    )
    assert _books(authors) == [(1, [10])]
    assert "OUTER" not in sql
