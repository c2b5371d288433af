"""``select(User)`` of a few rows: objects made as the statement runs when nothing watches
them being made, with the same objects, identity map and result behaviour as objects made
as rows are fetched; and made as fetched when a ``load`` / ``refresh`` listener is there.

(A statement shape's first execution, and one of more rows than are fetched at once, reads
rows from the cursor as fetched.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from athanor import event, select
from athanor.orm import Session
from orm.orm_models import User


def made_at_once(result: Any) -> bool:
    """Whether the ORM result's objects were all made when the statement ran."""
    return type(result._source).__name__ == "_FetchedSource"


def reads(session: Session, statement: Any) -> list[Any]:
    result = session.execute(statement)
    return [
        result.keys(),
        [(u.id, u.username, u.age) for u in result.scalars().all()],
        result.closed,
    ]


STATEMENTS: dict[str, Callable[[], Any]] = {
    "one": lambda: select(User).where(User.id == 2),
    "several": lambda: select(User).where(User.age < 3).order_by(User.id),
    "none": lambda: select(User).where(User.id == -1),
}


@pytest.mark.parametrize("shape", list(STATEMENTS))
def test_objects_made_at_once_match_objects_made_as_fetched(
    seeded_session: Session, shape: str
) -> None:
    statement = STATEMENTS[shape]
    session = seeded_session
    first = reads(session, statement())
    session.expunge_all()
    second = session.execute(statement())
    assert made_at_once(second)
    objects = second.scalars().all()
    assert [first[0], [(u.id, u.username, u.age) for u in objects], second.closed] == first
    for user in objects:
        assert session.get(User, user.id) is user
        assert user in session
    again = session.scalars(statement()).all()
    assert all(a is b for a, b in zip(again, objects, strict=True))


def test_one_scalar_one_or_none_and_first(seeded_session: Session) -> None:
    session = seeded_session
    for _ in range(2):
        assert session.scalars(select(User).where(User.id == 1)).one().username == "u0"
        assert session.scalars(select(User).where(User.id == -1)).one_or_none() is None
        assert session.scalars(select(User).where(User.id == 3)).first().username == "u2"
        assert session.execute(select(User).where(User.id == 4)).scalar_one().age == 3


def test_load_and_refresh_listeners_see_objects_made_as_fetched(
    seeded_session: Session,
) -> None:
    session = seeded_session
    statement = select(User).where(User.id == 2)
    session.scalars(statement).one()  # the shape is known from now on
    session.expunge_all()
    loaded: list[str] = []
    refreshed: list[str] = []

    def on_load(target: Any, context: Any) -> None:
        loaded.append(target.username)

    def on_refresh(target: Any, context: Any, attrs: Any) -> None:
        refreshed.append(target.username)

    event.listen(User, "load", on_load)
    try:
        result = session.scalars(statement)
        assert loaded == []
        user = result.one()
        assert user.username == "u1"
        assert loaded == ["u1"]
    finally:
        event.remove(User, "load", on_load)
    session.expire(user)
    event.listen(User, "refresh", on_refresh)
    try:
        result = session.scalars(statement)
        assert refreshed == []
        assert result.one().username == "u1"
        assert refreshed == ["u1"]
    finally:
        event.remove(User, "refresh", on_refresh)


def test_yield_per_makes_objects_per_batch(seeded_session: Session) -> None:
    session = seeded_session
    statement = select(User).order_by(User.id)
    session.scalars(statement).all()
    session.expunge_all()
    result = session.execute(statement.execution_options(yield_per=2))
    assert not made_at_once(result)
    assert len(session.identity_map) == 0
    assert [len(p) for p in result.scalars().partitions()] == [2, 2]


def test_bind_choice_for_entity_selects(engine: Any, seeded_session: Session) -> None:
    """select(User) runs on what get_bind gives: a subclass's override, binds=, or
    bind_arguments, not only on the session's own bind."""
    asked: list[Any] = []

    class Routed(Session):
        def get_bind(self, mapper: Any = None, **kw: Any) -> Any:
            asked.append(mapper)
            return super().get_bind(mapper, **kw)

    statement = select(User).where(User.id == 1)
    with Routed(engine) as routed:
        assert routed.scalars(statement).one().username == "u0"
        assert routed.scalars(statement).one().username == "u0"
    assert [getattr(m, "class_", m) for m in asked] == [User, User]
    with Session(binds={User: engine}) as by_class:
        assert by_class.scalars(statement).one().username == "u0"
    with Session() as unbound:
        with pytest.raises(Exception, match="not bound"):
            unbound.scalars(statement).one()
        assert unbound.scalars(statement, bind_arguments={"bind": engine}).one().age == 0


def test_statement_replaced_by_a_before_execute_listener(
    engine: Any, seeded_session: Session
) -> None:
    """A listener may run another statement of the same shape: its rows load as the
    statement's entity, the replacement taking effect on every execution."""

    def swap(conn: Any, clauseelement: Any, multiparams: Any, params: Any, options: Any) -> Any:
        if getattr(clauseelement, "_raw_columns", None) and clauseelement._where:
            clauseelement = select(User).where(User.id == 3)
        return clauseelement, multiparams, params

    statement = select(User).where(User.id == 1)
    event.listen(engine, "before_execute", swap, retval=True)
    try:
        for _ in range(2):
            with Session(engine) as session:
                assert session.scalars(statement).one().username == "u2"
    finally:
        event.remove(engine, "before_execute", swap)
    assert seeded_session.scalars(statement).one().username == "u0"


def test_execution_events_fire_once_per_statement_as_ever(
    engine: Any, seeded_session: Session
) -> None:
    """Engine and session events see every entity select, rows fetched at once or not; the
    objects are the same."""
    seen: list[str] = []
    engine_events = ["before_execute", "before_cursor_execute", "after_cursor_execute"]
    listeners = {name: (lambda *a, _n=name, **k: seen.append(_n)) for name in engine_events}
    listeners["after_execute"] = lambda *a, **k: seen.append("after_execute")
    for name, fn in listeners.items():
        event.listen(engine, name, fn)
    statement = select(User).where(User.id == 2)
    try:
        with Session(engine) as session:
            event.listen(session, "do_orm_execute", lambda state: seen.append("do_orm_execute"))
            results = [session.execute(statement) for _ in range(2)]
            assert made_at_once(results[1])
            users = [r.scalars().one() for r in results]
    finally:
        for name, fn in listeners.items():
            event.remove(engine, name, fn)
    assert users[0] is users[1] and users[0].username == "u1"
    assert seen == 2 * ["do_orm_execute", *engine_events, "after_execute"]
