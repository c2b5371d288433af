"""Column loading: deferred columns, defer/undefer/load_only options, raiseload on columns,
query_expression/with_expression and column_property with a correlated subquery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import ForeignKey, String, Text, create_engine, exc, func, select
from athanor.orm import (
    DeclarativeBase,
    Load,
    Mapped,
    Session,
    column_property,
    defer,
    deferred,
    joinedload,
    load_only,
    mapped_column,
    query_expression,
    relationship,
    selectinload,
    undefer,
    undefer_group,
    with_expression,
)
from athanor.orm.exc import LoaderStrategyException
from orm.orm_models import StatementLog


class Base(DeclarativeBase):
    pass


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    text: Mapped[str] = mapped_column(String(100))
    extra: Mapped[str | None] = mapped_column(String(100))
    article: Mapped[Article] = relationship(back_populates="comments")


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str | None] = mapped_column(String(200), deferred=True, deferred_group="text")
    body: Mapped[str | None] = mapped_column(Text, deferred=True, deferred_group="text")
    secret: Mapped[str | None] = mapped_column(String(50), deferred=True, deferred_raiseload=True)
    rating: Mapped[int] = mapped_column(default=0)
    notes = deferred(mapped_column(String(50), nullable=True).column)
    score: Mapped[int | None] = query_expression()
    comments: Mapped[list[Comment]] = relationship(back_populates="article", order_by="Comment.id")
    comment_count = column_property(
        select(func.count(Comment.id)).where(Comment.article_id == id).scalar_subquery()
    )


@pytest.fixture
def db(backend: Any) -> Iterator[tuple[Any, StatementLog]]:
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for i in range(3):
            article = Article(
                title=f"t{i}", summary=f"s{i}", body=f"b{i}", secret=f"x{i}", rating=i, notes="n"
            )
            article.comments = [Comment(text=f"c{i}{j}", extra="e") for j in range(i)]
            session.add(article)
        session.commit()
    yield engine, StatementLog(engine)
    engine.dispose()


def _sql(stmt: Any) -> str:
    return str(stmt.compile()).replace("\n", " ")


def test_compile_default_leaves_deferred_columns_out() -> None:
    sql = _sql(select(Article))
    assert "articles.title" in sql and "articles.rating" in sql
    for name in ("summary", "body", "secret", "notes", "score"):
        assert f"articles.{name}" not in sql
    assert "count(comments.id)" in sql.lower()


def test_compile_options() -> None:
    assert "articles.body" in _sql(select(Article).options(undefer(Article.body)))
    grouped = _sql(select(Article).options(undefer_group("text")))
    assert "articles.summary" in grouped and "articles.body" in grouped
    only = _sql(select(Article).options(load_only(Article.title)))
    assert only.startswith("SELECT articles.id, articles.title FROM articles")
    deferred_sql = _sql(select(Article).options(defer(Article.rating), defer(Article.title)))
    assert "articles.rating" not in deferred_sql and "articles.title" not in deferred_sql
    expr = _sql(select(Article).options(with_expression(Article.score, Article.rating * 10)))
    assert "articles.rating * " in expr and " AS score" in expr


def test_deferred_column_loads_on_access_with_one_select(db: Any) -> None:
    engine, log = db
    with Session(engine) as session:
        articles = session.scalars(select(Article).order_by(Article.id)).all()
        log.clear()
        assert articles[1].body == "b1"
        assert len(log.selects) == 1
        assert "summary" in articles[1].__dict__  # the group came along
        assert articles[1].summary == "s1" and len(log.selects) == 1
        assert articles[1].notes == "n" and len(log.selects) == 2


def test_deferred_raiseload_mapping_and_undefer(db: Any) -> None:
    engine, _ = db
    with Session(engine) as session:
        article = session.scalars(select(Article).where(Article.id == 1)).one()
        with pytest.raises(exc.InvalidRequestError, match=r"Article\.secret' is not available"):
            article.secret  # noqa: B018
        other = session.scalars(
            select(Article).where(Article.id == 2).options(undefer(Article.secret))
        ).one()
        assert other.secret == "x1"


def test_load_only_and_defer_options(db: Any) -> None:
    engine, log = db
    with Session(engine) as session:
        articles = session.scalars(
            select(Article).options(load_only(Article.title)).order_by(Article.id)
        ).all()
        assert [a.title for a in articles] == ["t0", "t1", "t2"]
        assert "rating" not in articles[0].__dict__
        log.clear()
        assert articles[0].rating == 0
        assert len(log.selects) == 1
    with Session(engine) as session:
        article = session.scalars(
            select(Article).options(defer(Article.rating, raiseload=True)).limit(1)
        ).one()
        with pytest.raises(exc.InvalidRequestError, match="raiseload=True"):
            article.rating  # noqa: B018
        strict = session.scalars(
            select(Article).where(Article.id == 2).options(load_only(Article.title, raiseload=True))
        ).one()
        assert strict.title == "t1"
        with pytest.raises(exc.InvalidRequestError, match=r"Article\.body"):
            strict.body  # noqa: B018


def test_options_naming_one_column_must_agree(db: Any) -> None:
    engine, _ = db
    conflicting = [
        (defer(Article.title), undefer(Article.title)),
        (undefer(Article.body), defer(Article.body)),
        (defer(Article.rating), defer(Article.rating, raiseload=True)),
        (load_only(Article.title), defer(Article.title)),
    ]
    with Session(engine) as session:
        for first, second in conflicting:
            stmt = select(Article).options(first).options(second)
            with pytest.raises(exc.InvalidRequestError, match=r"conflict on Article\.\w+"):
                session.scalars(stmt).all()
        # Options that agree, and one naming a column another's "*" or "the others" covers.
        stmt = select(Article).options(
            defer(Article.rating),
            defer(Article.rating),
            load_only(Article.title),
            undefer(Article.body),
        )
        article = session.scalars(stmt.where(Article.id == 1)).one()
        assert {"title", "body"} <= article.__dict__.keys()
        assert not {"rating", "summary"} & article.__dict__.keys()


def test_two_load_only_options_load_the_columns_of_both(db: Any) -> None:
    engine, log = db
    with Session(engine) as session:
        stmt = select(Article).options(load_only(Article.title), load_only(Article.body))
        article = session.scalars(stmt.where(Article.id == 2)).one()
        log.clear()
        assert (article.title, article.body) == ("t1", "b1")
        assert log.selects == []
        assert "rating" not in article.__dict__


def test_relationship_options_naming_one_relationship_must_agree(db: Any) -> None:
    engine, _ = db
    with Session(engine) as session:
        stmt = select(Article).options(selectinload(Article.comments), joinedload(Article.comments))
        with pytest.raises(exc.InvalidRequestError, match=r"selectinload\(\) and joinedload\(\)"):
            session.scalars(stmt).unique().all()
        same = select(Article).options(
            selectinload(Article.comments), selectinload(Article.comments).load_only(Comment.text)
        )
        assert len(session.scalars(same).all()) == 3


def test_a_later_query_fills_in_the_columns_an_object_has_not_loaded(db: Any) -> None:
    engine, log = db
    with Session(engine) as session:
        only_title = select(Article).where(Article.id == 2).options(load_only(Article.title))
        article = session.scalars(only_title).one()
        assert "rating" not in article.__dict__
        session.scalars(select(Article).where(Article.id == 2)).one()
        session.scalars(select(Article).options(undefer(Article.body)).where(Article.id == 2)).one()
        log.clear()
        assert (article.rating, article.body) == (1, "b1")
        assert log.selects == []
        # An expired attribute is filled too, next to a change not flushed yet.
        article.title = "changed"
        session.expire(article, ["rating"])
        session.scalars(select(Article).where(Article.id == 2)).one()
        assert (article.rating, article.title) == (1, "changed")
        assert len(log.selects) == 1


def test_refresh_of_named_deferred_attributes_loads_them(db: Any) -> None:
    engine, log = db
    with Session(engine) as session:
        article = session.get(Article, 3)
        assert article is not None and "body" not in article.__dict__
        log.clear()
        session.refresh(article, ["body", "notes"])
        assert len(log.selects) == 1
        assert (article.__dict__["body"], article.__dict__["notes"]) == ("b2", "n")
        assert "summary" not in article.__dict__


def test_query_expression_with_expression(db: Any) -> None:
    engine, log = db
    with Session(engine) as session:
        rows = session.scalars(
            select(Article)
            .options(with_expression(Article.score, Article.rating * 10 + 1))
            .order_by(Article.id)
        ).all()
        assert [a.score for a in rows] == [1, 11, 21]
    with Session(engine) as session:
        again = session.scalars(
            select(Article)
            .options(with_expression(Article.score, Article.rating * 100))
            .order_by(Article.id)
        ).all()
        assert [a.score for a in again] == [0, 100, 200]  # new bound values, same statement shape
        plain = session.scalars(select(Article).where(Article.id == 1)).one()
        log.clear()
        assert plain is again[0]
        session.expire(plain)
        assert plain.title == "t0"
        log.clear()
        # The load of the expired columns computed the expression of the object's query again.
        assert plain.score == 0
        session.expire(plain)
        assert plain.score is None  # read before anything loads it: not loaded on its own
        assert log.selects == []
    with pytest.raises(exc.ArgumentError, match="query_expression"):
        with_expression(Article.title, func.upper(Article.title))


def test_column_property_correlated_subquery(db: Any) -> None:
    engine, log = db
    with Session(engine) as session:
        articles = session.scalars(select(Article).order_by(Article.id)).all()
        assert [a.comment_count for a in articles] == [0, 1, 2]
        assert len(log.selects) == 1
        busy = session.scalars(select(Article.title).where(Article.comment_count > 1)).all()
        assert busy == ["t2"]


def test_column_options_along_relationships(db: Any) -> None:
    engine, log = db
    with Session(engine) as session:
        log.clear()
        articles = session.scalars(
            select(Article)
            .options(selectinload(Article.comments).load_only(Comment.text))
            .order_by(Article.id)
        ).all()
        assert len(log.selects) == 2
        assert "comments.extra" not in log.selects[1]
        comment = articles[2].comments[0]
        assert comment.text == "c20" and "extra" not in comment.__dict__
    with Session(engine) as session:
        log.clear()
        articles = (
            session.scalars(
                select(Article)
                .options(joinedload(Article.comments).defer(Comment.extra, raiseload=True))
                .order_by(Article.id)
            )
            .unique()
            .all()
        )
        assert len(log.selects) == 1 and "extra" not in log.selects[0].split("FROM")[0]
        assert [c.text for c in articles[2].comments] == ["c20", "c21"]
        with pytest.raises(exc.InvalidRequestError, match=r"Comment\.extra"):
            articles[2].comments[0].extra  # noqa: B018
    with Session(engine) as session:
        article = session.scalars(
            select(Article).where(Article.id == 2).options(Load(Article).undefer(Article.body))
        ).one()
        assert "body" in article.__dict__


def test_legacy_query_options(db: Any) -> None:
    engine, _ = db
    with Session(engine) as session:
        article = (
            session.query(Article).options(load_only(Article.title)).filter_by(title="t1").one()
        )
        assert "rating" not in article.__dict__ and article.rating == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: load_only(Article.comments),
        lambda: load_only(Article.title, Article.comments),
        lambda: defer(Article.comments),
        lambda: undefer(Article.comments),
        lambda: Load(Article).load_only(Article.comments),
        lambda: selectinload(Article.comments).options(load_only(Comment.article)),
    ],
)
def test_column_option_naming_a_relationship_fails_when_run(db: Any, make: Any) -> None:
    engine, log = db
    option = make()  # building the option and the statement is fine, as in SQLAlchemy
    stmt = select(Article).options(option)
    log.clear()
    with Session(engine) as session:
        with pytest.raises(LoaderStrategyException, match=r"Article\.comments|Comment\.article"):
            session.scalars(stmt).all()
        with pytest.raises(exc.InvalidRequestError, match="is a relationship"):
            session.query(Article).options(make()).all()
        assert log.selects == []
        assert session.scalars(select(Article).options(load_only(Article.title))).all()


def test_bad_column_options() -> None:
    with pytest.raises(exc.ArgumentError, match="column attributes"):
        defer("title")
    with pytest.raises(exc.ArgumentError, match="does not belong to Comment"):
        selectinload(Article.comments).defer(Article.body)
