"""``Mapped[...]`` annotations written as strings, in every form SQLAlchemy 2.x takes: a PEP 604
union or ``Optional`` inside the string, a collection inside the string, and whole annotations
postponed by ``from __future__ import annotations``. Each maps as its unquoted form does."""

from typing import Any

import pytest

from athanor import ForeignKey, String, create_engine, inspect, select
from athanor.exc import ArgumentError
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload
from orm import future_annotation_models as future

# A class of another registry under the name the declared classes use: their string
# annotations mean their own registry's Shelf.
Shelf = future.Shelf

TO_ONE = ['"Shelf | None"', '"None | Shelf"', '"Optional[Shelf]"', '"Union[Shelf, None]"']
TO_MANY = [('"list[Book]"', list), ('"List[Book]"', list), ('"set[Book]"', set)]


def _models(to_one: str, to_many: str) -> dict[str, Any]:
    """Declare Shelf and Book with the given annotations (as source text: the string form is
    what is under test), Shelf first so that ``Book`` is not defined when Shelf is scanned."""
    source = f"""
class Base(DeclarativeBase):
    pass

class Shelf(Base):
    __tablename__ = "shelf"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped["str | None"] = mapped_column(String(20))
    books: Mapped[{to_many}] = relationship(back_populates="shelf")

class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    pages: Mapped["None | int"]
    title: Mapped["str"] = mapped_column(String(20))
    shelf_id: Mapped["int | None"] = mapped_column(ForeignKey("shelf.id"))
    shelf: Mapped[{to_one}] = relationship(back_populates="books")
"""
    namespace: dict[str, Any] = {
        "DeclarativeBase": DeclarativeBase,
        "Mapped": Mapped,
        "mapped_column": mapped_column,
        "relationship": relationship,
        "ForeignKey": ForeignKey,
        "String": String,
        "__name__": __name__,
    }
    exec(source, namespace)
    return namespace


@pytest.mark.parametrize(
    ("to_one", "to_many"), list(zip(TO_ONE, [*TO_MANY, TO_MANY[0]], strict=True))
)
def test_string_annotations_map_and_round_trip(backend: Any, to_one: str, to_many: Any) -> None:
    models = _models(to_one, to_many[0])
    Shelf, Book = models["Shelf"], models["Book"]
    assert inspect(Book).relationships["shelf"].mapper.class_ is Shelf is not future.Shelf
    assert inspect(Book).relationships["shelf"].uselist is False
    books = inspect(Shelf).relationships["books"]
    assert books.uselist is True and books.collection_class is to_many[1]
    book_table = Book.__table__
    assert book_table.c.shelf_id.nullable and book_table.c.pages.nullable
    assert not book_table.c.title.nullable and Shelf.__table__.c.label.nullable
    engine = create_engine(backend.url)
    models["Base"].metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Book(title="loose", shelf=None))
        session.add(Shelf(label="top", books=to_many[1]([Book(title="a"), Book(title="b")])))
        session.commit()
    with Session(engine) as session:
        shelf = session.scalars(select(Shelf).options(selectinload(Shelf.books))).one()
        assert isinstance(shelf.books, to_many[1])
        assert sorted(b.title for b in shelf.books) == ["a", "b"]
        loose = session.scalars(select(Book).where(Book.title == "loose")).one()
        assert loose.shelf is None and loose.pages is None
        assert session.scalars(select(Book).where(Book.title == "a")).one().shelf is shelf
    engine.dispose()


def test_postponed_annotations_map_and_round_trip(backend: Any) -> None:
    assert inspect(future.Book).relationships["shelf"].uselist is False
    assert inspect(future.Book).relationships["quoted"].uselist is False
    assert inspect(future.Book).relationships["wrapped"].mapper.class_ is future.Shelf
    assert inspect(future.Shelf).relationships["books"].collection_class is list
    assert inspect(future.Shelf).relationships["tagged"].collection_class is set
    assert future.Book.__table__.c.shelf_id.nullable
    engine = create_engine(backend.url)
    future.FutureBase.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(future.Shelf(label="top", books=[future.Book()]))
        session.commit()
    with Session(engine) as session:
        book = session.scalars(select(future.Book)).one()
        assert book.shelf is book.quoted is book.wrapped is not None
        assert book.shelf.tagged == {book}
    engine.dispose()


def test_union_of_two_classes_is_refused() -> None:
    refused = r"union of several classes.*Mapped\[\"Other \| None\"\]"
    with pytest.raises(ArgumentError, match=refused):
        _models('"Shelf | Book"', '"list[Book]"')
