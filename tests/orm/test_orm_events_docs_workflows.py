"""The ORM events documentation's workflows (configuration events, object state transitions,
``before_flush`` changing the session, ``do_orm_execute`` filtering and re-executing
statements, attribute events with ``active_history``, ``retval`` and ``propagate``) on every
database, with a small order book of their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Engine, ForeignKey, String, create_engine, event, select
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    Session,
    UserDefinedOption,
    configure_mappers,
    flag_modified,
    mapped_column,
    relationship,
    sessionmaker,
    with_loader_criteria,
)
from athanor.orm.loading import merge_frozen_result

TRANSITIONS = (
    "transient_to_pending",
    "pending_to_transient",
    "pending_to_persistent",
    "persistent_to_deleted",
    "deleted_to_detached",
    "persistent_to_detached",
    "detached_to_persistent",
    "loaded_as_persistent",
    "deleted_to_persistent",
    "persistent_to_transient",
)


class BookBase(DeclarativeBase):
    pass


class Listed:
    """A mixin: rows a query shows unless asked for everything."""

    listed: Mapped[bool] = mapped_column(default=True)


class Ledger(Listed, BookBase):
    __tablename__ = "oev_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(20))
    balance: Mapped[int] = mapped_column(default=0)
    entries: Mapped[list[Entry]] = relationship(
        back_populates="ledger", cascade="all, delete-orphan", order_by="Entry.id"
    )


class Entry(Listed, BookBase):
    __tablename__ = "oev_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[int]
    ledger_id: Mapped[int] = mapped_column(ForeignKey("oev_ledger.id"))
    ledger: Mapped[Ledger] = relationship(back_populates="entries")


class Note(BookBase):
    __tablename__ = "oev_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(40))


@pytest.fixture
def engine(backend: Any) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    BookBase.metadata.create_all(eng)
    yield eng
    eng.dispose()


def _recorder(maker: Any, log: list[tuple[str, str]]) -> None:
    for name in TRANSITIONS:

        def record(session: Session, instance: Any, name: str = name) -> None:
            log.append((name, type(instance).__name__))

        event.listen(maker, name, record)


def test_configuration_events_fire_in_order() -> None:
    class Base(DeclarativeBase):
        pass

    log: list[Any] = []

    def before() -> None:
        log.append("before_configured")

    def after() -> None:
        log.append("after_configured")

    event.listen(Mapper, "before_configured", before)
    event.listen(Mapper, "after_configured", after)
    try:

        @event.listens_for(Base, "instrument_class", propagate=True)
        def instrumented(mapper: Mapper, cls: type) -> None:
            log.append(("instrument_class", cls.__name__))

        @event.listens_for(Base, "mapper_configured", propagate=True)
        def configured(mapper: Mapper, cls: type) -> None:
            log.append(("mapper_configured", cls.__name__))

        class Shelf(Base):
            __tablename__ = "oev_shelf"
            id: Mapped[int] = mapped_column(primary_key=True)

            @classmethod
            def __declare_last__(cls) -> None:
                log.append("declare_last")

        @event.listens_for(Shelf, "before_mapper_configured")
        def before_shelf(mapper: Mapper, cls: type) -> None:
            log.append(("before_mapper_configured", cls.__name__))

        configure_mappers()
    finally:
        event.remove(Mapper, "before_configured", before)
        event.remove(Mapper, "after_configured", after)
    assert log == [
        ("instrument_class", "Shelf"),
        "before_configured",
        ("before_mapper_configured", "Shelf"),
        ("mapper_configured", "Shelf"),
        "declare_last",
        "after_configured",
    ]


def test_state_transition_events_follow_each_object(engine: Engine) -> None:
    log: list[tuple[str, str]] = []
    maker = sessionmaker(engine)
    _recorder(maker, log)
    with maker() as session:
        entry = Entry(amount=5)  # held: the session keeps objects weakly
        ledger = Ledger(owner="ann", entries=[entry])
        session.add(ledger)
        session.commit()
    assert log == [
        ("transient_to_pending", "Ledger"),
        ("transient_to_pending", "Entry"),
        ("pending_to_persistent", "Ledger"),
        ("pending_to_persistent", "Entry"),
        ("persistent_to_detached", "Ledger"),
        ("persistent_to_detached", "Entry"),
    ]
    log.clear()
    with maker() as session:
        ledger = session.scalars(select(Ledger)).one()
        assert log == [("loaded_as_persistent", "Ledger")]
        scratch = Note(text="draft")
        session.add(scratch)
        session.expunge(scratch)
        session.expunge(ledger)
        session.add(ledger)
        assert log[1:] == [
            ("transient_to_pending", "Note"),
            ("pending_to_transient", "Note"),
            ("persistent_to_detached", "Ledger"),
            ("detached_to_persistent", "Ledger"),
        ]
        log.clear()
        session.delete(ledger)
        extra = Note(text="kept until rollback")
        session.add(extra)
        session.flush()
        session.rollback()
        assert sorted(log) == sorted(
            [
                ("loaded_as_persistent", "Entry"),
                ("transient_to_pending", "Note"),
                ("pending_to_persistent", "Note"),
                ("persistent_to_deleted", "Entry"),
                ("persistent_to_deleted", "Ledger"),
                ("persistent_to_transient", "Note"),
                ("deleted_to_persistent", "Entry"),
                ("deleted_to_persistent", "Ledger"),
            ]
        )
        log.clear()
        session.delete(session.scalars(select(Ledger)).one())
        session.commit()
        assert ("deleted_to_detached", "Ledger") in log
        assert ("deleted_to_detached", "Entry") in log


def test_before_flush_may_change_and_add_objects(engine: Engine) -> None:
    maker = sessionmaker(engine)

    @event.listens_for(maker, "before_flush")
    def keep_balance(session: Session, context: Any, instances: Any) -> None:
        for obj in [*session.new, *session.dirty]:
            if isinstance(obj, Ledger):
                obj.balance = sum(e.amount for e in obj.entries)
                session.add(Note(text=f"{obj.owner} now {obj.balance}"))

    with maker() as session:
        session.add(Ledger(owner="bo", entries=[Entry(amount=2), Entry(amount=3)]))
        session.commit()
    with maker() as session, session.no_autoflush:
        ledger = session.scalars(select(Ledger)).one()
        ledger.entries.append(Entry(amount=10))
        ledger.owner = "bo2"
        session.commit()
    with Session(engine) as session:
        assert session.scalars(select(Ledger.balance)).one() == 15
        notes = session.scalars(select(Note.text).order_by(Note.id)).all()
        assert notes == ["bo now 5", "bo2 now 15"]


def test_do_orm_execute_adds_criteria_for_a_mixin_unless_asked(engine: Engine) -> None:
    with Session(engine) as session:
        session.add_all(
            [
                Ledger(owner="a", entries=[Entry(amount=1), Entry(amount=2, listed=False)]),
                Ledger(owner="b", listed=False),
            ]
        )
        session.commit()
    maker = sessionmaker(engine)

    @event.listens_for(maker, "do_orm_execute")
    def only_listed(state: Any) -> None:
        if (
            state.is_select
            and not state.is_column_load
            and not state.is_relationship_load
            and not state.execution_options.get("everything", False)
        ):
            state.statement = state.statement.options(
                with_loader_criteria(Listed, lambda cls: cls.listed == True, include_aliases=True)  # noqa: E712
            )

    with maker() as session:
        ledgers = session.scalars(select(Ledger)).all()
        assert [x.owner for x in ledgers] == ["a"]
        assert [e.amount for e in ledgers[0].entries] == [1]
        every = session.scalars(select(Ledger), execution_options={"everything": True})
        assert len(every.all()) == 2
        assert len(session.scalars(select(Ledger).execution_options(everything=True)).all()) == 2


def test_do_orm_execute_replays_cached_results_merged_into_each_session(engine: Engine) -> None:
    with Session(engine) as session:
        session.add_all([Note(text="one"), Note(text="two")])
        session.commit()
    cache: dict[str, Any] = {}
    maker = sessionmaker(engine)
    ran: list[str] = []

    @event.listens_for(maker, "do_orm_execute")
    def cached(state: Any) -> Any:
        key = state.execution_options.get("cache_as")
        if key is None:
            return None
        if key not in cache:
            ran.append(key)
            cache[key] = state.invoke_statement().freeze()
        return merge_frozen_result(state.session, state.statement, cache[key], load=False)()

    stmt = select(Note).order_by(Note.id).execution_options(cache_as="notes")
    with maker() as first:
        found = first.scalars(stmt).all()
        assert [n.text for n in found] == ["one", "two"]
    with maker() as second:
        again = second.scalars(stmt).all()
        assert [n.text for n in again] == ["one", "two"]
        assert all(n in second for n in again)
        assert not any(a is b for a, b in zip(found, again, strict=True))
    assert ran == ["notes"]


def test_active_history_loads_the_old_value_for_the_set_event(engine: Engine) -> None:
    seen: list[tuple[Any, Any]] = []

    def on_set(target: Any, value: Any, old: Any, initiator: Any) -> None:
        seen.append((value, old))

    event.listen(Note.text, "set", on_set, active_history=True)
    try:
        with Session(engine) as session:
            session.add(Note(text="first"))
            session.commit()
            note = session.scalars(select(Note)).one()
            session.expire(note)
            seen.clear()
            note.text = "second"
            assert seen == [("second", "first")]
    finally:
        event.remove(Note.text, "set", on_set)
    with pytest.raises(TypeError, match="unexpected option"):
        event.listen(Note.text, "set", on_set, bogus=True)


def test_collection_events_on_assignment_fire_once_and_keep_returned_values() -> None:
    log: list[tuple[str, int]] = []

    def on_append(target: Any, value: Entry, initiator: Any) -> Entry:
        log.append(("append", value.amount))
        return Entry(amount=value.amount * 100)

    def on_remove(target: Any, value: Entry, initiator: Any) -> None:
        log.append(("remove", value.amount))

    event.listen(Ledger.entries, "append", on_append, retval=True)
    event.listen(Ledger.entries, "remove", on_remove)
    try:
        ledger = Ledger(owner="c")
        ledger.entries.append(Entry(amount=1))
        ledger.entries = [Entry(amount=2)]
    finally:
        event.remove(Ledger.entries, "append", on_append)
        event.remove(Ledger.entries, "remove", on_remove)
    assert log == [("append", 1), ("append", 2), ("remove", 100)]
    assert [e.amount for e in ledger.entries] == [200]


def test_modified_and_init_collection_events() -> None:
    log: list[str] = []

    def on_modified(target: Any, initiator: Any) -> None:
        log.append("modified")

    def on_init(target: Any, collection: Any, adapter: Any) -> None:
        log.append(f"init_collection {type(collection).__name__}")

    event.listen(Ledger.owner, "modified", on_modified)
    event.listen(Ledger.entries, "init_collection", on_init)
    try:
        ledger = Ledger(owner="d")
        assert ledger.entries == []
        flag_modified(ledger, "owner")
    finally:
        event.remove(Ledger.owner, "modified", on_modified)
        event.remove(Ledger.entries, "init_collection", on_init)
    assert log == ["init_collection InstrumentedList", "modified"]


def test_do_orm_execute_sees_user_options_and_the_lazy_loaded_object(engine: Engine) -> None:
    class Region(UserDefinedOption):
        pass

    with Session(engine) as session:
        session.add(Ledger(owner="e", entries=[Entry(amount=1)]))
        session.commit()
    maker = sessionmaker(engine)
    seen: list[tuple[list[Any], Any]] = []

    @event.listens_for(maker, "do_orm_execute")
    def record(state: Any) -> None:
        seen.append(([o.payload for o in state.user_defined_options], state.lazy_loaded_from))

    with maker() as session:
        ledger = session.scalars(select(Ledger).options(Region("hot"))).one()
        assert [e.amount for e in ledger.entries] == [1]
        assert seen[0] == (["hot"], None)
        assert seen[1][1] is not None and seen[1][1].object is ledger


def test_init_failure_fires_when_a_constructor_raises() -> None:
    class Base(DeclarativeBase):
        pass

    class Voucher(Base):
        __tablename__ = "oev_voucher"
        id: Mapped[int] = mapped_column(primary_key=True)
        code: Mapped[str] = mapped_column(String(10))

        def __init__(self, code: str) -> None:
            if not code:
                raise ValueError("a voucher needs a code")
            self.code = code

    log: list[tuple[str, tuple[Any, ...]]] = []
    event.listen(Voucher, "init", lambda target, args, kwargs: log.append(("init", args)))
    event.listen(Voucher, "init_failure", lambda target, args, kwargs: log.append(("failed", args)))
    Voucher("ok")
    with pytest.raises(ValueError, match="needs a code"):
        Voucher("")
    assert log == [("init", ("ok",)), ("init", ("",)), ("failed", ("",))]
