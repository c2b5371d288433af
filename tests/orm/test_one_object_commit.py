"""A commit with no transaction begun that writes one new object (or nothing) runs without a
SessionTransaction when no session event is listened to: what it leaves behind, how it fails,
and that listeners, mapper changes and other databases are followed when they come later."""

from __future__ import annotations

import logging
from pathlib import Path
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
    event,
    inspect,
    select,
)
from athanor.exc import (
    ArgumentError,
    IntegrityError,
    InvalidRequestError,
    PendingRollbackError,
)
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    sessionmaker,
)
from orm.orm_models import CommitRefused, refusing_commits


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "one_commit_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), unique=True)


class Note(Base):
    """Its INSERT fills more than the key: a column left unset becomes None, and one comes
    from a server default."""

    __tablename__ = "one_commit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str | None] = mapped_column(String(30))
    rank: Mapped[int] = mapped_column(server_default="7")


class DeferredBase(DeclarativeBase):
    """Tables with a deferred foreign key, which MySQL/MariaDB cannot create."""


class Owner(DeferredBase):
    __tablename__ = "one_commit_owner"

    id: Mapped[int] = mapped_column(primary_key=True)


class Owned(DeferredBase):
    """Its owner is checked at COMMIT (a deferred foreign key), so a COMMIT can fail."""

    __tablename__ = "one_commit_owned"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("one_commit_owner.id", deferrable=True, initially="DEFERRED")
    )


@pytest.fixture
def engine(backend: Any) -> Any:
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


def _names(engine: Any) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(Item.__table__.c.name).order_by(Item.__table__.c.id)))


def _listened(session: Session) -> None:
    """Make ``session`` take the general commit path (any session listener does)."""
    event.listen(session, "after_soft_rollback", lambda *args: None)


@pytest.mark.parametrize("general", [False, True], ids=["lean", "general"])
def test_a_one_object_commit_leaves_the_object_persistent_and_expired(
    engine: Any, general: bool
) -> None:
    with Session(engine) as session:
        if general:
            _listened(session)
        item = Item(name="kept")
        session.add(item)
        session.commit()
        state = inspect(item)
        assert state.persistent and state.expired
        assert "name" not in item.__dict__
        assert session.get(Item, item.id) is item
        assert item.name == "kept"
    assert engine.pool.checkedout() == 0
    assert inspect(item).detached
    assert _names(engine) == ["kept"]


def test_an_object_no_longer_held_is_written_and_not_kept(engine: Any) -> None:
    """The usual request: the object made, added, committed and dropped; the session keeps
    nothing of it, and its identity map (made on first use) is the session's own."""
    with Session(engine) as session:
        session.add(Item(name="dropped"))
        session.commit()
        assert len(session.identity_map) == 0 and not session.new
        found = session.scalars(select(Item)).one()
        assert found.name == "dropped"
        assert session.identity_map is session.identity_map
        assert list(session.identity_map.values()) == [found]
        assert session.get(Item, found.id) is found
    assert engine.pool.checkedout() == 0
    with Session(engine) as other:
        other.identity_map = replaced = type(session.identity_map)()
        again = other.get(Item, found.id)
        assert again is not found and again.name == "dropped"
        assert replaced.values() == [again]
    assert _names(engine) == ["dropped"]


def test_an_object_filling_more_than_its_key_is_written_without_a_connection(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's committer writes it too (no Connection is made), the object taking what
    the database filled in before the COMMIT."""
    with Session(engine) as session:
        session.add(Note(text="warm"))  # an idle connection for the committer
        session.commit()

    def no_connection() -> None:
        raise AssertionError("the one-object commit made a Connection")

    monkeypatch.setattr(engine, "connect", no_connection)
    with Session(engine, expire_on_commit=False) as session:
        note = Note()
        session.add(note)
        session.commit()
        assert inspect(note).persistent and note.text is None
    monkeypatch.undo()
    assert engine.pool.checkedout() == 0
    with Session(engine) as session:
        assert session.get(Note, note.id).rank == 7


def test_expire_on_commit_false_keeps_the_values(engine: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        item = Item(name="fresh")
        session.add(item)
        session.commit()
        assert item.__dict__["name"] == "fresh"
        assert not inspect(item).expired
        assert not inspect(item).attrs.name.history.has_changes()
    assert item.name == "fresh" and isinstance(item.id, int)


def test_an_empty_commit_expires_what_the_session_holds(engine: Any) -> None:
    with Session(engine) as session:
        item = Item(name="held")
        session.add(item)
        session.commit()
        assert item.name == "held"  # loads it again, in a new transaction
        session.commit()
        assert inspect(item).expired
        session.commit()  # nothing begun and nothing held changed: still fine
        assert not session.in_transaction()
    assert engine.pool.checkedout() == 0


def test_autobegin_false_still_refuses_commit(engine: Any) -> None:
    session = Session(engine, autobegin=False)
    with pytest.raises(InvalidRequestError, match="Autobegin is disabled"):
        session.add(Item(name="refused"))  # add() begins the transaction
    with pytest.raises(InvalidRequestError, match="Autobegin is disabled"):
        session.commit()
    session.close()
    assert _names(engine) == []


@pytest.mark.parametrize("general", [False, True], ids=["lean", "general"])
def test_a_failed_insert_wants_rollback_and_writes_nothing(engine: Any, general: bool) -> None:
    with Session(engine) as session:
        session.add(Item(name="dup"))
        session.commit()
    session = Session(engine)
    if general:
        _listened(session)
    dup = Item(name="dup")
    session.add(dup)
    with pytest.raises(IntegrityError):
        session.commit()
    assert engine.pool.checkedout() == 0
    assert dup in session.new and inspect(dup).key is None and "id" not in dup.__dict__
    with pytest.raises(PendingRollbackError):
        session.commit()
    session.rollback()
    assert inspect(dup).transient
    session.add(Item(name="after"))
    session.commit()
    session.close()
    assert _names(engine) == ["dup", "after"]


@pytest.mark.parametrize("general", [False, True], ids=["lean", "general"])
def test_a_failed_commit_leaves_the_transaction_to_roll_back(engine: Any, general: bool) -> None:
    """The database refuses the COMMIT (here a connection listener raises): the object keeps
    the key the INSERT gave it until the session rolls back, which undoes the row."""
    session = Session(engine)
    if general:
        _listened(session)
    item = Item(name="unsaved")
    session.add(item)
    with refusing_commits(engine), pytest.raises(CommitRefused):
        session.commit()
    assert inspect(item).persistent and session.in_transaction()
    assert engine.pool.checkedout() == 1
    session.rollback()
    assert inspect(item).transient and inspect(item).key is None
    assert engine.pool.checkedout() == 0
    session.close()
    assert _names(engine) == []


def test_session_listeners_added_after_lean_commits_fire(engine: Any) -> None:
    seen: list[str] = []
    with Session(engine) as session:
        session.add(Item(name="before"))
        session.commit()
    names = (
        "after_transaction_create",
        "after_begin",
        "before_commit",
        "before_flush",
        "after_flush",
        "pending_to_persistent",
        "after_flush_postexec",
        "after_commit",
        "after_transaction_end",
    )
    listeners = [(name, lambda *args, name=name: seen.append(name)) for name in names]
    for name, fn in listeners:
        event.listen(Session, name, fn)
    try:
        with Session(engine) as session:
            session.add(Item(name="listened"))
            session.commit()
    finally:
        for name, fn in listeners:
            event.remove(Session, name, fn)
    assert seen == [
        "after_transaction_create",
        "before_commit",
        "before_flush",
        "after_transaction_create",  # the flush's subtransaction
        "after_begin",
        "after_flush",
        "pending_to_persistent",
        "after_flush_postexec",
        "after_transaction_end",
        "after_commit",
        "after_transaction_end",
    ]
    seen.clear()
    with Session(engine) as session:
        session.add(Item(name="quiet again"))
        session.commit()
    assert seen == []
    assert _names(engine) == ["before", "listened", "quiet again"]


def test_mapper_listeners_added_after_lean_commits_fire(engine: Any) -> None:
    seen: list[tuple[str, Any]] = []
    with Session(engine) as session:
        session.add(Item(name="first"))
        session.commit()

    def before(mapper: Any, conn: Any, target: Item) -> None:
        target.name = target.name.upper()
        seen.append(("before_insert", target.id))

    def after(mapper: Any, conn: Any, target: Item) -> None:
        seen.append(("after_insert", target.id))

    event.listen(Item, "before_insert", before)
    event.listen(Item, "after_insert", after)
    try:
        with Session(engine) as session:
            session.add(Item(name="second"))
            session.commit()
    finally:
        event.remove(Item, "before_insert", before)
        event.remove(Item, "after_insert", after)
    assert seen[0] == ("before_insert", None)
    assert seen[1][0] == "after_insert" and isinstance(seen[1][1], int)
    assert _names(engine) == ["first", "SECOND"]


def test_the_insert_plan_follows_a_mapper_change(engine: Any) -> None:
    """A column of the table mapped after the first commits is written by the next ones."""
    metadata = MetaData()
    table = Table(
        "late_column",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(20)),
        Column("note", String(20)),
    )
    metadata.create_all(engine)

    class LateBase(DeclarativeBase):
        pass

    class Late(LateBase):
        __table__ = table
        __mapper_args__ = {"exclude_properties": ["note"]}

    for name in ("a", "b"):
        with Session(engine) as session:
            session.add(Late(name=name))
            session.commit()
    Late.note = table.c.note
    with Session(engine) as session:
        session.add(Late(name="c", note="noted"))
        session.commit()
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]
    assert rows == [(1, "a", None), (2, "b", None), (3, "c", "noted")]


def test_one_mapper_committed_to_two_databases_in_turn(engine: Any, tmp_path: Path) -> None:
    """The plan keeps how the key comes back per database; switching between them is right."""
    other = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    Base.metadata.create_all(other)
    keys: list[tuple[str, int]] = []
    for n in range(3):
        for target, label in ((engine, "main"), (other, "other")):
            with Session(target, expire_on_commit=False) as session:
                item = Item(name=f"{label}{n}")
                session.add(item)
                session.commit()
                keys.append((label, item.id))
    assert [k for label, k in keys if label == "main"] == [1, 2, 3]
    assert [k for label, k in keys if label == "other"] == [1, 2, 3]
    assert _names(other) == ["other0", "other1", "other2"]
    other.dispose()


def test_session_info_is_made_on_first_use_and_may_be_given(engine: Any) -> None:
    given = {"tenant": 7}
    first, second = Session(engine, info=given), Session(engine)
    assert first.info == {"tenant": 7} and first.info is not given
    second.info["seen"] = True
    assert second.info == {"seen": True}
    assert Session(engine).info == {}
    second.info = {"replaced": 1}
    assert second.info == {"replaced": 1}


def test_session_options_apply_and_unknown_ones_are_named(engine: Any) -> None:
    session = Session(engine, autoflush=False, expire_on_commit=False, autobegin=False)
    assert (session.autoflush, session.expire_on_commit, session.autobegin) == (False,) * 3
    plain = Session(engine)
    assert (plain.autoflush, plain.expire_on_commit, plain.autobegin) == (True,) * 3
    assert plain.join_transaction_mode == "conservative_savepoint"
    with pytest.raises(TypeError, match=r"'autoflsh'.*its options are autoflush, "):
        Session(engine, autoflsh=False)
    with pytest.raises(ArgumentError, match="join_transaction_mode='sometimes'"):
        Session(engine, join_transaction_mode="sometimes")


def test_sessionmaker_options_reach_its_sessions(engine: Any) -> None:
    quick = sessionmaker(engine)
    assert "autoflush=True" in repr(quick) and "expire_on_commit=True" in repr(quick)
    session = quick()
    assert (session.autoflush, session.expire_on_commit) == (True, True)
    assert "autoflush" not in vars(session) and "expire_on_commit" not in vars(session)
    kept = sessionmaker(engine, expire_on_commit=False)
    with kept() as session:
        item = Item(name="kept values")
        session.add(item)
        session.commit()
        assert not inspect(item).expired and item.__dict__["name"] == "kept values"
    assert kept(expire_on_commit=True).expire_on_commit is True
    assert quick(autoflush=False).autoflush is False


# --- the engine's one-row transaction under the one-object commit --------------------------


@pytest.mark.backends("sqlite", "postgresql")
def test_a_commit_the_database_refuses_leaves_the_transaction_to_roll_back(
    backend: Any,
) -> None:
    """No listener anywhere: the COMMIT itself fails (a deferred foreign key), and the
    session keeps the transaction, its connection and the object until it rolls back."""
    eng = create_engine(backend.url)
    if backend.name == "sqlite":
        event.listen(eng, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
    DeferredBase.metadata.create_all(eng)
    session = Session(eng)
    orphan = Owned(owner_id=404)
    session.add(orphan)
    with pytest.raises(IntegrityError) as caught:
        session.commit()
    assert "COMMIT" in str(caught.value)
    assert inspect(orphan).persistent and session.in_transaction()
    assert eng.pool.checkedout() == 1
    session.rollback()
    assert inspect(orphan).transient
    assert eng.pool.checkedout() == 0
    with Session(eng) as session:
        session.add(Owner(id=1))
        session.commit()
        session.add(Owned(owner_id=1))
        session.commit()
        assert session.scalars(select(Owned.owner_id)).all() == [1]
    session.close()
    eng.dispose()


def test_listeners_and_logging_added_after_lean_commits_are_served(
    engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Engine and pool listeners, and logging, switched on after one-object commits ran
    without them, see the next one; the pool counts every checkout either way."""
    with Session(engine) as session:
        session.add(Item(name="quiet"))
        session.commit()
    seen: list[str] = []
    checkouts = engine.pool.stats().total_checkouts

    def on_checkout(*args: Any) -> None:
        seen.append("checkout")

    def on_checkin(*args: Any) -> None:
        seen.append("checkin")

    def on_commit(conn: Any) -> None:
        seen.append("commit")

    for target, name, fn in (
        (engine.pool, "checkout", on_checkout),
        (engine.pool, "checkin", on_checkin),
        (engine, "commit", on_commit),
    ):
        event.listen(target, name, fn)
        try:
            with Session(engine) as session:
                session.add(Item(name=f"heard {name}"))
                session.commit()
        finally:
            event.remove(target, name, fn)
    assert seen == ["checkout", "checkin", "commit"]
    with caplog.at_level(logging.INFO, logger="athanor.engine"), Session(engine) as session:
        session.add(Item(name="logged"))
        session.commit()
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("INSERT INTO one_commit_item") for m in messages)
    assert "COMMIT" in messages
    caplog.clear()
    with Session(engine) as session:
        session.add(Item(name="quiet again"))
        session.commit()
    assert not caplog.records
    assert engine.pool.stats().total_checkouts == checkouts + 5
    assert engine.pool.checkedout() == 0
    assert _names(engine) == [
        "quiet",
        "heard checkout",
        "heard checkin",
        "heard commit",
        "logged",
        "quiet again",
    ]


def test_a_stale_connection_is_replaced_at_a_lean_checkout(engine: Any) -> None:
    """Recycle and invalidation are honoured: the pooled connection is replaced first."""
    with Session(engine) as session:
        session.add(Item(name="first"))
        session.commit()
    connects = engine.pool.stats().connects
    with engine.connect() as conn:
        conn.invalidate()
    with Session(engine) as session:
        session.add(Item(name="second"))
        session.commit()
    assert engine.pool.stats().connects == connects + 1
    assert _names(engine) == ["first", "second"]
