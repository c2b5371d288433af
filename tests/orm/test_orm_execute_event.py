"""The ``do_orm_execute`` session event: listeners see every statement a Session runs, can
add loader criteria (the global "hide soft-deleted rows" recipe), change execution options,
tell relationship and column loads apart, and answer a statement with a cached result."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import (
    ForeignKey,
    String,
    create_engine,
    delete,
    event,
    exc,
    func,
    insert,
    select,
    update,
)
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    relationship,
    selectinload,
    with_loader_criteria,
)
from orm.orm_models import StatementLog


class EventBase(DeclarativeBase):
    pass


class Hideable:
    """Mixin: rows with ``hidden`` set are left out of every query unless asked for."""

    hidden: Mapped[bool] = mapped_column(default=False)


class Board(Hideable, EventBase):
    __tablename__ = "ev_boards"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(30))
    body: Mapped[str | None] = mapped_column(String(30), deferred=True)
    cards: Mapped[list[Card]] = relationship(order_by="Card.id")


class Card(Hideable, EventBase):
    __tablename__ = "ev_cards"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    board_id: Mapped[int] = mapped_column(ForeignKey("ev_boards.id"))


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    EventBase.metadata.create_all(eng)
    with Session(eng) as session:
        session.add_all(
            [
                Board(id=1, title="open", body="b1", cards=[Card(id=1), Card(id=2, hidden=True)]),
                Board(id=2, title="gone", hidden=True, cards=[Card(id=3)]),
            ]
        )
        session.commit()
    yield eng
    eng.dispose()


class HidingSession(Session):
    """A Session class whose queries skip hidden rows (listener on this class only)."""


@event.listens_for(HidingSession, "do_orm_execute")
def _hide(state: ORMExecuteState) -> None:
    if (
        state.is_select
        and not state.is_column_load
        and not state.execution_options.get("show_hidden", False)
    ):
        state.statement = state.statement.options(
            with_loader_criteria(Hideable, lambda cls: cls.hidden.is_(False), include_aliases=True)
        )


def test_global_criteria_reach_queries_and_relationship_loads(engine: Any) -> None:
    with HidingSession(engine) as session:
        boards = session.scalars(select(Board).order_by(Board.id)).all()
        assert [b.id for b in boards] == [1]
        assert [c.id for c in boards[0].cards] == [1]
        session.expunge_all()
        loaded = session.scalars(select(Board).options(selectinload(Board.cards))).all()
        assert [[c.id for c in b.cards] for b in loaded] == [[1]]
        everything = session.scalars(
            select(Card).order_by(Card.id).execution_options(show_hidden=True)
        ).all()
        assert [c.id for c in everything] == [1, 2, 3]
        assert session.scalar(select(func.count()).select_from(Board)) == 1
    with Session(engine) as plain:
        assert len(plain.scalars(select(Card)).all()) == 3


def test_listener_sees_what_kind_of_load_runs(engine: Any) -> None:
    seen: list[tuple[bool, bool, bool]] = []
    with Session(engine) as session:

        @event.listens_for(session, "do_orm_execute")
        def record(state: ORMExecuteState) -> None:
            seen.append((state.is_select, state.is_relationship_load, state.is_column_load))

        board = session.get(Board, 1)
        assert [c.id for c in board.cards] == [1, 2]
        assert board.body == "b1"
        session.scalars(select(Board).options(selectinload(Board.cards))).all()
    assert seen == [
        (True, False, False),  # get()
        (True, True, False),  # lazy load of cards
        (True, False, True),  # deferred body
        (True, False, False),  # the query
        (True, True, False),  # its selectin load
    ]


def test_listener_flags_orm_dml(engine: Any) -> None:
    seen: list[tuple[bool, bool, bool, bool, list[Any]]] = []
    with Session(engine) as session:

        @event.listens_for(session, "do_orm_execute")
        def record(state: ORMExecuteState) -> None:
            seen.append(
                (
                    state.is_insert,
                    state.is_update,
                    state.is_delete,
                    state.is_executemany,
                    [m.class_ for m in state.all_mappers],
                )
            )

        session.execute(insert(Card), [{"id": 7, "board_id": 1}, {"id": 8, "board_id": 1}])
        session.execute(update(Card).where(Card.id == 7).values(hidden=True))
        session.execute(delete(Card).where(Card.id == 8))
    assert seen == [
        (True, False, False, True, [Card]),
        (False, True, False, False, [Card]),
        (False, False, True, False, [Card]),
    ]


def test_listener_reads_load_and_update_delete_options(engine: Any) -> None:
    seen: list[Any] = []
    with Session(engine) as session:

        @event.listens_for(session, "do_orm_execute")
        def record(state: ORMExecuteState) -> None:
            if state.is_select:
                options = state.load_options
                seen.append(
                    (
                        options._populate_existing,
                        options._autoflush,
                        options._yield_per,
                        options._identity_token,
                        options._lazy_loaded_from is not None,
                    )
                )
                with pytest.raises(exc.InvalidRequestError, match="update_delete_options"):
                    state.update_delete_options  # noqa: B018
            else:
                options = state.update_delete_options
                seen.append((options._synchronize_session, options._dml_strategy))
                with pytest.raises(exc.InvalidRequestError, match="load_options"):
                    state.load_options  # noqa: B018

        stmt = select(Board).where(Board.id == 1)
        board = session.scalars(stmt.execution_options(populate_existing=True)).one()
        session.scalars(stmt.execution_options(yield_per=5, autoflush=False)).all()
        assert [c.id for c in board.cards] == [1, 2]
        session.execute(
            update(Board).where(Board.id == 2).values(title="x"),
            execution_options={"synchronize_session": "fetch"},
        )
        session.execute(delete(Card).where(Card.id == 3))
    assert seen == [
        (True, True, None, None, False),
        (False, False, 5, None, False),
        (False, True, None, None, True),
        ("fetch", "auto"),
        ("auto", "auto"),
    ]


def test_listener_can_add_execution_options(engine: Any) -> None:
    with Session(engine) as session:
        board = session.get(Board, 1)
        session.execute(
            update(Board).where(Board.id == 1).values(title="renamed"),
            execution_options={"synchronize_session": False},
        )
        assert board.title == "open"

        @event.listens_for(session, "do_orm_execute")
        def refresh(state: ORMExecuteState) -> None:
            if state.is_select:
                state.update_execution_options(populate_existing=True)

        session.scalars(select(Board).where(Board.id == 1)).one()
        assert board.title == "renamed"


def test_listener_can_answer_from_a_cache(engine: Any) -> None:
    cache: dict[Any, Any] = {}
    log = StatementLog(engine)
    with Session(engine) as session:

        @event.listens_for(session, "do_orm_execute")
        def cached(state: ORMExecuteState) -> Any:
            key = state.execution_options.get("cache_key")
            if key is None:
                return None
            if key not in cache:
                cache[key] = state.invoke_statement().freeze()
            return cache[key]()

        stmt = select(Board.title).order_by(Board.id).execution_options(cache_key="titles")
        assert session.execute(stmt).all() == [("open",), ("gone",)]
        assert session.execute(stmt).all() == [("open",), ("gone",)]
    assert len(log.selects) == 1
