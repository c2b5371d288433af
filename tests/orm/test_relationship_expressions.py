"""Relationship-aware criteria: ``any()``, ``has()``, ``contains()``, ``with_parent()`` and
``and_()`` criteria on joins and loader options."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import exc, select
from athanor.orm import (
    Session,
    aliased,
    immediateload,
    joinedload,
    lazyload,
    selectinload,
    subqueryload,
    with_parent,
)
from orm.loader_models import Article, LoaderBase, Tag
from orm.orm_models import Node, Post, User


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    LoaderBase.metadata.create_all(engine)
    with Session(engine) as session:
        ann = User(username="ann", posts=[Post(title="hello"), Post(title="bye")])
        bob = User(username="bob", posts=[Post(title="hello")])
        session.add_all([ann, bob, User(username="cy")])
        root = Node(name="root", children=[Node(name="a", children=[Node(name="a1")])])
        session.add(root)
        red, blue = Tag(name="red"), Tag(name="blue")
        session.add_all([Article(title="x", tags=[red, blue]), Article(title="y", tags=[red])])
        session.add(Article(title="z"))
        session.commit()
        yield session


def _names(session: Session, stmt: Any) -> list[str]:
    return sorted(session.scalars(stmt).all())


def test_any_and_has(session: Session) -> None:
    assert _names(session, select(User.username).where(User.posts.any())) == ["ann", "bob"]
    assert _names(session, select(User.username).where(~User.posts.any())) == ["cy"]
    bye = select(User.username).where(User.posts.any(Post.title == "bye"))
    assert _names(session, bye) == ["ann"]
    assert _names(session, select(User.username).where(User.posts.any(title="hello"))) == [
        "ann",
        "bob",
    ]
    by_bob = select(Post.title).where(Post.author.has(User.username == "bob"))
    assert _names(session, by_bob) == ["hello"]
    objects = session.scalars(select(User).where(User.posts.any(title="bye"))).all()
    assert [u.username for u in objects] == ["ann"]
    with pytest.raises(exc.InvalidRequestError, match="use has"):
        Post.author.any()
    with pytest.raises(exc.InvalidRequestError, match="use any"):
        User.posts.has()
    with pytest.raises(exc.InvalidRequestError, match="no attribute 'nope'"):
        User.posts.any(nope=1)


def test_self_referential_and_many_to_many(session: Session) -> None:
    with_kids = select(Node.name).where(Node.children.any())
    assert _names(session, with_kids) == ["a", "root"]
    assert _names(session, select(Node.name).where(Node.children.any(Node.name == "a1"))) == ["a"]
    assert _names(session, select(Node.name).where(Node.parent.has(name="root"))) == ["a"]
    assert _names(session, select(Article.title).where(Article.tags.any())) == ["x", "y"]
    blue = select(Article.title).where(Article.tags.any(Tag.name == "blue"))
    assert _names(session, blue) == ["x"]
    red = session.scalars(select(Tag).where(Tag.name == "red")).one()
    assert _names(session, select(Article.title).where(Article.tags.contains(red))) == ["x", "y"]


def test_contains_and_with_parent(session: Session) -> None:
    ann = session.scalars(select(User).where(User.username == "ann")).one()
    post = ann.posts[1]
    assert _names(session, select(User.username).where(User.posts.contains(post))) == ["ann"]
    assert _names(session, select(Post.title).where(with_parent(ann, User.posts))) == [
        "bye",
        "hello",
    ]
    authors = session.scalars(select(User).where(with_parent(post, Post.author))).all()
    assert authors == [ann]
    pa = aliased(Post)
    aliased_titles = select(pa.title).where(with_parent(ann, User.posts, from_entity=pa))
    assert _names(session, aliased_titles) == ["bye", "hello"]
    x = session.scalars(select(Article).where(Article.title == "x")).one()
    assert _names(session, select(Tag.name).where(with_parent(x, Article.tags))) == [
        "blue",
        "red",
    ]
    assert [p.title for p in session.query(Post).with_parent(ann).order_by(Post.id)] == [
        "hello",
        "bye",
    ]
    with pytest.raises(exc.ArgumentError, match="needs a relationship"):
        with_parent(ann, User.username)
    with pytest.raises(exc.InvalidRequestError, match="contains"):
        Post.author.contains(ann)


def test_and_criteria_in_joins_and_loader_options(session: Session) -> None:
    hello = User.posts.and_(Post.title == "hello")
    joined = session.scalars(select(User.username).join(hello).order_by(User.username)).all()
    assert joined == ["ann", "bob"]
    pa = aliased(Post)
    bye = select(User.username).join(User.posts.of_type(pa).and_(pa.title == "bye"))
    assert session.scalars(bye).all() == ["ann"]
    assert " AND " in str(bye).split(" JOIN ")[1], "the criteria are in the ON clause"
    many = select(Article.title).join(Article.tags.and_(Tag.name == "blue"))
    assert session.scalars(many).all() == ["x"]
    for option in (selectinload, joinedload, subqueryload, lazyload, immediateload):
        session.expunge_all()
        users = (
            session.scalars(select(User).order_by(User.id).options(option(hello))).unique().all()
        )
        titles = [[p.title for p in u.posts] for u in users]
        assert titles == [["hello"], ["hello"], []], option.__name__
    session.expunge_all()
    users = session.scalars(select(User).order_by(User.id)).all()
    assert [len(u.posts) for u in users] == [2, 1, 0], "without the option, every post"


@pytest.mark.parametrize(
    "other",
    [5, "ann", 2.5, None, User.id, Post.user_id, True],
    ids=["int", "str", "float", "none", "own-column", "other-column", "bool"],
)
def test_column_attribute_equality_is_its_column_equality(other: Any) -> None:
    """``User.x == value`` compares the attribute's column directly; the expression is the
    one the column makes, for plain values, NULL and other columns alike."""
    from athanor.sql import operators

    for attribute in (User.id, User.username):
        expected = attribute.__clause_element__().operate(operators.eq, other)
        made = attribute == other
        assert str(made) == str(expected)
        assert made._generate_cache_key()[0] == expected._generate_cache_key()[0]


def test_relationship_equality_still_compares_through_the_relationship() -> None:
    """Only column attributes take the direct comparison: a many-to-one compared with an
    object becomes criteria on its foreign key, and a collection refuses ``==``."""
    ann = User(id=7, username="ann")
    criterion = Post.author == ann
    assert "posts.user_id = " in str(criterion)
    assert list(criterion.compile().params.values()) == [7]
    with pytest.raises(exc.InvalidRequestError, match=r"User\.posts"):
        _ = User.posts == ann
