"""Association proxies: list, set and dict views of related objects' attributes, single-value
proxies over many-to-one and one-to-one relationships, the EXISTS criteria they build at
class level, proxies of proxies, and the same through AsyncSession on every async driver."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Column, ForeignKey, String, Table, create_engine, exc, inspect, select
from athanor.engine import Engine
from athanor.ext.associationproxy import (
    ASSOCIATION_PROXY,
    AssociationProxy,
    AssociationProxyExtensionType,
    AssociationProxyInstance,
    ColumnAssociationProxyInstance,
    ObjectAssociationProxyInstance,
    association_proxy,
)
from athanor.ext.asyncio import AsyncAttrs, async_sessionmaker, create_async_engine
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    MappedAsDataclass,
    Session,
    attribute_keyed_dict,
    mapped_column,
    relationship,
    selectinload,
)
from backends import Backend


class Base(AsyncAttrs, DeclarativeBase):
    pass


author_keywords = Table(
    "ap_author_keywords",
    Base.metadata,
    Column("author_id", ForeignKey("ap_authors.id"), primary_key=True),
    Column("keyword_id", ForeignKey("ap_keywords.id"), primary_key=True),
)


class Keyword(Base):
    __tablename__ = "ap_keywords"

    id: Mapped[int] = mapped_column(primary_key=True)
    keyword: Mapped[str] = mapped_column(String(40))

    def __repr__(self) -> str:
        return f"Keyword({self.keyword!r})"


class Author(Base):
    """Many-to-many keywords, proxied as a list of their strings."""

    __tablename__ = "ap_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    kw: Mapped[list[Keyword]] = relationship(secondary=author_keywords, order_by=Keyword.id)
    keywords: AssociationProxy[list[str]] = association_proxy(
        "kw", "keyword", info={"shown_as": "tags"}
    )


class Article(Base):
    """Keywords through an association object that carries its own column."""

    __tablename__ = "ap_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    article_keywords: Mapped[list[ArticleKeyword]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleKeyword.keyword_id"
    )
    keywords: AssociationProxy[list[Keyword]] = association_proxy(
        "article_keywords", "keyword", creator=lambda kw: ArticleKeyword(keyword=kw)
    )
    special_keys: AssociationProxy[list[str | None]] = association_proxy(
        "article_keywords", "special_key"
    )
    keyword_texts: AssociationProxy[list[str]] = association_proxy(
        "article_keywords", "keyword_text"
    )


class ArticleKeyword(Base):
    __tablename__ = "ap_article_keywords"

    article_id: Mapped[int] = mapped_column(ForeignKey("ap_articles.id"), primary_key=True)
    keyword_id: Mapped[int] = mapped_column(ForeignKey("ap_keywords.id"), primary_key=True)
    special_key: Mapped[str | None] = mapped_column(String(20))
    article: Mapped[Article] = relationship(back_populates="article_keywords")
    keyword: Mapped[Keyword] = relationship()
    keyword_text: AssociationProxy[str] = association_proxy("keyword", "keyword")


class Post(Base):
    """Tags in a set-valued one-to-many, proxied as a set of strings."""

    __tablename__ = "ap_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    tag_rows: Mapped[set[PostTag]] = relationship(cascade="all, delete-orphan")
    tags: AssociationProxy[set[str]] = association_proxy("tag_rows", "tag")


class PostTag(Base):
    __tablename__ = "ap_post_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("ap_posts.id"))
    tag: Mapped[str] = mapped_column(String(20))


class Item(Base):
    """Notes keyed by language, proxied as a dict of their texts."""

    __tablename__ = "ap_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    notes: Mapped[dict[str, ItemNote]] = relationship(
        collection_class=attribute_keyed_dict("lang"), cascade="all, delete-orphan"
    )
    texts: AssociationProxy[dict[str, str]] = association_proxy("notes", "text")
    shouted: AssociationProxy[dict[str, str]] = association_proxy(
        "notes", "text", creator=lambda lang, text: ItemNote(lang=lang, text=text.upper())
    )


class ItemNote(Base):
    __tablename__ = "ap_item_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("ap_items.id"))
    lang: Mapped[str] = mapped_column(String(5))
    text: Mapped[str] = mapped_column(String(40))


class Department(Base):
    __tablename__ = "ap_departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(40))


class Person(Base):
    """A one-to-one profile and a many-to-one department, each proxied as one value."""

    __tablename__ = "ap_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("ap_departments.id"))
    department: Mapped[Department | None] = relationship()
    profile: Mapped[Profile | None] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    department_name: AssociationProxy[str | None] = association_proxy("department", "name")
    bio: AssociationProxy[str | None] = association_proxy(
        "profile", "bio", cascade_scalar_deletes=True
    )
    motto: AssociationProxy[str | None] = association_proxy(
        "profile", "motto", create_on_none_assignment=True
    )


class Profile(Base):
    __tablename__ = "ap_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("ap_people.id"), unique=True)
    bio: Mapped[str | None] = mapped_column(String(60))
    motto: Mapped[str | None] = mapped_column(String(60))
    person: Mapped[Person] = relationship(back_populates="profile")


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    from athanor import text

    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def test_list_proxy_over_many_to_many(engine: Engine) -> None:
    with Session(engine) as session:
        ada = Author(name="ada")
        ada.keywords.append("math")
        ada.keywords.extend(["engines", "poetry"])
        assert isinstance(ada.kw[0], Keyword) and ada.kw[0].keyword == "math"
        assert ada.keywords == ["math", "engines", "poetry"]
        assert len(ada.keywords) == 3 and "engines" in ada.keywords and "x" not in ada.keywords
        assert ada.keywords[1:] == ["engines", "poetry"] and ada.keywords[-1] == "poetry"
        ada.keywords[0] = "mathematics"  # sets the attribute of the existing Keyword
        assert ada.kw[0].keyword == "mathematics"
        ada.keywords.remove("poetry")
        with pytest.raises(ValueError, match="'nope' is not in the list"):
            ada.keywords.remove("nope")
        session.add(ada)
        session.commit()
        # "poetry" left before the object was added: its Keyword never reached the session.
        assert _rows(engine, "SELECT keyword FROM ap_keywords ORDER BY id") == [
            ("mathematics",),
            ("engines",),
        ]
        assert _rows(engine, "SELECT COUNT(*) FROM ap_author_keywords") == [(2,)]

    with Session(engine) as session:
        ada = session.scalars(select(Author)).one()
        assert list(ada.keywords) == ["mathematics", "engines"]
        assert repr(ada.keywords) == "['mathematics', 'engines']"
        ada.keywords += ["logic"]  # in place: the existing keywords stay as they are
        first = ada.kw[0]
        ada.keywords = ["a", "b"]  # a whole new list replaces the keywords
        assert first not in ada.kw and [k.keyword for k in ada.kw] == ["a", "b"]
        ada.keywords[0:1] = ["x", "y"]
        assert ada.keywords == ["x", "y", "b"] and ada.keywords.pop() == "b"
        extra = ["z"]
        assert ada.keywords + extra == ["x", "y", "z"] and ada.keywords.index("y") == 1
        session.commit()
        assert _rows(engine, "SELECT COUNT(*) FROM ap_author_keywords") == [(2,)]
        del ada.keywords[:]
        assert ada.keywords == [] and not ada.keywords
        session.commit()
        assert _rows(engine, "SELECT COUNT(*) FROM ap_author_keywords") == [(0,)]


def test_association_objects_and_proxy_of_proxy(engine: Engine) -> None:
    with Session(engine) as session:
        python, sql = Keyword(keyword="python"), Keyword(keyword="sql")
        article = Article(title="orm")
        article.keywords.append(python)  # creator wraps it in an ArticleKeyword
        article.article_keywords.append(ArticleKeyword(keyword=sql, special_key="core"))
        assert [type(a) for a in article.article_keywords] == [ArticleKeyword, ArticleKeyword]
        assert article.keywords == [python, sql]
        assert article.special_keys == [None, "core"]
        assert article.keyword_texts == ["python", "sql"]  # Article -> ArticleKeyword -> Keyword
        session.add(article)
        session.commit()

    with Session(engine) as session:
        article = session.scalars(select(Article)).one()
        link = article.article_keywords[0]
        assert link.keyword_text == "python"
        link.keyword_text = "py"  # a scalar proxy sets the attribute of the existing Keyword
        article.keyword_texts.append("asyncio")  # ArticleKeyword(keyword_text=...) -> Keyword
        assert article.keyword_texts == ["py", "sql", "asyncio"]
        session.commit()
        assert _rows(engine, "SELECT keyword FROM ap_keywords ORDER BY keyword") == [
            ("asyncio",),
            ("py",),
            ("sql",),
        ]
        article.keywords.remove(article.keywords[1])  # the ArticleKeyword row goes (orphan)
        session.commit()
        assert _rows(engine, "SELECT COUNT(*) FROM ap_article_keywords") == [(2,)]


def test_set_proxy(engine: Engine) -> None:
    with Session(engine) as session:
        post = Post(title="hello", tags={"a", "b"})  # the proxy takes its initial value
        post.tags.add("c")
        post.tags.add("a")  # already there: no second PostTag
        assert len(post.tag_rows) == 3 and post.tags == {"a", "b", "c"}
        post.tags.discard("b")
        with pytest.raises(KeyError):
            post.tags.remove("zzz")
        assert post.tags | {"q"} == {"a", "c", "q"} and post.tags & {"a", "x"} == {"a"}
        assert post.tags.issubset({"a", "c", "d"}) and {"a", "c"} == post.tags
        session.add(post)
        session.commit()
        tag_rows_before = {row.tag: row for row in post.tag_rows}
        post.tags = {"a", "d"}  # keeps the PostTag of "a", drops "c", adds "d"
        assert {row.tag: row for row in post.tag_rows}["a"] is tag_rows_before["a"]
        post.tags -= {"d"}
        post.tags |= {"e"}
        session.commit()
        assert _rows(engine, "SELECT tag FROM ap_post_tags ORDER BY tag") == [("a",), ("e",)]


def test_dict_proxy(engine: Engine) -> None:
    with Session(engine) as session:
        item = Item(name="lamp")
        item.texts["en"] = "lamp"  # ItemNote(lang="en", text="lamp"): key and value as keywords
        item.texts.update({"fr": "lampe", "de": "Lampe"})
        item.shouted["es"] = "lámpara"  # a creator of one's own gets (key, value)
        assert item.notes["en"].lang == "en" and item.notes["es"].text == "LÁMPARA"
        assert item.texts == {"en": "lamp", "fr": "lampe", "de": "Lampe", "es": "LÁMPARA"}
        assert "fr" in item.texts and len(item.texts) == 4 and item.texts.get("it") is None
        del item.texts["de"]
        note = item.notes["en"]
        item.texts["en"] = "light"  # an existing key sets the text of its note
        assert item.notes["en"] is note and note.text == "light"
        assert sorted(item.texts.items()) == [("en", "light"), ("es", "LÁMPARA"), ("fr", "lampe")]
        session.add(item)
        session.commit()
        item.texts = {"en": "lamp", "it": "lampada"}
        assert item.notes["en"] is note
        session.commit()
        assert _rows(engine, "SELECT lang, text FROM ap_item_notes ORDER BY lang") == [
            ("en", "lamp"),
            ("it", "lampada"),
        ]
        assert item.texts.pop("it") == "lampada" and dict(item.texts) == {"en": "lamp"}


def test_scalar_proxies(engine: Engine) -> None:
    with Session(engine) as session:
        bob = Person(name="bob")
        assert bob.department_name is None and bob.bio is None  # no related object: None
        bob.bio = None  # nothing to create or clear
        assert bob.profile is None
        bob.department_name = "R&D"  # creates Department(name="R&D")
        bob.bio = "writes code"  # creates Profile(bio=...)
        assert bob.department is not None and bob.department.name == "R&D"
        profile = bob.profile
        assert profile is not None and profile.bio == "writes code"
        bob.bio = "reviews code"  # sets the attribute on the existing profile
        assert bob.profile is profile and profile.bio == "reviews code"
        session.add(bob)
        session.commit()

        bob.bio = None  # cascade_scalar_deletes: the profile goes as well
        assert bob.profile is None
        session.commit()
        assert _rows(engine, "SELECT COUNT(*) FROM ap_profiles") == [(0,)]

        bob.motto = None  # create_on_none_assignment: a profile is made for None too
        assert bob.profile is not None and bob.profile.motto is None
        bob.department_name = None  # without cascade_scalar_deletes: the department stays
        assert bob.department is not None and bob.department.name is None
        session.commit()
        assert _rows(engine, "SELECT COUNT(*), MAX(motto) FROM ap_profiles") == [(1, None)]
        del bob.department_name
        assert bob.department is None
        session.commit()
        assert _rows(engine, "SELECT department_id FROM ap_people") == [(None,)]


def _names(session: Session, entity: Any, *criteria: Any) -> list[str]:
    column = entity.title if entity in (Article, Post) else entity.name
    return list(session.scalars(select(column).where(*criteria).order_by(column)))


def test_queries(engine: Engine) -> None:
    with Session(engine) as session:
        python, sql, web = (Keyword(keyword=k) for k in ("python", "sql", "web"))
        session.add_all(
            [
                Author(name="ada", kw=[python, sql]),
                Author(name="bob", kw=[web]),
                Author(name="cy"),
                Article(
                    title="one",
                    article_keywords=[ArticleKeyword(keyword=python, special_key="main")],
                ),
                Article(title="two", article_keywords=[ArticleKeyword(keyword=sql)]),
                Article(title="three"),
                Person(name="dee", department=Department(name="ops"), profile=Profile(bio="x")),
                Person(name="eve", department=Department(name=None)),
                Person(name="fay"),
                Post(title="p1", tags={"red", "blue"}),
                Item(name="lamp", texts={"en": "lamp"}),
            ]
        )
        session.commit()

        # A column-valued proxy of a collection: the operators test the related rows.
        assert _names(session, Author, Author.keywords == "sql") == ["ada"]
        assert _names(session, Author, Author.keywords.contains("e")) == ["bob"]  # LIKE
        assert _names(session, Author, Author.keywords.in_(["web", "sql"])) == ["ada", "bob"]
        assert _names(session, Author, Author.keywords.like("py%")) == ["ada"]
        assert _names(session, Author, Author.keywords != "python") == ["ada", "bob"]
        assert _names(session, Author, Author.keywords.any(Keyword.keyword == "web")) == ["bob"]
        assert _names(session, Author, Author.keywords.any(keyword="web")) == ["bob"]
        assert _names(session, Author, ~Author.keywords.any()) == ["cy"]
        assert _names(session, Author, Author.keywords == None) == ["cy"]  # noqa: E711
        assert _names(session, Post, Post.tags == "red") == ["p1"]
        assert _names(session, Item, Item.texts == "lamp") == ["lamp"]

        # An object-valued proxy: contains() an object, any() on the far class.
        assert _names(session, Article, Article.keywords.contains(sql)) == ["two"]
        assert _names(session, Article, Article.keywords.any(Keyword.keyword == "python")) == [
            "one"
        ]
        assert _names(session, Article, Article.special_keys == "main") == ["one"]
        assert _names(session, Article, Article.special_keys == None) == [  # noqa: E711
            "three",
            "two",
        ]
        # A proxy of a proxy nests one EXISTS in the other.
        assert _names(session, Article, Article.keyword_texts == "sql") == ["two"]
        assert _names(session, Article, Article.keyword_texts.startswith("py")) == ["one"]
        assert _names(
            session, Article, Article.keyword_texts.any(Keyword.keyword.in_(["sql", "web"]))
        ) == ["two"]
        assert _names(session, Article, Article.keywords.contains(web)) == []

        # Single-value proxies: ==, != and has(); == None also matches "no related object".
        assert _names(session, Person, Person.department_name == "ops") == ["dee"]
        assert _names(session, Person, Person.department_name != "ops") == []
        assert _names(session, Person, Person.department_name == None) == [  # noqa: E711
            "eve",
            "fay",
        ]
        assert _names(session, Person, Person.bio == "x") == ["dee"]
        assert _names(session, Person, Person.bio == None) == ["eve", "fay"]  # noqa: E711
        assert _names(session, Person, Person.bio.has(Profile.bio.like("%x%"))) == ["dee"]
        assert _names(session, Person, Person.department_name.has(name="ops")) == ["dee"]


def test_misuse_is_explained() -> None:
    with pytest.raises(exc.InvalidRequestError, match=r"any\(\) tests a collection.*use has"):
        Person.bio.any()
    with pytest.raises(exc.InvalidRequestError, match=r"has\(\) tests a reference.*use any"):
        Author.keywords.has()
    with pytest.raises(exc.InvalidRequestError, match=r"cannot be compared with ==.*contains"):
        _ = Article.keywords == Keyword(keyword="x")
    with pytest.raises(exc.InvalidRequestError, match=r"compare with ==, != or contains"):
        Article.keywords.like("x")
    with pytest.raises(exc.ArgumentError, match="attr must be the name of an attribute"):
        association_proxy("kw", None)  # type: ignore[arg-type]

    class LocalBase(DeclarativeBase):
        pass

    class Orphan(LocalBase):
        __tablename__ = "ap_orphans"

        id: Mapped[int] = mapped_column(primary_key=True)
        things: AssociationProxy[list[str]] = association_proxy("nothing", "name")
        names: AssociationProxy[list[str]] = association_proxy("id", "name")

    with pytest.raises(exc.InvalidRequestError, match="Orphan has no mapped attribute 'nothing'"):
        _ = Orphan().things
    with pytest.raises(exc.InvalidRequestError, match="Orphan has no relationship 'id'"):
        _ = Orphan.names


def test_class_level_introspection() -> None:
    descriptors = inspect(Author).all_orm_descriptors
    proxy = descriptors["keywords"]
    assert isinstance(proxy, AssociationProxy) and "kw" in descriptors
    assert proxy.extension_type is ASSOCIATION_PROXY
    assert ASSOCIATION_PROXY is AssociationProxyExtensionType.ASSOCIATION_PROXY
    assert proxy.is_attribute and proxy.info == {"shown_as": "tags"}
    assert (proxy.target_collection, proxy.value_attr, proxy.key) == ("kw", "keyword", "keywords")
    assert "keywords" not in inspect(Author).attrs  # not a mapped property

    at_class = Author.keywords
    assert isinstance(at_class, ColumnAssociationProxyInstance)
    assert isinstance(at_class, AssociationProxyInstance) and at_class.parent is proxy
    assert at_class.info is proxy.info and at_class is proxy.for_class(Author)
    assert at_class.local_attr is Author.kw and at_class.remote_attr is Keyword.keyword
    assert at_class.attr == (Author.kw, Keyword.keyword)
    assert at_class.target_class is Keyword and not at_class.scalar
    assert at_class.collection_class is list and Post.tags.collection_class is set
    assert Item.texts.collection_class is dict and Person.bio.scalar
    assert Person.bio.collection_class is None
    assert isinstance(Article.keywords, ObjectAssociationProxyInstance)
    assert isinstance(Article.keyword_texts, ColumnAssociationProxyInstance)


def test_custom_getset_and_proxy_factory() -> None:
    class Listing(list[Any]):
        """A plain list snapshot the proxy fills and writes back."""

        def __init__(self, lazy: Any, creator: Any, attr: str, owner: Any) -> None:
            super().__init__(getattr(m, attr) for m in lazy())
            self.lazy, self.creator = lazy, creator

    def bulk_set(listing: Listing, values: list[str]) -> None:
        collection = listing.lazy()
        collection[:] = [listing.creator(v) for v in values]

    class LocalBase(DeclarativeBase):
        pass

    class Shelf(LocalBase):
        __tablename__ = "ap_shelves"

        id: Mapped[int] = mapped_column(primary_key=True)
        books: Mapped[list[ShelfBook]] = relationship()
        titles: AssociationProxy[list[str]] = association_proxy(
            "books", "title", proxy_factory=Listing, proxy_bulk_set=bulk_set
        )
        upper: AssociationProxy[list[str]] = association_proxy(
            "books",
            "title",
            getset_factory=lambda kind, owner: (
                lambda book: book.title.upper(),
                lambda book, value: setattr(book, "title", value.lower()),
            ),
        )

    class ShelfBook(LocalBase):
        __tablename__ = "ap_shelf_books"

        id: Mapped[int] = mapped_column(primary_key=True)
        shelf_id: Mapped[int] = mapped_column(ForeignKey("ap_shelves.id"))
        title: Mapped[str] = mapped_column(String(30))

    shelf = Shelf()
    shelf.titles = ["dune", "emma"]
    assert isinstance(shelf.titles, Listing) and shelf.titles == ["dune", "emma"]
    shelf.upper[0] = "DUNE II"
    assert shelf.upper == ["DUNE II", "EMMA"] and shelf.books[0].title == "dune ii"
    shelf.titles = shelf.titles  # a snapshot of its own values: nothing is lost
    assert shelf.titles == ["dune ii", "emma"]


async def _async_workflow(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        factory = async_sessionmaker(engine, expire_on_commit=False)
        async with factory() as session:
            ada = Author(name="ada", keywords=["math", "engines"])
            article = Article(title="orm")
            article.keyword_texts.extend(["python", "sql"])
            session.add_all([ada, article, Person(name="bob", bio="hi")])
            await session.commit()

        async with factory() as session:
            ada = await session.scalar(select(Author).options(selectinload(Author.kw)))
            assert ada is not None and ada.keywords == ["math", "engines"]
            ada.keywords.append("poetry")
            await session.commit()

            article = await session.scalar(select(Article))
            assert article is not None
            with pytest.raises(exc.MissingGreenlet, match=r"Article\.article_keywords"):
                _ = article.keyword_texts
            links = await article.awaitable_attrs.article_keywords
            for link in links:
                await link.awaitable_attrs.keyword  # kept on the link once loaded
            assert article.keyword_texts == ["python", "sql"]

            bob = await session.scalar(select(Person))
            assert bob is not None and await bob.awaitable_attrs.bio == "hi"
            found = await session.scalars(select(Author.name).where(Author.keywords == "poetry"))
            assert found.all() == ["ada"]
            assert (
                await session.scalar(
                    select(Article.title).where(Article.keyword_texts.contains("ql"))
                )
                == "orm"
            )
        assert engine.pool.checkedout() == 0
    finally:
        await engine.dispose()


@pytest.mark.usefixtures("async_driver")
def test_async_session(backend: Backend) -> None:
    asyncio.run(_async_workflow(backend.async_url()))
    sync_engine = create_engine(backend.url)
    try:
        assert _rows(sync_engine, "SELECT keyword FROM ap_keywords ORDER BY keyword") == [
            ("engines",),
            ("math",),
            ("poetry",),
            ("python",),
            ("sql",),
        ]
    finally:
        sync_engine.dispose()


def test_dataclass_mapping() -> None:
    class DataBase(MappedAsDataclass, DeclarativeBase):
        pass

    class Box(DataBase):
        __tablename__ = "ap_boxes"

        id: Mapped[int] = mapped_column(primary_key=True, init=False)
        label: Mapped[str] = mapped_column(String(20))
        items: Mapped[list[BoxItem]] = relationship(default_factory=list)
        names: AssociationProxy[list[str]] = association_proxy("items", "name")

    class BoxItem(DataBase):
        __tablename__ = "ap_box_items"

        id: Mapped[int] = mapped_column(primary_key=True, init=False)
        box_id: Mapped[int | None] = mapped_column(ForeignKey("ap_boxes.id"), init=False)
        name: Mapped[str] = mapped_column(String(20))

    empty = Box(label="empty")  # the proxy's dataclass default leaves the items alone
    assert empty.items == [] and empty.names == []
    full = Box(label="full", names=["pen", "cup"])  # ... and a value given goes through it
    assert [item.name for item in full.items] == ["pen", "cup"]
    assert isinstance(full.items[0], BoxItem)
