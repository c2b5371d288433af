"""Attributes assigned to a declarative class after it was created are mapped (and unmapped)."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import ForeignKey, String, create_engine, exc, func, select
from athanor.orm import (
    DeclarativeBase,
    DeclarativeBaseNoMeta,
    Mapped,
    MappedAsDataclass,
    Session,
    column_property,
    declarative_base,
    mapped_column,
    relationship,
    selectinload,
)
from athanor.orm import exc as orm_exc


def _models(base: Any) -> tuple[Any, Any]:
    class Author(base):  # type: ignore[valid-type,misc]
        __tablename__ = "late_authors"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column("author_name", String(30))

    class Book(base):  # type: ignore[valid-type,misc]
        __tablename__ = "late_books"
        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int] = mapped_column(ForeignKey("late_authors.id"))
        title: Mapped[str] = mapped_column(String(30))

    return Author, Book


@pytest.mark.parametrize("kind", ["DeclarativeBase", "declarative_base"])
def test_columns_and_relationships_assigned_later_are_mapped(backend: Any, kind: str) -> None:
    if kind == "DeclarativeBase":

        class Base(DeclarativeBase):
            pass

    else:
        Base = declarative_base()
    Author, Book = _models(Base)
    Author.country = mapped_column(String(20), default="nowhere")
    Author.books = relationship(Book, back_populates="author", order_by=Book.id)
    Book.author = relationship(Author, back_populates="books")
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Author(id=1, name="ann", books=[Book(id=1, title="x"), Book(id=2, title="y")]))
        session.add(Author(id=2, name="bob", country="here"))
        session.commit()
    Author.book_count = column_property(
        select(func.count(Book.id)).where(Book.author_id == Author.id).scalar_subquery()
    )
    with Session(engine) as session:
        authors = session.scalars(
            select(Author).options(selectinload(Author.books)).order_by(Author.id)
        ).all()
        assert [(a.country, a.book_count, [b.title for b in a.books]) for a in authors] == [
            ("nowhere", 2, ["x", "y"]),
            ("here", 0, []),
        ]
        assert authors[0].books[0].author is authors[0]
        busy = session.scalars(select(Author.name).where(Author.book_count > 1)).all()
        assert busy == ["ann"]
    engine.dispose()


def test_overwrite_and_delete(backend: Any) -> None:
    class Base(DeclarativeBase):
        pass

    Author, Book = _models(Base)
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Author(id=1, name="ann"), Book(id=1, author_id=1, title="x")])
        session.commit()
        Author.score = column_property(Author.id * 10)
        assert session.scalars(select(Author.score)).one() == 10
        Author.score = column_property(Author.id * 100)
        session.expunge_all()
        assert session.scalars(select(Author)).one().score == 100
        del Author.score
        assert not hasattr(Author, "score")
        assert "score" not in str(select(Author))
        session.expunge_all()
        assert session.get(Author, 1) is not None
        with pytest.raises(exc.InvalidRequestError, match=r"Author\.id maps a primary key"):
            del Author.id
        with pytest.raises(orm_exc.MappedAnnotationError, match=r"mapped_column\(String\(50\)\)"):
            Author.untyped = mapped_column()
        Author.plain = 5
        assert Author.plain == 5 and "plain" not in str(select(Author))
    engine.dispose()


def test_without_metaclass_assignments_stay_plain_attributes() -> None:
    class Base(DeclarativeBaseNoMeta):
        pass

    Author, _ = _models(Base)
    Author.extra = column_property(Author.id + 1)
    assert "extra" not in str(select(Author))


def test_dataclass_base_keeps_the_metaclass() -> None:
    class Base(MappedAsDataclass, DeclarativeBase):
        pass

    class Item(Base):
        __tablename__ = "late_items"
        id: Mapped[int] = mapped_column(primary_key=True, init=False)

    Item.doubled = column_property(Item.id * 2)
    assert "late_items.id * " in str(select(Item))


def test_subqueries_correlate_to_mapped_classes() -> None:
    class Base(DeclarativeBase):
        pass

    Author, Book = _models(Base)
    count = select(func.count(Book.id)).where(Book.author_id == Author.id)
    for subquery in (count.correlate(Author), count.correlate_except(Book), count):
        sql = str(select(Author, subquery.scalar_subquery()))
        inner = sql[sql.index("(SELECT") : sql.index(") AS anon")]
        assert "FROM late_books WHERE" in inner, sql
