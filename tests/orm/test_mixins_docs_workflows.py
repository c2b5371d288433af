"""The declarative mixins documentation's workflows (``declared_attr`` typed by its return
annotation, ``declared_attr.directive`` for ``__tablename__``/``__table_args__``/
``__mapper_args__``, column properties built from mixin columns, ``declared_attr.cascading``)
on every database, with a small zoo of their own."""

from __future__ import annotations

from typing import Any

from athanor import ForeignKey, Index, String, create_engine, select
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    column_property,
    declared_attr,
    has_inherited_table,
    mapped_column,
    relationship,
)


class ZooBase(DeclarativeBase):
    pass


class Named:
    @declared_attr.directive
    def __tablename__(cls) -> str:  # noqa: N805 - called with the class
        return "mxw_" + cls.__name__.lower()


class KeptBy:
    keeper_id: Mapped[int] = mapped_column(ForeignKey("mxw_keeper.id"))

    @declared_attr
    def keeper(cls) -> Mapped[Keeper]:  # noqa: N805 - called with the class
        return relationship("Keeper")

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805 - called with the class
        return (Index(f"ix_{cls.__tablename__}_keeper", "keeper_id"),)


class Measured:
    legs: Mapped[int]
    wings: Mapped[int] = mapped_column(default=0)

    @declared_attr
    def limbs(cls) -> Mapped[int]:  # noqa: N805 - called with the class
        return column_property(cls.legs + cls.wings)


class Keeper(Named, ZooBase):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))


class Enclosure(KeptBy, Named, ZooBase):
    id: Mapped[int] = mapped_column(primary_key=True)


class HasKey:
    @declared_attr.cascading
    def id(cls) -> Mapped[int]:  # noqa: N805 - called with the class
        if has_inherited_table(cls):
            return mapped_column(ForeignKey("mxw_creature.id"), primary_key=True)
        return mapped_column(primary_key=True)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - called with the class
        if cls.__name__ == "Creature":
            return {"polymorphic_on": "kind", "polymorphic_identity": "creature"}
        return {"polymorphic_identity": cls.__name__.lower()}


class Creature(HasKey, Measured, Named, ZooBase):
    kind: Mapped[str] = mapped_column(String(20))


class Bird(Creature):
    song: Mapped[str | None] = mapped_column(String(20))


def test_directives_and_declared_attributes_shape_each_table() -> None:
    assert (Keeper.__tablename__, Enclosure.__tablename__) == ("mxw_keeper", "mxw_enclosure")
    assert [i.name for i in Enclosure.__table__.indexes] == ["ix_mxw_enclosure_keeper"]
    assert Bird.__tablename__ == "mxw_bird"
    assert [c.name for c in Bird.__table__.c] == ["song", "id"]
    assert [fk.target_fullname for fk in Bird.__table__.c.id.foreign_keys] == ["mxw_creature.id"]
    assert Bird.__mapper__.polymorphic_identity == "bird"
    assert str(Creature.__table__.c.id.type) == "INTEGER"


def test_mixin_workflows_round_trip(backend: Any) -> None:
    eng = create_engine(backend.url)
    ZooBase.metadata.create_all(eng)
    with Session(eng) as session:
        keeper = Keeper(name="kim")
        session.add_all(
            [Enclosure(keeper=keeper), Creature(legs=4), Bird(legs=2, wings=2, song="tweet")]
        )
        session.commit()
    with Session(eng) as session:
        assert session.scalars(select(Enclosure)).one().keeper.name == "kim"
        creatures = session.scalars(select(Creature).order_by(Creature.id)).all()
        assert [(type(c), c.limbs) for c in creatures] == [(Creature, 4), (Bird, 4)]
        assert session.scalars(select(Creature.id).where(Creature.limbs > 3)).all() == [1, 2]
    eng.dispose()
