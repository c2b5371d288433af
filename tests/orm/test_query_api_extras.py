"""Querying API beyond the basics: nested loader options, legacy Query helpers, FOR UPDATE OF
a mapped class, column descriptions and identity keys."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import exc, func, select
from athanor.dialects import postgresql
from athanor.orm import (
    Load,
    Session,
    defer,
    identity_key,
    joinedload,
    selectinload,
)
from athanor.orm.util import identity_key as util_identity_key
from orm.orm_models import Post, StatementLog, User, seed_users_with_posts


@pytest.fixture
def session(engine: Any) -> Any:
    with Session(engine) as session:
        seed_users_with_posts(session, 4)
        yield session


def test_nested_options_apply_below_their_path(session: Session, sql_log: StatementLog) -> None:
    sql_log.clear()
    users = session.scalars(
        select(User)
        .order_by(User.id)
        .options(selectinload(User.posts).options(joinedload(Post.author), defer(Post.body)))
    ).all()
    assert [len(u.posts) for u in users] == [0, 1, 2, 3]
    post = users[3].posts[0]
    assert post.author is users[3] and "body" not in post.__dict__
    assert len(sql_log.selects) == 2
    assert "posts.body" not in sql_log.selects[1] and "JOIN users" in sql_log.selects[1]
    session.expunge_all()
    sql_log.clear()
    grouped = session.scalars(
        select(User).options(Load(User).options(selectinload(User.posts), defer(User.email)))
    ).all()
    assert sum(len(u.posts) for u in grouped) == 6 and "email" not in grouped[0].__dict__
    assert len(sql_log.selects) == 2
    with pytest.raises(exc.ArgumentError, match="does not belong to Post"):
        selectinload(User.posts).options(joinedload(User.posts))


def test_legacy_query_helpers(session: Session) -> None:
    joined = session.query(User).join(User.posts).order_by(User.id).all()
    assert [u.username for u in joined] == ["u1", "u2", "u3"], "one object per user"
    both = session.query(User).filter(User.id == 1).union(session.query(User).filter(User.id == 2))
    assert sorted(u.username for u in both) == ["u0", "u1"]
    everyone = session.query(User).filter(User.id < 3).union_all(session.query(User))
    assert len(everyone.all()) == 4
    counts = session.query(func.count(Post.id)).filter(Post.user_id == User.id)
    by_count = session.query(User.username, counts.label("n")).order_by(User.id).all()
    assert [tuple(r) for r in by_count] == [("u0", 0), ("u1", 1), ("u2", 2), ("u3", 3)]
    many = session.query(User.username).filter(counts.scalar_subquery() > 1).order_by(User.id)
    assert [r.username for r in many] == ["u2", "u3"]
    cte = session.query(Post.user_id).filter(Post.title.like("p3%")).cte("busy")
    assert [u.username for u in session.query(User).join(cte, cte.c.user_id == User.id)] == ["u3"]
    query = session.query(User).execution_options(populate_existing=True)
    assert query.get_execution_options() == {"populate_existing": True}
    assert query.is_single_entity and not session.query(User.id).is_single_entity
    descriptions = session.query(User, Post.title).column_descriptions
    assert descriptions[0]["entity"] is User and descriptions[0]["name"] == "User"
    assert descriptions[1]["name"] == "title"
    assert str(session.query(User).prefix_with("/* hint */")).startswith("SELECT /* hint */")
    assert [tuple(r) for r in session.query(User.id).filter(User.id == 1).tuples()] == [(1,)]


def test_for_update_of_a_mapped_class() -> None:
    stmt = select(User, Post).join(User.posts).with_for_update(of=User)
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert sql.endswith("FOR UPDATE OF users")
    both = select(User, Post).join(User.posts).with_for_update(of=[User, Post.id], nowait=True)
    assert str(both.compile(dialect=postgresql.dialect())).endswith(
        "FOR UPDATE OF users, posts NOWAIT"
    )


def test_identity_key(session: Session) -> None:
    user = session.get(User, 2)
    assert identity_key(User, 2) == (User, (2,), None) == identity_key(instance=user)
    row = session.execute(select(User.__table__).where(User.id == 2)).one()
    assert util_identity_key(User, row=row, identity_token="t") == (User, (2,), "t")
    assert identity_key(User, {"id": 2}) == (User, (2,), None)
    with pytest.raises(exc.ArgumentError, match="primary key"):
        identity_key(User)
