"""Statement shapes built from ORM entities: with_only_columns, Bundle, aliased(User, subquery),
CTEs, exists(), unions read back as objects, and the legacy Query methods around them."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import exc, exists, func, select, union, union_all
from athanor.orm import Bundle, Session, aliased, selectinload
from orm.orm_models import Post, StatementLog, User, seed_users_with_posts


@pytest.fixture
def session(engine: Any) -> Any:
    with Session(engine) as session:
        seed_users_with_posts(session, 4)
        yield session


def test_with_only_columns(session: Session) -> None:
    stmt = select(User).where(User.age > 1).with_only_columns(User.username).order_by(User.id)
    assert session.scalars(stmt).all() == ["u2", "u3"]


def test_bundle_rows(session: Session, sql_log: StatementLog) -> None:
    info = Bundle("info", User.username, User.age)
    stmt = select(info, Post.title).join(User.posts).where(User.id < 4).order_by(Post.id)
    assert str(stmt).startswith("SELECT users.username, users.age, posts.title FROM users JOIN")
    rows = session.execute(stmt).all()
    assert [(r.info.username, r.info.age, r.title) for r in rows] == [
        ("u1", 1, "p10"),
        ("u2", 2, "p20"),
        ("u2", 2, "p21"),
    ]
    assert session.scalars(select(info).order_by(User.id).limit(1)).one() == ("u0", 0)
    assert len(sql_log.selects) == 2


class _Pair(Bundle):
    def create_row_processor(self, query: Any, procs: Any, labels: Any) -> Any:
        def proc(row: Any) -> dict[str, Any]:
            return dict(zip(labels, (p(row) for p in procs), strict=True))

        return proc


def test_bundle_subclass_shapes_the_value(session: Session) -> None:
    pair = _Pair("pair", User.id, User.username)
    assert session.scalars(select(pair).where(User.id == 2)).one() == {"id": 2, "username": "u1"}
    with pytest.raises(ValueError, match="at least one column"):
        Bundle("empty")


def test_nested_bundles(session: Session) -> None:
    inner = Bundle("inner", User.username, User.age)
    outer = Bundle("outer", User.id, inner)
    stmt = select(outer).where(User.id == 3)
    row = session.execute(stmt).one()
    assert row.outer.id == 3 and row.outer.inner.username == "u2" and row.outer.inner.age == 2
    assert session.scalars(stmt).one() == (3, ("u2", 2))
    # Its c holds the inner bundle by name, not the inner bundle's columns.
    assert outer.c.keys() == ["id", "inner"] and outer.c.inner is inner and "age" not in outer.c
    by_inner = select(outer).where(outer.c.inner.c.age == 1, outer.c.id < 9)
    assert session.scalars(by_inner).all() == [(2, ("u1", 1))]
    assert session.execute(select(outer, inner).where(User.id == 2)).one() == (
        (2, ("u1", 1)),
        ("u1", 1),
    )
    deep = Bundle("deep", User.id, Bundle("a", Bundle("b", User.age)), single_entity=True)
    assert session.scalars(select(deep).where(User.id == 2)).one() == (2, ((1,),))
    # A subclass's create_row_processor gets one function per element, a bundle's included.
    pair = _Pair("pair", User.id, inner)
    assert session.scalars(select(pair).where(User.id == 2)).one() == {
        "id": 2,
        "inner": ("u1", 1),
    }


def test_bundle_keeps_columns_of_one_name(session: Session) -> None:
    both = Bundle("both", User.id, Post.id)
    stmt = select(both).join(User.posts).where(Post.title == "p10")
    assert session.scalars(stmt).one() == (2, 1)


def test_aliased_subquery_and_cte_load_objects(session: Session) -> None:
    older = select(User).where(User.age > 1).subquery()
    ua = aliased(User, older)
    users = session.scalars(select(ua).order_by(ua.id)).all()
    assert [u.username for u in users] == ["u2", "u3"]
    assert users[0] is session.get(User, 3)
    joined = session.scalars(select(ua).join(ua.posts).where(Post.title == "p21")).all()
    assert [u.username for u in joined] == ["u2"]
    loaded = session.scalars(select(ua).options(selectinload(ua.posts)).order_by(ua.id)).all()
    assert [[p.title for p in u.posts] for u in loaded] == [["p20", "p21"], ["p30", "p31", "p32"]]
    cte = select(User).where(User.username.in_(["u0", "u3"])).cte("picked")
    picked = aliased(User, cte)
    sql = str(select(picked))
    assert sql.startswith("WITH picked AS")
    assert sorted(u.username for u in session.scalars(select(picked))) == ["u0", "u3"]
    with pytest.raises(exc.ArgumentError, match="subquery or CTE"):
        aliased(User, select(User))


def test_union_of_orm_selects_as_objects(session: Session) -> None:
    both = union_all(select(User).where(User.id == 1), select(User).where(User.age >= 3))
    ua = aliased(User, both.subquery())
    users = session.scalars(select(ua).order_by(ua.id)).all()
    assert [u.username for u in users] == ["u0", "u3"]
    assert all(isinstance(u, User) for u in users)
    rows = session.execute(union(select(User.id), select(Post.user_id)).order_by("id")).all()
    assert [r.id for r in rows] == [1, 2, 3, 4]


def test_exists_forms(session: Session) -> None:
    has_posts = exists().where(Post.user_id == User.id)
    names = session.scalars(select(User.username).where(has_posts).order_by(User.id)).all()
    assert names == ["u1", "u2", "u3"]
    assert session.scalar(select(User).where(User.age > 2).exists().select()) is True
    assert session.query(session.query(User).filter(User.age > 5).exists()).scalar() is False


def test_legacy_query_methods(session: Session) -> None:
    query = session.query(User).order_by(User.id)
    assert query.with_entities(User.username).all() == [("u0",), ("u1",), ("u2",), ("u3",)]
    assert [(u.username, age) for u, age in query.add_columns(User.age).limit(2)] == [
        ("u0", 0),
        ("u1", 1),
    ]
    titles = session.query(Post.title).select_from(User).join(User.posts).order_by(Post.id)
    assert [t for (t,) in titles] == ["p10", "p20", "p21", "p30", "p31", "p32"]
    sub = query.filter(User.age > 0).subquery()
    assert session.query(func.count()).select_from(sub).scalar() == 3
    assert session.query(func.max(User.age)).scalar() == 3
    assert [u.username for u in query[1:3]] == ["u1", "u2"]
    assert query[2].username == "u2"
    distinct = session.query(Post.user_id).distinct().order_by(Post.user_id).all()
    assert distinct == [(2,), (3,), (4,)]
    assert query.execution_options(populate_existing=True).first().username == "u0"
    assert str(query.statement).startswith("SELECT users.id, users.username")
    assert query.count() == 4
