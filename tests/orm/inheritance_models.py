"""Models for the inheritance tests: the same company of employees mapped as a single-table
hierarchy and as a joined-table one (:data:`STYLES`), and the rows the tests start from."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from athanor import ForeignKey, String
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class SingleBase(DeclarativeBase):
    pass


class SCompany(SingleBase):
    __tablename__ = "s_company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    employees: Mapped[list[SEmployee]] = relationship(
        back_populates="company", order_by="SEmployee.id"
    )
    managers: Mapped[list[SManager]] = relationship(viewonly=True, order_by="SManager.id")
    engineers: Mapped[list[SEngineer]] = relationship(viewonly=True, order_by="SEngineer.id")


class SEmployee(SingleBase):
    __tablename__ = "s_employee"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    type: Mapped[str] = mapped_column(String(20))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("s_company.id"))
    company: Mapped[SCompany | None] = relationship(back_populates="employees")

    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "employee"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class SManager(SEmployee):
    manager_name: Mapped[str] = mapped_column(String(50))

    __mapper_args__ = {"polymorphic_identity": "manager"}


class SEngineer(SEmployee):
    engineer_info: Mapped[str] = mapped_column(String(50))

    __mapper_args__ = {"polymorphic_identity": "engineer"}


class SPrincipal(SEngineer):
    level: Mapped[int]

    __mapper_args__ = {"polymorphic_identity": "principal"}


class JoinedBase(DeclarativeBase):
    pass


class JCompany(JoinedBase):
    __tablename__ = "j_company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    employees: Mapped[list[JEmployee]] = relationship(
        back_populates="company", order_by="JEmployee.id"
    )
    engineers: Mapped[list[JEngineer]] = relationship(viewonly=True, order_by="JEngineer.id")


class JEmployee(JoinedBase):
    __tablename__ = "j_employee"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    type: Mapped[str] = mapped_column(String(20))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("j_company.id"))
    company: Mapped[JCompany | None] = relationship(back_populates="employees")

    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "employee"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class JManager(JEmployee):
    __tablename__ = "j_manager"

    id: Mapped[int] = mapped_column(ForeignKey("j_employee.id"), primary_key=True)
    manager_name: Mapped[str] = mapped_column(String(50))

    __mapper_args__ = {"polymorphic_identity": "manager"}


class JEngineer(JEmployee):
    __tablename__ = "j_engineer"

    id: Mapped[int] = mapped_column(ForeignKey("j_employee.id"), primary_key=True)
    engineer_info: Mapped[str] = mapped_column(String(50))

    __mapper_args__ = {"polymorphic_identity": "engineer"}


class JPrincipal(JEngineer):
    __tablename__ = "j_principal"

    id: Mapped[int] = mapped_column(ForeignKey("j_engineer.id"), primary_key=True)
    level: Mapped[int]

    __mapper_args__ = {"polymorphic_identity": "principal"}


STYLES = {
    "single": SimpleNamespace(
        base=SingleBase,
        Company=SCompany,
        Employee=SEmployee,
        Manager=SManager,
        Engineer=SEngineer,
        Principal=SPrincipal,
        single=True,
    ),
    "joined": SimpleNamespace(
        base=JoinedBase,
        Company=JCompany,
        Employee=JEmployee,
        Manager=JManager,
        Engineer=JEngineer,
        Principal=JPrincipal,
        single=False,
    ),
}
"""Each mapping style's classes under the same names (the ``m`` fixture gives one)."""


def seed(engine: Any, m: SimpleNamespace) -> None:
    """One company with a manager, an engineer, a principal and a plain employee."""
    with Session(engine) as session:
        session.add(
            m.Company(
                name="Krusty Krab",
                employees=[
                    m.Manager(name="Mr. Krabs", manager_name="Eugene"),
                    m.Engineer(name="SpongeBob", engineer_info="fry cook"),
                    m.Principal(name="Squidward", engineer_info="cashier", level=3),
                    m.Employee(name="Plankton"),
                ],
            )
        )
        session.commit()
