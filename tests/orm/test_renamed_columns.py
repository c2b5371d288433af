"""Attributes whose column has another name (``mapped_column("acct_name")``): the table keys
its columns by their names, the mapper by attribute; DML, flush, loading, relationships and
autogenerate work through both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import ForeignKey, String, delete, insert, inspect, select, update
from athanor.migrate.autogenerate import compare_metadata
from athanor.migrate.autogenerate.ops import DropTableOp
from athanor.migrate.runtime import MigrationContext
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)
from orm.orm_models import Base, StatementLog


class RenamedBase(DeclarativeBase):
    pass


class Account(RenamedBase):
    __tablename__ = "renamed_accounts"

    id: Mapped[int] = mapped_column("acct_id", primary_key=True)
    name: Mapped[str] = mapped_column("acct_name", String(40))
    balance: Mapped[int] = mapped_column("acct_balance", default=0)


@pytest.fixture
def accounts(engine: Any) -> Iterator[Session]:
    RenamedBase.metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(
            insert(Account),
            [{"id": 1, "name": "ann", "balance": 10}, {"id": 2, "name": "bob", "balance": 20}],
        )
        session.execute(insert(Account).values(id=3, name="cy"))
        session.execute(insert(Account).values(acct_id=4, acct_name="dee", acct_balance=5))
        session.commit()
        yield session


def _table(session: Session) -> list[tuple[Any, ...]]:
    table = Account.__table__
    rows = session.execute(select(table).order_by(table.c.acct_id)).all()
    return [tuple(r) for r in rows]


def test_insert_takes_attribute_names_and_column_names(accounts: Session) -> None:
    assert _table(accounts) == [(1, "ann", 10), (2, "bob", 20), (3, "cy", 0), (4, "dee", 5)]
    made = accounts.scalars(
        insert(Account).returning(Account), [{"id": 5, "name": "eve", "balance": 1}]
    ).one()
    assert (made.id, made.name, made.balance) == (5, "eve", 1)
    assert accounts.get(Account, 5) is made


@pytest.mark.parametrize("mode", ["evaluate", "fetch", "auto"])
def test_update_keeps_loaded_objects_in_step(accounts: Session, mode: str) -> None:
    ann, bob = accounts.scalars(select(Account).order_by(Account.id)).all()[:2]
    accounts.execute(
        update(Account).where(Account.name == "ann").values(name="ANN", balance=11),
        execution_options={"synchronize_session": mode},
    )
    accounts.execute(
        update(Account).where(Account.balance > 15).values({"acct_balance": 21}),
        execution_options={"synchronize_session": mode},
    )
    assert (ann.name, ann.balance, bob.balance) == ("ANN", 11, 21)
    assert _table(accounts)[:2] == [(1, "ANN", 11), (2, "bob", 21)]


def test_bulk_update_by_key_and_delete(accounts: Session, sql_log: StatementLog) -> None:
    cy = accounts.get(Account, 3)
    assert cy is not None
    sql_log.clear()
    accounts.execute(update(Account), [{"id": 3, "name": "CY"}, {"id": 4, "name": "DEE"}])
    assert len(sql_log.statements) == 1, "one executemany"
    assert cy.name == "CY"
    accounts.execute(
        delete(Account).where(Account.name == "CY"),
        execution_options={"synchronize_session": "evaluate"},
    )
    assert cy not in accounts
    assert [r[1] for r in _table(accounts)] == ["ann", "bob", "DEE"]


class Shelf(RenamedBase):
    __tablename__ = "renamed_shelves"

    id: Mapped[int] = mapped_column("shelf_id", primary_key=True)
    label: Mapped[str] = mapped_column("shelf_label", String(30))
    version: Mapped[int] = mapped_column("shelf_version", default=1)
    books: Mapped[list[Book]] = relationship(back_populates="shelf", order_by="Book.id")

    __mapper_args__ = {"version_id_col": version}


class Book(RenamedBase):
    __tablename__ = "renamed_books"

    id: Mapped[int] = mapped_column("book_id", primary_key=True)
    shelf_id: Mapped[int] = mapped_column("owner", ForeignKey("renamed_shelves.shelf_id"))
    title: Mapped[str | None] = mapped_column("book_title", String(30), index=True)
    shelf: Mapped[Shelf] = relationship(back_populates="books")


def test_table_keys_columns_by_name_and_mapper_by_attribute() -> None:
    table = Book.__table__
    assert table.c.keys() == ["book_id", "owner", "book_title"]
    assert [fk.target_fullname for fk in table.c.owner.foreign_keys] == ["renamed_shelves.shelf_id"]
    mapper = inspect(Book)
    assert mapper.columns.keys() == ["id", "shelf_id", "title"]
    assert mapper.c.keys() == ["id", "shelf_id", "title"]
    assert mapper.columns["title"] is table.c.book_title
    assert mapper.get_property_by_column(table.c.book_title) is mapper.attrs["title"]
    assert list(mapper.primary_key) == [table.c.book_id]
    assert inspect(Shelf).version_id_col is Shelf.__table__.c.shelf_version
    assert Book.title.expression is table.c.book_title
    assert [c.name for index in table.indexes for c in index.columns] == ["book_title"]


@pytest.fixture
def shelves(engine: Any) -> Iterator[Session]:
    RenamedBase.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Shelf(id=1, label="top", books=[Book(id=1, title="a"), Book(id=2, title="b")]))
        session.commit()
        yield session


def test_flush_and_loads_through_renamed_columns(shelves: Session) -> None:
    shelf = shelves.get(Shelf, 1)
    assert shelf is not None
    shelf.label = "upper"
    shelves.commit()
    assert shelf.version == 2
    table = Shelf.__table__
    assert shelves.execute(select(table)).all() == [(1, "upper", 2)]
    book = shelves.get(Book, 2)
    shelves.delete(book)
    shelves.commit()
    shelves.expunge_all()
    for option in (selectinload(Shelf.books), joinedload(Shelf.books)):
        loaded = shelves.scalars(select(Shelf).options(option)).unique().one()
        assert [b.title for b in loaded.books] == ["a"]
        shelves.expunge_all()
    first = shelves.get(Book, 1)
    assert first is not None
    assert (first.shelf.label, first.shelf_id) == ("upper", 1)
    first.shelf.books.append(Book(id=3, title="c"))
    shelves.flush()
    assert shelves.scalars(select(Book.shelf_id).where(Book.id == 3)).one() == 1


def test_selected_attributes_are_named_as_attributes(shelves: Session) -> None:
    rows = shelves.execute(select(Book.id, Book.title).order_by(Book.id))
    assert list(rows.keys()) == ["id", "title"]
    assert [r._asdict() for r in rows] == [{"id": 1, "title": "a"}, {"id": 2, "title": "b"}]
    assert select(Book.id, Book.title).subquery().c.keys() == ["id", "title"]
    joined = shelves.execute(select(Book.title, Shelf.label).join(Book.shelf).order_by(Book.id))
    assert list(joined.keys()) == ["title", "label"]
    assert joined.first() == ("a", "top")


def test_dml_by_attribute_name(shelves: Session, backend: Any) -> None:
    book = shelves.get(Book, 1)
    assert book is not None
    shelves.execute(update(Book).filter_by(title="a").values(title="z"))
    assert book.title == "z"
    shelves.execute(delete(Book).filter_by(title="b"))
    assert shelves.scalars(select(Book.id)).all() == [1]
    if backend.name != "mysql":
        made = shelves.execute(
            insert(Book).returning(Book.id, Book.title), [{"id": 4, "shelf_id": 1, "title": "d"}]
        )
        assert list(made.keys()) == ["id", "title"]
        assert made.one() == (4, "d")


def test_autogenerate_sees_no_change(shelves: Session) -> None:
    with shelves.connection() as conn:
        context = MigrationContext.configure(connection=conn)
        ops = compare_metadata(context, RenamedBase.metadata)
    # The engine's database also holds the shared models' tables, which these models drop.
    mine = [op for op in ops if not isinstance(op, DropTableOp)]
    assert mine == []
    assert {op.table.name for op in ops} == set(Base.metadata.tables)


class Worker(RenamedBase):
    __tablename__ = "renamed_workers"

    id: Mapped[int] = mapped_column("worker_id", primary_key=True)
    kind: Mapped[str] = mapped_column("worker_kind", String(10))

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "worker"}


class Welder(Worker):
    start: Mapped[int | None] = mapped_column("start_day", use_existing_column=True)

    __mapper_args__ = {"polymorphic_identity": "welder"}


class Painter(Worker):
    start: Mapped[int | None] = mapped_column("start_day", use_existing_column=True)

    __mapper_args__ = {"polymorphic_identity": "painter"}


def test_single_table_subclasses_share_a_renamed_column(engine: Any) -> None:
    table = Worker.__table__
    assert table.c.keys() == ["worker_id", "worker_kind", "start_day"]
    assert inspect(Welder).columns["start"] is inspect(Painter).columns["start"]
    assert inspect(Painter).columns["start"] is table.c.start_day
    RenamedBase.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Welder(id=1, start=3), Painter(id=2, start=4)])
        session.commit()
        session.expunge_all()
        found = session.scalars(select(Worker).order_by(Worker.id)).all()
        assert [(type(w), w.start) for w in found] == [(Welder, 3), (Painter, 4)]  # type: ignore[attr-defined]
