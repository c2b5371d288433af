"""Declarative and imperative mapping features, events, and object-state inspection."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Optional

import pytest

from athanor import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    exc,
    func,
    inspect,
    select,
)
from athanor.ext.declarative import declarative_base
from athanor.ext.hybrid import hybrid_method, hybrid_property
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    MappedAsDataclass,
    Session,
    attribute_keyed_dict,
    column_property,
    mapped_column,
    registry,
    relationship,
    synonym,
    validates,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def test_annotation_types_and_nullability() -> None:
    class Base(DeclarativeBase):
        pass

    class Thing(Base):
        __tablename__ = "things"
        __table_args__ = (UniqueConstraint("name", "size"), {"comment": "things"})

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(30), index=True)
        size: Mapped[Optional[int]]  # noqa: UP045 - the pre-3.10 spelling must work too
        price: Mapped[decimal.Decimal | None]
        ratio: Mapped[float]
        flag: Mapped[bool] = mapped_column(default=False)
        when: Mapped[datetime.datetime | None]
        day: Mapped[datetime.date | None]
        at: Mapped[datetime.time | None]
        span: Mapped[datetime.timedelta | None]
        blob: Mapped[bytes | None]
        key: Mapped[uuid.UUID | None]
        data: Mapped[dict | None]
        color: Mapped[Color | None]
        plain = Column(String(10))

    table = Thing.__table__
    types = {c.name: type(c.type).__name__ for c in table.c}
    assert types["name"] == "String" and types["price"] == "Numeric"
    assert types["when"] == "DateTime" and types["key"] == "Uuid" and types["data"] == "JSON"
    assert (
        types["color"] == "Enum" and types["span"] == "Interval" and types["blob"] == "LargeBinary"
    )
    assert not table.c.name.nullable and table.c.size.nullable and not table.c.ratio.nullable
    assert [c.name for c in table.c][:3] == ["id", "name", "size"]
    assert table.comment == "things" if hasattr(table, "comment") else True
    assert Thing.plain.key == "plain"


def test_class_without_primary_key_names_the_class() -> None:
    class Base(DeclarativeBase):
        pass

    with pytest.raises(exc.ArgumentError, match="'NoKey'"):

        class NoKey(Base):
            __tablename__ = "nokey"
            name: Mapped[str]


def test_legacy_declarative_base_imperative_and_table(backend) -> None:
    Base = declarative_base()

    class Legacy(Base):
        __tablename__ = "legacy"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))

    reg = registry()
    table = Table(
        "imperative", reg.metadata, Column("id", Integer, primary_key=True), Column("x", Integer)
    )

    class Plain:
        pass

    reg.map_imperatively(Plain, table)
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    reg.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Legacy(name="a"))
        plain = Plain()
        plain.x = 5
        session.add(plain)
        session.commit()
        assert session.scalars(select(Legacy)).one().name == "a"
        assert session.scalars(select(Plain)).one().x == 5
    engine.dispose()


def test_events_validates_hybrid_synonym_column_property(backend) -> None:
    calls: list[str] = []

    class Base(DeclarativeBase):
        pass

    class Person(Base):
        __tablename__ = "people"

        id: Mapped[int] = mapped_column(primary_key=True)
        first: Mapped[str] = mapped_column(String(20))
        last: Mapped[str] = mapped_column(String(20))
        email: Mapped[str | None] = mapped_column(String(50))
        full = column_property(first + " " + last)
        mail = synonym("email")

        @validates("email")
        def check_email(self, key: str, value: str) -> str:
            if value is not None and "@" not in value:
                raise ValueError(f"bad {key}")
            return value.lower() if value else value

        @hybrid_property
        def initials(self) -> str:
            return self.first[0] + self.last[0]

        @initials.expression
        def initials(cls):  # noqa: N805
            return func.substr(cls.first, 1, 1) + func.substr(cls.last, 1, 1)

        @hybrid_method
        def named(self, name: str) -> bool:
            return self.first == name

    @event.listens_for(Person, "before_insert")
    def before_insert(mapper, connection, target) -> None:
        calls.append(f"insert {target.first}")

    @event.listens_for(Person, "after_update")
    def after_update(mapper, connection, target) -> None:
        calls.append(f"update {target.first}")

    @event.listens_for(Person.first, "set", retval=True)
    def strip(target, value, oldvalue, initiator):
        return value.strip()

    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        flushes: list[int] = []
        event.listen(session, "before_flush", lambda s, ctx, objs: flushes.append(len(s.new)))
        with pytest.raises(ValueError, match="bad email"):
            Person(first="x", last="y", email="nope")
        ada = Person(first="  Ada ", last="Lovelace", email="ADA@Example.com")
        assert ada.first == "Ada" and ada.email == "ada@example.com" and ada.mail == ada.email
        assert ada.initials == "AL"
        session.add(ada)
        session.commit()
        assert ada.full == "Ada Lovelace"
        ada.last = "Byron"
        session.commit()
        found = session.scalars(select(Person).where(Person.initials == "AB")).one()
        assert found is ada and found.named("Ada")
        assert session.scalars(select(Person).where(Person.named("Ada"))).one() is ada
        assert session.scalars(select(Person).where(Person.mail == "ada@example.com")).one() is ada
        assert flushes[0] == 1
    assert calls == ["insert Ada", "update Ada"]
    engine.dispose()


def test_dataclass_mapping(backend) -> None:
    class Base(MappedAsDataclass, DeclarativeBase):
        pass

    class Item(Base):
        __tablename__ = "items"

        id: Mapped[int] = mapped_column(init=False, primary_key=True)
        name: Mapped[str] = mapped_column(String(20))
        qty: Mapped[int] = mapped_column(default=1)

    item = Item("bolt")
    assert (
        item.qty == 1
        and repr(item) == "test_dataclass_mapping.<locals>.Item(id=None, name='bolt', qty=1)"
    )
    assert Item("a", 2) == Item("a", 2)
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(item)
        session.commit()
        assert item.id is not None and session.get(Item, item.id).name == "bolt"
    engine.dispose()


def test_one_to_one_keyed_dict_and_lazy_raise(backend) -> None:
    class Base(DeclarativeBase):
        pass

    class Account(Base):
        __tablename__ = "accounts"
        id: Mapped[int] = mapped_column(primary_key=True)
        profile: Mapped[Profile | None] = relationship(back_populates="account", uselist=False)
        notes: Mapped[dict[str, Note]] = relationship(
            collection_class=attribute_keyed_dict("key"), cascade="all, delete-orphan"
        )
        locked: Mapped[list[Note]] = relationship(lazy="raise", viewonly=True)

    class Profile(Base):
        __tablename__ = "profiles"
        id: Mapped[int] = mapped_column(primary_key=True)
        account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
        account: Mapped[Account] = relationship(back_populates="profile")

    class Note(Base):
        __tablename__ = "notes"
        id: Mapped[int] = mapped_column(primary_key=True)
        key: Mapped[str] = mapped_column(String(10))
        account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))

    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        account = Account(profile=Profile())
        account.notes["a"] = Note(key="a")
        account.notes.set(Note(key="b"))
        assert account.profile.account is account
        session.add(account)
        session.commit()
        assert sorted(account.notes) == ["a", "b"] and account.profile.account_id == account.id
        del account.notes["a"]
        session.commit()
        assert sorted(session.scalars(select(Note.key))) == ["b"]
        with pytest.raises(exc.InvalidRequestError, match="lazy='raise'"):
            _ = account.locked
    engine.dispose()


def test_inspect_states_history_merge_refresh_expunge(backend) -> None:
    class Base(DeclarativeBase):
        pass

    class Doc(Base):
        __tablename__ = "docs"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(20))

    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    doc = Doc(title="a")
    state = inspect(doc)
    assert state.transient and inspect(Doc).primary_key[0].name == "id"
    with Session(engine, expire_on_commit=False) as session:
        session.add(doc)
        assert state.pending
        session.commit()
        assert state.persistent and state.identity == (doc.id,)
        doc.title = "b"
        history = state.attrs.title.history
        assert history.added == ["b"] and history.deleted == ["a"]
        assert session.is_modified(doc) and doc in session.dirty
        session.refresh(doc)
        assert doc.title == "a" and not session.is_modified(doc)
        session.expunge(doc)
        assert state.detached
        doc.title = "merged"
        merged = session.merge(doc)
        assert merged is not doc and merged.title == "merged"
        session.commit()
        session.delete(merged)
        session.flush()
        assert inspect(merged).deleted
        session.commit()
        assert inspect(merged).detached and inspect(merged).was_deleted
    engine.dispose()


_ = MetaData


def test_unsized_string_fails_at_mysql_ddl_naming_the_column() -> None:
    from athanor.dialects import mysql
    from athanor.schema import CreateTable

    class Base(DeclarativeBase):
        pass

    class Page(Base):
        __tablename__ = "pages"
        id: Mapped[int] = mapped_column(primary_key=True)
        content: Mapped[str]

    with pytest.raises(exc.CompileError, match="'pages', column 'content'"):
        CreateTable(Page.__table__).compile(dialect=mysql.dialect())
