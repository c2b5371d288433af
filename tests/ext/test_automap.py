"""Automap and DeferredReflection: classes and relationships generated from a reflected schema
on every database, sync and through AsyncConnection.run_sync, with declared classes, naming
hooks and the mistakes (a relationship name taken by a column, a class used before prepare())."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from athanor import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    exc,
    func,
    select,
)
from athanor.engine import Engine
from athanor.ext.asyncio import AsyncSession, create_async_engine
from athanor.ext.automap import AutomapBase, automap_base
from athanor.ext.declarative import DeferredReflection
from athanor.orm import DeclarativeBase, Session, relationship, selectinload
from backends import Backend


def make_schema(engine: Engine, *, conflicting: bool = False) -> None:
    """An existing database: users with addresses (deleted with their user), tags linked to
    users through a pure link table, a tree of nodes, and a log table without a primary key."""
    metadata = MetaData()
    Table("users", metadata, Column("id", Integer, primary_key=True), Column("name", String(30)))
    Table(
        "address",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("email", String(50)),
        Column("user_id", ForeignKey("users.id", ondelete="CASCADE")),
    )
    Table("tag", metadata, Column("id", Integer, primary_key=True), Column("word", String(20)))
    Table(
        "user_tag",
        metadata,
        Column("user_id", ForeignKey("users.id"), primary_key=True),
        Column("tag_id", ForeignKey("tag.id"), primary_key=True),
    )
    Table(
        "node",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("node.id")),
        Column("label", String(20)),
    )
    Table("audit_log", metadata, Column("message", String(50)))
    if conflicting:
        Table(
            "invoice",
            metadata,
            Column("id", Integer, primary_key=True),
            Column("users", ForeignKey("users.id")),
        )
    metadata.create_all(engine)


@pytest.fixture
def engine(backend: Backend) -> Any:
    engine = create_engine(backend.url)
    make_schema(engine)
    yield engine
    engine.dispose()


def test_every_table_with_a_primary_key_becomes_a_class(engine: Engine) -> None:
    Base: Any = automap_base()
    Base.prepare(autoload_with=engine)
    assert sorted(Base.classes.keys()) == ["address", "node", "tag", "users"]
    assert "user_tag" not in Base.classes and "audit_log" not in Base.classes
    assert Base.classes["users"] is Base.classes.users
    assert {cls.__name__ for cls in Base.classes} == {"address", "node", "tag", "users"}
    with pytest.raises(AttributeError, match="no automapped class named 'user'"):
        Base.classes.user  # noqa: B018


def test_foreign_keys_become_relationships_both_ways(engine: Engine) -> None:
    Base: Any = automap_base()
    Base.prepare(autoload_with=engine)
    User, Address, Tag = Base.classes.users, Base.classes.address, Base.classes.tag
    with Session(engine) as session:
        ann = User(name="ann", address_collection=[Address(email="ann@home")])
        ann.tag_collection.append(Tag(word="admin"))
        session.add(ann)
        session.commit()
        address = session.scalars(select(Address)).one()
        assert address.users is ann
        assert [tag.word for tag in ann.tag_collection] == ["admin"]
        tag = session.scalars(select(Tag)).one()
        assert [user.name for user in tag.users_collection] == ["ann"]
        # back_populates keeps both sides in step before any flush (ann, changed through
        # the backref, would be flushed by the load otherwise, extra not being in the session)
        extra = Address(email="ann@work")
        extra.users = ann
        with session.no_autoflush:
            assert extra in ann.address_collection
        # The autoflush of the next query skips extra, which is not in the session (as
        # SQLAlchemy does), and says so.
        with pytest.warns(exc.AthanorWarning, match="address is not in the session"):
            rows = session.scalar(
                select(func.count()).select_from(Base.metadata.tables["user_tag"])
            )
        assert rows == 1
        assert extra not in session


def test_self_referential_key_gives_parent_and_children(engine: Engine) -> None:
    Base: Any = automap_base()
    Base.prepare(autoload_with=engine)
    Node = Base.classes.node
    with Session(engine) as session:
        root = Node(label="root")
        leaf = Node(label="leaf", node=root)
        session.add(root)
        session.commit()
        assert leaf.node is root
        assert [child.label for child in root.node_collection] == ["leaf"]
        stored = session.execute(select(Node.label, Node.parent_id).order_by(Node.id)).all()
        assert stored == [("root", None), ("leaf", root.id)]


def test_on_delete_cascade_key_makes_a_passive_deleting_collection(
    engine: Engine, backend: Backend
) -> None:
    Base: Any = automap_base()
    Base.prepare(autoload_with=engine)
    User, Address = Base.classes.users, Base.classes.address
    prop = User.address_collection.property
    assert prop.passive_deletes is True
    assert prop.cascade.delete_orphan
    with Session(engine) as session:
        session.add(User(name="bob", address_collection=[Address(email="b@x")]))
        session.commit()
    with Session(engine) as session:
        session.delete(session.scalars(select(User)).one())
        session.commit()
        if not backend.is_sqlite:  # SQLite enforces foreign keys only when asked to
            assert session.scalar(select(func.count()).select_from(Address)) == 0


def test_declared_classes_keep_their_columns_and_relationships(engine: Engine) -> None:
    Base: Any = automap_base()

    class User(Base):
        __tablename__ = "users"
        user_name = Column("name", String(30))
        address_collection = relationship("address", collection_class=set)

    with pytest.raises(exc.InvalidRequestError, match=r"User is not mapped yet.*prepare\(\)"):
        User(user_name="too early")
    Base.prepare(autoload_with=engine)
    assert Base.classes.User is User
    assert [column.name for column in User.__table__.columns].count("name") == 1
    Address = Base.classes.address
    with Session(engine) as session:
        user = User(user_name="cy", address_collection={Address(email="cy@x")})
        session.add(user)
        session.commit()
        loaded = session.scalars(select(Address)).one()
        assert loaded.user is user
        assert isinstance(user.address_collection, set)
        assert session.scalar(select(User.user_name)) == "cy"


def test_naming_hooks_and_skipped_relationships(engine: Engine) -> None:
    Base: Any = automap_base()

    def camel_case(base: type, tablename: str, table: Table) -> str:
        return "".join(part.capitalize() for part in tablename.split("_"))

    def plural(base: type, local: type, referred: type, constraint: Any) -> str:
        return referred.__name__.lower() + "s"

    def no_tree(base: type, direction: str, fn: Any, name: str, *classes: type, **kw: Any) -> Any:
        local, referred = classes
        return None if local.__name__ == "Node" else fn(referred, **kw)

    Base.prepare(
        autoload_with=engine,
        classname_for_table=camel_case,
        name_for_collection_relationship=plural,
        generate_relationship=no_tree,
    )
    assert sorted(Base.classes.keys()) == ["Address", "Node", "Tag", "Users"]
    Users = Base.classes.Users
    assert {"addresss", "tags"} <= set(Users.__mapper__.relationships.keys())
    assert not Base.classes.Node.__mapper__.relationships.keys()


def test_relationship_name_taken_by_a_column_is_an_error_naming_the_fix(
    backend: Backend,
) -> None:
    engine = create_engine(backend.url)
    make_schema(engine, conflicting=True)
    Base: Any = automap_base()
    with pytest.raises(exc.ArgumentError, match=r"invoice.*'users'.*name_for_scalar_relationship"):
        Base.prepare(autoload_with=engine)

    def avoid_columns(base: type, local: type, referred: type, constraint: Any) -> str:
        name = referred.__name__.lower()
        return name + "_ref" if name in local.__table__.c else name

    Fixed: Any = automap_base()
    Fixed.prepare(autoload_with=engine, name_for_scalar_relationship=avoid_columns)
    Invoice = Fixed.classes.invoice
    with Session(engine) as session:
        invoice = Invoice(users_ref=Fixed.classes.users(name="dee"))
        session.add(invoice)
        session.commit()
        assert invoice.users == invoice.users_ref.id
    engine.dispose()


def test_prepare_again_maps_tables_created_since(engine: Engine) -> None:
    Base: Any = automap_base()
    Base.prepare(autoload_with=engine)
    first = Base.classes.users
    extra = MetaData()
    Table(
        "review",
        extra,
        Column("id", Integer, primary_key=True),
        Column("user_id", ForeignKey("users.id")),
        Column("stars", Integer),
    )
    Table("users", extra, Column("id", Integer, primary_key=True))
    extra.tables["review"].create(engine)
    Base.prepare(autoload_with=engine)
    assert Base.classes.users is first
    Review = Base.classes.review
    with Session(engine) as session:
        session.add(Review(stars=5, users=first(name="eve")))
        session.commit()
        assert [r.stars for r in session.scalars(select(first)).one().review_collection] == [5]


def test_automap_of_tables_already_defined_needs_no_database() -> None:
    metadata = MetaData()
    Table("team", metadata, Column("id", Integer, primary_key=True))
    Table(
        "player",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("team_id", ForeignKey("team.id")),
    )
    Base: Any = automap_base(metadata=metadata)
    Base.prepare()
    team = Base.classes.team(player_collection=[Base.classes.player()])
    assert team.player_collection[0].team is team
    assert issubclass(Base, AutomapBase)


def test_automap_through_an_async_connection(backend: Backend) -> None:
    sync_engine = create_engine(backend.url)
    make_schema(sync_engine)
    sync_engine.dispose()

    async def main() -> list[str]:
        engine = create_async_engine(backend.async_url())
        Base: Any = automap_base()
        try:
            async with engine.connect() as conn:
                await conn.run_sync(lambda sync_conn: Base.prepare(autoload_with=sync_conn))
            User, Address = Base.classes.users, Base.classes.address
            async with AsyncSession(engine) as session:
                session.add(User(name="fay", address_collection=[Address(email="f@x")]))
                await session.commit()
                query = select(User).options(selectinload(User.address_collection))
                user = (await session.scalars(query)).one()
                return [a.email for a in user.address_collection]
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == ["f@x"]


def test_deferred_reflection_maps_declared_classes_on_prepare(engine: Engine) -> None:
    class Base(DeclarativeBase):
        pass

    class Reflected(DeferredReflection):
        __abstract__ = True

    class Person(Reflected, Base):
        __tablename__ = "users"
        addresses = relationship("Mail", back_populates="person")
        tags = relationship("Label", secondary="user_tag")

    class Mail(Reflected, Base):
        __tablename__ = "address"
        person = relationship("Person", back_populates="addresses")

    class Label(Reflected, Base):
        __tablename__ = "tag"

    with pytest.raises(exc.InvalidRequestError, match="Person is not mapped yet"):
        Person(name="early")
    Reflected.prepare(engine)
    with Session(engine) as session:
        session.add(Person(name="gil", addresses=[Mail(email="g@x")], tags=[Label(word="vip")]))
        session.commit()
        person = session.scalars(select(Person)).one()
        assert (person.name, [m.email for m in person.addresses]) == ("gil", ["g@x"])
        assert [label.word for label in person.tags] == ["vip"]
        assert person.addresses[0].person is person


def test_reflection_keeps_a_declared_column_with_its_own_key(engine: Engine) -> None:
    metadata = MetaData()
    users = Table(
        "users", metadata, Column("name", String(30), key="user_name"), autoload_with=engine
    )
    assert [column.name for column in users.columns] == ["name", "id"]
    assert users.c.user_name.name == "name"
    assert [column.name for column in users.primary_key.columns] == ["id"]
