"""The inheritance mapping documentation's workflows (joined, single and concrete tables,
polymorphic_abstract, use_existing_column, of_type() criteria, validators of inherited
attributes, mixin precedence) on every database, with models of their own: a depot of
vehicles (joined), a shelf of items (single table) and a filing cabinet (concrete)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Engine, ForeignKey, String, create_engine, exc, select
from athanor.orm import (
    AbstractConcreteBase,
    DeclarativeBase,
    Load,
    Mapped,
    Session,
    aliased,
    mapped_column,
    relationship,
    selectin_polymorphic,
    selectinload,
    validates,
    with_polymorphic,
)


class DepotBase(DeclarativeBase):
    pass


class Depot(DepotBase):
    __tablename__ = "idw_depot"

    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(20))
    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="depot", order_by="Vehicle.id")
    trucks: Mapped[list[Truck]] = relationship(viewonly=True, order_by="Truck.id")


class Vehicle(DepotBase):
    __tablename__ = "idw_vehicle"

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    depot_id: Mapped[int | None] = mapped_column(ForeignKey("idw_depot.id"))
    depot: Mapped[Depot | None] = relationship(back_populates="vehicles")

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "vehicle"}


class Truck(Vehicle):
    __tablename__ = "idw_truck"

    id: Mapped[int] = mapped_column(ForeignKey("idw_vehicle.id"), primary_key=True)
    tonnes: Mapped[int] = mapped_column(default=0)
    trailers: Mapped[list[Trailer]] = relationship(back_populates="truck", order_by="Trailer.id")

    __mapper_args__ = {"polymorphic_identity": "truck"}

    @validates("plate")
    def _plate_upper(self, key: str, value: str) -> str:
        return value.upper()


class Van(Vehicle):
    __tablename__ = "idw_van"

    id: Mapped[int] = mapped_column(ForeignKey("idw_vehicle.id"), primary_key=True)
    seats: Mapped[int] = mapped_column(default=2)

    __mapper_args__ = {"polymorphic_identity": "van"}

    @validates("plate")
    def _plate_tagged(self, key: str, value: str) -> str:
        return f"van-{value}"


class Trailer(DepotBase):
    __tablename__ = "idw_trailer"

    id: Mapped[int] = mapped_column(primary_key=True)
    axles: Mapped[int]
    truck_id: Mapped[int] = mapped_column(ForeignKey("idw_truck.id"))
    truck: Mapped[Truck] = relationship(back_populates="trailers")


@pytest.fixture
def engine(backend: Any) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    DepotBase.metadata.create_all(eng)
    with Session(eng) as session:
        north = Depot(
            city="north",
            vehicles=[Truck(plate="t1", tonnes=12, trailers=[Trailer(axles=3)]), Van(plate="v1")],
        )
        south = Depot(city="south", vehicles=[Vehicle(plate="bus"), Van(plate="v2", seats=9)])
        session.add_all([north, south])
        session.commit()
    yield eng
    eng.dispose()


def test_subclass_validators_of_an_inherited_attribute_run_for_that_subclass_only() -> None:
    assert Truck(plate="ab").plate == "AB"
    assert Van(plate="ab").plate == "van-ab"
    assert Vehicle(plate="ab").plate == "ab"
    truck = Truck(plate="x")
    truck.plate = "late"
    assert truck.plate == "LATE"


def test_validated_inherited_attribute_is_stored_as_validated(engine: Engine) -> None:
    with Session(engine) as session:
        plates = session.scalars(select(Vehicle.plate).order_by(Vehicle.id)).all()
    assert plates == ["T1", "van-v1", "bus", "van-v2"]


def test_any_on_a_relationship_to_a_joined_subclass_reads_its_whole_join(engine: Engine) -> None:
    with Session(engine) as session:
        # No criteria: only depots that hold a truck (not any depot with any vehicle).
        assert session.scalars(select(Depot.city).where(Depot.trucks.any())).all() == ["north"]
        found = session.scalars(select(Depot.city).where(Depot.trucks.any(Truck.tonnes > 10)))
        assert found.all() == ["north"]


def test_of_type_any_and_has_filter_on_subclass_columns(engine: Engine) -> None:
    with Session(engine) as session:
        roomy = Depot.vehicles.of_type(Van).any(Van.seats > 5)
        assert session.scalars(select(Depot.city).where(roomy)).all() == ["south"]
        by_keyword = Depot.vehicles.of_type(Van).any(seats=2)
        assert session.scalars(select(Depot.city).where(by_keyword)).all() == ["north"]
        poly = with_polymorphic(Vehicle, [Truck, Van], aliased=True)
        heavy = Depot.vehicles.of_type(poly).any(poly.Truck.tonnes == 12)
        assert session.scalars(select(Depot.city).where(heavy)).all() == ["north"]
        other = aliased(Depot)
        bus = other.vehicles.any(Vehicle.plate == "bus")
        assert session.scalars(select(other.city).where(bus)).all() == ["south"]
        towing = select(Trailer.axles).where(Trailer.truck.has(Truck.tonnes == 12))
        assert session.scalars(towing).all() == [3]
        with pytest.raises(exc.InvalidRequestError, match="use any"):
            Depot.vehicles.of_type(Van).has()


class ShelfBase(DeclarativeBase):
    pass


class Item(ShelfBase):
    __tablename__ = "idw_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))

    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "item"}


class Printed(Item):
    pages: Mapped[int | None]

    __mapper_args__ = {"polymorphic_abstract": True}


class Novel(Printed):
    author: Mapped[str | None] = mapped_column(String(20))

    __mapper_args__ = {"polymorphic_identity": "novel"}


class Comic(Printed):
    __mapper_args__ = {"polymorphic_identity": "comic"}


class Planner(Item):
    pages: Mapped[int | None] = mapped_column(use_existing_column=True)

    __mapper_args__ = {"polymorphic_identity": "planner"}


def test_polymorphic_abstract_class_is_queried_but_never_made(backend: Any) -> None:
    with pytest.raises(exc.InvalidRequestError, match="polymorphic_abstract"):
        Printed(label="x")
    eng = create_engine(backend.url)
    ShelfBase.metadata.create_all(eng)
    with Session(eng) as session:
        session.add_all(
            [
                Novel(label="n", pages=300, author="kay"),
                Comic(label="c", pages=30),
                Planner(label="p", pages=52),
                Item(label="i"),
            ]
        )
        session.commit()
    with Session(eng) as session:
        printed = session.scalars(select(Printed).order_by(Printed.id)).all()
        assert [(type(p), p.pages) for p in printed] == [(Novel, 300), (Comic, 30)]
        rows = session.execute(select(Planner.label, Planner.pages)).all()
        assert [tuple(r) for r in rows] == [("p", 52)]
    eng.dispose()


def test_use_existing_column_maps_one_column_for_two_subclasses() -> None:
    table = Item.__table__
    assert [c.name for c in table.c].count("pages") == 1
    assert Planner.__mapper__.get_property("pages").columns[0] is table.c.pages
    assert Printed.__mapper__.get_property("pages").columns[0] is table.c.pages


def test_same_column_without_use_existing_column_names_the_fix() -> None:
    class Base(DeclarativeBase):
        pass

    class Thing(Base):
        __tablename__ = "idw_thing"
        id: Mapped[int] = mapped_column(primary_key=True)
        type: Mapped[str] = mapped_column(String(10))
        __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "thing"}

    class Red(Thing):
        size: Mapped[int | None]
        __mapper_args__ = {"polymorphic_identity": "red"}

    with pytest.raises(exc.ArgumentError, match="use_existing_column=True"):

        class Blue(Thing):
            size: Mapped[int | None]
            __mapper_args__ = {"polymorphic_identity": "blue"}


def test_a_class_attribute_overrides_the_same_name_from_a_mixin() -> None:
    class Base(DeclarativeBase):
        pass

    class Labelled:
        label: Mapped[str] = mapped_column(String(10))
        note: Mapped[str | None] = mapped_column(String(5))

    class Parcel(Labelled, Base):
        __tablename__ = "idw_parcel"
        id: Mapped[int] = mapped_column(primary_key=True)
        label: Mapped[str] = mapped_column(String(80))

    table = Parcel.__table__
    assert [c.name for c in table.c] == ["id", "label", "note"], (
        "the class's own columns, then the mixin's"
    )
    assert table.c.label.type.length == 80
    assert table.c.note.type.length == 5


class CabinetBase(DeclarativeBase):
    pass


class Paper(AbstractConcreteBase, CabinetBase):
    strict_attrs = True

    title: Mapped[str] = mapped_column(String(30))


class Memo(Paper):
    __tablename__ = "idw_memo"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(30))
    body: Mapped[str | None] = mapped_column(String(30))

    __mapper_args__ = {"polymorphic_identity": "memo", "concrete": True}


class Letter(Paper):
    __tablename__ = "idw_letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str | None] = mapped_column(String(30))

    __mapper_args__ = {"polymorphic_identity": "letter", "concrete": True}


def test_abstract_concrete_base_with_strict_attrs_and_redeclared_columns(backend: Any) -> None:
    eng = create_engine(backend.url)
    CabinetBase.metadata.create_all(eng)
    with Session(eng) as session:
        session.add_all([Memo(title="plan", body="b"), Letter(title="hello", recipient="r")])
        session.commit()
    with Session(eng) as session:
        papers = session.scalars(select(Paper).order_by(Paper.title)).all()
        assert [(type(p), p.title) for p in papers] == [(Letter, "hello"), (Memo, "plan")]
        assert session.scalars(select(Paper).where(Paper.title == "plan")).one().body == "b"
    assert set(Paper.__mapper__.attrs.keys()) == {"id", "title"}
    eng.dispose()


def test_selectin_polymorphic_with_loaders_of_subclass_relationships(engine: Engine) -> None:
    with Session(engine) as session:
        found = session.scalars(
            select(Vehicle)
            .options(selectin_polymorphic(Vehicle, [Truck, Van]), selectinload(Truck.trailers))
            .order_by(Vehicle.id)
        ).all()
        truck = found[0]
        assert isinstance(truck, Truck)
        assert "tonnes" in truck.__dict__ and "trailers" in truck.__dict__
        assert [t.axles for t in truck.__dict__["trailers"]] == [3]
        assert found[1].__dict__["seats"] == 2


def test_chained_selectin_polymorphic_loads_the_related_subclass_columns(engine: Engine) -> None:
    with Session(engine) as session:
        depots = session.scalars(
            select(Depot)
            .options(selectinload(Depot.vehicles).selectin_polymorphic([Truck, Van]))
            .order_by(Depot.id)
        ).all()
        loaded = [
            {k: v.__dict__.get(k) for k in ("tonnes", "seats") if k in v.__dict__}
            for d in depots
            for v in d.vehicles
        ]
        assert loaded == [{"tonnes": 12}, {"seats": 2}, {}, {"seats": 9}]
        with pytest.raises(exc.ArgumentError, match="chains after a relationship"):
            Load(Depot).selectin_polymorphic([Truck])


def test_validates_include_removes_and_include_backrefs() -> None:
    class Base(DeclarativeBase):
        pass

    log: list[tuple[str, str, bool]] = []

    class Rack(Base):
        __tablename__ = "idw_rack"
        id: Mapped[int] = mapped_column(primary_key=True)
        bins: Mapped[list[Bin]] = relationship(back_populates="rack")

        @validates("bins", include_removes=True)
        def _check_bin(self, key: str, item: Bin, is_remove: bool) -> Bin:
            log.append(("rack", item.label, is_remove))
            return item

    class Bin(Base):
        __tablename__ = "idw_bin"
        id: Mapped[int] = mapped_column(primary_key=True)
        label: Mapped[str] = mapped_column(String(10))
        rack_id: Mapped[int | None] = mapped_column(ForeignKey("idw_rack.id"))
        rack: Mapped[Rack | None] = relationship(back_populates="bins")

        @validates("rack", include_backrefs=False)
        def _check_rack(self, key: str, rack: Rack | None) -> Rack | None:
            log.append(("bin", self.label, False))
            return rack

    rack, first = Rack(), Bin(label="a")
    first.rack = rack  # the backref append runs the rack's validator too
    rack.bins.append(Bin(label="b"))  # the backref set skips the bin's validator
    rack.bins.remove(first)
    assert log == [
        ("bin", "a", False),
        ("rack", "a", False),
        ("rack", "b", False),
        ("rack", "a", True),
    ]
