"""Many-to-many, cascades, optimistic concurrency and bulk operations on every database."""

from __future__ import annotations

import pytest

from athanor import Column, ForeignKey, Integer, String, Table, create_engine, select, text
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    scoped_session,
    sessionmaker,
)
from athanor.orm.exc import StaleDataError


class Base(DeclarativeBase):
    pass


tags_table = Table(
    "article_tags",
    Base.metadata,
    Column("article_id", ForeignKey("articles.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True),
)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(Integer)
    tags: Mapped[list[Tag]] = relationship(secondary="article_tags", back_populates="articles")
    comments: Mapped[list[Comment]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    articles: Mapped[list[Article]] = relationship(secondary=tags_table, back_populates="tags")


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    article: Mapped[Article] = relationship(back_populates="comments")


@pytest.fixture
def engine(backend):
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_many_to_many_add_remove_and_backref(engine) -> None:
    python, sql = Tag(name="python"), Tag(name="sql")
    article = Article(title="a", tags=[python, sql])
    assert python.articles == [article]
    with Session(engine) as session:
        session.add(article)
        session.commit()
        assert sorted(rows(engine, "SELECT tag_id FROM article_tags")) == sorted(
            [(python.id,), (sql.id,)]
        )
        article.tags.remove(sql)
        assert sql.articles == []
        session.commit()
        assert rows(engine, "SELECT tag_id FROM article_tags") == [(python.id,)]
        article_id = article.id
    with Session(engine) as session:
        loaded = session.get(Article, article_id)
        assert [t.name for t in loaded.tags] == ["python"]
        session.delete(loaded)
        session.commit()
    assert rows(engine, "SELECT COUNT(*) FROM article_tags") == [(0,)]


def test_delete_orphan_and_delete_cascade(engine) -> None:
    with Session(engine) as session:
        article = Article(title="a", comments=[Comment(text="x"), Comment(text="y")])
        session.add(article)
        session.commit()
        article.comments.pop(0)
        session.commit()
        assert [r[0] for r in rows(engine, "SELECT text FROM comments")] == ["y"]
        session.delete(article)
        session.commit()
    assert rows(engine, "SELECT COUNT(*) FROM comments") == [(0,)]
    assert rows(engine, "SELECT COUNT(*) FROM articles") == [(0,)]


def test_child_removed_then_parent_deleted_is_deleted_as_orphan(engine) -> None:
    """Removing a child and then deleting its parent deletes the child; no NULL foreign key."""
    with Session(engine) as session:
        session.add(Article(title="a", comments=[Comment(text="x"), Comment(text="y")]))
        session.add(Article(title="b", comments=[Comment(text="z")]))
        session.commit()
        article = session.scalars(select(Article).where(Article.title == "a")).one()
        article.comments.remove(article.comments[0])
        session.delete(article)
        session.commit()
    assert rows(engine, "SELECT title FROM articles") == [("b",)]
    assert rows(engine, "SELECT text FROM comments") == [("z",)]


@pytest.mark.parametrize("touched_first", ["old", "new"])
def test_child_moved_between_loaded_collections_is_kept(engine, touched_first: str) -> None:
    """A child moved to another parent is not an orphan, whichever parent changed first."""
    with Session(engine) as session:
        old, new = Article(title="old", comments=[Comment(text="c")]), Article(title="new")
        session.add_all([old, new])
        session.commit()
        assert new.comments == [] and len(old.comments) == 1
        (old if touched_first == "old" else new).title += "!"
        new.comments.append(old.comments[0])
        session.commit()
        new_id = new.id
    assert rows(engine, "SELECT text, article_id FROM comments") == [("c", new_id)]


def test_child_moved_by_many_to_one_to_unloaded_parent_is_kept(engine) -> None:
    """Setting the child's many-to-one to a parent whose collection is unloaded keeps it."""
    with Session(engine) as session:
        old, new = Article(title="old", comments=[Comment(text="c")]), Article(title="new")
        session.add_all([old, new])
        session.commit()
        comment = old.comments[0]
        new_id = new.id
        session.expire(new)
        comment.article = new
        assert old.comments == []
        session.commit()
    assert rows(engine, "SELECT text, article_id FROM comments") == [("c", new_id)]


def test_version_id_conflict_between_two_sessions(engine) -> None:
    with Session(engine) as setup:
        article = Article(title="v")
        setup.add(article)
        setup.commit()
        assert article.version == 1
        article_id = article.id
    first, second = Session(engine), Session(engine, expire_on_commit=False)
    a2 = second.get(Article, article_id)
    second.commit()  # the row is read, its transaction ends (SQLite would block the writer)
    a1 = first.get(Article, article_id)
    a1.title = "first"
    first.commit()
    a2.title = "second"
    with pytest.raises(StaleDataError, match="articles"):
        second.commit()
    second.rollback()
    assert a2.title == "first" and a2.version == 2
    first.close()
    second.close()


def test_bulk_insert_and_update_mappings(engine) -> None:
    with Session(engine) as session:
        session.bulk_insert_mappings(
            Article, [{"title": f"t{i}", "version": 1} for i in range(300)]
        )
        session.commit()
        assert session.scalar(select(Article.id).order_by(Article.id.desc()).limit(1)) is not None
        ids = session.scalars(select(Article.id).order_by(Article.id).limit(2)).all()
        session.bulk_update_mappings(
            Article, [{"id": ids[0], "title": "one"}, {"id": ids[1], "title": "two"}]
        )
        session.commit()
    assert rows(engine, "SELECT COUNT(*) FROM articles") == [(300,)]
    assert rows(engine, f"SELECT title FROM articles WHERE id = {ids[1]}") == [("two",)]


def test_bulk_save_objects(engine) -> None:
    with Session(engine) as session:
        session.bulk_save_objects([Tag(name=f"n{i}") for i in range(5)])
        session.commit()
        assert session.scalars(select(Tag)).all().__len__() == 5


def test_scoped_session_is_per_thread(engine) -> None:
    import threading

    registry = scoped_session(sessionmaker(bind=engine))
    seen = []

    def work(n: int) -> None:
        session = registry()
        session.add(Tag(name=f"thread{n}"))
        session.commit()
        seen.append(id(session))
        registry.remove()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    if engine.dialect.name == "sqlite":
        for t in threads:  # one writer at a time on SQLite
            t.start()
            t.join()
    else:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(seen) == 4
    assert rows(engine, "SELECT COUNT(*) FROM tags") == [(4,)]
    assert registry() is registry()
    registry.remove()
