"""N+1 detection: repeated lazy loads of one relationship for one query's objects are reported."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import pytest

from athanor import exc, select
from athanor.orm import NPlusOneError, NPlusOneWarning, Session, selectinload, sessionmaker
from orm.orm_models import Post, StatementLog, User

THIS_FILE = __file__


def _seed(engine: Any) -> None:
    with Session(engine) as session:
        for i in range(4):
            session.add(User(username=f"u{i}", posts=[Post(title=f"p{i}")]))
        session.commit()


def _touch_posts(session: Session) -> int:
    users = session.query(User).all()
    total = 0
    for user in users:
        total += len(user.posts)  # the line the report must point at
    return total


TOUCH_LINE = _touch_posts.__code__.co_firstlineno + 4


def test_warn_names_relationship_count_call_site_and_fix(engine: Any) -> None:
    _seed(engine)
    with Session(engine, n_plus_one="warn") as session, pytest.warns(NPlusOneWarning) as caught:
        assert _touch_posts(session) == 4
    assert len(caught) == 1, "one report per relationship and query"
    message = str(caught[0].message)
    assert "User.posts" in message
    assert "2 extra queries so far, up to 4 in all" in message
    assert f"{THIS_FILE}:{TOUCH_LINE}" in message
    assert ".options(selectinload(User.posts))" in message
    assert caught[0].filename == THIS_FILE and caught[0].lineno == TOUCH_LINE


def test_raise_mode_stops_at_the_second_lazy_load(engine: Any, sql_log: StatementLog) -> None:
    _seed(engine)
    factory = sessionmaker(bind=engine, n_plus_one="raise")
    with factory() as session:
        sql_log.statements.clear()
        with pytest.raises(NPlusOneError, match=r"User\.posts"):
            _touch_posts(session)
        assert len(sql_log.statements) == 3


def test_log_mode(engine: Any, caplog: pytest.LogCaptureFixture) -> None:
    _seed(engine)
    with (
        Session(engine, n_plus_one="log") as session,
        caplog.at_level(logging.WARNING, logger="athanor.orm.n_plus_one"),
    ):
        _touch_posts(session)
    assert [r.message.startswith("N+1 queries: User.posts") for r in caplog.records] == [True]


def test_eager_loading_and_single_loads_are_not_reported(engine: Any) -> None:
    _seed(engine)
    with Session(engine, n_plus_one="raise") as session:
        users = session.scalars(select(User).options(selectinload(User.posts))).all()
        assert sum(len(u.posts) for u in users) == 4
    with Session(engine, n_plus_one="raise") as session:
        for name in ("u0", "u1", "u2"):  # one object per query: one lazy load each
            user = session.scalars(select(User).where(User.username == name)).one()
            assert len(user.posts) == 1
    with Session(engine, n_plus_one="raise") as session:
        posts = session.scalars(select(Post)).all()
        users = session.scalars(select(User)).all()  # authors now in the identity map
        assert {p.author.username for p in posts} == {u.username for u in users}


def test_off_by_default_and_environment_variable(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(engine)
    monkeypatch.delenv("ATHANOR_N_PLUS_ONE", raising=False)
    with Session(engine) as session, warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _touch_posts(session) == 4
        assert all(u.__dict__["_sa_instance_state"].load_context is None for u in session)
    monkeypatch.setenv("ATHANOR_N_PLUS_ONE", "raise")
    with Session(engine) as session, pytest.raises(NPlusOneError):
        _touch_posts(session)
    with Session(engine, n_plus_one="warn") as session, pytest.warns(NPlusOneWarning):
        _touch_posts(session)  # the argument wins over the environment


def test_bad_mode_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(exc.ArgumentError, match="'warn', 'log' or 'raise'"):
        Session(n_plus_one="loud")
    monkeypatch.setenv("ATHANOR_N_PLUS_ONE", "yes")
    with pytest.raises(exc.ArgumentError, match="environment variable ATHANOR_N_PLUS_ONE"):
        Session()
