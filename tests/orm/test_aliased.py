"""``aliased()``: one mapped class twice in a statement, joined along relationships."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import exc, inspect, select
from athanor.orm import (
    Load,
    Session,
    aliased,
    contains_eager,
    defer,
    joinedload,
    load_only,
    undefer,
)
from orm.orm_models import Node, Post, StatementLog, User, compiled


def _tree(engine: Any) -> None:
    with Session(engine) as session:
        root = Node(name="root")
        a = Node(name="a", parent=root)
        Node(name="a1", parent=a)
        Node(name="b", parent=root)
        session.add(root)
        session.commit()


def test_self_join_with_an_alias(engine: Any, sql_log: StatementLog) -> None:
    _tree(engine)
    parent = aliased(Node, name="parent_node")
    with Session(engine) as session:
        rows = session.execute(
            select(Node.name, parent.name)
            .join(parent, Node.parent_id == parent.id)
            .order_by(Node.name)
        ).all()
        assert [tuple(r) for r in rows] == [("a", "root"), ("a1", "a"), ("b", "root")]
        assert "JOIN nodes AS parent_node ON" in sql_log.statements[-1]
        pairs = session.execute(
            select(Node, parent)
            .join(parent, Node.parent)
            .where(parent.name == "root")
            .order_by(Node.name)
        ).all()
        assert [(c.name, p.name) for c, p in pairs] == [("a", "root"), ("b", "root")]
        assert pairs[0][1] is pairs[1][1], "one identity map for the class and its alias"


def test_joins_from_and_to_an_alias_along_relationships(engine: Any) -> None:
    _tree(engine)
    child = aliased(Node)
    with Session(engine) as session:
        with_children = session.scalars(
            select(Node).join(child, Node.children).where(child.name == "a1")
        ).all()
        assert [n.name for n in with_children] == ["a"]
        grand = aliased(Node)
        grandparents = session.scalars(
            select(Node).join(child, Node.children).join(grand, child.children)
        ).all()
        assert [n.name for n in grandparents] == ["root"]
    with Session(engine) as session:
        _seed_posts(session)
        author = aliased(User, name="author")
        titles = session.scalars(
            select(Post.title).join(author, Post.author).where(author.username == "ann")
        ).all()
        assert titles == ["hello"]
        users = session.scalars(select(author).join(author.posts).where(Post.title == "hello"))
        assert [u.username for u in users] == ["ann"]


def _seed_posts(session: Session) -> None:
    session.add_all([User(username="ann", posts=[Post(title="hello")]), User(username="bob")])
    session.commit()


def test_aliased_entity_loads_objects_with_loader_options(engine: Any) -> None:
    with Session(engine) as session:
        _seed_posts(session)
    ua = aliased(User)
    with Session(engine) as session:
        users = session.scalars(select(ua).order_by(ua.username)).all()
        assert [u.username for u in users] == ["ann", "bob"]
        assert isinstance(users[0], User)
        assert session.get(User, users[0].id) is users[0]


def test_aliased_rejects_what_it_cannot_do() -> None:
    with pytest.raises(exc.ArgumentError, match="mapped class"):
        aliased(object)
    with pytest.raises(exc.ArgumentError, match="subquery or CTE"):
        aliased(User, select(User))
    with pytest.raises(AttributeError, match="no column attribute 'nope'"):
        _ = aliased(User).nope


def test_column_options_on_an_alias_sql() -> None:
    ua = aliased(User, name="ua")
    assert compiled(select(ua).options(load_only(ua.username))) == (
        "SELECT ua.id, ua.username FROM users AS ua"
    )
    both = compiled(select(User, ua).options(load_only(User.username), defer(ua.email)))
    # Each option applies to the entity its attributes belong to.
    assert both.startswith("SELECT users.id, users.username, ua.id AS id_1, ua.username AS")
    assert "ua.email" not in both and "ua.age" in both
    assert compiled(select(User, ua).options(Load(ua).load_only(ua.age))).startswith(
        "SELECT users.id, users.username, users.email, users.age, users.created, "
        "users.status, ua.id AS id_1, ua.age AS age_1 FROM"
    )
    with pytest.raises(exc.ArgumentError, match="two different aliases"):
        load_only(ua.username, aliased(User).email)


def test_column_options_on_an_alias_load(engine: Any, sql_log: StatementLog) -> None:
    with Session(engine) as session:
        _seed_posts(session)
    ua = aliased(User, name="ua")
    with Session(engine) as session:
        sql_log.clear()
        users = session.scalars(
            select(ua).options(load_only(ua.username, raiseload=True)).order_by(ua.id)
        ).all()
        assert [u.username for u in users] == ["ann", "bob"]
        assert "email" not in users[0].__dict__ and len(sql_log.statements) == 1
        with pytest.raises(exc.InvalidRequestError, match="raiseload"):
            users[0].email  # noqa: B018
    with Session(engine) as session:
        sql_log.clear()
        user = session.scalars(select(ua).options(undefer(ua.email), defer(ua.age))).first()
        assert "email" in user.__dict__ and "age" not in user.__dict__
        assert user.age is None and len(sql_log.statements) == 2
        with pytest.raises(exc.InvalidRequestError, match=r"conflict on User\.email"):
            session.scalars(select(ua).options(defer(ua.email), undefer(ua.email))).first()


def test_load_only_with_contains_eager_to_an_alias(engine: Any, sql_log: StatementLog) -> None:
    with Session(engine) as session:
        _seed_posts(session)
    pa = aliased(Post, name="pa")
    with Session(engine) as session:
        sql_log.clear()
        stmt = (
            select(User)
            .join(User.posts.of_type(pa))
            .options(contains_eager(User.posts.of_type(pa)).load_only(pa.title))
        )
        (user,) = session.scalars(stmt).unique().all()
        (post,) = user.posts
        assert (user.username, post.title) == ("ann", "hello")
        assert "body" not in post.__dict__
        assert "pa.body" not in sql_log.statements[0] and len(sql_log.statements) == 1
        ua = aliased(User, name="ua")
        stmt = select(ua).options(joinedload(ua.posts).load_only(Post.title), defer(ua.email))
        found = session.scalars(stmt.order_by(ua.id)).unique().all()
        assert [len(u.posts) for u in found] == [1, 0]
        assert "ua.email" not in sql_log.statements[-1]


def test_inspect_an_aliased_class() -> None:
    ua = aliased(User, name="ua")
    insp = inspect(ua)
    assert insp.is_aliased_class and not insp.is_mapper
    assert insp.entity is ua and insp.class_ is User and insp.mapper is inspect(User)
    assert insp.name == "ua" and ua.__name__ == "aliased(User)"
    assert "users AS ua" in compiled(select(insp.selectable))
    assert insp.with_polymorphic_mappers == []
