"""Relationship configuration as the ORM guide documents it (many-to-many with criteria on
the secondary table, join conditions marked with foreign() / remote(), mutable primary keys,
collection classes and ordering_list), on every database, asserting on the objects each load
gives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import (
    Column,
    ForeignKey,
    String,
    Table,
    and_,
    create_engine,
    event,
    inspect,
    select,
)
from athanor.exc import ArgumentError
from athanor.ext.orderinglist import ordering_list
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    aliased,
    foreign,
    immediateload,
    joinedload,
    mapped_column,
    relationship,
    remote,
    selectinload,
    subqueryload,
    with_parent,
)
from orm.orm_models import StatementLog


class RelBase(DeclarativeBase):
    pass


ties = Table(
    "rd_ties",
    RelBase.metadata,
    Column("from_id", ForeignKey("rd_climbers.id"), primary_key=True),
    Column("to_id", ForeignKey("rd_climbers.id"), primary_key=True),
    Column("rope", String(10), nullable=True),
)


class Climber(RelBase):
    __tablename__ = "rd_climbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    partners: Mapped[list[Climber]] = relationship(
        secondary=ties,
        primaryjoin=lambda: Climber.id == ties.c.from_id,
        secondaryjoin=lambda: Climber.id == ties.c.to_id,
        order_by=lambda: Climber.id,
    )
    # the secondary table's own column narrows the link (read only)
    roped: Mapped[list[Climber]] = relationship(
        secondary=ties,
        primaryjoin=lambda: and_(Climber.id == ties.c.from_id, ties.c.rope == "red"),
        secondaryjoin=lambda: Climber.id == ties.c.to_id,
        viewonly=True,
        order_by=lambda: Climber.id,
    )


@pytest.fixture
def session(backend: Any) -> Iterator[Session]:
    engine = create_engine(backend.url)
    RelBase.metadata.create_all(engine)
    with Session(engine) as s:
        ann, bo, cy = Climber(name="ann"), Climber(name="bo"), Climber(name="cy")
        ann.partners = [bo, cy]
        bo.partners = [cy]
        s.add(ann)
        s.commit()
        s.execute(ties.update().where(ties.c.to_id == cy.id).values(rope="red"))
        s.commit()
        yield s
    engine.dispose()


def names(climbers: Any) -> list[str]:
    return [c.name for c in climbers]


def test_deleting_an_expired_object_removes_its_secondary_rows(session: Session) -> None:
    """An object whose attributes and many-to-many collection are not loaded (expired by a
    commit) is deleted with its rows of the secondary table, on every database (where the
    left-over rows would break the foreign key, or linger)."""
    ann = session.scalars(select(Climber).where(Climber.name == "ann")).one()
    ids = dict(session.execute(select(Climber.name, Climber.id)).tuples().all())
    session.commit()
    assert "id" not in ann.__dict__ and "partners" not in ann.__dict__
    session.delete(ann)
    session.commit()
    links = session.execute(select(ties.c.from_id, ties.c.to_id)).all()
    assert links == [(ids["bo"], ids["cy"])]
    assert names(session.scalars(select(Climber).order_by(Climber.id))) == ["bo", "cy"]


def test_secondary_criteria_apply_to_every_load(session: Session) -> None:
    ann = session.scalars(select(Climber).where(Climber.name == "ann")).one()
    assert names(ann.partners) == ["bo", "cy"]
    assert names(ann.roped) == ["cy"]  # lazy load
    session.expire_all()
    for loader in (selectinload, joinedload):
        rows = session.scalars(select(Climber).options(loader(Climber.roped)).order_by(Climber.id))
        assert [names(c.roped) for c in rows.unique()] == [["cy"], ["cy"], []], loader
        session.expire_all()


def test_secondary_criteria_apply_to_joins_and_comparisons(session: Session) -> None:
    ann, bo, _ = session.scalars(select(Climber).order_by(Climber.id)).all()
    tied = aliased(Climber)
    rows = session.execute(
        select(Climber.name, tied.name).join(Climber.roped.of_type(tied)).order_by(Climber.id)
    ).all()
    assert rows == [("ann", "cy"), ("bo", "cy")]
    assert session.scalars(select(Climber).where(Climber.roped.contains(bo))).all() == []
    assert session.scalars(select(Climber).where(Climber.partners.contains(bo))).all() == [ann]
    assert names(session.scalars(select(Climber).where(Climber.roped.any()))) == ["ann", "bo"]
    rows = session.scalars(select(tied).where(with_parent(ann, Climber.roped, tied)))
    assert names(rows) == ["cy"]


class Crag(RelBase):
    """Routes name their crag by its name, with no foreign key between the tables."""

    __tablename__ = "rd_crags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    routes: Mapped[list[Route]] = relationship(
        primaryjoin="Crag.name == foreign(Route.crag_name)",
        back_populates="crag",
        order_by="Route.id",
    )


class Route(RelBase):
    __tablename__ = "rd_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    crag_name: Mapped[str | None] = mapped_column(String(20))
    variant_of_id: Mapped[int | None] = mapped_column()
    crag: Mapped[Crag | None] = relationship(
        primaryjoin="foreign(Route.crag_name) == remote(Crag.name)", back_populates="routes"
    )
    # self-referential, no foreign key: remote() names the parent's side
    variant_of: Mapped[Route | None] = relationship(
        primaryjoin=lambda: remote(Route.id) == foreign(Route.variant_of_id),
        back_populates="variants",
    )
    variants: Mapped[list[Route]] = relationship(
        primaryjoin=lambda: Route.id == foreign(Route.variant_of_id),
        back_populates="variant_of",
    )


def test_foreign_and_remote_annotations_without_foreign_keys(session: Session) -> None:
    crag = Crag(name="slab")
    first = Route()
    crag.routes.append(first)
    second = Route(variant_of=first)
    second.crag = crag
    session.add_all([crag, second])
    session.commit()
    assert (first.crag_name, second.crag_name) == ("slab", "slab")
    assert second.variant_of_id == first.id
    session.expire_all()
    assert crag.routes == [first, second] and first.crag is crag
    assert second.variant_of is first and first.variants == [second] and first.variant_of is None
    session.expire_all()
    loaded = session.scalars(select(Crag).options(selectinload(Crag.routes))).one()
    assert "routes" in loaded.__dict__ and loaded.routes == [first, second]
    rows = session.scalars(select(Route).options(joinedload(Route.crag)).order_by(Route.id))
    assert [r.crag for r in rows] == [crag, crag]
    assert session.scalars(select(Crag.name).join(Crag.routes).distinct()).all() == ["slab"]
    assert session.scalars(select(Route).where(Route.variants.any())).all() == [first]


class Author(RelBase):
    """A natural primary key that changes; the pen names follow it in the ORM
    (``passive_updates=False``), for databases that would not cascade the UPDATE."""

    __tablename__ = "rd_authors"

    handle: Mapped[str] = mapped_column(String(20), primary_key=True)
    pen_names: Mapped[list[PenName]] = relationship(passive_updates=False, order_by="PenName.id")


class PenName(RelBase):
    __tablename__ = "rd_pen_names"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_handle: Mapped[str] = mapped_column(String(20), ForeignKey("rd_authors.handle"))


class Label(RelBase):
    """A natural primary key that changes; the database carries it into the releases (ON
    UPDATE CASCADE), so the ORM leaves them to it (``passive_updates=True``, the default)."""

    __tablename__ = "rd_labels"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    releases: Mapped[list[Release]] = relationship(order_by="Release.id")
    pressings: Mapped[list[Pressing]] = relationship(order_by="Pressing.number")


class Release(RelBase):
    __tablename__ = "rd_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    label_code: Mapped[str | None] = mapped_column(
        String(20), ForeignKey("rd_labels.code", onupdate="CASCADE")
    )


class Pressing(RelBase):
    """Keyed by its label's code and a number: the cascaded key changes its identity."""

    __tablename__ = "rd_pressings"

    label_code: Mapped[str] = mapped_column(
        String(20), ForeignKey("rd_labels.code", onupdate="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(primary_key=True)
    copies: Mapped[int] = mapped_column(default=0)


def test_passive_updates_gives_loaded_children_the_new_key(backend: Any) -> None:
    engine = create_engine(backend.url)
    if backend.name == "sqlite":  # SQLite enforces (and cascades) foreign keys when asked
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
    RelBase.metadata.create_all(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        with Session(engine) as session:
            session.add(
                Label(
                    code="sun",
                    releases=[Release(id=1), Release(id=2)],
                    pressings=[Pressing(number=1)],
                )
            )
            session.commit()
            label = session.get_one(Label, "sun")
            loaded = list(label.releases)
            pressing = label.pressings[0]
            label.code = "moon"
            statements.clear()
            session.flush()
            assert len(statements) == 1 and statements[0].startswith("UPDATE rd_labels")
            # the database cascaded the UPDATE; the loaded children show it, unchanged
            assert [r.__dict__["label_code"] for r in loaded] == ["moon", "moon"]
            assert not inspect(loaded[0]).attrs.label_code.history.has_changes()
            assert loaded[0] not in session.dirty
            # a child keyed by the cascaded column is known by its new key
            assert inspect(pressing).identity == ("moon", 1)
            assert session.get(Pressing, ("moon", 1)) is pressing
            session.commit()
            codes = session.scalars(select(Release.label_code).order_by(Release.id)).all()
            assert codes == ["moon", "moon"]
            pressing.copies = 500  # updates the row by its new key
            session.commit()
            assert session.scalars(select(Pressing.copies)).all() == [500]
    finally:
        tables = [Release.__table__, Pressing.__table__, Label.__table__]
        RelBase.metadata.drop_all(engine, tables=tables)
        engine.dispose()


def test_changed_primary_key_moves_the_identity(session: Session) -> None:
    crag = Crag(name="tor")
    session.add(crag)
    session.commit()
    old_id = crag.id
    crag.id = old_id + 100
    session.commit()
    assert inspect(crag).identity == (old_id + 100,)
    assert session.get(Crag, old_id + 100) is crag and session.get(Crag, old_id) is None
    crag.id = old_id + 200  # a second change updates the row by its new key
    crag.name = "tor2"
    session.commit()
    session.expire_all()
    assert session.scalars(select(Crag.id).where(Crag.name == "tor2")).one() == old_id + 200


@pytest.mark.backends("sqlite")  # no foreign key enforcement: nothing cascades the UPDATE
def test_passive_updates_false_carries_a_new_key_to_the_children(session: Session) -> None:
    session.add(Author(handle="ann", pen_names=[PenName(), PenName()]))
    session.commit()
    author = session.get_one(Author, "ann")
    author.handle = "anne"  # the pen names are not loaded: the flush loads them by "ann"
    session.commit()
    assert session.scalars(select(PenName.author_handle)).all() == ["anne", "anne"]
    loaded = session.get_one(Author, "anne")
    assert [p.author_handle for p in loaded.pen_names] == ["anne", "anne"]
    loaded.handle = "annie"  # loaded now: the objects in memory change too
    session.commit()
    assert [p.author_handle for p in loaded.pen_names] == ["annie", "annie"]
    assert session.scalars(select(PenName.author_handle).distinct()).all() == ["annie"]


class Playlist(RelBase):
    __tablename__ = "rd_playlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    songs: Mapped[list[Song]] = relationship(
        order_by="Song.slot",
        collection_class=ordering_list("slot", count_from=1),
        back_populates="playlist",
    )


class Song(RelBase):
    __tablename__ = "rd_songs"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(20))
    slot: Mapped[int | None]
    playlist_id: Mapped[int | None] = mapped_column(ForeignKey("rd_playlists.id"))
    playlist: Mapped[Playlist | None] = relationship(back_populates="songs")


def slots(playlist: Playlist) -> list[tuple[str, int | None]]:
    return [(s.title, s.slot) for s in playlist.songs]


def test_ordering_list_keeps_positions(session: Session) -> None:
    playlist = Playlist(songs=[Song(title="a"), Song(title="b")])
    assert slots(playlist) == [("a", 1), ("b", 2)]
    playlist.songs.insert(0, Song(title="intro"))
    late = Song(title="outro")
    late.playlist = playlist  # the backref appends too
    session.add_all([playlist, late])
    session.commit()
    session.expire_all()
    assert slots(playlist) == [("intro", 1), ("a", 2), ("b", 3), ("outro", 4)]
    playlist.songs.pop(1)
    playlist.songs[0] = Song(title="jingle")
    session.commit()
    session.expire_all()
    assert slots(playlist) == [("jingle", 1), ("b", 2), ("outro", 3)]
    playlist.songs.sort(key=lambda s: s.title)  # list methods of its own: reorder() after
    playlist.songs.reorder()
    session.commit()
    session.expire_all()
    assert slots(playlist) == [("b", 1), ("jingle", 2), ("outro", 3)]


class Stamped(list[Any]):
    """A collection class of the application's own, overriding append()."""

    def append(self, item: Any) -> None:
        item.title = item.title.upper()
        super().append(item)


class Album(RelBase):
    __tablename__ = "rd_albums"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracks: Mapped[list[Track]] = relationship(collection_class=Stamped)


class Track(RelBase):
    __tablename__ = "rd_tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(20))
    album_id: Mapped[int | None] = mapped_column(ForeignKey("rd_albums.id"))


def test_collection_class_methods_run_and_report(session: Session) -> None:
    album = Album()
    session.add(album)
    track = Track(title="quiet")
    album.tracks.append(track)
    assert isinstance(album.tracks, Stamped) and track.title == "QUIET"
    assert track in session  # the override's super().append() cascaded it
    session.commit()
    session.expire_all()
    assert [t.title for t in album.tracks] == ["QUIET"]


def test_a_join_as_secondary_is_refused_with_a_clear_error() -> None:
    class JoinBase(DeclarativeBase):
        pass

    class Port(JoinBase):
        __tablename__ = "rd_ports"
        id: Mapped[int] = mapped_column(primary_key=True)
        dock_id: Mapped[int] = mapped_column(ForeignKey("rd_docks.id"))
        # naming the classes inside the string no longer recurses into configuration
        ship: Mapped[Ship] = relationship(
            secondary="join(Dock, Ship, Dock.ship_id == Ship.id)",
            primaryjoin="Port.dock_id == Dock.id",
            secondaryjoin="Ship.id == Dock.ship_id",
            viewonly=True,
        )

    class Dock(JoinBase):
        __tablename__ = "rd_docks"
        id: Mapped[int] = mapped_column(primary_key=True)
        ship_id: Mapped[int] = mapped_column(ForeignKey("rd_ships.id"))

    class Ship(JoinBase):
        __tablename__ = "rd_ships"
        id: Mapped[int] = mapped_column(primary_key=True)

    try:
        with pytest.raises(ArgumentError, match=r"Port\.ship: secondary=.* is not a table"):
            Port()
    finally:
        JoinBase.registry.dispose()
    assert Dock.__tablename__ and Ship.__tablename__


class Gallery(RelBase):
    """Rows pointing at each other: a gallery's pictures, and its cover among them."""

    __tablename__ = "rd_galleries"

    id: Mapped[int] = mapped_column(primary_key=True)
    cover_id: Mapped[int | None] = mapped_column(
        ForeignKey("rd_pictures.id", name="fk_rd_gallery_cover", use_alter=True)
    )
    pictures: Mapped[list[Picture]] = relationship(
        primaryjoin="Gallery.id == Picture.gallery_id", order_by="Picture.id"
    )
    cover: Mapped[Picture | None] = relationship(
        primaryjoin="Gallery.cover_id == Picture.id", foreign_keys=[cover_id], post_update=True
    )


class Picture(RelBase):
    __tablename__ = "rd_pictures"

    id: Mapped[int] = mapped_column(primary_key=True)
    gallery_id: Mapped[int | None] = mapped_column(ForeignKey("rd_galleries.id"))


def test_post_update_breaks_the_cycle_on_insert_and_delete(session: Session) -> None:
    gallery = Gallery()
    first, second = Picture(), Picture()
    gallery.pictures = [first, second]
    gallery.cover = second
    session.add(gallery)
    session.commit()
    session.expire_all()
    assert gallery.cover is second and second.gallery_id == gallery.id
    # deleting both sides: the cover is unset by an UPDATE before the DELETEs
    for obj in (gallery, first, second):
        session.delete(obj)
    session.commit()
    assert session.scalars(select(Picture)).all() == []
    assert session.scalars(select(Gallery)).all() == []


class Club(RelBase):
    __tablename__ = "rd_clubs"

    id: Mapped[int] = mapped_column(primary_key=True)
    members: Mapped[list[Member]] = relationship(back_populates="club", sync_backref=False)
    captains: Mapped[list[Member]] = relationship(viewonly=True, back_populates="captain_of")


class Member(RelBase):
    __tablename__ = "rd_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int | None] = mapped_column(ForeignKey("rd_clubs.id"))
    club: Mapped[Club | None] = relationship(back_populates="members")
    captain_of: Mapped[Club | None] = relationship(viewonly=True, back_populates="captains")


def test_sync_backref_and_viewonly_sides_are_not_mirrored(session: Session) -> None:
    club = Club()
    joined, signed = Member(), Member()
    session.add_all([club, joined, signed])
    club.members.append(joined)  # Member.club takes the change (its default)
    assert joined.club is club
    signed.club = club  # Club.members does not (sync_backref=False) until loaded again
    assert signed not in club.members
    club.captains.append(joined)  # a viewonly side mirrors nothing
    assert "captain_of" not in joined.__dict__
    session.commit()
    assert set(club.members) == {joined, signed}
    assert set(club.captains) == {joined, signed}  # read from the same foreign key
    with pytest.raises(ArgumentError, match="viewonly=True, sync_backref=True"):
        relationship(viewonly=True, sync_backref=True)


def test_rolled_back_primary_key_change_restores_the_identity(session: Session) -> None:
    crag = Crag(name="dome")
    session.add(crag)
    session.commit()
    old_id = crag.id
    crag.id = old_id + 50
    session.flush()
    assert session.get(Crag, old_id + 50) is crag
    session.rollback()
    assert inspect(crag).identity == (old_id,) and crag.id == old_id
    assert session.get(Crag, old_id) is crag and crag.name == "dome"
    with session.begin_nested():
        crag.id = old_id + 60
        session.flush()
        assert inspect(crag).identity == (old_id + 60,)
    session.rollback()
    assert inspect(crag).identity == (old_id,) and crag.id == old_id


author_genres = Table(
    "rd_author_genres",
    RelBase.metadata,
    Column("author_handle", ForeignKey("rd_authors.handle"), primary_key=True),
    Column("genre_id", ForeignKey("rd_genres.id"), primary_key=True),
)


class Genre(RelBase):
    __tablename__ = "rd_genres"

    id: Mapped[int] = mapped_column(primary_key=True)
    authors: Mapped[list[Author]] = relationship(
        secondary=author_genres, back_populates="genres", passive_updates=False
    )


Author.genres = relationship(
    Genre, secondary=author_genres, back_populates="authors", passive_updates=False
)


@pytest.mark.backends("sqlite")  # no foreign key enforcement: nothing cascades the UPDATE
def test_passive_updates_false_carries_a_new_key_to_association_rows(session: Session) -> None:
    session.add(Author(handle="bo", genres=[Genre(), Genre()]))
    session.commit()
    author = session.get_one(Author, "bo")
    author.handle = "bob"
    session.commit()
    assert session.scalars(select(author_genres.c.author_handle)).all() == ["bob", "bob"]
    session.expire_all()
    assert len(session.get_one(Author, "bob").genres) == 2


class Shelf(RelBase):
    """Viewonly relationships whose join conditions go beyond equal columns."""

    __tablename__ = "rd_shelves"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(10))
    min_pages: Mapped[int] = mapped_column(default=0)
    books: Mapped[list[Book]] = relationship(order_by="Book.id")
    # the key equality plus a condition on the target alone
    x_books: Mapped[list[Book]] = relationship(
        primaryjoin=lambda: and_(Shelf.id == foreign(Book.shelf_id), Book.title.like("x%")),
        viewonly=True,
        order_by=lambda: Book.id,
    )
    # the key equality plus a condition reading the parent's columns too
    heavy_books: Mapped[list[Book]] = relationship(
        primaryjoin=lambda: and_(Shelf.id == foreign(Book.shelf_id), Book.pages > Shelf.id * 10),
        viewonly=True,
        order_by=lambda: Book.id,
    )
    # the key equality plus a condition reading a parent column that is not in the key
    long_books: Mapped[list[Book]] = relationship(
        primaryjoin=lambda: and_(Shelf.id == foreign(Book.shelf_id), Book.pages >= Shelf.min_pages),
        viewonly=True,
        order_by=lambda: Book.id,
    )
    # no equality at all: books on any shelf whose title starts with this shelf's prefix
    prefixed: Mapped[list[Book]] = relationship(
        primaryjoin=lambda: remote(foreign(Book.title)).like(Shelf.prefix + "%"),
        viewonly=True,
        order_by=lambda: Book.id,
    )


class Book(RelBase):
    __tablename__ = "rd_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int | None] = mapped_column(ForeignKey("rd_shelves.id"))
    title: Mapped[str] = mapped_column(String(10))
    pages: Mapped[int]


@pytest.mark.parametrize("key", ["x_books", "heavy_books", "prefixed"])
def test_viewonly_join_conditions_beyond_equal_columns(session: Session, key: str) -> None:
    session.add_all(
        [
            Shelf(
                id=1,
                prefix="x",
                books=[Book(id=1, title="xa", pages=5), Book(id=2, title="ya", pages=50)],
            ),
            Shelf(id=2, prefix="y", books=[Book(id=3, title="xb", pages=30)]),
        ]
    )
    session.commit()
    expected = {"x_books": [[1], [3]], "heavy_books": [[2], [3]], "prefixed": [[1, 3], [2]]}[key]
    attr = getattr(Shelf, key)
    for option in (None, selectinload(attr), joinedload(attr)):
        session.expunge_all()
        stmt = select(Shelf).order_by(Shelf.id)
        shelves = session.scalars(stmt if option is None else stmt.options(option)).unique()
        assert [[b.id for b in getattr(s, key)] for s in shelves] == expected, option
    pairs = session.execute(select(Shelf.id, Book.id).join(attr).order_by(Shelf.id, Book.id))
    assert [list(p) for p in pairs] == [[i + 1, b] for i, ids in enumerate(expected) for b in ids]
    assert session.scalars(select(Shelf.id).where(attr.any()).order_by(Shelf.id)).all() == [1, 2]
    first = session.get_one(Shelf, 1)
    related = session.scalars(select(Book.id).where(with_parent(first, attr)).order_by(Book.id))
    assert related.all() == expected[0]
    book = session.get_one(Book, expected[1][0])
    holding = session.scalars(select(Shelf.id).where(attr.contains(book)).order_by(Shelf.id))
    assert 2 in holding.all()


@pytest.mark.parametrize("option", [None, selectinload, subqueryload, joinedload, immediateload])
def test_join_condition_reading_a_parent_column_beyond_the_key(
    session: Session, option: Any
) -> None:
    session.add_all(
        [
            Shelf(
                id=i,
                prefix="p",
                min_pages=10 * i,
                books=[Book(id=10 * i + j, title="b", pages=15 * j) for j in range(4)],
            )
            for i in range(1, 6)
        ]
    )
    session.commit()
    session.expunge_all()
    log = StatementLog(session.get_bind())
    stmt = select(Shelf).order_by(Shelf.id)
    if option is not None:
        stmt = stmt.options(option(Shelf.long_books))
    shelves = session.scalars(stmt).unique().all()
    # Each shelf's own min_pages decides, not another shelf's (nor every shelf's at once).
    assert [[b.id for b in s.long_books] for s in shelves] == [
        [11, 12, 13],
        [22, 23],
        [32, 33],
        [43],
        [],
    ]
    # selectinload and subqueryload load every shelf's books with one more SELECT.
    expected = {None: 6, immediateload: 6, joinedload: 1}.get(option, 2)
    assert len(log.selects) == expected


def test_a_join_condition_without_equal_columns_needs_viewonly() -> None:
    class LooseBase(DeclarativeBase):
        pass

    class Rack(LooseBase):
        __tablename__ = "rd_racks"
        id: Mapped[int] = mapped_column(primary_key=True)
        label: Mapped[str] = mapped_column(String(10))
        items: Mapped[list[Item]] = relationship(
            primaryjoin=lambda: foreign(Item.code).like(Rack.label + "%")
        )

    class Item(LooseBase):
        __tablename__ = "rd_items"
        id: Mapped[int] = mapped_column(primary_key=True)
        code: Mapped[str] = mapped_column(String(10))

    try:
        with pytest.raises(ArgumentError, match=r"Rack\.items: .*viewonly=True"):
            Rack()
    finally:
        LooseBase.registry.dispose()


def test_key_change_carried_to_children_of_a_condition_reading_the_parent(backend: Any) -> None:
    class CarryBase(DeclarativeBase):
        pass

    class Bin(CarryBase):
        __tablename__ = "rd_bins"
        code: Mapped[str] = mapped_column(String(10), primary_key=True)
        size: Mapped[str] = mapped_column(String(10))
        # only the parts of this bin's size; the key moves to them on flush
        parts: Mapped[list[Part]] = relationship(
            primaryjoin=lambda: and_(Bin.code == foreign(Part.bin_code), Part.size == Bin.size),
            passive_updates=False,
        )

    class Part(CarryBase):
        __tablename__ = "rd_parts"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        bin_code: Mapped[str | None] = mapped_column(String(10))
        size: Mapped[str] = mapped_column(String(10))

    engine = create_engine(backend.url)
    CarryBase.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            session.add(Bin(code="a", size="s"))
            session.add_all(
                [Part(id=1, bin_code="a", size="s"), Part(id=2, bin_code="a", size="l")]
            )
            session.commit()
            bin_ = session.get_one(Bin, "a")
            bin_.code = "b"  # its unloaded parts of size "s" load by the old key, then follow
            session.commit()
            rows = session.execute(select(Part.id, Part.bin_code).order_by(Part.id)).all()
            assert [tuple(r) for r in rows] == [(1, "b"), (2, "a")]
    finally:
        CarryBase.metadata.drop_all(engine)
        engine.dispose()
        CarryBase.registry.dispose()
