"""``select(User).from_statement(...)`` and ``Query.from_statement``: objects from given SQL."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import exc, select, text
from athanor.orm import Session, contains_eager, joinedload, selectinload
from orm.orm_models import Post, StatementLog, User


def _seed(engine: Any) -> None:
    with Session(engine) as session:
        for name, titles in (("ann", ["a1", "a2"]), ("bob", ["b1"]), ("cy", [])):
            session.add(User(username=name, posts=[Post(title=t) for t in titles]))
        session.commit()


def test_text_with_columns_gives_identity_mapped_objects(engine: Any) -> None:
    _seed(engine)
    stmt = select(User).from_statement(
        text(
            "SELECT id, username, email FROM users WHERE username <> :skip ORDER BY username"
        ).columns(User.id, User.username, User.email)
    )
    with Session(engine) as session:
        users = session.scalars(stmt, {"skip": "cy"}).all()
        assert [u.username for u in users] == ["ann", "bob"]
        assert session.get(User, users[0].id) is users[0], "objects join the identity map"
        assert users[0].status == "new", "columns the SQL did not select load on access"


def test_plain_text_matches_columns_by_name_and_rejects_a_missing_key(engine: Any) -> None:
    _seed(engine)
    with Session(engine) as session:
        found = session.scalars(
            select(User).from_statement(text("SELECT * FROM users WHERE username = 'bob'"))
        ).one()
        assert (found.username, found.status) == ("bob", "new")
        with pytest.raises(exc.InvalidRequestError, match=r"primary key User\.id"):
            session.execute(select(User).from_statement(text("SELECT username FROM users")))


def test_from_another_select_and_two_entities(engine: Any) -> None:
    _seed(engine)
    with Session(engine) as session:
        inner = select(User).where(User.username.in_(["ann", "cy"])).order_by(User.username)
        users = session.scalars(select(User).from_statement(inner)).all()
        assert [u.username for u in users] == ["ann", "cy"]
        pairs = session.execute(
            select(User, Post).from_statement(
                text(
                    "SELECT users.id, users.username, posts.id, posts.title, posts.user_id "
                    "FROM users JOIN posts ON posts.user_id = users.id ORDER BY posts.title"
                )
            )
        ).all()
        assert [(u.username, p.title) for u, p in pairs] == [
            ("ann", "a1"),
            ("ann", "a2"),
            ("bob", "b1"),
        ]
        assert pairs[0][0] is pairs[1][0] is users[0]
        assert pairs[0][1].author is users[0]


def test_selectinload_runs_after_the_statement(engine: Any, sql_log: StatementLog) -> None:
    _seed(engine)
    stmt = select(User).from_statement(
        text("SELECT * FROM users WHERE username IN ('ann', 'bob') ORDER BY username")
    )
    for option in (selectinload(User.posts), joinedload(User.posts)):
        with Session(engine) as session:
            sql_log.clear()
            users = session.scalars(stmt.options(option)).all()
            assert [[p.title for p in u.posts] for u in users] == [["a1", "a2"], ["b1"]]
            assert len(sql_log.selects) == 2, "the statement, then one load of the posts"
    with (
        Session(engine) as session,
        pytest.raises(exc.ArgumentError, match=r"use selectinload\(User.posts\)"),
    ):
        session.execute(stmt.options(contains_eager(User.posts)))


def test_legacy_query_from_statement(engine: Any) -> None:
    _seed(engine)
    with Session(engine) as session:
        query = session.query(User).from_statement(
            text("SELECT * FROM users WHERE username = :name")
        )
        assert query.params(name="bob").one().username == "bob"
        assert query.params(name="nobody").first() is None
        everyone = session.query(User).from_statement(select(User).order_by(User.id)).all()
        assert [u.username for u in everyone] == ["ann", "bob", "cy"]


def test_from_statement_refuses_a_non_select() -> None:
    with pytest.raises(exc.ArgumentError, match="takes a SELECT"):
        select(User).from_statement(User.id == 1)
