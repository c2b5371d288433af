"""``inspect(Class)`` and ``inspect(obj)`` attributes SQLAlchemy users read, giving what
SQLAlchemy gives on the same models."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import ForeignKey, String, inspect, select
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, synonym
from athanor.orm.exc import UnmappedClassError
from athanor.orm.instrumentation import ClassManager, manager_of_class


class InspBase(DeclarativeBase):
    pass


class Vehicle(InspBase):
    __tablename__ = "insp_vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(10))
    wheels: Mapped[list[Wheel]] = relationship()
    label = synonym("name")

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "vehicle"}


class Truck(Vehicle):
    __tablename__ = "insp_trucks"

    id: Mapped[int] = mapped_column(ForeignKey("insp_vehicles.id"), primary_key=True)
    load: Mapped[int | None]

    __mapper_args__ = {"polymorphic_identity": "truck"}


class Wheel(InspBase):
    __tablename__ = "insp_wheels"

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("insp_vehicles.id"))


def test_mapper_selectables_and_tables() -> None:
    vehicles, trucks = Vehicle.__table__, Truck.__table__
    vehicle, truck = inspect(Vehicle), inspect(Truck)
    assert vehicle.persist_selectable is vehicles and vehicle.selectable is vehicles
    assert vehicle.tables == [vehicles] and vehicle.local_table is vehicles
    assert truck.local_table is trucks and truck.tables == [vehicles, trucks]
    joined = truck.persist_selectable
    assert (joined.left, joined.right) == (vehicles, trucks)
    assert truck.selectable is joined
    assert str(select(joined.c.insp_trucks_load)).startswith("SELECT insp_trucks.load")
    assert (vehicle.is_aliased_class, vehicle.with_polymorphic_mappers) == (False, [])


def test_class_manager_holds_the_instrumented_attributes() -> None:
    manager = inspect(Vehicle).class_manager
    assert isinstance(manager, ClassManager)
    assert (manager.class_, manager.mapper, manager.is_mapped) == (Vehicle, inspect(Vehicle), True)
    assert list(manager) == ["wheels", "label", "id", "name", "kind"]
    assert manager["name"] is Vehicle.name
    assert list(manager_of_class(Truck)) == [*manager, "load"]
    with pytest.raises(UnmappedClassError):
        manager_of_class(int)


def test_instance_state_attributes(engine: Any) -> None:
    InspBase.metadata.create_all(engine)
    with Session(engine) as session:
        truck = Truck(name="t", load=3)
        state = inspect(truck)
        assert state.is_instance is True
        with pytest.raises(KeyError):
            state.attrs["nothing"]
        session.add(truck)
        session.commit()
        assert state.attrs["load"].value == 3
