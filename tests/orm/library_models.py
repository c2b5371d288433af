"""A small library (authors, their books, the books' loans) for the tutorial-workflow tests,
sync and async, with the rows every such test starts from."""

from __future__ import annotations

from typing import Any

from athanor import ForeignKey, String
from athanor.ext.asyncio import AsyncAttrs
from athanor.orm import DeclarativeBase, Mapped, mapped_column, relationship


class LibraryBase(AsyncAttrs, DeclarativeBase):
    pass


class Author(LibraryBase):
    __tablename__ = "lib_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    country: Mapped[str | None] = mapped_column(String(2))
    books: Mapped[list[Book]] = relationship(
        back_populates="author", cascade="all, delete-orphan", order_by="Book.id"
    )

    def __repr__(self) -> str:
        return f"Author(id={self.id!r}, name={self.name!r})"


class Book(LibraryBase):
    __tablename__ = "lib_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(60))
    year: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("lib_authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")
    loans: Mapped[list[Loan]] = relationship(back_populates="book", order_by="Loan.id")

    def __repr__(self) -> str:
        return f"Book({self.title!r}, {self.year})"


class Loan(LibraryBase):
    """No ``__repr__`` of its own: it shows the default object repr."""

    __tablename__ = "lib_loans"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower: Mapped[str] = mapped_column(String(30))
    book_id: Mapped[int] = mapped_column(ForeignKey("lib_books.id"))
    book: Mapped[Book] = relationship(back_populates="loans")


def library() -> list[Author]:
    """Le Guin (US, two books), Pratchett (UK, one book), Banks (no country, no books);
    Earthsea is lent to ann and bob, Mort to cy.  Authors get ids 1-3 and books 1-3 in
    this order when inserted into empty tables."""
    earthsea = Book(title="Earthsea", year=1968)
    earthsea.loans = [Loan(borrower="ann"), Loan(borrower="bob")]
    mort = Book(title="Mort", year=1987, loans=[Loan(borrower="cy")])
    return [
        Author(
            name="Le Guin",
            country="US",
            books=[earthsea, Book(title="Dispossessed", year=1974)],
        ),
        Author(name="Pratchett", country="UK", books=[mort]),
        Author(name="Banks"),
    ]


def table_rows(engine: Any, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` read on a connection of its own (what another client would see)."""
    from athanor import text

    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]
