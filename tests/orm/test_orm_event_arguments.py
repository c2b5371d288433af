"""What ORM events are given and when they fire: the flush context of the flush events,
``before_update``/``after_update`` for objects changed through relationships only, and the
configuration events on a declarative base."""

from __future__ import annotations

from collections.abc import Iterator
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
from athanor.exc import IntegrityError, InvalidRequestError
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    Session,
    SessionTransactionOrigin,
    configure_mappers,
    mapped_column,
    registry,
    relationship,
    synonym,
)
from athanor.orm import mapper as mapper_module
from athanor.orm.attributes import (
    OP_APPEND,
    OP_BULK_REPLACE,
    OP_REMOVE,
    OP_REPLACE,
    AttributeEventToken,
    Event,
)
from athanor.orm.collections import CollectionAdapter, collection_adapter
from athanor.orm.unitofwork import UOWTransaction


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "eva_shelves"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20), default="s")
    books: Mapped[list[Book]] = relationship(back_populates="shelf")


class Book(Base):
    __tablename__ = "eva_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int | None] = mapped_column(ForeignKey("eva_shelves.id"))
    shelf: Mapped[Shelf | None] = relationship(back_populates="books")


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    Base.metadata.drop_all(eng)
    eng.dispose()


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    with Session(engine) as s:
        s.add_all([Shelf(id=1), Shelf(id=2), Book(id=1, shelf_id=1)])
        s.commit()
        yield s


@pytest.mark.backends("sqlite")
def test_flush_events_share_one_flush_context(session: Session) -> None:
    seen: list[tuple[str, Any]] = []

    def before_flush(s: Session, context: Any, instances: Any) -> None:
        assert context.session is s and instances is None
        context.attributes["mark"] = "set before"
        seen.append(("before_flush", context))

    def after_flush(s: Session, context: Any) -> None:
        seen.append(("after_flush", context))

    def postexec(s: Session, context: Any) -> None:
        seen.append(("after_flush_postexec", context))

    event.listen(session, "before_flush", before_flush)
    event.listen(session, "after_flush", after_flush)
    event.listen(session, "after_flush_postexec", postexec)
    session.add(Shelf(id=3))
    session.flush()
    assert [name for name, _ in seen] == ["before_flush", "after_flush", "after_flush_postexec"]
    contexts = {id(context) for _, context in seen}
    assert len(contexts) == 1
    context = seen[0][1]
    assert isinstance(context, UOWTransaction)
    assert context.attributes == {"mark": "set before"}


@pytest.mark.backends("sqlite")
def test_flush_context_tells_deleted_objects(session: Session) -> None:
    found: list[bool] = []
    shelf = session.get(Shelf, 2)
    book = session.get(Book, 1)

    @event.listens_for(session, "after_flush")
    def after_flush(s: Session, context: Any) -> None:
        found.extend([context.is_deleted(inspect(shelf)), context.is_deleted(inspect(book))])

    session.delete(shelf)
    session.flush()
    assert found == [True, False]


def _update_log(*classes: type) -> list[tuple[str, str, int]]:
    log: list[tuple[str, str, int]] = []
    for cls in classes:
        for name in ("before_update", "after_update"):

            def record(mapper: Any, connection: Any, target: Any, name: str = name) -> None:
                log.append((name, type(target).__name__, target.id))

            event.listen(cls, name, record)
    return log


@pytest.fixture
def update_log() -> Iterator[list[tuple[str, str, int]]]:
    log = _update_log(Shelf, Book)
    yield log
    for cls in (Shelf, Book):
        for name in ("before_update", "after_update"):
            for fn in list(getattr(cls.__mapper__.dispatch, name)):
                event.remove(cls, name, fn)


@pytest.fixture
def refresh_log() -> Iterator[list[Any]]:
    """The attributes each ``refresh`` event of a Shelf names, in order."""
    seen: list[Any] = []

    def refreshed(target: Any, context: Any, attrs: Any) -> None:
        seen.append(attrs)

    event.listen(Shelf, "refresh", refreshed)
    yield seen
    event.remove(Shelf, "refresh", refreshed)


def test_update_events_fire_for_relationship_only_changes(
    session: Session, update_log: list[tuple[str, str, int]]
) -> None:
    book = session.get(Book, 1)
    assert book is not None
    book.shelf = session.get(Shelf, 2)  # the new shelf's unloaded collection gains the book
    session.commit()
    assert update_log == [
        ("before_update", "Shelf", 2),
        ("after_update", "Shelf", 2),
        ("before_update", "Book", 1),
        ("after_update", "Book", 1),
    ]
    update_log.clear()
    shelf = session.get(Shelf, 1)
    assert shelf is not None
    shelf.books.append(Book(id=5))  # the shelf's own row does not change
    session.commit()
    assert update_log == [("before_update", "Shelf", 1), ("after_update", "Shelf", 1)]


def test_update_events_fire_for_a_value_set_back(
    session: Session, update_log: list[tuple[str, str, int]]
) -> None:
    shelf = session.get(Shelf, 1)
    assert shelf is not None
    shelf.label = "other"
    shelf.label = "s"
    session.commit()
    assert update_log == [("before_update", "Shelf", 1), ("after_update", "Shelf", 1)]


def test_configure_events_on_a_declarative_base() -> None:
    calls: list[str] = []

    class Other(DeclarativeBase):
        pass

    class Unrelated(DeclarativeBase):
        pass

    def note(name: str) -> Any:
        return lambda: calls.append(name)

    event.listen(Other, "before_configured", note("before Other"))
    event.listen(Other, "after_configured", note("after Other"))
    mapper_before, mapper_after = note("before Mapper"), note("after Mapper")
    event.listen(Mapper, "before_configured", mapper_before)
    event.listen(mapper_module, "after_configured", mapper_after)
    try:

        class Elsewhere(Unrelated):
            __tablename__ = "eva_elsewhere"
            id: Mapped[int] = mapped_column(primary_key=True)

        configure_mappers()
        assert calls == ["before Mapper", "after Mapper"]
        calls.clear()

        class Here(Other):
            __tablename__ = "eva_here"
            id: Mapped[int] = mapped_column(primary_key=True)

        configure_mappers()
        assert calls == ["before Mapper", "before Other", "after Other", "after Mapper"]
    finally:
        event.remove(Mapper, "before_configured", mapper_before)
        event.remove(mapper_module, "after_configured", mapper_after)


@pytest.mark.backends("sqlite")
def test_refresh_event_names_attributes_in_a_frozenset(
    session: Session, refresh_log: list[Any]
) -> None:
    shelf = session.get(Shelf, 1)
    assert shelf is not None
    session.expire(shelf, ["label"])
    assert shelf.label == "s"
    session.refresh(shelf)
    assert refresh_log == [frozenset({"label"}), None]


@pytest.mark.backends("sqlite")
def test_init_failure_fires_for_an_unknown_keyword() -> None:
    seen: list[tuple[Any, Any]] = []

    @event.listens_for(Shelf, "init_failure")
    def failed(target: Any, args: Any, kwargs: Any) -> None:
        seen.append((args, kwargs))

    try:
        with pytest.raises(TypeError, match="'bogus' is an invalid keyword argument for Shelf"):
            Shelf(id=4, bogus=1)
        assert seen == [((), {"id": 4, "bogus": 1})]
    finally:
        event.remove(Shelf, "init_failure", failed)


def test_deleted_object_is_detached_after_commit(session: Session) -> None:
    shelf = session.get(Shelf, 2)
    assert shelf is not None
    state = inspect(shelf)
    session.delete(shelf)
    session.flush()
    assert (state.deleted, state.was_deleted, state.detached) == (True, True, False)
    session.commit()
    assert (state.deleted, state.was_deleted, state.detached) == (False, True, True)
    assert not state.persistent
    with pytest.raises(InvalidRequestError, match="has been deleted"):
        session.add(shelf)


def test_deleted_object_rolled_back_is_persistent_again(session: Session) -> None:
    shelf = session.get(Shelf, 2)
    assert shelf is not None
    state = inspect(shelf)
    session.delete(shelf)
    session.flush()
    session.rollback()
    assert (state.deleted, state.was_deleted, state.persistent) == (False, False, True)


@pytest.mark.backends("sqlite")
def test_synonyms_count_as_unloaded() -> None:
    class SynBase(DeclarativeBase):
        pass

    class Named(SynBase):
        __tablename__ = "eva_named"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(20))
        title = synonym("name")

    obj = Named(id=1, name="n")
    assert inspect(obj).unloaded == {"title"}


@pytest.mark.backends("sqlite")
def test_orm_execute_state_of_attribute_loads(session: Session) -> None:
    seen: list[tuple[str, bool, bool, bool, Any, bool]] = []

    @event.listens_for(session, "do_orm_execute")
    def observe(state: Any) -> None:
        kind = "column" if state.is_column_load else "relationship"
        if not (state.is_column_load or state.is_relationship_load):
            kind = "query"
        seen.append(
            (
                kind,
                state.is_orm_statement,
                state.is_column_load,
                state.is_relationship_load,
                state.bind_arguments.get("mapper"),
                state.bind_arguments["clause"] is state.statement,
            )
        )

    shelf = session.get(Shelf, 1)
    assert shelf is not None
    assert seen == [("query", True, False, False, Shelf.__mapper__, True)]
    seen.clear()
    session.expire(shelf, ["label"])
    assert shelf.label == "s"
    assert [b.id for b in shelf.books] == [1]
    shelves, books = Shelf.__mapper__, Book.__mapper__
    assert seen == [
        ("column", True, True, False, shelves, True),
        ("relationship", True, False, True, books, True),
    ]


@pytest.mark.backends("sqlite")
def test_orm_execute_bind_arguments_reach_get_bind(engine: Any) -> None:
    asked: list[Any] = []

    class Picking(Session):
        def get_bind(self, mapper: Any = None, **kw: Any) -> Any:
            asked.append(mapper)
            return super().get_bind(mapper, **kw)

    with Picking(engine) as session:

        @event.listens_for(session, "do_orm_execute")
        def redirect(state: Any) -> None:
            assert state.bind_arguments["mapper"] is Shelf.__mapper__
            state.bind_arguments["mapper"] = Book.__mapper__

        session.scalars(select(Shelf)).all()
    assert asked == [Book.__mapper__]


@pytest.mark.backends("sqlite")
def test_attribute_events_get_an_event_token() -> None:
    seen: list[tuple[str, str, Any]] = []

    def note(kind: str) -> Any:
        def record(target: Any, value: Any, *rest: Any) -> None:
            token = rest[-1]
            assert isinstance(token, AttributeEventToken)
            seen.append((kind, token.key, token.op))

        return record

    listened = [
        (Shelf.label, "set", note("label set")),
        (Shelf.books, "append", note("books append")),
        (Shelf.books, "remove", note("books remove")),
        (Book.shelf, "set", note("shelf set")),
    ]
    configure_mappers()  # listeners registered since run after the other side is updated
    for attr, name, fn in listened:
        event.listen(attr, name, fn)
    try:
        shelf, book = Shelf(id=7), Book(id=7)
        shelf.label = "x"
        shelf.books.append(book)  # the backref sets book.shelf: its token names books
        shelf.books.remove(book)
        book.shelf = shelf  # the backref appends to shelf.books: its token names shelf
        assert seen == [
            ("label set", "label", OP_REPLACE),
            ("shelf set", "books", OP_APPEND),
            ("books append", "books", OP_APPEND),
            ("shelf set", "books", OP_REMOVE),
            ("books remove", "books", OP_REMOVE),
            ("books append", "shelf", OP_REPLACE),
            ("shelf set", "shelf", OP_REPLACE),
        ]
    finally:
        for attr, name, fn in listened:
            event.remove(attr, name, fn)
    assert AttributeEventToken(Shelf.books.impl, OP_APPEND) == Event(Shelf.books.impl, OP_APPEND)


@pytest.mark.backends("sqlite")
def test_collection_events_get_the_collection_adapter() -> None:
    seen: list[tuple[str, Any, Any]] = []

    def init(target: Any, collection: Any, adapter: Any) -> None:
        seen.append(("init", collection, adapter))

    def dispose(target: Any, collection: Any, adapter: Any) -> None:
        seen.append(("dispose", collection, adapter))

    event.listen(Shelf.books, "init_collection", init)
    event.listen(Shelf.books, "dispose_collection", dispose)
    try:
        shelf = Shelf(id=8)
        first = shelf.books
        shelf.books = [Book(id=8)]
        kinds = [kind for kind, _, _ in seen]
        assert kinds == ["init", "init", "dispose"]
        for _, collection, adapter in seen:
            assert isinstance(adapter, CollectionAdapter)
            assert adapter.data is collection
            assert adapter.owner_state is inspect(shelf)
            assert adapter.attr is Shelf.books.impl
        assert seen[0][1] is first and seen[2][1] is first
        assert [b.id for b in seen[1][2]] == [8]
        assert collection_adapter(shelf.books).data is shelf.books  # type: ignore[union-attr]
        assert collection_adapter([]) is None
    finally:
        event.remove(Shelf.books, "init_collection", init)
        event.remove(Shelf.books, "dispose_collection", dispose)


def test_configure_events_refused_on_a_mapped_class() -> None:
    with pytest.raises(InvalidRequestError, match="before_configured"):
        event.listen(Shelf, "before_configured", lambda: None)


TRANSACTION_EVENTS = (
    "after_transaction_create",
    "after_transaction_end",
    "after_begin",
    "after_commit",
    "after_rollback",
    "after_soft_rollback",
)


def _transaction_log(session: Session) -> list[str]:
    """The transaction events ``session`` fires, as ``name kind`` (root, nested, sub (a
    flush's subtransaction) or -)."""
    log: list[str] = []

    def listener(name: str) -> Any:
        def record(s: Session, *args: Any) -> None:
            tx = args[0] if args else None  # after_commit/after_rollback get none
            kind = "-"
            if tx is not None:
                kind = "nested" if tx.nested else "root" if tx.parent is None else "sub"
            log.append(f"{name} {kind}")

        return record

    for name in TRANSACTION_EVENTS:
        event.listen(session, name, listener(name))
    return log


def test_transaction_events_of_savepoints(engine: Any) -> None:
    with Session(engine) as session:
        log = _transaction_log(session)
        session.add(Shelf(id=10))
        session.flush()
        savepoint = session.begin_nested()
        session.add(Shelf(id=11))
        savepoint.commit()
        savepoint = session.begin_nested()
        session.add(Shelf(id=12))
        session.flush()
        savepoint.rollback()
        session.commit()
        assert log == [
            "after_transaction_create root",
            "after_transaction_create sub",
            "after_begin root",
            "after_transaction_end sub",
            "after_transaction_create nested",
            "after_transaction_create sub",
            "after_begin nested",  # its SAVEPOINT begins with its first statement
            "after_transaction_end sub",
            "after_commit -",
            "after_transaction_end nested",
            "after_transaction_create nested",
            "after_transaction_create sub",
            "after_begin nested",
            "after_transaction_end sub",
            "after_rollback -",
            "after_transaction_end nested",
            "after_soft_rollback nested",
            "after_commit -",
            "after_transaction_end root",
        ]
        assert session.get(Shelf, 11) is not None and session.get(Shelf, 12) is None


def test_transaction_events_of_close_and_rollback(engine: Any) -> None:
    with Session(engine) as session:
        log = _transaction_log(session)
        session.add(Shelf(id=13))
        session.flush()
        session.rollback()
        assert log == [
            "after_transaction_create root",
            "after_transaction_create sub",
            "after_begin root",
            "after_transaction_end sub",
            "after_rollback -",
            "after_transaction_end root",
            "after_soft_rollback root",
        ]
        log.clear()
        session.add(Shelf(id=14))
        session.flush()
        session.close()  # a close ends the transaction without rollback events
        assert log == [
            "after_transaction_create root",
            "after_transaction_create sub",
            "after_begin root",
            "after_transaction_end sub",
            "after_transaction_end root",
        ]


def test_add_begins_the_transaction_without_a_connection(engine: Any) -> None:
    with Session(engine) as session:
        log = _transaction_log(session)
        session.add(Shelf(id=15))
        assert log == ["after_transaction_create root"]
        assert session.in_transaction() and engine.pool.checkedout() == 0
        session.rollback()
        assert log == [
            "after_transaction_create root",
            "after_rollback -",
            "after_transaction_end root",
            "after_soft_rollback root",
        ]
        assert not session.in_transaction()


def test_add_begins_the_transaction_nobody_listens_to(engine: Any) -> None:
    with Session(engine) as session:
        session.add(Shelf(id=16))
        assert session.in_transaction() and engine.pool.checkedout() == 0
        with pytest.raises(InvalidRequestError, match="already begun"):
            session.begin()
        session.expunge_all()
        assert session.in_transaction()  # the transaction outlives what was added
        session.commit()
        assert not session.in_transaction()
        session.add(Shelf(id=17))
        transaction = session.get_transaction()
        assert transaction is not None and transaction.is_active
        session.commit()
        assert not transaction.is_active and not session.in_transaction()
        session.add_all([Shelf(id=18)])
        assert session.in_transaction()
        session.rollback()
        assert not session.in_transaction()
        assert session.scalars(select(Shelf.id).order_by(Shelf.id)).all() == [17]


@pytest.mark.backends("sqlite")
def test_backref_runs_after_listeners_registered_before_configuration() -> None:
    class LocalBase(DeclarativeBase):
        pass

    class Rack(LocalBase):
        __tablename__ = "eva_racks"
        id: Mapped[int] = mapped_column(primary_key=True)
        crates: Mapped[list[Crate]] = relationship(back_populates="rack")

    class Crate(LocalBase):
        __tablename__ = "eva_crates"
        id: Mapped[int] = mapped_column(primary_key=True)
        rack_id: Mapped[int | None] = mapped_column(ForeignKey("eva_racks.id"))
        rack: Mapped[Rack | None] = relationship(back_populates="crates")

    seen: list[tuple[str, bool]] = []

    def note(when: str) -> Any:
        def record(target: Any, value: Any, initiator: Any) -> None:
            seen.append((when, value.__dict__.get("rack") is target))

        return record

    early, late = note("early"), note("late")
    event.listen(Rack.crates, "append", early)
    configure_mappers()
    event.listen(Rack.crates, "append", late)
    rack = Rack(id=1)
    rack.crates.append(Crate(id=1))
    assert seen == [("early", False), ("late", True)]


@pytest.mark.backends("sqlite")
def test_bulk_replace_names_its_operation_to_each_event() -> None:
    seen: list[tuple[str, Any, str, Any]] = []

    def note(kind: str) -> Any:
        def record(target: Any, value: Any, *rest: Any) -> None:
            token = rest[-1]
            item = [b.id for b in value] if isinstance(value, list) else getattr(value, "id", None)
            seen.append((kind, item, token.key, token.op))

        return record

    listened = [
        (Shelf.books, "bulk_replace", note("bulk")),
        (Shelf.books, "append", note("append")),
        (Shelf.books, "remove", note("remove")),
        (Book.shelf, "set", note("set")),
    ]
    shelf, kept, gone, new = Shelf(id=9), Book(id=1), Book(id=2), Book(id=3)
    shelf.books.extend([kept, gone])
    for attr, name, fn in listened:
        event.listen(attr, name, fn)
    try:
        shelf.books = [kept, new]
        assert seen == [
            ("bulk", [1, 3], "books", OP_BULK_REPLACE),
            ("set", 9, "books", OP_BULK_REPLACE),
            ("append", 3, "books", OP_BULK_REPLACE),
            ("set", None, "books", OP_BULK_REPLACE),
            ("remove", 2, "books", OP_BULK_REPLACE),
        ]
        assert new.shelf is shelf and gone.shelf is None
    finally:
        for attr, name, fn in listened:
            event.remove(attr, name, fn)


def test_refresh_event_names_relationships(session: Session, refresh_log: list[Any]) -> None:
    shelf = session.get(Shelf, 1)
    assert shelf is not None
    session.refresh(shelf, ["books"])  # read by its key, which the event names too
    session.refresh(shelf, ["label", "books"])
    assert [b.id for b in shelf.books] == [1]
    session.expire(shelf)
    assert shelf.label == "s"  # the whole object was expired: its relationship too
    session.expire(shelf)
    session.scalars(select(Shelf).where(Shelf.id == 1)).all()  # so for a query's row
    assert [b.id for b in shelf.books] == [1]
    session.expire(shelf, ["label"])
    session.scalars(select(Shelf).where(Shelf.id == 1)).all()
    session.scalars(
        select(Shelf).where(Shelf.id == 1).execution_options(populate_existing=True)
    ).all()
    assert refresh_log == [
        frozenset({"books", "id"}),
        frozenset({"books", "id", "label"}),
        frozenset({"books", "id", "label"}),
        frozenset({"books", "id", "label"}),
        frozenset({"label"}),
        None,
    ]


def test_expired_attributes_of_a_whole_object_name_its_relationships(session: Session) -> None:
    shelf = session.get(Shelf, 1)
    assert shelf is not None
    state = inspect(shelf)
    assert state.expired_attributes == set()
    session.expire(shelf, ["label"])
    assert state.expired_attributes == {"label"}
    session.expire(shelf, ["books"])  # a relationship expired by name: not listed
    assert state.expired_attributes == {"label"}
    session.commit()
    assert state.expired_attributes == {"id", "label", "books"}
    assert [b.id for b in shelf.books] == [1]  # loads the columns first, then the books
    assert state.expired_attributes == set()


def test_an_unused_savepoint_begins_nothing(engine: Any) -> None:
    with Session(engine) as session:
        session.connection()
        log = _transaction_log(session)
        savepoint = session.begin_nested()
        assert log == ["after_transaction_create nested"]
        savepoint.commit()
        savepoint = session.begin_nested()
        session.add(Shelf(id=19))
        savepoint.rollback()
        assert log == [
            "after_transaction_create nested",
            "after_commit -",
            "after_transaction_end nested",
            "after_transaction_create nested",
            "after_rollback -",
            "after_transaction_end nested",
            "after_soft_rollback nested",
        ]
        assert session.get(Shelf, 19) is None


def test_a_failed_flush_tells_of_its_rollback_then(engine: Any) -> None:
    with Session(engine) as session:
        session.add(Shelf(id=20))
        session.commit()
        log = _transaction_log(session)
        session.add(Shelf(id=20))
        with pytest.raises(IntegrityError):
            session.flush()
        assert log == [
            "after_transaction_create root",
            "after_transaction_create sub",
            "after_begin root",
            "after_rollback -",
            "after_transaction_end sub",
            "after_soft_rollback sub",
        ]
        log.clear()
        session.rollback()  # the database rolled back already: no second after_rollback
        assert log == ["after_transaction_end root", "after_soft_rollback root"]


def test_mapper_events_on_a_class_not_mapped_without_propagate() -> None:
    """Taken, as SQLAlchemy takes them: on a declarative base they never fire; on a plain
    class they fire once that class is mapped."""
    seen: list[tuple[str, str]] = []

    class LocalBase(DeclarativeBase):
        pass

    def note(kind: str) -> Any:
        return lambda mapper, cls: seen.append((kind, cls.__name__))

    event.listen(LocalBase, "mapper_configured", note("base"))
    event.listen(LocalBase, "mapper_configured", note("propagated"), propagate=True)

    class Pallet(LocalBase):
        __tablename__ = "eva_pallets"
        id: Mapped[int] = mapped_column(primary_key=True)

    class Loose:
        pass

    event.listen(Loose, "mapper_configured", note("loose"))
    registry().map_imperatively(
        Loose, Table("eva_loose", MetaData(), Column("id", Integer, primary_key=True))
    )
    configure_mappers()
    assert sorted(seen) == [("loose", "Loose"), ("propagated", "Pallet")]


def test_transaction_origins_and_begin_nested_without_autobegin(engine: Any) -> None:
    origins: list[SessionTransactionOrigin] = []
    with Session(engine, autobegin=False) as session:
        event.listen(session, "after_transaction_create", lambda s, tx: origins.append(tx.origin))
        savepoint = session.begin_nested()  # begins the transaction itself, as begin() does
        session.add(Shelf(id=21))
        savepoint.commit()
        session.commit()
        assert not session.in_transaction()
    assert origins == [
        SessionTransactionOrigin.BEGIN,
        SessionTransactionOrigin.BEGIN_NESTED,
        SessionTransactionOrigin.SUBTRANSACTION,
    ]
    with Session(engine) as session:
        session.add(Shelf(id=22))
        transaction = session.get_transaction()
        assert transaction is not None
        assert transaction.origin is SessionTransactionOrigin.AUTOBEGIN
        assert session.get(Shelf, 21) is not None


@pytest.mark.backends("sqlite")
def test_after_mapper_constructed_fires_before_configuration() -> None:
    """Once per mapper, when it holds its properties but is not configured yet: listened on
    ``Mapper``, on a declarative base with propagate, or on a mapped class for its subclasses."""
    seen: list[tuple[str, str, bool, bool]] = []

    class ShelfBase(DeclarativeBase):
        pass

    def note(kind: str) -> Any:
        def record(mapper: Mapper, cls: type) -> None:
            seen.append((kind, cls.__name__, "label" in mapper.columns, mapper.configured))

        return record

    on_mapper = note("Mapper")
    event.listen(Mapper, "after_mapper_constructed", on_mapper)
    try:
        event.listen(ShelfBase, "after_mapper_constructed", note("base"), propagate=True)
        event.listen(ShelfBase, "after_mapper_constructed", note("base only"))

        class Shelf(ShelfBase):
            __tablename__ = "amc_shelves"
            id: Mapped[int] = mapped_column(primary_key=True)
            label: Mapped[str] = mapped_column(String(20))

        event.listen(Shelf, "after_mapper_constructed", note("Shelf"))
        event.listen(Shelf, "after_mapper_constructed", note("below Shelf"), propagate=True)

        class WallShelf(Shelf):
            __tablename__ = "amc_wall_shelves"
            id: Mapped[int] = mapped_column(ForeignKey("amc_shelves.id"), primary_key=True)

        class Loose:
            pass

        event.listen(Loose, "after_mapper_constructed", note("Loose"))
        registry().map_imperatively(
            Loose, Table("amc_loose", MetaData(), Column("id", Integer, primary_key=True))
        )
    finally:
        event.remove(Mapper, "after_mapper_constructed", on_mapper)
    assert seen == [
        ("Mapper", "Shelf", True, False),
        ("base", "Shelf", True, False),
        ("Mapper", "WallShelf", True, False),
        ("base", "WallShelf", True, False),
        ("below Shelf", "WallShelf", True, False),
        ("Mapper", "Loose", False, False),
        ("Loose", "Loose", False, False),
    ]
    configure_mappers()
    assert len(seen) == 7
