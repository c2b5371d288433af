"""Mapping options on every database: onupdate, sort_order, string secondaryjoin,
lazy="raise_on_sql", pydantic ``from_attributes`` and ``MappedAsDataclass`` field options."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import BaseModel, ConfigDict

from athanor import (
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    create_engine,
    func,
    inspect,
    select,
    text,
)
from athanor.exc import InvalidRequestError
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    MappedAsDataclass,
    Session,
    mapped_column,
    orm_insert_sentinel,
    relationship,
)


class Base(DeclarativeBase):
    pass


class Stamp:
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-10)
    revision: Mapped[int] = mapped_column(default=1, sort_order=10)


class Doc(Stamp, Base):
    __tablename__ = "mo_docs"

    title: Mapped[str] = mapped_column(String(30))
    touched: Mapped[int] = mapped_column(default=0, onupdate=lambda: 7)
    shout: Mapped[str | None] = mapped_column(String(20), onupdate=func.lower("CHANGED"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("mo_owners.id"))
    owner: Mapped[Owner | None] = relationship(lazy="raise_on_sql")


class Owner(Base):
    __tablename__ = "mo_owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    docs: Mapped[list[Doc]] = relationship(lazy="raise_on_sql", viewonly=True)


links = Table(
    "mo_links",
    Base.metadata,
    Column("source_id", ForeignKey("mo_nodes.id"), primary_key=True),
    Column("target_id", ForeignKey("mo_nodes.id"), primary_key=True),
)


class Node(Base):
    __tablename__ = "mo_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    targets: Mapped[list[Node]] = relationship(
        secondary="mo_links",
        primaryjoin="Node.id == mo_links.c.source_id",
        secondaryjoin="Node.id == mo_links.c.target_id",
        order_by="Node.label",
        backref="sources",
    )


class Ticket(Base):
    """A table with an insert sentinel column the ORM does not map."""

    __tablename__ = "mo_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(20))
    _sentinel: Mapped[int] = orm_insert_sentinel()


@pytest.fixture
def engine(backend):
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


def test_onupdate_python_and_sql(engine) -> None:
    with Session(engine) as session:
        doc = Doc(title="a")
        session.add(doc)
        session.commit()
        assert (doc.touched, doc.shout, doc.revision) == (0, None, 1)  # not on INSERT
        doc.title = "b"
        session.commit()
        assert doc.touched == 7 and doc.shout == "changed"
        doc.title = "c"
        doc.touched = 3  # an explicit value wins over onupdate
        session.flush()
        assert doc.touched == 3
        session.commit()
    with engine.connect() as conn:
        row = conn.execute(text("SELECT title, touched, shout FROM mo_docs")).one()
    assert tuple(row) == ("c", 3, "changed")


def test_sort_order_places_mixin_columns(engine) -> None:
    names = [c.name for c in Doc.__table__.columns]
    assert names[0] == "id" and names[-1] == "revision"
    with engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM mo_docs"))
        assert list(result.keys()) == names


def test_string_secondaryjoin_self_referential(engine) -> None:
    with Session(engine) as session:
        a, b, c = Node(label="a"), Node(label="b"), Node(label="c")
        a.targets = [c, b]
        session.add(a)
        session.commit()
        assert [n.label for n in a.targets] == ["b", "c"]
        assert [n.label for n in b.sources] == ["a"] and c.targets == []
    with Session(engine) as session:
        a = session.scalars(select(Node).where(Node.label == "a")).one()
        assert [n.label for n in a.targets] == ["b", "c"]


def test_raise_on_sql_raises_only_when_sql_is_needed(engine) -> None:
    with Session(engine) as session:
        owner = Owner(name="o")
        session.add_all([owner, Doc(title="d", owner=owner)])
        session.commit()
        owner_id = owner.id
    with Session(engine) as session:
        owner = session.get(Owner, owner_id)
        doc = session.scalars(select(Doc)).one()
        assert doc.owner is owner  # identity-map hit: no SQL, no error
        with pytest.raises(InvalidRequestError, match="raise_on_sql"):
            _ = owner.docs
    with Session(engine) as session:
        doc = session.scalars(select(Doc)).one()
        with pytest.raises(InvalidRequestError, match="raise_on_sql"):
            _ = doc.owner
        assert Doc(title="new").owner is None  # transient: nothing to load


class DocOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    touched: int


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


def test_pydantic_reads_mapped_objects(engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        doc = Doc(title="p")
        session.add(doc)
        session.commit()
        out = DocOut.model_validate(doc)
        owner = Owner(name="n")
        session.add(owner)
        session.commit()
        assert OwnerOut.model_validate(owner).model_dump() == {"id": owner.id, "name": "n"}
    assert out == DocOut(id=doc.id, title="p", touched=0)
    assert DocOut.model_validate(doc).title == "p"  # detached, attributes still loaded


def test_mapped_as_dataclass_field_options(backend) -> None:
    class DBase(MappedAsDataclass, DeclarativeBase):
        pass

    class Shelf(DBase):
        __tablename__ = "mo_shelves"

        id: Mapped[int] = mapped_column(init=False, primary_key=True)
        name: Mapped[str] = mapped_column(String(20))
        books: Mapped[list[Book]] = relationship(
            default_factory=list, back_populates="shelf", repr=False
        )
        note: Mapped[str] = mapped_column(String(20), default="", compare=False)
        secret: Mapped[str] = mapped_column(String(20), default="x", repr=False)
        size: Mapped[int] = mapped_column(Integer, default=3, kw_only=True)

    class Book(DBase):
        __tablename__ = "mo_books"

        id: Mapped[int] = mapped_column(init=False, primary_key=True)
        title: Mapped[str] = mapped_column(String(20))
        shelf_id: Mapped[int | None] = mapped_column(
            ForeignKey("mo_shelves.id"), init=False, default=None
        )
        shelf: Mapped[Shelf | None] = relationship(default=None, back_populates="books")

    fields = {f.name: f for f in dataclasses.fields(Shelf)}
    assert fields["size"].kw_only and not fields["id"].init
    with pytest.raises(TypeError):
        Shelf("s", [], "n", "x", 5)  # size is keyword-only
    shelf = Shelf("s", size=5)
    assert shelf.books == [] and shelf.note == "" and shelf.size == 5
    assert repr(shelf).endswith("Shelf(id=None, name='s', note='', size=5)")
    assert Shelf("s", note="a") == Shelf("s", note="b")  # note is not compared
    assert Shelf("s") != Shelf("t")
    book = Book("b", shelf=shelf)
    assert shelf.books == [book]
    engine = create_engine(backend.url)
    DBase.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            session.add(shelf)
            session.commit()
            assert shelf.id is not None and book.shelf_id == shelf.id
        with Session(engine) as session:
            loaded = session.scalars(select(Shelf)).one()
            assert (loaded.name, loaded.size, loaded.secret) == ("s", 5, "x")
            assert [b.title for b in loaded.books] == ["b"]
    finally:
        engine.dispose()


def test_orm_insert_sentinel_is_in_the_table_but_not_mapped(engine) -> None:
    column = Ticket.__table__.c._sentinel
    assert column._insert_sentinel and column.nullable and isinstance(column.type, Integer)
    assert "_sentinel" not in list(inspect(Ticket).attrs.keys())
    with Session(engine) as session:
        session.add_all([Ticket(title="a"), Ticket(title="b")])
        session.commit()
        session.expunge_all()
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert [t.title for t in tickets] == ["a", "b"]
        assert "_sentinel" not in tickets[0].__dict__
        stored = session.execute(select(Ticket.__table__.c._sentinel)).scalars().all()
        assert stored == [None, None]
