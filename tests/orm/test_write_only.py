"""Write-only (``WriteOnlyMapped``) and dynamic (``DynamicMapped``) collections, every database."""

from __future__ import annotations

import asyncio
import gc
import pickle
import warnings
import weakref

import pytest

from athanor import Column, ForeignKey, String, Table, create_engine, event, func, select, text
from athanor.exc import AthanorWarning, InvalidRequestError
from athanor.ext.asyncio import AsyncSession, create_async_engine
from athanor.orm import (
    DeclarativeBase,
    DynamicMapped,
    Mapped,
    Session,
    WriteOnlyMapped,
    mapped_column,
    relationship,
    with_parent,
)
from athanor.orm.query import Query
from athanor.orm.writeonly import AppenderQuery, WriteOnlyCollection


class Base(DeclarativeBase):
    pass


account_tags = Table(
    "wo_account_tags",
    Base.metadata,
    Column("account_id", ForeignKey("wo_accounts.id"), primary_key=True),
    Column("tag_id", ForeignKey("wo_tags.id"), primary_key=True),
)


class Account(Base):
    __tablename__ = "wo_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    entries: WriteOnlyMapped[Entry] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="Entry.amount"
    )
    notes: DynamicMapped[Note] = relationship(order_by="Note.id", cascade="all, delete-orphan")
    tags: Mapped[list[Tag]] = relationship(secondary=account_tags, lazy="write_only")


class Entry(Base):
    __tablename__ = "wo_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[int]
    account_id: Mapped[int] = mapped_column(ForeignKey("wo_accounts.id"))
    account: Mapped[Account] = relationship(back_populates="entries")


class Note(Base):
    __tablename__ = "wo_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(30))
    account_id: Mapped[int] = mapped_column(ForeignKey("wo_accounts.id"))


class Tag(Base):
    __tablename__ = "wo_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))


class Ledger(Base):
    __tablename__ = "wo_ledgers"

    id: Mapped[int] = mapped_column(primary_key=True)
    lines: WriteOnlyMapped[Line] = relationship(cascade="all", passive_deletes=True)


class Line(Base):
    __tablename__ = "wo_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("wo_ledgers.id", ondelete="CASCADE"))


@pytest.fixture
def engine(backend):
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


def count_statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def amounts(session: Session, account: Account) -> list[int]:
    return [e.amount for e in session.scalars(account.entries.select())]


def test_write_only_collection_reads_by_select_and_queues_changes(engine) -> None:
    with Session(engine) as session:
        account = Account(name="a", entries=[Entry(amount=3), Entry(amount=1)])
        other = Account(name="b", entries=[Entry(amount=100)])
        session.add_all([account, other])
        session.commit()
        assert isinstance(account.entries, WriteOnlyCollection)
        assert amounts(session, account) == [1, 3]
        with pytest.raises(TypeError, match=r"select\(\)"):
            list(account.entries)
        statements = count_statements(engine)
        extra = Entry(amount=2)
        account.entries.add(extra)
        assert statements == []  # nothing is loaded to add an item
        assert amounts(session, account) == [1, 2, 3]  # autoflush wrote it
        account.entries.remove(extra)
        session.commit()
        assert amounts(session, account) == [1, 3]
        assert session.scalars(select(func.count()).select_from(Entry)).one() == 3  # orphan gone
        with pytest.raises(InvalidRequestError, match="add\\(\\)"):
            account.entries = []


def test_write_only_bulk_statements_are_limited_to_the_parent(engine) -> None:
    with Session(engine) as session:
        account, other = Account(name="a"), Account(name="b", entries=[Entry(amount=9)])
        session.add_all([account, other])
        session.commit()
        session.execute(account.entries.insert().values(amount=5))
        session.execute(account.entries.insert().values(amount=6))
        assert amounts(session, account) == [5, 6]
        session.execute(account.entries.update().values(amount=Entry.amount + 10))
        assert amounts(session, account) == [15, 16]
        assert amounts(session, other) == [9]
        session.execute(account.entries.delete().where(Entry.amount == 15))
        session.commit()
        assert amounts(session, account) == [16]
        assert amounts(session, other) == [9]


def test_write_only_backref_move_and_delete_cascade(engine) -> None:
    with Session(engine) as session:
        first, second = Account(name="first"), Account(name="second")
        session.add_all([first, second])
        session.commit()
        entry = Entry(amount=1, account=first)  # the backref queues it on first.entries
        session.add(entry)
        session.add(Entry(amount=2, account=first))
        # the reverse side of the link does not cascade an object into the session
        Entry(amount=3, account=first)
        with pytest.warns(AthanorWarning, match="Entry is not in the session"):
            session.commit()
        assert amounts(session, first) == [1, 2]
        entry.account = second
        session.commit()
        assert amounts(session, first) == [2] and amounts(session, second) == [1]
        session.delete(first)  # the collection is loaded to cascade the delete
        session.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT amount FROM wo_entries")).all() == [(1,)]


def test_write_only_passive_deletes_loads_nothing(engine) -> None:
    with Session(engine) as session:
        ledger = Ledger(lines=[Line(), Line()])
        session.add(ledger)
        session.commit()
        ledger.lines.add(Line())
        session.flush()
        statements = count_statements(engine)
        session.delete(ledger)
        session.flush()
        assert not any("wo_lines" in s for s in statements), statements


def test_write_only_many_to_many(engine) -> None:
    with Session(engine) as session:
        red, blue = Tag(name="red"), Tag(name="blue")
        account, other = Account(name="a", tags=[red]), Account(name="b")
        other.tags.add(blue)
        session.add_all([account, other])
        session.commit()
        account.tags.add_all([blue])
        session.flush()
        stmt = account.tags.select().order_by(Tag.name)
        assert [t.name for t in session.scalars(stmt)] == ["blue", "red"]
        account.tags.remove(red)
        session.commit()
        assert [t.name for t in session.scalars(account.tags.select())] == ["blue"]
        assert [t.name for t in session.scalars(other.tags.select())] == ["blue"]
        with pytest.raises(InvalidRequestError, match="add_all"):
            account.tags.insert()


def test_dynamic_collection_is_a_query_with_append(engine) -> None:
    with Session(engine) as session:
        account = Account(name="a")
        account.notes.append(Note(text="one"))
        assert [n.text for n in account.notes] == ["one"]  # no session yet: pending items
        session.add(account)
        session.commit()
        notes = account.notes
        assert isinstance(notes, AppenderQuery) and isinstance(notes, Query)
        notes.extend([Note(text="two"), Note(text="three")])
        assert notes.count() == 3  # autoflush before the query
        assert [n.text for n in notes] == ["one", "two", "three"]
        filtered = notes.filter(Note.text.startswith("t"))
        assert [n.text for n in filtered.all()] == ["two", "three"]
        assert notes.filter_by(text="one").one().text == "one"
        notes.remove(notes.filter_by(text="two").one())
        session.commit()
        assert [n.text for n in account.notes.order_by(None).order_by(Note.text)] == [
            "one",
            "three",
        ]
        other = Account(name="b", notes=[Note(text="x")])
        session.add(other)
        session.commit()
        assert [n.text for n in other.notes] == ["x"]
        assert account.notes.count() == 2
        session.expunge(account)
    copy = pickle.loads(pickle.dumps(account))
    assert isinstance(copy.entries, WriteOnlyCollection) and isinstance(copy.notes, AppenderQuery)
    assert copy.notes.instance is copy


def test_query_collections_refuse_many_to_one(engine) -> None:
    class Local(DeclarativeBase):
        pass

    class Owner(Local):
        __tablename__ = "wo_owner"
        id: Mapped[int] = mapped_column(primary_key=True)

    class Pet(Local):
        __tablename__ = "wo_pet"
        id: Mapped[int] = mapped_column(primary_key=True)
        owner_id: Mapped[int] = mapped_column(ForeignKey("wo_owner.id"))
        owner: Mapped[Owner] = relationship(lazy="write_only")

    with pytest.raises(InvalidRequestError, match="needs a collection"):
        Local.registry.configure()


def test_statements_of_a_pending_parent_bind_its_key_after_autoflush(engine) -> None:
    with Session(engine) as session:
        account = Account(name="a")
        account.entries.add(Entry(amount=2))
        session.add(account)
        session.add(Entry(amount=1, account=account))  # added separately, through the backref
        assert account.id is None
        stmt = account.entries.select()  # built before the flush gives the key
        assert [e.amount for e in session.scalars(stmt)] == [1, 2]
        assert account.id is not None

        other = Account(name="b")
        session.add(other)
        insert_stmt = other.entries.insert().values(amount=7)
        update_stmt = other.entries.update().values(amount=Entry.amount + 1)
        delete_stmt = other.entries.delete().where(Entry.amount == 8)
        session.execute(insert_stmt)
        assert amounts(session, other) == [7]
        session.execute(update_stmt)
        assert amounts(session, other) == [8]
        session.execute(delete_stmt)
        assert amounts(session, other) == [] and amounts(session, account) == [1, 2]

        tagged = Account(name="c")
        tagged.tags.add(Tag(name="red"))
        session.add(tagged)
        assert [t.name for t in session.scalars(tagged.tags.select())] == ["red"]

        noted = Account(name="d")
        notes = noted.notes  # the query is made while the parent has no key
        notes.append(Note(text="n"))
        session.add(noted)
        assert [n.text for n in noted.notes] == ["n"] and notes.count() == 1

        parent = Account(name="e", entries=[Entry(amount=4)])
        session.add(parent)
        crit = with_parent(parent, Account.entries)
        assert [e.amount for e in session.scalars(select(Entry).where(crit))] == [4]
        entry = Entry(amount=5, account=Account(name="g"))
        session.add(entry)
        by_entry = select(Account.name).where(Account.entries.contains(entry))
        assert session.scalars(by_entry).all() == ["g"]
        owner = Account(name="f")
        session.add(Entry(amount=6, account=owner))
        by_owner = select(Entry.amount).where(Entry.account == owner)
        assert session.scalars(by_owner).all() == [6]


def test_statements_of_an_object_do_not_keep_it_alive(engine) -> None:
    with Session(engine) as session:
        account = Account(name="a", entries=[Entry(amount=1)])
        session.add(account)
        session.commit()
        assert amounts(session, account) == [1]
        assert session.execute(account.entries.update().values(amount=2)).rowcount == 1
        session.execute(select(Entry).where(with_parent(account, Account.entries))).all()
        ref = weakref.ref(account)
        session.expunge_all()
        del account
        gc.collect()
        assert ref() is None  # the compiled statements in the cache do not hold it

        later = Account(name="b", entries=[Entry(amount=3)])
        session.add(later)
        assert amounts(session, later) == [3]  # the cached form binds the new parent's key


@pytest.mark.parametrize("how", ["select", "insert", "dynamic"])
def test_pending_parent_statements_on_async_sessions(backend, how) -> None:
    async def main() -> list[int]:
        engine = create_async_engine(backend.async_url())
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            async with AsyncSession(engine) as session:
                account = Account(name="a")
                session.add(account)
                if how == "select":
                    account.entries.add(Entry(amount=2))
                    session.add(Entry(amount=1, account=account))
                    return [e.amount for e in await session.scalars(account.entries.select())]
                if how == "insert":
                    await session.execute(account.entries.insert().values(amount=3))
                    return [e.amount for e in await session.scalars(account.entries.select())]
                account.notes.append(Note(text="n"))
                stmt = select(Note.id).where(with_parent(account, Account.notes))
                return [len((await session.scalars(stmt)).all())]
        finally:
            await engine.dispose()

    expected = {"select": [1, 2], "insert": [3], "dynamic": [1]}[how]
    assert asyncio.run(main()) == expected


def test_compiled_params_show_the_value_read_at_execution(engine) -> None:
    with Session(engine) as session:
        account = Account(name="a")
        session.add(account)
        stmt = account.entries.select()
        session.flush()
        assert list(stmt.compile(engine).params.values()) == [account.id]


def test_a_never_flushed_parent_without_autoflush_is_warned_about(engine) -> None:
    """Without autoflush a pending parent has no key when its statements run: they send NULL
    and match nothing, and a warning names the object and attribute and says to flush."""
    never_flushed = r"<Account at 0x[0-9a-f]+>\.id is None .*never flushed.*flush the session"
    with Session(engine, autoflush=False) as session:
        account = Account(name="a", entries=[Entry(amount=1)])
        session.add(account)
        with pytest.warns(AthanorWarning, match=never_flushed):
            assert session.scalars(account.entries.select()).all() == []
        crit = with_parent(account, Account.entries)
        with pytest.warns(AthanorWarning, match=never_flushed):
            assert session.scalars(select(Entry.amount).where(crit)).all() == []
        session.flush()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert amounts(session, account) == [1]
            assert session.scalars(select(Entry.amount).where(crit)).all() == [1]

    with Session(engine) as session, warnings.catch_warnings():
        warnings.simplefilter("error")
        account = Account(name="b", entries=[Entry(amount=2)])
        session.add(account)
        assert amounts(session, account) == [2]  # autoflush gave it its key first
