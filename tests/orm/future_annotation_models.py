"""Models in a module with postponed annotations: every ``Mapped[...]`` annotation reaches the
declarative scan as a string, naming classes declared further down."""

from __future__ import annotations

from typing import Optional

from athanor import ForeignKey, String
from athanor.orm import DeclarativeBase, Mapped, mapped_column, relationship


class FutureBase(DeclarativeBase):
    pass


class Shelf(FutureBase):
    __tablename__ = "future_shelf"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str | None] = mapped_column(String(20))
    books: Mapped[list[Book]] = relationship(back_populates="shelf")
    tagged: Mapped[set[Book]] = relationship(viewonly=True)


class Book(FutureBase):
    __tablename__ = "future_book"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int | None] = mapped_column(ForeignKey("future_shelf.id"))
    shelf: Mapped[Shelf | None] = relationship(back_populates="books")
    quoted: Mapped["None | Shelf"] = relationship(viewonly=True)  # noqa: UP037, RUF036 - the form under test
    wrapped: Mapped[Optional[Shelf]] = relationship(viewonly=True)  # noqa: UP045 - the typing form under test
