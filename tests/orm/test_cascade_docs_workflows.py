"""Cascades as the ORM guide documents them (save-update along one side of a bidirectional
link only, delete-orphan on a one-to-one, for new objects and on a self-referential tree), on
every database, asserting on the rows left."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import (
    Column,
    Engine,
    ForeignKey,
    String,
    Table,
    create_engine,
    func,
    inspect,
    select,
)
from athanor.exc import ArgumentError, AthanorWarning, DBAPIError, InvalidRequestError
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class CascadeBase(DeclarativeBase):
    pass


class Kiln(CascadeBase):
    __tablename__ = "cd_kilns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    pots: Mapped[list[Pot]] = relationship(back_populates="kiln")
    manual: Mapped[Manual | None] = relationship(
        back_populates="kiln", cascade="all, delete-orphan"
    )
    badge: Mapped[Badge | None] = relationship(back_populates="kiln")


class Pot(CascadeBase):
    __tablename__ = "cd_pots"

    id: Mapped[int] = mapped_column(primary_key=True)
    glaze: Mapped[str] = mapped_column(String(20))
    kiln_id: Mapped[int | None] = mapped_column(ForeignKey("cd_kilns.id"))
    kiln: Mapped[Kiln | None] = relationship(back_populates="pots")


class Manual(CascadeBase):
    __tablename__ = "cd_manuals"

    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[int]
    kiln_id: Mapped[int] = mapped_column(ForeignKey("cd_kilns.id"))
    kiln: Mapped[Kiln] = relationship(back_populates="manual")


class Badge(CascadeBase):
    __tablename__ = "cd_badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    kiln_id: Mapped[int | None] = mapped_column(ForeignKey("cd_kilns.id"))
    kiln: Mapped[Kiln | None] = relationship(back_populates="badge")


@pytest.fixture
def engine(backend: Any) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    CascadeBase.metadata.create_all(eng)
    yield eng
    eng.dispose()


def rows(engine: Engine, cls: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(cls)).scalar_one())


def test_reverse_side_assignment_does_not_cascade_into_the_session(engine: Engine) -> None:
    with Session(engine) as session:
        kiln = Kiln(name="k")
        session.add(kiln)
        kept = Pot(glaze="blue")
        kiln.pots.append(kept)  # the forward side cascades
        assert kept in session
        stray = Pot(glaze="red")
        stray.kiln = kiln  # the reverse side does not, though the pot is in kiln.pots now
        assert stray in kiln.pots and stray not in session
        with pytest.warns(AthanorWarning, match="Pot is not in the session"):
            session.commit()
        assert inspect(stray).transient
        assert rows(engine, Pot) == 1
        assert [p.glaze for p in kiln.pots] == ["blue"]
        # on an already loaded collection of a persistent parent, the same
        late = Pot(glaze="green", kiln=kiln)
        with pytest.warns(AthanorWarning, match="along Kiln.pots"):
            session.commit()
        assert inspect(late).transient and rows(engine, Pot) == 1
        session.add(late)
        session.commit()
        assert rows(engine, Pot) == 2


def test_one_to_one_replaced_before_it_was_loaded(engine: Engine) -> None:
    with Session(engine) as session:
        kiln = Kiln(name="k", manual=Manual(edition=1), badge=Badge())
        session.add(kiln)
        session.commit()
        kiln_id = kiln.id
    with Session(engine) as session:
        kiln = session.get_one(Kiln, kiln_id)
        kiln.manual = Manual(edition=2)  # the old manual, never loaded, is an orphan now
        kiln.badge = Badge()  # the old badge loses its kiln
        session.commit()
        assert rows(engine, Manual) == 1
        assert kiln.manual is not None and kiln.manual.edition == 2
        badges = session.execute(select(Badge.id, Badge.kiln_id).order_by(Badge.id)).all()
        assert [k for _, k in badges] == [None, kiln_id]
    with Session(engine) as session:
        kiln = session.get_one(Kiln, kiln_id)
        kiln.manual = None
        session.commit()
        assert rows(engine, Manual) == 0


class Batch(CascadeBase):
    __tablename__ = "cd_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    # one-directional: the glazes know their batch only by its key
    glazes: Mapped[list[Glaze]] = relationship(cascade="all, delete-orphan")


class Glaze(CascadeBase):
    __tablename__ = "cd_glazes"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("cd_batches.id"))


def test_new_object_outside_a_delete_orphan_parent_is_left_to_the_database(
    engine: Engine,
) -> None:
    """A new object never put in a delete-orphan parent's collection is inserted like any
    other (its foreign key NULL, which the table may refuse); one that was put in and taken
    out again before the flush is dropped, never inserted."""
    with Session(engine) as session:
        session.add(Glaze())
        session.commit()
        assert session.execute(select(Glaze.batch_id)).scalars().all() == [None]
        batch = Batch(glazes=[Glaze()])
        session.add(batch)
        session.flush()
        session.add(Glaze(batch_id=batch.id))  # names its parent by key
        passing = Glaze()
        batch.glazes.append(passing)
        batch.glazes.remove(passing)
        session.commit()
        assert rows(engine, Glaze) == 3 and passing not in session
        session.add(Manual(edition=1))  # cd_manuals.kiln_id is NOT NULL: the database refuses
        with pytest.raises(DBAPIError):  # IntegrityError; MariaDB: no default for kiln_id
            session.commit()


class Shelf(CascadeBase):
    """A tree whose children are deleted with their parent and when taken out of it."""

    __tablename__ = "cd_shelves"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("cd_shelves.id"))
    children: Mapped[list[Shelf]] = relationship(
        back_populates="parent", cascade="all, delete-orphan", order_by="Shelf.id"
    )
    parent: Mapped[Shelf | None] = relationship(back_populates="children", remote_side=[id])


def test_self_referential_tree_with_delete_orphan(engine: Engine) -> None:
    """The adjacency-list tree: the root (in no parent's collection) is inserted with its
    descendants; a child taken out is deleted with its own children; deleting the root
    deletes the rest."""
    with Session(engine) as session:
        root = Shelf(label="root", children=[Shelf(label="a", children=[Shelf(label="a1")])])
        root.children.append(Shelf(label="b"))
        session.add(root)
        session.commit()
        a1 = session.scalars(select(Shelf).where(Shelf.label == "a1")).one()
        assert a1.parent is not None and a1.parent.parent is root
        root.children.remove(root.children[0])
        session.commit()
        labels = session.scalars(select(Shelf.label).order_by(Shelf.id)).all()
        assert labels == ["root", "b"]
        session.delete(root)
        session.commit()
        assert rows(engine, Shelf) == 0


class Palette(CascadeBase):
    __tablename__ = "cd_palettes"

    id: Mapped[int] = mapped_column(primary_key=True)
    hue: Mapped[str] = mapped_column(String(10))


class Studio(CascadeBase):
    __tablename__ = "cd_studios"

    id: Mapped[int] = mapped_column(primary_key=True)
    palette_id: Mapped[int | None] = mapped_column(ForeignKey("cd_palettes.id"))
    # many-to-one, but each palette belongs to one studio: replaced ones are orphans
    palette: Mapped[Palette | None] = relationship(cascade="all, delete-orphan", single_parent=True)


def test_single_parent_many_to_one_deletes_what_it_replaces(engine: Engine) -> None:
    with Session(engine) as session:
        studio = Studio(palette=Palette(hue="ochre"))
        session.add(studio)
        session.commit()
        studio.palette = Palette(hue="teal")  # the unloaded ochre palette is loaded, then goes
        session.commit()
        assert session.scalars(select(Palette.hue)).all() == ["teal"]
        studio.palette = None
        session.commit()
        assert rows(engine, Palette) == 0


class Brush(CascadeBase):
    __tablename__ = "cd_brushes"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int]


workshop_brushes = Table(
    "cd_workshop_brushes",
    CascadeBase.metadata,
    Column("workshop_id", ForeignKey("cd_workshops.id"), primary_key=True),
    Column("brush_id", ForeignKey("cd_brushes.id"), primary_key=True),
)


class Workshop(CascadeBase):
    __tablename__ = "cd_workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    # many-to-many through cd_studio_brushes, one owner per brush
    brushes: Mapped[list[Brush]] = relationship(
        secondary=workshop_brushes, cascade="all, delete-orphan", single_parent=True
    )


def test_single_parent_many_to_one_refuses_a_second_parent(engine: Engine) -> None:
    with Session(engine) as session:
        ochre = Palette(hue="ochre")
        first = Studio(palette=ochre)
        first.palette = ochre  # the same parent again is no second parent
        with pytest.raises(
            InvalidRequestError, match=r"<Palette at .*Studio\.palette.*single_parent"
        ):
            Studio(palette=ochre)
        first.palette = None  # given up by its parent, the palette may move
        second = Studio(palette=ochre)
        session.add_all([first, second])
        session.commit()
        assert session.scalars(select(Studio.id).where(Studio.palette_id.is_not(None))).all() == [
            second.id
        ]
        session.expire_all()
        # loaded from the database, the parent is not known without a query: no refusal
        loaded = session.scalars(select(Palette)).one()
        third = Studio(palette=loaded)
        assert third.palette is loaded


def test_single_parent_refuses_a_second_parent_after_the_first_was_collected(
    engine: Engine,
) -> None:
    ochre = Palette(hue="ochre")
    Studio(palette=ochre)  # a parent that never lets go of it, then is collected
    brush = Brush(size=3)
    Workshop(brushes=[brush])
    gc.collect()
    with pytest.raises(InvalidRequestError, match=r"earlier Studio, since garbage collected"):
        Studio(palette=ochre)
    with pytest.raises(InvalidRequestError, match=r"earlier Workshop, since garbage collected"):
        Workshop(brushes=[brush])
    with Session(engine) as session:
        session.add(Studio(palette=Palette(hue="teal")))
        session.commit()
    with Session(engine) as session:
        # A parent that let go before it was collected frees the object.
        kept = Palette(hue="umber")
        first = Studio(palette=kept)
        first.palette = None
        del first
        gc.collect()
        session.add(Studio(palette=kept))
        # Loaded from the database, then its loaded parent collected: the parent is not known.
        loaded = session.scalars(select(Palette).where(Palette.hue == "teal")).one()
        session.add(Studio(palette=loaded))
        session.commit()
        assert session.scalars(select(func.count()).select_from(Studio)).one() == 3


def test_single_parent_many_to_many_refuses_a_second_parent(engine: Engine) -> None:
    with Session(engine) as session:
        brush = Brush(size=3)
        first = Workshop(brushes=[brush])
        with pytest.raises(InvalidRequestError, match=r"<Brush at .*Workshop\.brushes"):
            Workshop(brushes=[brush])
        with pytest.raises(InvalidRequestError, match=r"<Brush at .*Workshop\.brushes"):
            first.brushes.append(brush)  # twice in the same collection
        first.brushes.remove(brush)
        second = Workshop(brushes=[brush])
        session.add_all([first, second])
        session.commit()
        with engine.connect() as conn:
            links = conn.execute(select(workshop_brushes.c.workshop_id)).scalars().all()
        assert links == [second.id]


def test_cascade_settings_that_cannot_work_are_refused() -> None:
    class OwnerBase(DeclarativeBase):
        pass

    class Owner(OwnerBase):
        __tablename__ = "cd_owners"
        id: Mapped[int] = mapped_column(primary_key=True)
        pets: Mapped[list[Pet]] = relationship(cascade="all", passive_deletes="all")

    class Pet(OwnerBase):
        __tablename__ = "cd_pets"
        id: Mapped[int] = mapped_column(primary_key=True)
        owner_id: Mapped[int | None] = mapped_column(ForeignKey("cd_owners.id"))

    class KeeperBase(DeclarativeBase):
        pass

    class Keeper(KeeperBase):
        __tablename__ = "cd_keepers"
        id: Mapped[int] = mapped_column(primary_key=True)

    class Cage(KeeperBase):
        __tablename__ = "cd_cages"
        id: Mapped[int] = mapped_column(primary_key=True)
        keeper_id: Mapped[int | None] = mapped_column(ForeignKey("cd_keepers.id"))
        keeper: Mapped[Keeper | None] = relationship(cascade="all, delete-orphan")

    try:
        with pytest.raises(ArgumentError, match=r"Owner\.pets: passive_deletes='all'"):
            Owner()
        with pytest.raises(ArgumentError, match=r"Cage\.keeper is many-to-one.*single_parent"):
            Cage()
    finally:
        OwnerBase.registry.dispose()
        KeeperBase.registry.dispose()
