"""``select(Entity)`` of a shape run before goes straight to the cursor and the plain loader
(no ExecutionContext, no CursorResult) when nothing could tell: the same objects, results and
errors as the general path, which takes over as soon as anything watches (listeners, echo)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from athanor import create_engine, event, exc, insert, select, text
from athanor.orm import Session
from athanor.orm.loading import DirectLoad
from orm.orm_models import Base, Post, User


@pytest.fixture
def direct_runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The statements that ran by the direct path, in order."""
    runs: list[Any] = []
    original = DirectLoad.run

    def run(self: DirectLoad, scalars: bool = False) -> Any:
        runs.append(self.select.statement)
        return original(self, scalars)

    monkeypatch.setattr(DirectLoad, "run", run)
    return runs


def force_general(engine: Any) -> Any:
    """A connection listener (doing nothing) that sends every statement the general way."""

    def listener(*args: Any) -> None:
        pass

    event.listen(engine, "after_cursor_execute", listener)
    return listener


def reads(session: Session, statement: Any) -> list[Any]:
    result = session.execute(statement)
    keys = result.keys()
    objects = result.scalars().all()
    return [keys, [(u.id, u.username, u.age) for u in objects], result.closed]


STATEMENTS = {
    "one": lambda: select(User).where(User.id == 2),
    "several": lambda: select(User).where(User.age < 3).order_by(User.id),
    "none": lambda: select(User).where(User.id == -1),
    "many": lambda: select(User).where(User.age >= 0).order_by(User.id),
}


@pytest.mark.parametrize("shape", list(STATEMENTS))
def test_direct_path_gives_what_the_general_path_gives(
    engine: Any, backend: Any, direct_runs: list[Any], shape: str
) -> None:
    with Session(engine) as session:
        # More users than are fetched at once ("many" reads them through a CursorResult).
        session.execute(insert(User), [{"username": f"u{i}", "age": i} for i in range(130)])
        session.commit()
        statement = STATEMENTS[shape]
        session.execute(statement()).all()  # the shape's first run, the general way
        direct = reads(session, statement())
        assert len(direct_runs) == 1
        objects = session.scalars(statement()).all()
        assert all(session.get(User, u.id) is u for u in objects)
        session.expunge_all()
        listener = force_general(engine)
        try:
            general = reads(session, statement())
        finally:
            event.remove(engine, "after_cursor_execute", listener)
        assert len(direct_runs) == 2
        assert direct == general
        assert len(direct[1]) == {"one": 1, "several": 3, "none": 0, "many": 130}[shape]


def test_a_listener_registered_later_sends_the_next_select_the_general_way(
    engine: Any, direct_runs: list[Any]
) -> None:
    seen: list[str] = []
    with Session(engine) as session:
        session.execute(insert(User), [{"username": "a", "age": 1}])
        for _ in range(2):
            assert session.scalars(select(User).where(User.age == 1)).one().username == "a"
        assert len(direct_runs) == 1

        def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        event.listen(engine, "after_cursor_execute", listener)
        try:
            assert session.scalars(select(User).where(User.age == 1)).one().username == "a"
        finally:
            event.remove(engine, "after_cursor_execute", listener)
        assert len(direct_runs) == 1
        assert len(seen) == 1 and seen[0].startswith("SELECT")
        session.scalars(select(User).where(User.age == 1)).one()
        assert len(direct_runs) == 2


def test_echo_logs_every_select(
    backend: Any, direct_runs: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(backend.url, echo=True)
    Base.metadata.create_all(engine)
    try:
        with caplog.at_level(logging.INFO, logger="athanor.engine"), Session(engine) as session:
            for _ in range(3):
                session.scalars(select(User).where(User.id == 1)).first()
        logged = [r.getMessage() for r in caplog.records if "FROM users" in r.getMessage()]
        assert len(logged) == 3
        assert direct_runs == []
    finally:
        engine.dispose()


def load_user_by_age_ratio(session: Session, divisor: int) -> Any:
    return session.scalars(select(User).where(User.age / divisor == 1)).first()


@pytest.mark.backends("postgresql")
def test_an_error_from_the_database_is_wrapped_as_on_the_general_path(
    engine: Any, direct_runs: list[Any]
) -> None:
    failures: list[Any] = []
    with Session(engine) as session:
        session.execute(insert(User), [{"username": "a", "age": 1}])
        session.commit()
        assert load_user_by_age_ratio(session, 1).username == "a"
        for general in (False, True):
            listener = force_general(engine) if general else None
            try:
                with pytest.raises(exc.DBAPIError) as caught:
                    load_user_by_age_ratio(session, 0)
            finally:
                if listener is not None:
                    event.remove(engine, "after_cursor_execute", listener)
            failures.append(caught.value)
            session.rollback()
        assert len(direct_runs) == 1
    direct, general_error = failures
    assert type(direct) is type(general_error) is exc.DataError
    assert direct.statement == general_error.statement
    assert direct.params == general_error.params
    assert str(direct) == str(general_error)
    assert direct.connection_invalidated is False


def kill(backend: Any, session: Session) -> None:
    query = "SELECT pg_backend_pid()" if backend.name == "postgresql" else "SELECT CONNECTION_ID()"
    backend.kill_session(int(session.execute(text(query)).scalar_one()))


@pytest.mark.backends("postgresql", "mysql")
def test_a_disconnect_invalidates_the_connection_and_the_session_recovers(
    engine: Any, backend: Any, direct_runs: list[Any]
) -> None:
    with Session(engine) as session:
        session.execute(insert(User), [{"username": "a", "age": 1}])
        session.commit()
        for _ in range(2):
            assert session.scalars(select(User).where(User.id == 1)).one().username == "a"
        kill(backend, session)
        with pytest.raises(exc.DBAPIError) as caught:
            session.scalars(select(User).where(User.id == 1)).one()
        assert caught.value.connection_invalidated is True
        assert len(direct_runs) == 2
        session.rollback()
        assert session.scalars(select(User).where(User.id == 1)).one().username == "a"


def test_pending_changes_are_flushed_first(engine: Any, direct_runs: list[Any]) -> None:
    with Session(engine) as session:
        session.execute(insert(User), [{"username": "a", "age": 1}])
        for _ in range(2):
            session.scalars(select(User).where(User.age == 1)).all()
        session.add(User(username="b", age=1))
        assert [u.username for u in session.scalars(select(User).where(User.age == 1))] == [
            "a",
            "b",
        ]
        assert len(direct_runs) == 1
        populated = select(User).where(User.username == "a")
        populated = populated.execution_options(populate_existing=True)
        user = session.scalars(select(User).where(User.username == "a")).one()
        user.age = 5
        session.flush()
        session.execute(text("UPDATE users SET age = 1 WHERE username = 'a'"))
        assert session.scalars(populated).first() is user
        assert user.age == 1


def test_scalars_of_one_object_read_as_scalars_of_rows(engine: Any, direct_runs: list[Any]) -> None:
    """``session.scalars()`` / ``scalar()`` of one object, which the direct path holds without
    a result of rows, reads as the general path's ``scalars()`` view does."""
    with Session(engine) as session:
        session.execute(insert(User), [{"username": f"u{i}", "age": i % 2} for i in range(3)])
        session.commit()
        by_id = lambda i: select(User).where(User.id == i)  # noqa: E731
        session.scalars(by_id(1)).all()  # the shape's first run, the general way
        one = session.scalars(by_id(1))
        assert len(direct_runs) == 1
        assert not one.closed
        user = one.one()
        assert user.username == "u0" and one.closed
        with pytest.raises(exc.ResourceClosedError):
            one.all()
        assert session.scalars(by_id(1)).all() == [user]
        assert list(session.scalars(by_id(1))) == [user]
        assert session.scalars(by_id(1)).unique().fetchmany(5) == [user]
        assert session.scalars(by_id(1)).first() is user
        assert session.scalars(by_id(1)).one_or_none() is user
        for take in ("one", "one_or_none", "first"):
            taken = session.scalars(by_id(1))
            assert getattr(taken, take)() is user and taken.closed
            with pytest.raises(exc.ResourceClosedError):
                taken.one()
        closed_first = session.scalars(by_id(1))
        closed_first.close()
        assert closed_first.closed
        with pytest.raises(exc.ResourceClosedError):
            closed_first.first()
        assert session.scalar(by_id(1)) is user
        assert session.scalar(by_id(-1)) is None
        assert session.scalars(by_id(-1)).one_or_none() is None
        with pytest.raises(exc.NoResultFound):
            session.scalars(by_id(-1)).one()
        by_age = select(User).where(User.age == 0).order_by(User.id)
        session.scalars(by_age).all()
        assert [u.username for u in session.scalars(by_age)] == ["u0", "u2"]
        with pytest.raises(exc.MultipleResultsFound):
            session.scalars(by_age).one()
        assert len(direct_runs) == 16


def test_scalars_take_the_general_path_for_listeners_and_options(
    engine: Any, direct_runs: list[Any]
) -> None:
    """A ``do_orm_execute`` listener, execution options and unflushed changes send
    ``session.scalars()`` the general way; objects in the session keep their unflushed
    changes either way."""
    seen: list[Any] = []
    with Session(engine) as session:
        session.execute(insert(User), [{"username": "a", "age": 1}])
        session.commit()
        by_id = select(User).where(User.id == 1)
        user = session.scalars(by_id).one()
        assert session.scalars(by_id).one() is user
        assert len(direct_runs) == 1
        with session.no_autoflush:
            user.age = 7
            assert session.scalars(by_id).one() is user and user.age == 7
        assert len(direct_runs) == 2
        assert session.scalars(by_id).one() is user and user.age == 7  # flushed first
        assert len(direct_runs) == 2
        assert session.execute(text("SELECT age FROM users")).scalar_one() == 7
        fresh = session.scalars(by_id, execution_options={"populate_existing": True}).one()
        assert fresh is user
        assert len(direct_runs) == 2

        def listener(state: Any) -> None:
            seen.append(state.statement)

        event.listen(session, "do_orm_execute", listener)
        assert session.scalars(by_id).one() is user
        assert session.scalar(by_id) is user
        assert len(seen) == 2 and len(direct_runs) == 2


def test_scalars_of_an_outer_join_row_without_the_entity(
    engine: Any, direct_runs: list[Any]
) -> None:
    """A row whose entity columns are all NULL (an outer join) gives None, also as the only
    value of a result of the direct path."""
    with Session(engine) as session:
        session.add(Post(title="orphan"))
        session.commit()
        statement = select(User).select_from(Post).outerjoin(Post.author)
        for _ in range(2):
            result = session.scalars(statement)
            assert result.all() == [None]
        assert session.scalars(statement).one() is None
        assert session.scalar(statement) is None
        assert len(direct_runs) == 3
