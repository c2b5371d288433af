"""Execution options on ORM statements: stream_results, autoflush and identity_token."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import exc, func, inspect, select
from athanor.orm import Session
from orm.orm_models import Post, StatementLog, User, seed_users_with_posts


@pytest.fixture
def session(engine: Any) -> Any:
    with Session(engine) as session:
        seed_users_with_posts(session, 7)
        yield session


def test_stream_results_builds_objects_batch_by_batch(session: Session, backend: Any) -> None:
    stmt = select(User).order_by(User.id).execution_options(stream_results=True, yield_per=3)
    result = session.scalars(stmt)
    parts = result.partitions()
    first = next(parts)
    assert [u.username for u in first] == ["u0", "u1", "u2"]
    assert len(session.identity_map) == 3, "later rows are not turned into objects yet"
    if backend.name == "postgresql":
        open_cursors = session.connection().exec_driver_sql(
            "SELECT count(*) FROM pg_cursors WHERE name LIKE 'athanor%%'"
        )
        assert open_cursors.scalar() == 1, "a server-side cursor feeds the ORM result"
    rest = [u.username for part in parts for u in part]
    assert rest == ["u3", "u4", "u5", "u6"]
    streamed = session.execute(select(User.username).order_by(User.id), {}).all()
    assert len(streamed) == 7


def test_autoflush_false_on_one_statement(session: Session, sql_log: StatementLog) -> None:
    session.add(User(username="pending"))
    sql_log.clear()
    stmt = select(User).where(User.username == "pending")
    assert session.scalars(stmt.execution_options(autoflush=False)).all() == []
    assert session.scalars(stmt, execution_options={"autoflush": False}).all() == []
    assert not any(s.lstrip().upper().startswith("INSERT") for s in sql_log.statements)
    # A select of columns only (no entity) honours the option as well.
    counted = select(func.count(User.id)).where(User.username == "pending")
    assert session.scalar(counted.execution_options(autoflush=False)) == 0
    assert session.scalar(counted, execution_options={"autoflush": False}) == 0
    assert not any(s.lstrip().upper().startswith("INSERT") for s in sql_log.statements)
    found = session.scalars(stmt).one()
    assert inspect(found).has_identity, "without the option the query flushes first"


def test_identity_token_keys_objects_apart(session: Session) -> None:
    plain = session.scalars(select(User).where(User.username == "u1")).one()
    assert inspect(plain).identity_token is None
    stmt = select(User).where(User.username == "u1").execution_options(identity_token="copy")
    tokened = session.scalars(stmt).one()
    assert tokened is not plain, "the same row under another token is another object"
    state = inspect(tokened)
    assert state.identity_token == "copy"
    assert state.key == (User, (plain.id,), "copy")
    assert session.scalars(stmt).one() is tokened
    assert session.get(User, plain.id, identity_token="copy") is tokened
    assert session.get(User, plain.id) is plain
    tokened.age = 100
    session.flush()
    session.expire(plain)
    assert plain.age == 100, "a change to the tokened object is written to its row"
    fresh = session.get(User, plain.id + 1, identity_token="other")
    assert fresh is not None and inspect(fresh).identity_token == "other"
    with pytest.raises(exc.InvalidRequestError, match="identity_token"):
        session.scalars(select(Post).execution_options(identity_token=["unhashable"])).all()
