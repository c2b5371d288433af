"""Smaller public ORM names: reconstructor, synonym_for, as_declarative, declarative_mixin,
create_session, was_deleted, ORM join()/outerjoin(), merge_frozen_result, UserDefinedOption."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import ForeignKey, String, event, inspect, select
from athanor.ext import declarative as ext_declarative
from athanor.orm import (
    EXT_CONTINUE,
    EXT_SKIP,
    EXT_STOP,
    MANYTOMANY,
    MANYTOONE,
    NO_KEY,
    NO_VALUE,
    ONETOMANY,
    AppenderQuery,
    CascadeOptions,
    KeyFuncDict,
    LoaderCriteriaOption,
    Mapped,
    MappedCollection,
    Relationship,
    RelationshipProperty,
    Session,
    Synonym,
    SynonymProperty,
    UserDefinedOption,
    WriteOnlyCollection,
    add_mapped_attribute,
    as_declarative,
    create_session,
    declarative_mixin,
    join,
    mapped_as_dataclass,
    mapped_column,
    merge_frozen_result,
    merge_result,
    outerjoin,
    reconstructor,
    registry,
    relationship,
    synonym_for,
    was_deleted,
    with_loader_criteria,
)


@declarative_mixin
class Named:
    name: Mapped[str] = mapped_column(String(30))


@as_declarative()
class Base:
    pass


class Author(Named, Base):
    __tablename__ = "names_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    status_code: Mapped[str] = mapped_column(String(10), default="new")
    books: Mapped[list[Book]] = relationship(back_populates="author", order_by="Book.id")

    def __init__(self, **kw: Any) -> None:
        for key, value in kw.items():
            setattr(self, key, value)
        self.seen = ["init"]

    @reconstructor
    def _on_load(self) -> None:
        self.seen = [f"load {self.name}"]

    @synonym_for("status_code")
    @property
    def status(self) -> str:
        return f"status: {self.status_code}"


class Book(Base):
    __tablename__ = "names_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(30))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("names_authors.id"))
    author: Mapped[Author | None] = relationship(back_populates="books")


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    Base.metadata.create_all(engine)  # type: ignore[attr-defined]
    with Session(engine) as s:
        s.add_all(
            [
                Author(name="ann", books=[Book(title="a1"), Book(title="a2")]),
                Author(name="bob"),
                Book(title="orphan"),
            ]
        )
        s.commit()
        s.expunge_all()
        yield s


def test_names_match_their_counterparts() -> None:
    assert Relationship is RelationshipProperty and Synonym is SynonymProperty
    directions = (inspect(Author).relationships.books.direction, Book.author.property.direction)
    assert directions == (ONETOMANY, MANYTOONE)
    assert MANYTOMANY not in (MANYTOONE, ONETOMANY)
    assert len({EXT_CONTINUE, EXT_STOP, EXT_SKIP, NO_KEY, NO_VALUE}) == 5
    assert ext_declarative.as_declarative is as_declarative
    assert ext_declarative.synonym_for is synonym_for
    assert LoaderCriteriaOption is type(with_loader_criteria(Book, Book.title != ""))
    assert AppenderQuery.__name__ == "AppenderQuery" and WriteOnlyCollection is not None
    assert Base.metadata is Base.registry.metadata  # type: ignore[attr-defined]


def test_reconstructor_runs_on_load_not_init(session: Session) -> None:
    made = Author(name="cy")
    assert made.seen == ["init"]
    loaded = session.scalars(select(Author).where(Author.name == "ann")).one()
    assert loaded.seen == ["load ann"]
    loaded.seen.append("kept")
    # The object is already in the identity map: not loaded again.
    assert session.get(Author, loaded.id).seen == ["load ann", "kept"]  # type: ignore[union-attr]


def test_synonym_for_reads_through_the_property(session: Session) -> None:
    ann = session.scalars(select(Author).where(Author.status == "new")).first()
    assert ann is not None and ann.status == "status: new"
    with pytest.raises(AttributeError):
        ann.status = "x"  # type: ignore[misc]


def test_create_session_defaults(engine: Any) -> None:
    session = create_session(engine)
    assert (session.autoflush, session.expire_on_commit) == (False, False)
    assert create_session(engine, autoflush=True).autoflush is True
    session.close()


def test_was_deleted(session: Session) -> None:
    bob = session.scalars(select(Author).where(Author.name == "bob")).one()
    assert not was_deleted(bob)
    session.delete(bob)
    session.flush()
    assert was_deleted(bob)


def test_orm_join_follows_relationships(session: Session) -> None:
    inner = select(Author.name, Book.title).select_from(join(Author, Book, Author.books))
    assert sorted(session.execute(inner).all()) == [("ann", "a1"), ("ann", "a2")]
    outer = (
        select(Book.title, Author.name)
        .select_from(outerjoin(Book, Author, Book.author))
        .order_by(Book.id)
    )
    assert session.execute(outer).all() == [("a1", "ann"), ("a2", "ann"), ("orphan", None)]
    plain = select(Author.name).select_from(join(Author, Book)).where(Book.title == "a2")
    assert session.scalars(plain).all() == ["ann"]


def test_merge_frozen_result(engine: Any, session: Session) -> None:
    statement = select(Author).order_by(Author.id)
    frozen = session.execute(statement).freeze()
    with Session(engine) as other:
        merged = merge_frozen_result(other, statement, frozen)
        authors = merged().scalars().all()
        assert [a.name for a in authors] == ["ann", "bob"]
        assert all(a in other for a in authors)
        assert other.get(Author, authors[0].id) is authors[0]
    with Session(engine) as other:
        found = merge_result(other.query(Author), session.scalars(statement).all())
        assert [a.name for a in found] == ["ann", "bob"] and found[0] in other


def test_user_defined_option_reaches_listeners(session: Session) -> None:
    seen: list[Any] = []

    @event.listens_for(session, "do_orm_execute")
    def capture(state: Any) -> None:
        seen.extend(o.payload for o in state.user_defined_options)

    titles = session.scalars(
        select(Book.title).options(UserDefinedOption({"cache": "books"})).order_by(Book.id)
    ).all()
    assert titles == ["a1", "a2", "orphan"] and seen == [{"cache": "books"}]


def test_add_mapped_attribute(session: Session) -> None:
    add_mapped_attribute(Book, "title_alias", Synonym("title"))
    assert session.scalars(select(Book.title_alias).order_by(Book.id)).first() == "a1"  # type: ignore[attr-defined]


def test_mapped_as_dataclass_function() -> None:
    reg = registry()

    @mapped_as_dataclass(reg, kw_only=True)
    class Tag:
        __tablename__ = "names_tags"

        id: Mapped[int] = mapped_column(primary_key=True, init=False)
        label: Mapped[str] = mapped_column(String(20), default="none")

    assert repr(Tag(label="x")).endswith("Tag(id=None, label='x')")
    assert MappedCollection is KeyFuncDict and isinstance(CascadeOptions("all"), frozenset)
