"""``inspect(obj).expired_attributes``: the attributes expired and not loaded since, counted as
SQLAlchemy counts them (a deferred column never loaded is not expired; a refresh leaves the
relationships expired; loading an expired attribute on access leaves nothing expired)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import ForeignKey, String, create_engine, func, inspect, select, text
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "expa_shelves"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(String(20), deferred=True)
    stamp: Mapped[str | None] = mapped_column(
        String(20), server_default=text("'made'"), onupdate=func.lower("CHANGED")
    )
    books: Mapped[list[Book]] = relationship(back_populates="shelf")


class Book(Base):
    __tablename__ = "expa_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("expa_shelves.id"))
    shelf: Mapped[Shelf] = relationship(back_populates="books")


EVERY_ATTRIBUTE = {"id", "label", "notes", "stamp", "books"}


@pytest.fixture
def session(backend: Any) -> Iterator[Session]:
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Shelf(id=1, label="oak", notes="n", books=[Book(id=1)]))
        session.commit()
        session.expunge_all()
        yield session
    engine.dispose()


def _shelf(session: Session) -> Shelf:
    shelf = session.get(Shelf, 1)
    assert shelf is not None
    return shelf


def test_a_deferred_column_never_loaded_is_not_expired(session: Session) -> None:
    shelf = _shelf(session)
    state = inspect(shelf)
    assert "notes" in state.unloaded
    assert state.expired_attributes == set()
    session.expire(shelf, ["notes"])
    assert state.expired_attributes == {"notes"}
    assert shelf.notes == "n"
    assert state.expired_attributes == set()


def test_a_partial_expire_names_columns_only(session: Session) -> None:
    shelf = _shelf(session)
    state = inspect(shelf)
    assert [b.id for b in shelf.books] == [1]
    session.expire(shelf, ["label", "books"])
    assert state.expired_attributes == {"label"}
    assert "books" in state.unloaded
    assert shelf.label == "oak"
    assert state.expired_attributes == set()


def test_loading_an_expired_attribute_on_access_leaves_nothing_expired(
    session: Session,
) -> None:
    shelf = _shelf(session)
    state = inspect(shelf)
    session.expire(shelf)
    assert state.expired_attributes == EVERY_ATTRIBUTE
    assert shelf.label == "oak"
    # The relationship and the deferred column are unloaded still, but no longer expired.
    assert {"books", "notes"} <= state.unloaded
    assert state.expired_attributes == set()


def test_get_of_an_expired_object_leaves_nothing_expired(session: Session) -> None:
    shelf = _shelf(session)
    session.expire(shelf)
    assert session.get(Shelf, 1) is shelf
    assert inspect(shelf).expired_attributes == set()


def test_a_refresh_leaves_relationships_expired_until_they_load(session: Session) -> None:
    shelf = _shelf(session)
    state = inspect(shelf)
    session.expire(shelf)
    session.refresh(shelf)
    assert state.expired_attributes == {"notes", "books"}
    assert [b.id for b in shelf.books] == [1]
    assert state.expired_attributes == {"notes"}
    session.expire(shelf, ["label"])
    assert state.expired_attributes == {"notes", "label"}
    session.refresh(shelf, ["label"])
    assert state.expired_attributes == {"notes"}


def test_a_query_loading_an_expired_object_leaves_relationships_expired(
    session: Session,
) -> None:
    shelf = _shelf(session)
    state = inspect(shelf)
    session.commit()
    assert state.expired_attributes == EVERY_ATTRIBUTE
    assert session.scalars(select(Shelf)).all() == [shelf]
    assert state.expired_attributes == {"notes", "books"}
    shelf.label = "elm"
    session.flush()
    assert state.expired_attributes >= {"notes", "books"}


def test_populate_existing_loads_relationships_afresh(session: Session) -> None:
    shelf = _shelf(session)
    state = inspect(shelf)
    session.expire(shelf)
    session.refresh(shelf)
    stmt = select(Shelf).execution_options(populate_existing=True)
    assert session.scalars(stmt).all() == [shelf]
    assert state.expired_attributes == {"notes"}


def test_a_server_value_left_to_load_after_a_flush_is_expired(session: Session) -> None:
    shelf = _shelf(session)
    state = inspect(shelf)
    shelf.label = "elm"
    session.flush()
    assert state.expired_attributes == {"stamp"}
    assert shelf.stamp == "changed"
    assert state.expired_attributes == set()
