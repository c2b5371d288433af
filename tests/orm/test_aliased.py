"""``aliased()``: one mapped class twice in a statement, joined along relationships."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import exc, select
from athanor.orm import Session, aliased
from orm.orm_models import Node, Post, StatementLog, User


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
