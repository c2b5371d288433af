"""index_property: an element of a JSON column (and of a PostgreSQL ARRAY) as an attribute,
read and written on instances, flushed, and used in SQL criteria on every database."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import JSON, Integer, create_engine, select
from athanor.ext.indexable import index_property
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column
from athanor.types import ARRAY
from backends import Backend


class Base(DeclarativeBase):
    pass


class Gadget(Base):
    __tablename__ = "ix_gadgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    name = index_property("data", "name")
    colour = index_property("data", "colour", default="grey")
    serial = index_property("data", "serial", mutable=False, default=None)


def test_elements_read_write_and_flush(backend: Backend) -> None:
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        gadget = Gadget(data=None)
        with pytest.raises(AttributeError, match="no element 'name'"):
            gadget.name  # noqa: B018
        assert gadget.colour == "grey"
        gadget.name = "lamp"
        gadget.colour = "red"
        assert gadget.data == {"name": "lamp", "colour": "red"}
        session.add(gadget)
        session.commit()
        gadget.colour = "blue"
        assert session.is_modified(gadget)
        session.commit()
        del gadget.colour
        session.commit()
        assert gadget.colour == "grey"
        with pytest.raises(AttributeError):
            gadget.serial = 7
    with Session(engine) as session:
        stored = session.scalars(select(Gadget)).one()
        assert stored.data == {"name": "lamp"}
        found = session.scalars(select(Gadget).where(Gadget.name.as_string() == "lamp")).all()
        assert [g.id for g in found] == [stored.id]
        names = session.scalars(select(Gadget.name.as_string())).all()
        assert names == ["lamp"]
    engine.dispose()


def test_array_index_is_one_based_in_sql(backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("ARRAY columns are PostgreSQL's")

    class Scores(DeclarativeBase):
        pass

    class Player(Scores):
        __tablename__ = "ix_players"
        id: Mapped[int] = mapped_column(primary_key=True)
        scores: Mapped[list[int]] = mapped_column(ARRAY(Integer))
        first = index_property("scores", 0)

    engine = create_engine(backend.url)
    Scores.metadata.create_all(engine)
    with Session(engine) as session:
        player = Player(scores=[])
        player.first = 10
        assert player.scores == [10]
        session.add_all([player, Player(scores=[3, 10])])
        session.commit()
        best = session.scalars(select(Player.id).where(Player.first == 10)).all()
        assert best == [player.id]
    engine.dispose()
