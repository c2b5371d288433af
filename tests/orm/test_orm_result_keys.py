"""Result keys of ORM selects run by a Session: a function keeps its own name (``count``) and
a repeated attribute its ``selected_columns`` key, where a Connection gives the names of the
SQL (``count_1``)."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import func, select
from athanor.orm import Session
from orm.orm_models import Post, User

CASES: dict[str, tuple[Any, list[str], list[str]]] = {
    "attribute and function": (
        lambda: (
            select(User.username, func.count(Post.id))
            .join(Post)
            .group_by(User.username)
            .order_by(User.username)
        ),
        ["username", "count"],
        ["username", "count_1"],
    ),
    "two functions": (
        lambda: (
            select(User.id, func.count(Post.id), func.max(Post.id))
            .join(Post)
            .group_by(User.id)
            .order_by(User.id)
        ),
        ["id", "count", "max"],
        ["id", "count_1", "max_1"],
    ),
    "attribute twice": (
        lambda: select(User.id, User.id).order_by(User.id),
        ["id", "id_1"],
        ["id", "id__1"],
    ),
    "same-named attributes": (
        lambda: select(User.id, Post.id).join(Post).order_by(Post.id),
        ["id", "id_1"],
        ["id", "id_1"],
    ),
    "entity and function": (
        lambda: select(User, func.count(Post.id)).join(Post).group_by(User.id).order_by(User.id),
        ["User", "count"],
        None,
    ),
}


@pytest.mark.parametrize("case_name", list(CASES))
def test_session_keys(seeded_session: Session, case_name: str) -> None:
    make, expected, _ = CASES[case_name]
    result = seeded_session.execute(make())
    assert list(result.keys()) == expected
    row = result.first()
    assert row is not None and list(row._mapping) == expected
    mapped = seeded_session.execute(make()).mappings().first()
    assert mapped is not None and list(mapped) == expected


@pytest.mark.parametrize("case_name", [name for name, case in CASES.items() if case[2]])
def test_connection_keys(seeded_session: Session, case_name: str) -> None:
    make, _, expected = CASES[case_name]
    result = seeded_session.connection().execute(make())
    assert list(result.keys()) == expected


def test_session_keys_of_a_subquery(seeded_session: Session) -> None:
    """Selected from a subquery, the function's column is keyed by the name the subquery's
    SQL gives it."""
    sub = select(User.username, func.count(Post.id)).join(Post).group_by(User.username).subquery()
    assert list(sub.c.keys()) == ["username", "count"]
    rows = seeded_session.execute(select(sub).order_by(sub.c.username)).all()
    assert [list(r._mapping) for r in rows[:1]] == [["username", "count_1"]]
    assert [(r.username, r.count_1) for r in rows] == [("u1", 1), ("u2", 2), ("u3", 3)]
