"""contains_eager / of_type, with_loader_criteria, wildcard loader options, populate_existing and
yield_per with partitions()."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import exc, exists, func, insert, select, update
from athanor.orm import (
    Load,
    Session,
    aliased,
    contains_eager,
    joinedload,
    lazyload,
    raiseload,
    selectinload,
    subqueryload,
    with_loader_criteria,
)
from orm.orm_models import Node, Post, StatementLog, User, seed_users_with_posts


@pytest.fixture
def session(engine: Any) -> Any:
    with Session(engine) as session:
        seed_users_with_posts(session, 3)
        yield session


def _titles(users: Any) -> list[list[str]]:
    return [[p.title for p in u.posts] for u in users]


def test_contains_eager_compiles_to_the_query_join() -> None:
    stmt = select(User).join(User.posts).options(contains_eager(User.posts))
    sql = str(stmt)
    assert sql.count("JOIN") == 1 and "posts.title" in sql
    pa = aliased(Post, name="pa")
    aliased_sql = str(
        select(User).join(User.posts.of_type(pa)).options(contains_eager(User.posts, alias=pa))
    )
    assert "JOIN posts AS pa ON users.id = pa.user_id" in aliased_sql
    assert "pa.title" in aliased_sql and "posts.title" not in aliased_sql


def test_contains_eager_fills_collections_from_filtered_join(
    session: Session, sql_log: StatementLog
) -> None:
    sql_log.clear()
    stmt = (
        select(User)
        .join(User.posts)
        .where(Post.title != "p21")
        .options(contains_eager(User.posts))
        .order_by(User.id, Post.id)
    )
    users = session.scalars(stmt).unique().all()
    assert [u.username for u in users] == ["u1", "u2"]
    assert _titles(users) == [["p10"], ["p20"]]
    assert len(sql_log.statements) == 1
    with pytest.raises(exc.InvalidRequestError, match="unique"):
        session.scalars(stmt).all()


def test_contains_eager_of_type_alias_and_many_to_one(
    session: Session, sql_log: StatementLog
) -> None:
    pa = aliased(Post)
    users = (
        session.scalars(
            select(User)
            .outerjoin(User.posts.of_type(pa))
            .options(contains_eager(User.posts.of_type(pa)))
            .order_by(User.id, pa.id)
        )
        .unique()
        .all()
    )
    assert _titles(users) == [[], ["p10"], ["p20", "p21"]]
    session.expunge_all()
    sql_log.clear()
    posts = session.scalars(
        select(Post).join(Post.author).options(contains_eager(Post.author)).order_by(Post.id)
    ).all()
    assert [(p.title, p.author.username) for p in posts] == [
        ("p10", "u1"),
        ("p20", "u2"),
        ("p21", "u2"),
    ]
    assert len(sql_log.statements) == 1


def test_contains_eager_without_alias_reads_the_single_joined_alias(
    session: Session, sql_log: StatementLog
) -> None:
    pa = aliased(Post, name="pa")
    stmt = (
        select(User)
        .join(User.posts.of_type(pa))
        .where(pa.title != "p21")
        .options(contains_eager(User.posts))
        .order_by(User.id, pa.id)
    )
    assert "posts.title" not in str(stmt), "the real table would pair every user with every post"
    sql_log.clear()
    users = session.scalars(stmt).unique().all()
    assert [u.username for u in users] == ["u1", "u2"]
    assert _titles(users) == [["p10"], ["p20"]]
    assert len(sql_log.statements) == 1
    pb = aliased(Post)
    twice = select(User).join(User.posts.of_type(pa)).join(User.posts.of_type(pb))
    with pytest.raises(exc.InvalidRequestError, match=r"2 aliases of Post.*of_type\(alias\)"):
        session.execute(twice.options(contains_eager(User.posts)))
    chosen = session.scalars(
        twice.where(pb.title == "p21")
        .options(contains_eager(User.posts.of_type(pb)))
        .execution_options(populate_existing=True)
    ).unique()
    assert _titles(chosen) == [["p21"]]


def test_of_type_join_and_self_referential_alias(session: Session) -> None:
    pa = aliased(Post)
    names = session.scalars(
        select(User.username).join(User.posts.of_type(pa)).where(pa.title == "p21")
    ).all()
    assert names == ["u2"]
    session.add(Node(name="root", children=[Node(name="a"), Node(name="b")]))
    session.commit()
    child = aliased(Node)
    root = session.scalars(
        select(Node)
        .join(Node.children.of_type(child))
        .where(child.name == "b")
        .options(contains_eager(Node.children.of_type(child)))
    ).unique()
    assert [[c.name for c in n.children] for n in root] == [["b"]]


def test_with_loader_criteria_everywhere(session: Session, sql_log: StatementLog) -> None:
    hide = with_loader_criteria(Post, Post.title != "p21")
    assert [p.title for p in session.scalars(select(Post).options(hide))] == ["p10", "p20"]
    assert session.scalars(select(Post.title).options(hide)).all() == ["p10", "p20"]
    users = session.scalars(
        select(User).options(selectinload(User.posts), hide).order_by(User.id)
    ).all()
    assert _titles(users) == [[], ["p10"], ["p20"]]
    session.expunge_all()
    sql_log.clear()
    users = (
        session.scalars(select(User).options(joinedload(User.posts), hide).order_by(User.id))
        .unique()
        .all()
    )
    assert _titles(users) == [[], ["p10"], ["p20"]]
    assert len(sql_log.statements) == 1 and " AND " in sql_log.statements[0].split("WHERE")[0]
    session.expunge_all()
    users = session.scalars(
        select(User).options(with_loader_criteria(Post, lambda cls: cls.title != "p10"))
    ).all()
    assert sorted(p.title for u in users for p in u.posts) == ["p20", "p21"]  # lazy loads too
    joined = session.scalars(
        select(User.username).join(User.posts).options(with_loader_criteria(Post, Post.id < 0))
    ).all()
    assert joined == []


def test_with_loader_criteria_new_values_same_shape(session: Session) -> None:
    for title in ("p10", "p20"):
        found = session.scalars(
            select(Post.title).options(with_loader_criteria(Post, Post.title == title))
        ).all()
        assert found == [title]


def test_with_loader_criteria_reaches_subqueries_exists_and_ctes(
    session: Session, sql_log: StatementLog
) -> None:
    hide = with_loader_criteria(Post, Post.title != "p21")
    counts = select(Post.user_id, func.count(Post.id).label("n")).group_by(Post.user_id).subquery()
    rows = session.execute(
        select(User.username, counts.c.n)
        .join(counts, counts.c.user_id == User.id)
        .order_by(User.id)
        .options(hide)
    ).all()
    assert [tuple(r) for r in rows] == [("u1", 1), ("u2", 1)]
    has_hidden_only = select(User.username).where(
        exists().where(Post.user_id == User.id, Post.title == "p21")
    )
    assert session.scalars(has_hidden_only).all() == ["u2"]
    assert session.scalars(has_hidden_only.options(hide)).all() == []
    with_posts = select(User.username).where(User.posts.any()).order_by(User.id)
    assert session.scalars(with_posts.options(with_loader_criteria(Post, Post.id < 0))).all() == []
    visible = select(Post).cte("visible")
    titles = session.scalars(select(visible.c.title).order_by(visible.c.title).options(hide)).all()
    assert titles == ["p10", "p20"]
    sql_log.clear()
    session.scalars(
        select(User)
        .where(exists().where(Post.user_id == User.id))
        .options(with_loader_criteria(User, User.age > 1))
    ).all()
    # The correlated users row gets the criteria once, outside the EXISTS.
    assert sql_log.statements[0].count("age >") == 1


def test_with_loader_criteria_include_aliases_in_subqueries(session: Session) -> None:
    pa = aliased(Post)
    stmt = (
        select(User.username)
        .where(select(pa.id).where(pa.user_id == User.id, pa.title == "p21").exists())
        .order_by(User.id)
    )
    hide = with_loader_criteria(Post, Post.title != "p21")
    assert session.scalars(stmt.options(hide)).all() == ["u2"]
    hide_aliases = with_loader_criteria(Post, Post.title != "p21", include_aliases=True)
    assert session.scalars(stmt.options(hide_aliases)).all() == []


def test_with_loader_criteria_loader_only_and_bad_entity(session: Session) -> None:
    option = with_loader_criteria(Post, Post.title != "p20", loader_only=True)
    assert len(session.scalars(select(Post).options(option)).all()) == 3
    users = session.scalars(select(User).options(option).where(User.id == 3)).all()
    assert _titles(users) == [["p21"]]
    with pytest.raises(exc.ArgumentError, match="mapped class"):
        with_loader_criteria(Post.title, Post.title != "x")


def test_loader_only_criteria_skip_the_statements_joins_but_reach_its_loaders(
    session: Session, sql_log: StatementLog
) -> None:
    option = with_loader_criteria(Post, Post.title != "p20", loader_only=True)
    joined = select(User.id).join(User.posts).where(User.id == 3).options(option)
    assert session.scalars(joined).all() == [3, 3]  # the JOIN's ON clause has no criteria
    session.expunge_all()
    stmt = select(User).where(User.id == 3).options(joinedload(User.posts), option)
    assert _titles(session.scalars(stmt).unique().all()) == [["p21"]]


def test_loader_criteria_appear_once_for_a_class_and_its_columns(
    session: Session, sql_log: StatementLog
) -> None:
    option = with_loader_criteria(Post, Post.title != "p20")
    sql_log.clear()
    rows = session.execute(select(Post, Post.user_id).where(Post.id > 0).options(option)).all()
    assert len(rows) == 2
    session.expunge_all()
    users = session.scalars(
        select(User).where(User.id == 3).options(selectinload(User.posts), option)
    ).all()
    assert _titles(users) == [["p21"]]
    assert [s.count("posts.title !=") for s in sql_log.selects] == [1, 0, 1]


def test_wildcard_loader_options(session: Session, sql_log: StatementLog) -> None:
    user = session.scalars(select(User).options(raiseload("*")).where(User.id == 2)).one()
    with pytest.raises(exc.InvalidRequestError, match="raiseload"):
        user.posts  # noqa: B018
    session.expunge_all()
    sql_log.clear()
    users = session.scalars(select(User).options(selectinload("*")).order_by(User.id)).all()
    assert len(sql_log.statements) == 2
    assert _titles(users) == [[], ["p10"], ["p20", "p21"]]
    session.expunge_all()
    posts = session.scalars(
        select(Post).options(Load(Post).lazyload("*"), joinedload(Post.author))
    ).all()
    assert all("author" in p.__dict__ for p in posts)  # the named option beats the wildcard
    with pytest.raises(exc.ArgumentError, match="nothing can follow"):
        lazyload("*").selectinload(User.posts)


def test_populate_existing_execution_option(session: Session) -> None:
    users = session.scalars(select(User).order_by(User.id)).all()
    users[0].email = "pending"
    session.flush()
    session.execute(update(User.__table__).values(age=50))
    stale = session.scalars(select(User).order_by(User.id)).all()
    assert [u.age for u in stale] == [0, 1, 2]
    fresh = session.scalars(
        select(User).order_by(User.id).execution_options(populate_existing=True)
    ).all()
    assert fresh == users and [u.age for u in users] == [50, 50, 50]
    assert session.query(User).filter_by(id=users[0].id).populate_existing().one() is users[0]


@pytest.mark.parametrize("loader", [joinedload, selectinload, subqueryload])
def test_populate_existing_refreshes_eagerly_loaded_objects(session: Session, loader: Any) -> None:
    stmt = select(User).where(User.username == "u2").options(loader(User.posts))
    user = session.scalars(stmt).unique().one()
    post = user.posts[0]
    session.execute(update(Post.__table__).values(title="from the database"))
    with session.no_autoflush:
        post.title = "unflushed"
        session.scalars(stmt).unique().one()
        assert post.title == "unflushed", "without the option loaded objects stay as they are"
        session.scalars(stmt.execution_options(populate_existing=True)).unique().one()
    assert user.posts[0] is post
    assert [p.title for p in user.posts] == ["from the database"] * 2
    assert post not in session.dirty, "the refresh replaced the pending change"


def test_yield_per_partitions(session: Session) -> None:
    session.execute(insert(User), [{"username": f"y{i}"} for i in range(7)])
    result = session.scalars(select(User).order_by(User.id).execution_options(yield_per=4))
    sizes = [len(part) for part in result.partitions()]
    assert sizes == [4, 4, 2]
    rows = session.execute(select(User, User.username), execution_options={"yield_per": 5})
    parts = list(rows.partitions())
    assert [len(p) for p in parts] == [5, 5]
    assert parts[0][0].User.username == parts[0][0].username
