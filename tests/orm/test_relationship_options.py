"""Relationship and mapping options: backref, post_update, passive_deletes, sets, binds."""

from __future__ import annotations

import pytest

from athanor import (
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    backref,
    deferred,
    mapped_column,
    registry,
    relationship,
    sessionmaker,
)


@pytest.fixture
def make_engine(backend):
    engines = []

    def make(metadata):
        eng = create_engine(backend.url)
        metadata.create_all(eng)
        engines.append(eng)
        return eng

    yield make
    for eng in engines:
        eng.dispose()


def test_backref_string_primaryjoin_and_set_collection(make_engine) -> None:
    class Base(DeclarativeBase):
        type_annotation_map = {str: String(40)}

    class Author(Base):
        __tablename__ = "authors"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        books = relationship(
            "Book",
            primaryjoin="Author.id == Book.author_id",
            backref=backref("author"),
            collection_class=set,
            order_by="Book.title",
        )

    class Book(Base):
        __tablename__ = "books"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str]
        author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"))
        notes: Mapped[str | None] = deferred(Column(String(200)))

    engine = make_engine(Base.metadata)
    assert Author.__table__.c.name.type.length == 40
    with Session(engine) as session:
        author = Author(name="le guin")
        book = Book(title="lathe", notes="long text")
        book.author = author
        assert author.books == {book}
        session.add(author)
        session.commit()
        assert book.author_id == author.id
    with Session(engine) as session:
        loaded = session.scalars(select(Book)).one()
        assert "notes" not in loaded.__dict__
        assert loaded.notes == "long text"
        assert {b.title for b in loaded.author.books} == {"lathe"}


def test_post_update_breaks_a_cycle(make_engine) -> None:
    class Base(DeclarativeBase):
        pass

    class Person(Base):
        __tablename__ = "persons"
        id: Mapped[int] = mapped_column(primary_key=True)
        favorite_id: Mapped[int | None] = mapped_column(
            ForeignKey("widgets.id", use_alter=True, name="fk_favorite")
        )
        widgets: Mapped[list[Widget]] = relationship(
            primaryjoin="Person.id == Widget.owner_id", back_populates="owner"
        )
        favorite: Mapped[Widget | None] = relationship(
            primaryjoin="Person.favorite_id == Widget.id", post_update=True
        )

    class Widget(Base):
        __tablename__ = "widgets"
        id: Mapped[int] = mapped_column(primary_key=True)
        owner_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
        owner: Mapped[Person | None] = relationship(
            primaryjoin="Person.id == Widget.owner_id", back_populates="widgets"
        )

    engine = make_engine(Base.metadata)
    with Session(engine) as session:
        person = Person()
        widget = Widget()
        person.widgets.append(widget)
        person.favorite = widget
        session.add(person)
        session.commit()
        assert person.favorite_id == widget.id and widget.owner_id == person.id
    with engine.connect() as conn:
        assert conn.execute(text("SELECT favorite_id FROM persons")).scalar() is not None


def test_passive_deletes_leaves_children_to_the_database(make_engine) -> None:
    class Base(DeclarativeBase):
        pass

    class Box(Base):
        __tablename__ = "boxes"
        id: Mapped[int] = mapped_column(primary_key=True)
        items: Mapped[list[Item]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    class Item(Base):
        __tablename__ = "box_items"
        id: Mapped[int] = mapped_column(primary_key=True)
        box_id: Mapped[int] = mapped_column(ForeignKey("boxes.id", ondelete="CASCADE"))

    engine = make_engine(Base.metadata)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda c, r: c.execute("PRAGMA foreign_keys=ON"))
        engine.dispose()
    with Session(engine) as session:
        session.add(Box(items=[Item(), Item()]))
        session.commit()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda c, cur, s, *a: statements.append(s))
    with Session(engine) as session:
        session.delete(session.scalars(select(Box)).one())
        session.commit()
    assert not any("box_items" in s for s in statements)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM box_items")).scalar() == 0


def test_registry_mapped_table_and_binds(make_engine) -> None:
    reg = registry()
    table = Table(
        "counters", reg.metadata, Column("id", Integer, primary_key=True), Column("n", Integer)
    )

    @reg.mapped
    class Counter:
        __table__ = table

    engine = make_engine(reg.metadata)
    maker = sessionmaker(binds={Counter: engine})
    begun: list[object] = []
    event.listen(maker, "after_begin", lambda s, tx, conn: begun.append(conn))
    with maker() as session:
        session.add(Counter(n=1))
        session.commit()
        assert session.get_bind(Counter) is engine
        assert session.scalars(select(Counter.n)).one() == 1
    assert len(begun) == 2


def test_non_collection_annotation_on_the_one_side_is_one_to_one(make_engine) -> None:
    class Base(DeclarativeBase):
        pass

    class Owner(Base):
        __tablename__ = "o2o_owners"
        id: Mapped[int] = mapped_column(primary_key=True)
        badge: Mapped[Badge | None] = relationship(back_populates="owner")

    class Badge(Base):
        __tablename__ = "o2o_badges"
        id: Mapped[int] = mapped_column(primary_key=True)
        owner_id: Mapped[int | None] = mapped_column(ForeignKey("o2o_owners.id"))
        owner: Mapped[Owner | None] = relationship(back_populates="badge")
        code: Mapped[str] = mapped_column(String(10))

    engine = make_engine(Base.metadata)
    with Session(engine) as session:
        owner = Owner()
        assert owner.badge is None  # one object or None, not a list
        owner.badge = Badge(code="b1")
        session.add(owner)
        session.commit()
        session.expire_all()
        loaded = session.scalars(select(Owner)).one()
        assert isinstance(loaded.badge, Badge) and loaded.badge.code == "b1"
        assert loaded.badge.owner is loaded
        assert not Owner.badge.prop.uselist
        session.expire_all()
        badge = session.scalars(select(Owner)).one().badge  # loaded lazily, then replaced
        session.scalars(select(Owner)).one().badge = None
        session.commit()
        assert session.execute(text("SELECT owner_id FROM o2o_badges")).all() == [(None,)]
        assert inspect(badge).persistent
