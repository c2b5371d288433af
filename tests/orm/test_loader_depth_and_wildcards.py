"""Loader options on self-referential trees (``recursion_depth``, ``join_depth``), ``"*"``
column options, ``Query.enable_eagerloads(False)`` and relationship criteria
(``.and_()``) on many-to-one loads whose targets are already in the session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import ForeignKey, String, create_engine, exc, select, update
from athanor.orm import (
    DeclarativeBase,
    Load,
    Mapped,
    Session,
    defaultload,
    defer,
    immediateload,
    joinedload,
    lazyload,
    load_only,
    mapped_column,
    relationship,
    selectinload,
    subqueryload,
    undefer,
)
from orm.orm_models import StatementLog


class TreeBase(DeclarativeBase):
    pass


class Folder(TreeBase):
    """A tree loaded lazily by default; its ``note`` column is deferred."""

    __tablename__ = "folders"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("folders.id"))
    name: Mapped[str] = mapped_column(String(30))
    size: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(String(30), deferred=True)
    children: Mapped[list[Folder]] = relationship(order_by="Folder.id", back_populates="parent")
    parent: Mapped[Folder | None] = relationship(remote_side=[id], back_populates="children")


class Topic(TreeBase):
    """Self-referential ``lazy="selectin"`` without ``join_depth``: no eager load at all."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    subtopics: Mapped[list[Topic]] = relationship(lazy="selectin", order_by="Topic.id")


class Region(TreeBase):
    """Self-referential ``lazy="selectin"`` two levels deep."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    parts: Mapped[list[Region]] = relationship(lazy="selectin", join_depth=2, order_by="Region.id")


class Unit(TreeBase):
    """Self-referential ``lazy="joined"`` two levels deep."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    members: Mapped[list[Unit]] = relationship(lazy="joined", join_depth=2, order_by="Unit.id")


class Shop(TreeBase):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(30))
    open: Mapped[bool] = mapped_column(default=True)


class Sale(TreeBase):
    __tablename__ = "sales"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    shop: Mapped[Shop] = relationship()


class Library(TreeBase):
    """The top of a chain of relationships (library, bookcases, books, notes) for ``"*"``."""

    __tablename__ = "libraries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bookcases: Mapped[list[Bookcase]] = relationship(order_by="Bookcase.id")


class Bookcase(TreeBase):
    """Its books load with ``selectin`` unless a query says otherwise."""

    __tablename__ = "bookcases"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    books: Mapped[list[Book]] = relationship(lazy="selectin", order_by="Book.id")


class Book(TreeBase):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bookcase_id: Mapped[int] = mapped_column(ForeignKey("bookcases.id"))
    notes: Mapped[list[BookNote]] = relationship(order_by="BookNote.id")


class BookNote(TreeBase):
    __tablename__ = "book_notes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))


CHAIN = 6
"""Folders 1..7: each the only child of the one before."""


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    TreeBase.metadata.create_all(eng)
    with Session(eng) as session:
        session.add_all(
            [
                Folder(id=i + 1, parent_id=i or None, name=f"f{i + 1}", size=i, note="n")
                for i in range(CHAIN + 1)
            ]
        )
        session.flush()
        for cls in (Topic, Region, Unit):
            session.add_all([cls(id=i + 1, parent_id=i or None) for i in range(CHAIN + 1)])
            session.flush()
        session.add_all([Shop(id=1, name="north"), Shop(id=2, name="south", open=False)])
        session.flush()
        session.add_all([Sale(id=i, shop_id=1 + i % 2) for i in range(1, 7)])
        session.add_all([Library(id=i) for i in (1, 2)])
        session.flush()
        session.add_all([Bookcase(id=i, library_id=1 + i % 2) for i in range(1, 5)])
        session.flush()
        session.add_all([Book(id=i, bookcase_id=1 + i % 4) for i in range(1, 9)])
        session.flush()
        session.add_all([BookNote(id=i, book_id=i) for i in range(1, 9)])
        session.commit()
    yield eng
    eng.dispose()


def _loaded_depth(obj: Any, key: str) -> int:
    """How many levels below ``obj`` the relationship ``key`` was loaded without SQL."""
    depth = 0
    while obj.__dict__.get(key):
        obj = obj.__dict__[key][0]
        depth += 1
    return depth


def _root(session: Session, *options: Any) -> Folder:
    return session.scalars(select(Folder).where(Folder.id == 1).options(*options)).one()


@pytest.mark.parametrize(
    ("depth", "levels"), [(0, 1), (1, 2), (3, 4), (-1, CHAIN)], ids=["0", "1", "3", "unlimited"]
)
def test_selectinload_recursion_depth_loads_that_many_more_levels(
    engine: Any, depth: int, levels: int
) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        root = _root(session, selectinload(Folder.children, recursion_depth=depth))
        # One SELECT per level below the root; unlimited stops at the leaf (which finds nothing).
        assert len(log.selects) == 1 + levels + (1 if depth == -1 else 0)
        assert _loaded_depth(root, "children") == levels
        names = []
        node = root
        while node.children:
            node = node.children[0]
            names.append(node.name)
        assert names == [f"f{i}" for i in range(2, CHAIN + 2)]


def test_immediateload_recursion_depth(engine: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        root = _root(session, immediateload(Folder.children, recursion_depth=2))
        assert len(log.selects) == 4
        assert _loaded_depth(root, "children") == 3


def test_recursion_depth_carries_the_rest_of_the_path_to_every_level(engine: Any) -> None:
    with Session(engine) as session:
        root = _root(session, selectinload(Folder.children, recursion_depth=2).defer(Folder.name))
        node = root
        for _ in range(3):
            node = node.__dict__["children"][0]
            assert "name" not in node.__dict__ and "size" in node.__dict__


def test_recursion_depth_on_a_relationship_to_another_class_is_refused(engine: Any) -> None:
    with Session(engine) as session:
        stmt = select(Sale).options(selectinload(Sale.shop, recursion_depth=2))
        with pytest.raises(exc.InvalidRequestError, match=r"recursion_depth.*Sale\.shop"):
            session.scalars(stmt).all()


@pytest.mark.parametrize(
    ("cls", "key", "statements", "levels"),
    [(Topic, "subtopics", 1, 0), (Region, "parts", 3, 2), (Unit, "members", 1, 2)],
    ids=["selectin-no-join-depth", "selectin-join-depth-2", "joined-join-depth-2"],
)
def test_self_referential_eager_default_follows_join_depth(
    engine: Any, cls: Any, key: str, statements: int, levels: int
) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        root = session.scalars(select(cls).where(cls.id == 1)).unique().one()
        assert len(log.selects) == statements
        assert _loaded_depth(root, key) == levels


def _columns(obj: Any) -> set[str]:
    return {k for k in ("id", "parent_id", "name", "size", "note") if k in obj.__dict__}


@pytest.mark.parametrize(
    ("options", "loaded"),
    [
        (lambda: (defer("*"),), {"id"}),
        (lambda: (Load(Folder).defer("*"),), {"id"}),
        (lambda: (defer("*"), undefer(Folder.name)), {"id", "name"}),
        (lambda: (undefer(Folder.name), defer("*")), {"id", "name"}),
        (lambda: (load_only(Folder.size), defer("*")), {"id", "size"}),
        (lambda: (defer("*"), load_only(Folder.size)), {"id", "size"}),
        (lambda: (undefer("*"),), {"id", "parent_id", "name", "size", "note"}),
        (lambda: (Load(Folder).undefer("*"),), {"id", "parent_id", "name", "size", "note"}),
    ],
    ids=[
        "defer",
        "Load-defer",
        "defer-then-undefer",
        "undefer-then-defer",
        "load_only-then-defer",
        "defer-then-load_only",
        "undefer",
        "Load-undefer",
    ],
)
def test_wildcard_column_options(engine: Any, options: Any, loaded: set[str]) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        root = _root(session, *options())
        assert _columns(root) == loaded
        assert len(log.selects) == 1
        assert root.size == 0  # an unloaded column loads on access
        assert root.note == "n"


def test_defer_wildcard_with_raiseload(engine: Any) -> None:
    with Session(engine) as session:
        root = _root(session, defer("*", raiseload=True))
        assert root.id == 1
        with pytest.raises(exc.InvalidRequestError, match="name"):
            _ = root.name


def test_wildcard_column_option_along_a_path(engine: Any) -> None:
    for option in (
        selectinload(Folder.children).defer("*"),
        joinedload(Folder.children).defer("*"),
    ):
        with Session(engine) as session:
            root = (
                session.scalars(select(Folder).where(Folder.id == 1).options(option)).unique().one()
            )
            assert _columns(root) == {"id", "parent_id", "name", "size"}
            assert _columns(root.children[0]) - {"parent_id"} == {"id"}
            assert root.children[0].name == "f2"


def test_wildcard_of_Load_entity_leaves_other_entities_alone(engine: Any) -> None:
    with Session(engine) as session:
        stmt = (
            select(Folder)
            .where(Folder.id == 1)
            .options(Load(Folder).joinedload(Folder.children), Load(Folder).defer("*"))
        )
        root = session.scalars(stmt).unique().one()
        assert _columns(root) == {"id"}
        assert _columns(root.children[0]) == {"id", "parent_id", "name", "size"}


@pytest.mark.parametrize(
    "option",
    [
        lambda: joinedload(Folder.children),
        lambda: selectinload(Folder.children),
        lambda: subqueryload(Folder.children),
    ],
    ids=["joined", "selectin", "subquery"],
)
def test_enable_eagerloads_false_runs_only_the_query(engine: Any, option: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        query = session.query(Folder).filter(Folder.id == 1).options(option())
        root = query.enable_eagerloads(False).one()
        assert len(log.selects) == 1
        assert "JOIN" not in log.selects[0].upper()
        assert "children" not in root.__dict__
        log.clear()
        session.expunge_all()
        again = query.enable_eagerloads(False).enable_eagerloads(True).one()
        assert "children" in again.__dict__


def test_enable_eagerloads_false_skips_eager_defaults(engine: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        root = session.query(Region).filter(Region.id == 1).enable_eagerloads(False).one()
        assert len(log.selects) == 1
        assert "parts" not in root.__dict__
        assert session.query(Region).enable_eagerloads(False).count() == CHAIN + 1


def _shops(sales: list[Sale]) -> list[tuple[int, str | None]]:
    return [(s.id, None if s.shop is None else s.shop.name) for s in sales]


EXPECTED_OPEN = [(1, None), (2, "north"), (3, None), (4, "north"), (5, None), (6, "north")]


@pytest.mark.parametrize(
    "loader", [selectinload, joinedload, lazyload], ids=["selectin", "joined", "lazy"]
)
@pytest.mark.parametrize("preloaded", [False, True], ids=["fresh", "shops-in-session"])
def test_many_to_one_criteria_filter_even_when_targets_are_in_the_session(
    engine: Any, loader: Any, preloaded: bool
) -> None:
    with Session(engine) as session:
        if preloaded:
            assert len(session.scalars(select(Shop)).all()) == 2
        stmt = select(Sale).order_by(Sale.id).options(loader(Sale.shop.and_(Shop.open.is_(True))))
        sales = session.scalars(stmt).all()
        if loader is not lazyload:
            assert all("shop" in sale.__dict__ for sale in sales)
        assert _shops(sales) == EXPECTED_OPEN


def test_populate_existing_unloads_deferred_columns_it_did_not_select(engine: Any) -> None:
    with Session(engine) as session:
        root = session.get(Folder, 1)
        assert root.note == "n"
        session.execute(
            update(Folder).where(Folder.id == 1).values(note="changed", size=9),
            execution_options={"synchronize_session": False},
        )
        assert root.size == 0
        session.scalars(
            select(Folder).where(Folder.id == 1).execution_options(populate_existing=True)
        ).one()
        assert root.size == 9
        assert "note" not in root.__dict__
        assert root.note == "changed"


def _library_levels(libraries: Any) -> list[tuple[int, list[tuple[int, list[int]]]]]:
    """What was loaded below each library, read without SQL (None: not loaded)."""
    found: list[Any] = []
    for library in libraries:
        cases = []
        for case in library.__dict__.get("bookcases", ()):
            books = case.__dict__.get("books")
            notes = None if books is None else [len(b.__dict__.get("notes", [None])) for b in books]
            cases.append((case.id, notes))
        found.append((library.id, cases))
    return found


FULL = [(1, [(2, [1, 1]), (4, [1, 1])]), (2, [(1, [1, 1]), (3, [1, 1])])]


@pytest.mark.parametrize(
    ("option", "statements"),
    [(joinedload("*"), 1), (selectinload("*"), 4), (subqueryload("*"), 4)],
    ids=["joined", "selectin", "subquery"],
)
def test_eager_wildcard_holds_at_every_level(engine: Any, option: Any, statements: int) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        stmt = select(Library).options(option).order_by(Library.id)
        libraries = session.scalars(stmt).unique().all()
        assert len(log.selects) == statements
        assert _library_levels(libraries) == FULL


def test_wildcard_below_options_naming_relationships(engine: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        stmt = (
            select(Library)
            .options(
                defaultload(Library.bookcases).defaultload(Bookcase.books).lazyload(Book.notes),
                joinedload("*"),
            )
            .order_by(Library.id)
        )
        libraries = session.scalars(stmt).unique().all()
        assert len(log.selects) == 1
        case = libraries[0].bookcases[0]
        assert [b.id for b in case.books] == [1, 5] and "notes" not in case.books[0].__dict__
    log.clear()
    with Session(engine) as session:
        # lazyload("*") also holds for the bookcases the named selectinload brings: their
        # books (lazy="selectin" by default) load only when accessed.
        stmt = select(Library).options(lazyload("*"), selectinload(Library.bookcases))
        libraries = session.scalars(stmt.order_by(Library.id)).all()
        assert len(log.selects) == 2
        assert _library_levels(libraries) == [
            (1, [(2, None), (4, None)]),
            (2, [(1, None), (3, None)]),
        ]
        assert [b.id for b in libraries[0].bookcases[0].books] == [1, 5]
        assert len(log.selects) == 3


def test_wildcard_of_Load_applies_to_its_entity_only(engine: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        rows = session.execute(
            select(Bookcase, Book)
            .join(Book, Bookcase.books)
            .where(Book.id == 5)
            .options(Load(Book).raiseload("*"))
        ).all()
        ((case, book),) = rows
        # The bookcase's books keep their own default (selectin): only Book's relationships
        # raise.
        assert [b.id for b in case.__dict__["books"]] == [1, 5]
        with pytest.raises(exc.InvalidRequestError, match="raiseload"):
            book.notes  # noqa: B018
        assert len(log.selects) == 2
