"""Relationship configuration as the ORM guide documents it (many-to-many with criteria on
the secondary table, ...), on every database, asserting on the objects each load gives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Column, ForeignKey, String, Table, and_, create_engine, select
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    aliased,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
    with_parent,
)


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
