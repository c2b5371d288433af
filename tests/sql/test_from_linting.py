"""FROM linting: a statement whose FROM elements no join or WHERE comparison connects (a
cartesian product) warns when an engine compiles it to run, once per compiled shape, unless
the engine was created with ``enable_from_linting=False``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    create_engine,
    delete,
    engine_from_config,
    exists,
    func,
    select,
    true,
    update,
)
from athanor.exc import SAWarning
from athanor.orm import DeclarativeBase, Mapped, Session, aliased, mapped_column, relationship

metadata = MetaData()
shelves = Table(
    "fl_shelves",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("size", Integer),
)
books = Table(
    "fl_books",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shelf_id", Integer, ForeignKey("fl_shelves.id")),
    Column("pages", Integer),
)
notes = Table(
    "fl_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer),
)


def _product_warning(between: str, first: str, kind: str = "SELECT") -> str:
    return (
        f"{kind} statement has a cartesian product between FROM element(s) {between} and "
        f'FROM element "{first}".  Apply join condition(s) between each element to resolve.'
    )


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(shelves.insert(), [{"id": 1, "size": 3}, {"id": 2, "size": 5}])
        conn.execute(books.insert(), [{"id": 1, "shelf_id": 1, "pages": 10}])
    yield eng
    eng.dispose()


def _run(engine: Any, statement: Any) -> list[str]:
    """The messages of the warnings running ``statement`` gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with engine.begin() as conn:
            conn.execute(statement)
    return [str(w.message) for w in caught if issubclass(w.category, SAWarning)]


def test_two_unconnected_tables_warn_once_per_compiled_shape(engine: Any) -> None:
    stmt = select(shelves.c.id, books.c.id)
    assert _run(engine, stmt) == [_product_warning('"fl_books"', "fl_shelves")]
    with engine.connect() as conn:
        assert len(conn.execute(stmt).all()) == 2  # the product it warned of: 2 x 1 rows
    # The compiled statement is cached: running the same shape again warns no more.
    assert _run(engine, select(shelves.c.id, books.c.id)) == []


def test_the_elements_no_condition_reaches_are_named(engine: Any) -> None:
    stmt = select(shelves.c.id, books.c.id, notes.c.id).where(shelves.c.id == books.c.shelf_id)
    assert _run(engine, stmt) == [_product_warning('"fl_notes"', "fl_shelves")]
    stmt = select(shelves.c.id, books.c.id, notes.c.id)
    assert _run(engine, stmt) == [_product_warning('"fl_books", "fl_notes"', "fl_shelves")]


@pytest.mark.parametrize(
    "criterion",
    [
        books.c.shelf_id == shelves.c.id,
        func.abs(shelves.c.id) == books.c.shelf_id,
        shelves.c.id.in_([books.c.shelf_id]),
        (shelves.c.id == books.c.shelf_id) | (shelves.c.size > 4),
    ],
    ids=["equal", "function", "in", "or"],
)
def test_a_where_comparison_between_the_tables_connects_them(engine: Any, criterion: Any) -> None:
    assert _run(engine, select(shelves.c.id, books.c.id).where(criterion)) == []


@pytest.mark.parametrize(
    "criterion",
    [
        (shelves.c.size == 3) & (books.c.pages == 10),
        shelves.c.id + books.c.id > 0,
        true(),
    ],
    ids=["each-its-own", "arithmetic", "true"],
)
def test_criteria_not_comparing_the_tables_leave_a_product(engine: Any, criterion: Any) -> None:
    messages = _run(engine, select(shelves.c.id, books.c.id).where(criterion))
    assert messages == [_product_warning('"fl_books"', "fl_shelves")]


def test_only_where_and_on_clauses_connect(engine: Any) -> None:
    compared = shelves.c.id == books.c.shelf_id
    stmt = select(shelves.c.id, compared.label("same")).add_columns(books.c.id)
    assert _run(engine, stmt) == [_product_warning('"fl_books"', "fl_shelves")]
    stmt = (
        select(shelves.c.id, books.c.id)
        .group_by(shelves.c.id, books.c.id, books.c.shelf_id)
        .having(compared)
        .order_by(compared)
    )
    assert _run(engine, stmt) == [_product_warning('"fl_books"', "fl_shelves")]


def test_a_join_connects_its_sides(engine: Any) -> None:
    joined = shelves.join(books, true())
    assert _run(engine, select(shelves.c.id, books.c.id).select_from(joined)) == []
    stmt = select(shelves.c.id, notes.c.id).select_from(shelves.join(books), notes)
    assert _run(engine, stmt) == [_product_warning('"fl_notes"', "fl_shelves")]


@pytest.mark.backends("sqlite")  # the others refuse an ON clause reading outside its join
def test_an_on_clause_connects_what_it_compares(engine: Any) -> None:
    on_notes = shelves.join(books, books.c.id == notes.c.book_id)
    assert _run(engine, select(shelves.c.id).select_from(on_notes, notes)) == []


def test_aliases_and_subqueries_are_elements_of_their_own(engine: Any) -> None:
    other = shelves.alias("other")
    assert _run(engine, select(shelves.c.id, other.c.id)) == [
        _product_warning('"other"', "fl_shelves")
    ]
    assert _run(engine, select(shelves.c.id, other.c.id).where(other.c.id == shelves.c.id)) == []
    sub = select(books.c.shelf_id).subquery("sub")
    assert _run(engine, select(shelves.c.id, sub.c.shelf_id)) == [
        _product_warning('"sub"', "fl_shelves")
    ]
    assert _run(engine, select(shelves.c.id).where(shelves.c.id == sub.c.shelf_id)) == []


def test_nested_selects_are_linted_apart(engine: Any) -> None:
    # The correlated comparison inside EXISTS is the subquery's: the outer two stay apart.
    inner = exists().where(books.c.shelf_id == shelves.c.id, notes.c.book_id == books.c.id)
    assert _run(engine, select(shelves.c.id).where(inner)) == []
    outer = select(shelves.c.id, notes.c.id).where(exists().where(books.c.shelf_id == shelves.c.id))
    assert _run(engine, outer) == [_product_warning('"fl_notes"', "fl_shelves")]
    unconnected = exists().where(books.c.shelf_id == shelves.c.id, notes.c.id > 0)
    assert _run(engine, select(shelves.c.id).where(unconnected)) == [
        _product_warning('"fl_notes"', "fl_books")
    ]


@pytest.mark.backends("postgresql")
def test_a_lateral_element_is_joined_to_what_it_correlates_to(engine: Any) -> None:
    correlated = select(books.c.id).where(books.c.shelf_id == shelves.c.id).lateral("per")
    assert _run(engine, select(shelves.c.id, correlated.c.id)) == []
    alone = select(books.c.id).lateral("per")
    assert _run(engine, select(shelves.c.id, alone.c.id)) == [
        _product_warning('"per"', "fl_shelves")
    ]
    # A table-valued function: joined by LATERAL to what its arguments read, not otherwise.
    series = func.generate_series(1, shelves.c.size).table_valued("value")
    assert _run(engine, select(shelves.c.id, series.lateral("n").render_derived().c.value)) == []
    assert _run(engine, select(shelves.c.id, series.alias("n").render_derived().c.value)) == [
        _product_warning('"n"', "fl_shelves")
    ]


@pytest.mark.backends("sqlite", "postgresql")
def test_update_and_delete_reading_other_tables_are_linted(engine: Any) -> None:
    stmt = update(shelves).values(size=1).where(books.c.pages == notes.c.id)
    assert _run(engine, stmt) == [
        _product_warning('"fl_books", "fl_notes"', "fl_shelves", kind="UPDATE")
    ]
    stmt = update(shelves).values(size=1).where(shelves.c.id == books.c.shelf_id)
    assert _run(engine, stmt) == []


@pytest.mark.backends("postgresql", "mysql")
def test_delete_reading_other_tables_is_linted(engine: Any) -> None:
    stmt = delete(notes).where(notes.c.book_id == books.c.id, shelves.c.id > 5)
    assert _run(engine, stmt) == [_product_warning('"fl_shelves"', "fl_notes", kind="DELETE")]


def test_disabled_by_the_engine_and_never_when_only_compiled(backend: Any) -> None:
    quiet = create_engine(backend.url, enable_from_linting=False)
    metadata.create_all(quiet)
    stmt = select(shelves.c.id, books.c.id)
    assert _run(quiet, stmt) == []
    quiet.dispose()
    configured = engine_from_config(
        {"db.url": backend.url, "db.enable_from_linting": "false"}, "db."
    )
    assert _run(configured, stmt) == []
    configured.dispose()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "fl_books" in str(stmt)
        assert "fl_books" in str(stmt.compile(create_engine(backend.url)))


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "fl_orm_shelves"

    id: Mapped[int] = mapped_column(primary_key=True)
    books: Mapped[list[Book]] = relationship()


class Book(Base):
    __tablename__ = "fl_orm_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("fl_orm_shelves.id"))


def test_orm_queries(backend: Any) -> None:
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    with Session(eng) as session:
        session.add(Shelf(id=1, books=[Book(id=1)]))
        session.commit()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert session.execute(select(Shelf, Book).join(Shelf.books)).all()
            assert session.execute(select(Shelf).where(Shelf.books.any())).all()
            other = aliased(Book)
            assert session.execute(
                select(Book, other).where(Book.id == other.id).order_by(Book.id)
            ).all()
            assert session.execute(select(Shelf.id, Book.id)).all()
        messages = [str(w.message) for w in caught if issubclass(w.category, SAWarning)]
        assert messages == [_product_warning('"fl_orm_books"', "fl_orm_shelves")]
    eng.dispose()
