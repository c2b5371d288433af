"""Inheritance mappings: a company whose employees are managers and engineers.

The employees are mapped with joined-table inheritance (a table per class, each subclass row
keyed to its ``employee`` row); the single-table variant differs only in leaving
``__tablename__`` and the foreign-key primary key off the subclasses.  ``main()`` walks
through the ways to query such a hierarchy and returns what each one found together with how
many SELECT statements it needed:

- ``select(Employee)``: one query of the base table; each row becomes the class its ``type``
  column names, and subclass columns load when first used;
- ``select(Manager)``: the ``manager`` table joined to ``employee``;
- ``with_polymorphic``: subclass tables outer-joined into the one query;
- ``selectin_polymorphic``: one more ``SELECT ... WHERE id IN (...)`` per subclass;
- ``join(Company.employees.of_type(Engineer))``: filtering companies on engineer columns;
- ``select(Manager.name)``: a column of a subclass reads that subclass's rows only;
- ``joinedload(Company.employees)``: the employees joined in, in one statement.

The vehicles are mapped with concrete-table inheritance (a full table per class, no shared
table): ``ConcreteBase`` makes ``select(Vehicle)`` read the ``UNION ALL`` of the three tables
and return each row as the class it came from.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/orm_inheritance.py
"""

from __future__ import annotations

import os
from typing import Any

from athanor import ForeignKey, String, create_engine, event, select
from athanor.orm import (
    ConcreteBase,
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectin_polymorphic,
    selectinload,
    with_polymorphic,
)


class Base(DeclarativeBase):
    pass


class Company(Base):
    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    employees: Mapped[list[Employee]] = relationship(
        back_populates="company", order_by="Employee.id"
    )


class Employee(Base):
    __tablename__ = "employee"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    type: Mapped[str] = mapped_column(String(20))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    company: Mapped[Company] = relationship(back_populates="employees")

    __mapper_args__ = {"polymorphic_identity": "employee", "polymorphic_on": "type"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Manager(Employee):
    __tablename__ = "manager"

    id: Mapped[int] = mapped_column(ForeignKey("employee.id"), primary_key=True)
    manager_name: Mapped[str] = mapped_column(String(50))

    __mapper_args__ = {"polymorphic_identity": "manager"}


class Engineer(Employee):
    __tablename__ = "engineer"

    id: Mapped[int] = mapped_column(ForeignKey("employee.id"), primary_key=True)
    engineer_info: Mapped[str] = mapped_column(String(50))

    __mapper_args__ = {"polymorphic_identity": "engineer"}


class Vehicle(ConcreteBase, Base):
    __tablename__ = "vehicle"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))

    __mapper_args__ = {"polymorphic_identity": "vehicle", "concrete": True}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Car(Vehicle):
    __tablename__ = "car"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    seats: Mapped[int]

    __mapper_args__ = {"polymorphic_identity": "car", "concrete": True}


class Boat(Vehicle):
    __tablename__ = "boat"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    sails: Mapped[int]

    __mapper_args__ = {"polymorphic_identity": "boat", "concrete": True}


def main(url: str) -> dict[str, Any]:
    """Create the tables, add a company, run each kind of query; returns {name: (result,
    number of SELECTs)}."""
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    selects: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    with Session(engine) as session:
        session.add(
            Company(
                name="Krusty Krab",
                employees=[
                    Manager(name="Mr. Krabs", manager_name="Eugene H. Krabs"),
                    Engineer(name="SpongeBob", engineer_info="Krabby Patty Master"),
                    Engineer(name="Squidward", engineer_info="Senior Customer Engagement"),
                ],
            )
        )
        session.add_all(
            [
                Vehicle(id=1, name="Patty Wagon"),
                Car(id=1, name="Boatmobile", seats=2),
                Boat(id=1, name="Flying Dutchman", sails=3),
            ]
        )
        session.commit()

    results: dict[str, Any] = {}

    def run(name: str, work: Any) -> None:
        selects.clear()
        with Session(engine) as session:
            found = work(session)
            results[name] = (found, len(selects))
            print(f"{name}: {found} ({len(selects)} SELECT)")

    run(
        "base_then_subclass_columns",
        lambda s: [
            (e.name, getattr(e, "manager_name", None) or getattr(e, "engineer_info", None))
            for e in s.scalars(select(Employee).order_by(Employee.id))
        ],
    )
    run("managers", lambda s: [m.manager_name for m in s.scalars(select(Manager))])
    wp = with_polymorphic(Employee, [Manager, Engineer])
    run(
        "with_polymorphic",
        lambda s: [
            repr(e)
            for e in s.scalars(
                select(wp)
                .where(
                    wp.Manager.manager_name.is_not(None) | wp.Engineer.engineer_info.is_not(None)
                )
                .order_by(wp.id)
            )
        ],
    )
    run(
        "selectin_polymorphic",
        lambda s: [
            getattr(e, "manager_name", None) or e.engineer_info
            for e in s.scalars(
                select(Employee)
                .options(selectin_polymorphic(Employee, [Manager, Engineer]))
                .order_by(Employee.id)
            )
        ],
    )
    run(
        "of_type_join",
        lambda s: s.scalars(
            select(Company.name)
            .join(Company.employees.of_type(Engineer))
            .where(Engineer.engineer_info == "Krabby Patty Master")
        ).all(),
    )
    run(
        "company_with_employees",
        lambda s: [
            repr(e)
            for c in s.scalars(select(Company).options(selectinload(Company.employees)))
            for e in c.employees
        ],
    )
    run("manager_names", lambda s: s.scalars(select(Manager.name)).all())
    run(
        "company_with_employees_joined",
        lambda s: [
            repr(e)
            for c in s.scalars(select(Company).options(joinedload(Company.employees))).unique()
            for e in c.employees
        ],
    )
    run(
        "vehicles",
        lambda s: [repr(v) for v in s.scalars(select(Vehicle).order_by(Vehicle.name))],
    )
    engine.dispose()
    return results


if __name__ == "__main__":
    main(os.environ.get("DATABASE_URL", "sqlite://"))
