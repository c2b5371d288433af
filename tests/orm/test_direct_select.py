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
from orm.orm_models import Base, User


@pytest.fixture
def direct_runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The statements that ran by the direct path, in order."""
    runs: list[Any] = []
    original = DirectLoad.run

    def run(self: DirectLoad) -> Any:
        runs.append(self.select.statement)
        return original(self)

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
