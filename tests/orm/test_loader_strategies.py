"""Loader strategies: statement counts, the SQL they emit, and the object graphs they build."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor import delete, exc, func, select, update
from athanor.orm import (
    Load,
    Session,
    aliased,
    defaultload,
    immediateload,
    joinedload,
    lazyload,
    noload,
    raiseload,
    selectinload,
    subqueryload,
)
from athanor.orm import eager as eager_module
from athanor.orm.exc import LoaderStrategyException
from orm.loader_models import Article, Item, LoaderBase, Shelf, Tag
from orm.orm_models import Node, Post, StatementLog, User


@pytest.fixture
def loader_tables(engine: Any) -> Iterator[None]:
    LoaderBase.metadata.create_all(engine)
    yield


def _seed_users(engine: Any, posts_per_user: tuple[int, ...] = (0, 3, 6, 9)) -> None:
    with Session(engine) as session:
        for i, count in enumerate(posts_per_user):
            user = User(username=f"u{i}")
            user.posts = [Post(title=f"p{i}-{j}") for j in range(count)]
            session.add(user)
        session.commit()


def _graph(users: list[User]) -> list[tuple[str, list[str]]]:
    return [(u.username, [p.title for p in u.posts]) for u in users]


EXPECTED = [
    ("u0", []),
    ("u1", ["p1-0", "p1-1", "p1-2"]),
    ("u2", [f"p2-{j}" for j in range(6)]),
    ("u3", [f"p3-{j}" for j in range(9)]),
]


@pytest.mark.parametrize(
    ("option", "statements"),
    [
        (None, 5),
        (joinedload(User.posts), 1),
        (selectinload(User.posts), 2),
        (subqueryload(User.posts), 2),
        (immediateload(User.posts), 5),
    ],
    ids=["lazy", "joined", "selectin", "subquery", "immediate"],
)
def test_statement_counts_of_the_legacy_query(
    engine: Any, sql_log: StatementLog, option: Any, statements: int
) -> None:
    _seed_users(engine)
    with Session(engine) as session:
        sql_log.statements.clear()
        query = session.query(User).order_by(User.id)
        if option is not None:
            query = query.options(option)
        assert _graph(query.all()) == EXPECTED
        assert len(sql_log.statements) == statements


def test_statement_counts_of_2_0_selects(engine: Any, sql_log: StatementLog) -> None:
    _seed_users(engine)
    base = select(User).order_by(User.id)
    for option, statements in [(joinedload(User.posts), 1), (selectinload(User.posts), 2)]:
        with Session(engine) as session:
            sql_log.statements.clear()
            users = session.scalars(base.options(option)).unique().all()
            assert _graph(list(users)) == EXPECTED
            assert len(sql_log.statements) == statements


def test_joinedload_sql_outer_and_inner(engine: Any, sql_log: StatementLog) -> None:
    _seed_users(engine, (1, 0))
    with Session(engine) as session:
        sql_log.statements.clear()
        users = session.scalars(select(User).options(joinedload(User.posts))).unique().all()
        assert sorted(len(u.posts) for u in users) == [0, 1]
        assert "LEFT OUTER JOIN posts AS" in sql_log.statements[0]
    with Session(engine) as session:
        sql_log.statements.clear()
        stmt = select(User).options(joinedload(User.posts, innerjoin=True))
        users = session.scalars(stmt).unique().all()
        assert [len(u.posts) for u in users] == [1]
        assert " JOIN posts AS" in sql_log.statements[0]
        assert "OUTER" not in sql_log.statements[0]


def test_joined_collection_needs_unique_in_2_0_style(engine: Any) -> None:
    _seed_users(engine, (2,))
    with Session(engine) as session:
        stmt = select(User).options(joinedload(User.posts))
        with pytest.raises(exc.InvalidRequestError, match=r"unique\(\) method must be invoked"):
            session.scalars(stmt).all()
        assert len(session.execute(stmt).unique().all()) == 1
        assert len(session.query(User).options(joinedload(User.posts)).all()) == 1
        # many-to-one joined loads do not repeat parents: no unique() needed
        posts = session.scalars(select(Post).options(joinedload(Post.author))).all()
        assert [p.author.username for p in posts] == ["u0", "u0"]


def test_joined_eager_statement_keeps_each_executions_parameters(engine: Any) -> None:
    _seed_users(engine)
    with Session(engine) as session:
        for name, count in [("u1", 3), ("u3", 9), ("u2", 6)]:
            stmt = select(User).where(User.username == name).options(joinedload(User.posts))
            (user,) = session.scalars(stmt).unique().all()
            assert (user.username, len(user.posts)) == (name, count)
        stmt = select(User).where(User.username == "u2").options(subqueryload(User.posts))
        assert len(session.scalars(stmt).one().posts) == 6


def test_joinedload_with_limit_counts_parents(engine: Any, sql_log: StatementLog) -> None:
    _seed_users(engine)
    with Session(engine) as session:
        sql_log.clear()
        users = session.query(User).options(joinedload(User.posts)).order_by(User.id)[1:3]
        assert _graph(users) == EXPECTED[1:3]
        assert len(sql_log.statements) == 1


def test_joinedload_collection_of_a_grouped_statement(engine: Any, sql_log: StatementLog) -> None:
    _seed_users(engine, (1, 2, 3))
    with Session(engine) as session:
        sql_log.clear()
        stmt = (
            select(User)
            .join(User.posts)
            .group_by(User.id, User.username, User.age)
            .having(func.count(Post.id) > 1)
            .options(joinedload(User.posts))
            .order_by(User.id)
        )
        users = session.scalars(stmt).unique().all()
        # GROUP BY applies to the users; each keeps all its posts.
        assert [(u.username, len(u.posts)) for u in users] == [("u1", 2), ("u2", 3)]
        assert len(sql_log.statements) == 1


def test_joinedload_collection_under_limit_is_one_statement(
    engine: Any, sql_log: StatementLog
) -> None:
    _seed_users(engine)
    with Session(engine) as session:
        sql_log.clear()
        stmt = (
            select(User)
            .options(joinedload(User.posts))
            .order_by(User.username.desc())
            .limit(2)
            .offset(1)
        )
        users = session.scalars(stmt).unique().all()
        assert _graph(list(users)) == [EXPECTED[2], EXPECTED[1]]
        (sql,) = sql_log.statements
        # The limit applies to the users in a subquery, the posts join outside it.
        assert sql.count("LIMIT") == 1 and ") AS " in sql.split("JOIN")[0]


def test_joinedload_under_limit_with_innerjoin_and_expression_order(
    engine: Any, sql_log: StatementLog
) -> None:
    _seed_users(engine)
    with Session(engine) as session:
        sql_log.clear()
        stmt = (
            select(User)
            .options(joinedload(User.posts, innerjoin=True))
            .order_by(func.lower(User.username))
            .limit(2)
        )
        # u0 and u1 are the first two users; the inner join then drops u0, who has no posts.
        assert _graph(list(session.scalars(stmt).unique())) == [EXPECTED[1]]
        assert len(sql_log.statements) == 1


def test_nested_joinedloads_under_limit(engine: Any, sql_log: StatementLog) -> None:
    _seed_users(engine)
    with Session(engine) as session:
        sql_log.clear()
        stmt = (
            select(User)
            .options(joinedload(User.posts).joinedload(Post.author).joinedload(User.posts))
            .order_by(User.id)
            .limit(3)
        )
        users = session.scalars(stmt).unique().all()
        assert _graph(list(users)) == EXPECTED[:3]
        assert all(p.author is u for u in users for p in u.posts)
        posts = session.scalars(
            select(Post)
            .options(joinedload(Post.author).joinedload(User.posts))
            .order_by(Post.id.desc())
            .limit(2)
        ).unique()
        assert [(p.title, len(p.author.posts)) for p in posts] == [("p3-8", 9), ("p3-7", 9)]
        assert len(sql_log.statements) == 2


def test_legacy_query_first_and_limit_with_joined_collection(
    engine: Any, sql_log: StatementLog
) -> None:
    _seed_users(engine)
    with Session(engine) as session:
        sql_log.clear()
        query = session.query(User).options(joinedload(User.posts))
        last = query.order_by(User.id.desc()).first()
        assert (last.username, len(last.posts)) == ("u3", 9)
        assert _graph(query.order_by(User.id).limit(2).all()) == EXPECTED[:2]
        assert len(sql_log.statements) == 2


def test_joinedload_under_limit_of_an_aliased_entity(engine: Any, sql_log: StatementLog) -> None:
    _seed_users(engine)
    with Session(engine) as session:
        sql_log.clear()
        user = aliased(User, name="u")
        stmt = (
            select(user, user.username)
            .options(joinedload(user.posts))
            .where(user.username != "u0")
            .order_by(user.id)
            .limit(1)
        )
        ((found, name),) = session.execute(stmt).unique().all()
        assert (name, [p.title for p in found.posts]) == ("u1", EXPECTED[1][1])
        assert len(sql_log.statements) == 1


def test_selectinload_chunks_large_key_sets(
    engine: Any, sql_log: StatementLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eager_module, "IN_CHUNK", 3)
    _seed_users(engine, (1, 2, 0, 1, 1, 3, 1))
    with Session(engine) as session:
        sql_log.statements.clear()
        users = session.scalars(
            select(User).order_by(User.id).options(selectinload(User.posts))
        ).all()
        assert [len(u.posts) for u in users] == [1, 2, 0, 1, 1, 3, 1]
        assert len(sql_log.statements) == 1 + 3
        assert all(" IN (" in s for s in sql_log.statements[1:])


def test_many_to_one_selectin_uses_the_identity_map(engine: Any, sql_log: StatementLog) -> None:
    _seed_users(engine, (2, 2))
    with Session(engine) as session:
        sql_log.statements.clear()
        posts = session.scalars(select(Post).options(selectinload(Post.author))).all()
        authors = {p.author for p in posts}  # strong references: the identity map is weak
        assert {a.username for a in authors} == {"u0", "u1"}
        assert len(sql_log.statements) == 2
        sql_log.statements.clear()
        again = session.scalars(select(Post).options(selectinload(Post.author))).all()
        assert {p.author.username for p in again} == {"u0", "u1"}
        assert len(sql_log.statements) == 1, "the authors come from the identity map"
        session.execute(update(User.__table__).values(username=User.__table__.c.username + "!"))
        sql_log.statements.clear()
        refreshed = session.scalars(
            select(Post)
            .options(selectinload(Post.author))
            .execution_options(populate_existing=True)
        ).all()
        # populate_existing refreshes every object the statement loads, also the authors
        # already in the identity map (as SQLAlchemy does)
        assert {p.author.username for p in refreshed} == {"u0!", "u1!"}
        assert {a.username for a in authors} == {"u0!", "u1!"}
        assert len(sql_log.statements) == 2


def test_many_to_many_strategies(engine: Any, loader_tables: None, sql_log: StatementLog) -> None:
    with Session(engine) as session:
        tags = [Tag(name=f"t{i}") for i in range(3)]
        session.add_all(tags)
        session.flush()
        session.add_all(
            [
                Article(title="a", tags=[tags[0], tags[2]]),
                Article(title="b", tags=[]),
                Article(title="c", tags=tags),
            ]
        )
        session.commit()
    expected = [("a", ["t0", "t2"]), ("b", []), ("c", ["t0", "t1", "t2"])]
    for option, statements in [
        (None, 4),
        (joinedload(Article.tags), 1),
        (selectinload(Article.tags), 2),
        (subqueryload(Article.tags), 2),
    ]:
        with Session(engine) as session:
            sql_log.statements.clear()
            stmt = select(Article).order_by(Article.id)
            if option is not None:
                stmt = stmt.options(option)
            articles = session.scalars(stmt).unique().all()
            assert [(a.title, [t.name for t in a.tags]) for a in articles] == expected
            assert len(sql_log.statements) == statements, option


def test_composite_keys_and_relationship_lazy_defaults(
    engine: Any, loader_tables: None, sql_log: StatementLog
) -> None:
    with Session(engine) as session:
        session.add_all(
            [
                Shelf(region="eu", code=1, items=[Item(name="x"), Item(name="y")]),
                Shelf(region="eu", code=2, items=[Item(name="z")]),
                Shelf(region="us", code=1, items=[]),
            ]
        )
        session.commit()
    with Session(engine) as session:
        sql_log.statements.clear()
        shelves = session.scalars(select(Shelf).order_by(Shelf.region, Shelf.code)).all()
        assert [[i.name for i in s.items] for s in shelves] == [["x", "y"], ["z"], []]
        assert len(sql_log.statements) == 2  # lazy="selectin", composite key
        assert "shelf_region = " in sql_log.statements[1]
        assert all(i.shelf is s for s in shelves for i in s.items)
    with Session(engine) as session:
        sql_log.statements.clear()
        items = session.scalars(select(Item).order_by(Item.id)).all()
        assert [(i.shelf.region, i.shelf.code) for i in items] == [("eu", 1), ("eu", 1), ("eu", 2)]
        # lazy="joined" for the shelf; its lazy="selectin" items point back, so they wait
        assert len(sql_log.statements) == 1
        assert "LEFT OUTER JOIN shelves AS" in sql_log.statements[0]
    with Session(engine) as session:
        sql_log.statements.clear()
        stmt = select(Shelf).options(lazyload(Shelf.items)).order_by(Shelf.region, Shelf.code)
        shelves = session.scalars(stmt).all()
        assert len(sql_log.statements) == 1
        assert [len(s.items) for s in shelves] == [2, 1, 0]
        assert len(sql_log.statements) == 4
    with Session(engine) as session:
        sql_log.statements.clear()
        stmt = select(Shelf).options(subqueryload(Shelf.items)).order_by(Shelf.code)
        assert sorted(len(s.items) for s in session.scalars(stmt)) == [0, 1, 2]
        assert len(sql_log.statements) == 2


def test_chained_paths(engine: Any, sql_log: StatementLog) -> None:
    with Session(engine) as session:
        root = Node(name="root")
        for i in range(2):
            child = Node(name=f"c{i}", parent=root)
            for j in range(2):
                Node(name=f"c{i}-{j}", parent=child)
        session.add(root)
        session.commit()

    def tree(node: Node) -> Any:
        return (node.name, sorted((tree(c) for c in node.children), key=str))

    with Session(engine) as session:
        (root,) = session.scalars(select(Node).where(Node.parent_id.is_(None))).all()
        tree_of_root = tree(root)
    for option, statements in [
        (selectinload(Node.children).selectinload(Node.children), 3),
        (joinedload(Node.children).joinedload(Node.children), 1),
        (joinedload(Node.children).selectinload(Node.children), 2),
        (Load(Node).selectinload(Node.children).joinedload(Node.children), 2),
        (defaultload(Node.children).selectinload(Node.children), 3),
    ]:
        with Session(engine) as session:
            sql_log.statements.clear()
            stmt = select(Node).where(Node.parent_id.is_(None)).options(option)
            (root,) = session.scalars(stmt).unique().all()
            grandchildren = [g for c in root.children for g in c.children]
            assert len(grandchildren) == 4
            assert len(sql_log.statements) == statements, option
            assert tree(root) == tree_of_root


def test_chained_option_must_follow_the_path() -> None:
    with pytest.raises(exc.ArgumentError, match="does not belong to Post"):
        selectinload(User.posts).selectinload(User.posts)
    with pytest.raises(exc.ArgumentError, match="relationship attributes"):
        selectinload("username")


@pytest.mark.parametrize(
    "make",
    [selectinload, joinedload, subqueryload, immediateload, lazyload, noload, raiseload],
)
def test_relationship_loader_of_a_column_fails_when_the_statement_runs(
    engine: Any, make: Any
) -> None:
    """As in SQLAlchemy: the option is made, the statement carrying it raises, and a
    relationship option chained after it raises at once; defaultload() of a column does
    nothing."""
    _seed_users(engine, (1,))
    option = make(User.username)
    name = make.__name__
    with Session(engine) as session:
        with pytest.raises(LoaderStrategyException, match=rf"{name}\(\).*User\.username"):
            session.scalars(select(User).options(option)).all()
        with pytest.raises(LoaderStrategyException, match=r"User\.username"):
            session.query(User).options(Load(User).selectinload(User.username)).all()
        nested = selectinload(User.posts).options(make(Post.title))
        with pytest.raises(LoaderStrategyException, match=r"Post\.title"):
            session.scalars(select(User).options(nested)).all()
        with pytest.raises(LoaderStrategyException, match=r"User\.username"):
            option.selectinload(User.posts)
        loaded = session.scalars(select(User).options(defaultload(User.username))).one()
        assert loaded.username == "u0"


def test_noload_and_raiseload(engine: Any, sql_log: StatementLog) -> None:
    _seed_users(engine, (2,))
    with Session(engine) as session:
        (user,) = session.scalars(select(User).options(noload(User.posts))).all()
        assert list(user.posts) == []
    with Session(engine) as session:
        (user,) = session.scalars(select(User).options(raiseload(User.posts))).all()
        with pytest.raises(exc.InvalidRequestError, match=r"User\.posts is not available"):
            _ = user.posts
    with Session(engine) as session:
        users = session.scalars(select(User)).all()
        posts = session.scalars(select(Post).options(raiseload(Post.author, sql_only=True))).all()
        assert posts[0].author is users[0]  # in the identity map: no SQL, no error
    with Session(engine) as session:
        posts = session.scalars(select(Post).options(raiseload(Post.author, sql_only=True))).all()
        with pytest.raises(exc.InvalidRequestError, match="raise_on_sql"):
            _ = posts[0].author


def test_legacy_aggregate_with_join_inferred_from_the_foreign_key(
    engine: Any, sql_log: StatementLog
) -> None:
    _seed_users(engine, (6, 0, 7, 5))
    with Session(engine) as session:
        rows = (
            session.query(User.username, func.count(Post.id).label("post_count"))
            .outerjoin(Post)
            .group_by(User.id, User.username)
            .having(func.count(Post.id) > 5)
            .order_by(User.username)
            .all()
        )
        assert [tuple(r) for r in rows] == [("u0", 6), ("u2", 7)]
        assert rows[0].post_count == 6
        assert "LEFT OUTER JOIN posts ON users.id = posts.user_id" in sql_log.statements[-1]


def test_joins_along_relationships(engine: Any) -> None:
    _seed_users(engine, (1, 0, 2))
    with Session(engine) as session:
        by_attr = session.scalars(select(User).join(User.posts).where(Post.title == "p2-1")).all()
        by_class = session.scalars(select(User).join(Post).where(Post.title == "p2-1")).all()
        by_both = session.scalars(
            select(User).join(Post, User.posts).where(Post.title == "p2-1")
        ).all()
        assert [u.username for u in by_attr] == [u.username for u in by_class] == ["u2"]
        assert [u.username for u in by_both] == ["u2"]
        outer = session.execute(
            select(User.username, func.count(Post.id))
            .outerjoin(User.posts)
            .group_by(User.username)
            .order_by(User.username)
        ).all()
        assert [tuple(r) for r in outer] == [("u0", 1), ("u1", 0), ("u2", 2)]
        authors = session.scalars(select(Post).join(Post.author).where(User.username == "u0")).all()
        assert [p.title for p in authors] == ["p0-0"]
        legacy = session.query(User).join(User.posts).filter(Post.title == "p0-0").one()
        assert legacy.username == "u0"


def test_many_to_many_join_along_relationship(engine: Any, loader_tables: None) -> None:
    with Session(engine) as session:
        tag = Tag(name="db")
        session.add_all([Article(title="a", tags=[tag]), Article(title="b")])
        session.commit()
        found = session.scalars(select(Article).join(Article.tags).where(Tag.name == "db")).all()
        assert [a.title for a in found] == ["a"]


_graphs = st.lists(st.lists(st.text("abc", max_size=3), max_size=4), max_size=6)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=_graphs)
def test_every_strategy_builds_the_same_graph(engine: Any, graph: list[list[str]]) -> None:
    with Session(engine) as session:
        session.execute(delete(Post))
        session.execute(delete(User))
        for i, titles in enumerate(graph):
            user = User(username=f"user{i}")
            user.posts = [Post(title=t) for t in titles]
            session.add(user)
        session.commit()
    results = []
    for option in [
        None,
        joinedload(User.posts),
        selectinload(User.posts),
        subqueryload(User.posts),
        immediateload(User.posts),
    ]:
        with Session(engine) as session:
            stmt = select(User).order_by(User.username)
            if option is not None:
                stmt = stmt.options(option)
            users = session.scalars(stmt).unique().all()
            results.append(
                [(u.username, [(p.title, p.author.username) for p in u.posts]) for u in users]
            )
    expected = [(f"user{i}", [(t, f"user{i}") for t in titles]) for i, titles in enumerate(graph)]
    assert all(r == sorted(expected) for r in results)
