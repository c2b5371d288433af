"""Inheritance details: column selects of subclass attributes, ``@declared_attr`` directives
seen by subclasses, and the flush order of rows of one hierarchy that reference each other,
on every database."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import (
    ForeignKey,
    Integer,
    String,
    case,
    cast,
    create_engine,
    distinct,
    exists,
    func,
    select,
    update,
)
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    aliased,
    declared_attr,
    has_inherited_table,
    mapped_column,
    relationship,
)
from orm.orm_models import StatementLog, compiled


@pytest.fixture
def engine(seeded_hierarchy: Any) -> Any:
    return seeded_hierarchy


def test_column_select_of_a_subclass_keeps_to_its_rows(engine, m) -> None:
    with Session(engine) as session:
        assert session.scalars(select(m.Manager.name)).all() == ["Mr. Krabs"]
        assert sorted(session.scalars(select(m.Engineer.name))) == ["SpongeBob", "Squidward"]
        assert session.execute(select(m.Principal.name, m.Principal.level)).all() == [
            ("Squidward", 3)
        ]
        assert len(session.scalars(select(m.Employee.name)).all()) == 4
        assert session.query(m.Manager.name).all() == [("Mr. Krabs",)]
        inner = select(m.Engineer.id).scalar_subquery()
        names = session.scalars(select(m.Employee.name).where(m.Employee.id.in_(inner)))
        assert sorted(names) == ["SpongeBob", "Squidward"]
        joined = select(m.Manager.name, m.Company.name).join(m.Manager.company)
        assert session.execute(joined).all() == [("Mr. Krabs", "Krusty Krab")]


def test_column_select_of_a_subclass_sql(m) -> None:
    sql = compiled(select(m.Manager.name))
    if m.single:
        assert sql == "SELECT s_employee.name FROM s_employee WHERE s_employee.type IN (:type_1)"
        assert compiled(select(m.Employee.name)) == "SELECT s_employee.name FROM s_employee"
    else:
        assert sql == (
            "SELECT j_employee.name FROM j_employee JOIN j_manager ON j_manager.id = j_employee.id"
        )
        assert compiled(select(m.Employee.name)) == "SELECT j_employee.name FROM j_employee"


def test_subclass_attributes_inside_functions_and_labels_keep_to_its_rows(engine, m) -> None:
    with Session(engine) as session:
        assert session.scalar(select(func.count(m.Manager.id))) == 1
        assert session.scalar(select(func.count(m.Engineer.id))) == 2
        assert session.scalar(select(func.max(m.Engineer.name))) == "Squidward"
        assert session.scalar(select(func.count(m.Employee.id))) == 4
        labelled = session.scalars(select(m.Engineer.name.label("n")).order_by("n")).all()
        assert labelled == ["SpongeBob", "Squidward"]
        assert session.query(func.count(m.Manager.id)).scalar() == 1
        per_company = (
            select(func.count(m.Engineer.id))
            .where(m.Engineer.company_id == m.Company.id)
            .scalar_subquery()
        )
        assert session.execute(select(m.Company.name, per_company)).all() == [("Krusty Krab", 2)]


def test_subclass_attributes_inside_functions_sql(m) -> None:
    sql = compiled(select(func.count(m.Manager.id)).where(m.Manager.name != "x"))
    if m.single:
        assert sql == (
            "SELECT count(s_employee.id) AS count_1 FROM s_employee WHERE s_employee.name != "
            ":name_1 AND s_employee.type IN (:type_1)"
        )
        renamed = update(m.Manager).where(func.lower(m.Manager.name) == "x").values(name="y")
        assert "FROM" not in compiled(renamed)
    else:
        assert sql.startswith(
            "SELECT count(j_employee.id) AS count_1 FROM j_employee JOIN j_manager ON"
        )


def test_subclass_attributes_inside_expressions_keep_to_its_rows(engine, m) -> None:
    """Wherever a subclass's attribute takes part (arithmetic, comparisons, CAST, CASE,
    DISTINCT, a WHERE criterion, an aliased subclass), the statement reads that class's rows
    only, as ``select(Subclass.attr)`` does."""
    with Session(engine) as session:

        def values(stmt: Any) -> list[Any]:
            return sorted(session.scalars(stmt))

        ids = values(select(m.Engineer.id))
        assert len(ids) == 2
        assert values(select(m.Engineer.id + 1)) == [i + 1 for i in ids]
        assert values(select(100 + m.Engineer.id)) == [100 + i for i in ids]
        assert values(select(-m.Engineer.id)) == sorted(-i for i in ids)
        assert values(select((m.Engineer.id + 1).label("n"))) == [i + 1 for i in ids]
        assert [bool(v) for v in values(select(m.Engineer.name == "SpongeBob"))] == [False, True]
        assert values(select(cast(m.Engineer.id, String(10)))) == sorted(str(i) for i in ids)
        assert values(select(m.Engineer.id.cast(String(10)))) == sorted(str(i) for i in ids)
        assert values(select(case((m.Engineer.id > 0, "yes"), else_="no"))) == ["yes", "yes"]
        assert values(select(distinct(m.Engineer.name))) == ["SpongeBob", "Squidward"]
        assert values(select(m.Manager.name.concat("!"))) == ["Mr. Krabs!"]
        assert values(select(func.coalesce(m.Manager.manager_name, "?"))) == ["Eugene"]
        # a criterion on a subclass's attribute (SQLAlchemy adds the same restriction)
        assert values(select(m.Employee.name).where(m.Manager.name != "x")) == ["Mr. Krabs"]
        assert session.scalar(select(func.count()).where(m.Engineer.id > 0)) == 2
        assert not session.scalar(select(exists().where(m.Manager.name == "Plankton")))
        # beside the base class, its table is read once
        both = session.execute(select(m.Employee, func.lower(m.Manager.name))).all()
        assert [(e.name, lowered) for e, lowered in both] == [("Mr. Krabs", "mr. krabs")]
        managers = aliased(m.Manager)
        assert values(select(managers.name)) == ["Mr. Krabs"]
        assert values(select(managers.id + 0)) == values(select(m.Manager.id))
        renamed = session.execute(
            update(m.Manager).where(m.Manager.name == "Mr. Krabs").values(manager_name="Eu")
        )
        assert renamed.rowcount == 1
        assert values(select(m.Manager.manager_name)) == ["Eu"]


def test_subclass_attributes_inside_expressions_sql(m) -> None:
    sql = compiled(select(m.Manager.id + 1))
    where = compiled(select(m.Employee.id).where(m.Manager.name == "x"))
    if m.single:
        assert sql == (
            "SELECT s_employee.id + :id_1 AS anon_1 FROM s_employee "
            "WHERE s_employee.type IN (:type_1)"
        )
        assert where == (
            "SELECT s_employee.id FROM s_employee WHERE s_employee.name = :name_1 "
            "AND s_employee.type IN (:type_1)"
        )
        # ORDER BY alone restricts nothing, as in SQLAlchemy
        assert compiled(select(m.Employee.id).order_by(m.Manager.name)) == (
            "SELECT s_employee.id FROM s_employee ORDER BY s_employee.name"
        )
    else:
        assert sql.startswith("SELECT j_employee.id + :id_1 AS anon_1 FROM j_employee JOIN ")
        assert where.startswith("SELECT j_employee.id FROM j_employee JOIN j_manager ON ")


def test_join_condition_written_with_subclass_attributes(backend) -> None:
    """A relationship whose primaryjoin names a subclass's attributes relates the tables; the
    subclass's rows still limit what loads through it."""

    class Base(DeclarativeBase):
        pass

    class Staff(Base):
        __tablename__ = "expr_staff"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "staff"}

    class Boss(Staff):
        memos: Mapped[list[Memo]] = relationship(
            primaryjoin="Boss.id == Memo.author_id", viewonly=True, order_by="Memo.id"
        )
        __mapper_args__ = {"polymorphic_identity": "boss"}

    class Memo(Base):
        __tablename__ = "expr_memo"
        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int] = mapped_column(ForeignKey("expr_staff.id"))
        author: Mapped[Boss] = relationship(primaryjoin="Memo.author_id == Boss.id", viewonly=True)

    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Boss(id=1), Staff(id=2)])
        session.flush()
        session.add_all([Memo(id=1, author_id=1), Memo(id=2, author_id=2)])
        session.commit()
        assert [memo.id for memo in session.get(Boss, 1).memos] == [1]
        joined = session.scalars(select(Memo.id).join(Memo.author)).all()
        assert joined == [1]
        assert session.get(Memo, 2).author is None
    engine.dispose()


def test_declared_attr_tablename_of_a_mixin_applies_to_subclasses(backend) -> None:
    class Base(DeclarativeBase):
        pass

    class Tablename:
        @declared_attr.directive
        def __tablename__(cls) -> str | None:  # noqa: N805 - called with the class
            return "inh_" + cls.__name__.lower()

    class Person(Tablename, Base):
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "person"}

    class Engineer(Person):
        id: Mapped[int] = mapped_column(ForeignKey("inh_person.id"), primary_key=True)
        language: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_identity": "engineer"}

    class Manager(Person):
        __tablename__ = None
        boss: Mapped[str | None] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_identity": "manager"}

    class SingleByDefault:
        @declared_attr.directive
        def __tablename__(cls) -> str | None:  # noqa: N805 - called with the class
            return None if has_inherited_table(cls) else "inh_" + cls.__name__.lower()

    class Animal(SingleByDefault, Base):
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "animal"}

    class Dog(Animal):
        barks: Mapped[bool | None]
        __mapper_args__ = {"polymorphic_identity": "dog"}

    assert (Engineer.__table__.name, Manager.__table__.name) == ("inh_engineer", "inh_person")
    assert (Animal.__table__.name, Dog.__table__ is Animal.__table__) == ("inh_animal", True)
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    with Session(eng) as session:
        session.add_all([Engineer(language="py"), Manager(boss="x"), Dog(barks=True)])
        session.commit()
    with Session(eng) as session:
        found = session.scalars(select(Person).order_by(Person.id)).all()
        assert [(type(p), p.kind) for p in found] == [(Engineer, "engineer"), (Manager, "manager")]
        assert found[0].language == "py"
        assert session.scalars(select(Animal)).one().barks is True
    eng.dispose()


def test_declared_attr_cascading_makes_a_column_per_subclass(backend) -> None:
    class Base(DeclarativeBase):
        pass

    class HasId:
        @declared_attr.cascading
        def id(cls) -> Any:  # noqa: N805 - called with the class
            if has_inherited_table(cls):
                return mapped_column(ForeignKey("inh_doc.id"), primary_key=True)
            return mapped_column(Integer, primary_key=True)

    class Document(HasId, Base):
        __tablename__ = "inh_doc"
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "doc"}

    class Invoice(Document):
        __tablename__ = "inh_invoice"
        total: Mapped[int]
        __mapper_args__ = {"polymorphic_identity": "invoice"}

    assert [c.name for c in Invoice.__table__.c] == ["total", "id"]
    assert [fk.target_fullname for fk in Invoice.__table__.c.id.foreign_keys] == ["inh_doc.id"]
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    with Session(eng) as session:
        session.add(Invoice(total=7))
        session.commit()
    with Session(eng) as session:
        invoice = session.scalars(select(Document)).one()
        assert (type(invoice), invoice.total) == (Invoice, 7)
    eng.dispose()


def _supervision_models(single: bool) -> Any:
    class Base(DeclarativeBase):
        pass

    class Employee(Base):
        __tablename__ = "inh_staff"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(20))
        kind: Mapped[str] = mapped_column(String(20))
        supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("inh_staff.id"))
        supervisor: Mapped[Employee | None] = relationship(
            remote_side=[id], back_populates="reports"
        )
        reports: Mapped[list[Employee]] = relationship(back_populates="supervisor")
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "employee"}

    if single:

        class Manager(Employee):
            __mapper_args__ = {"polymorphic_identity": "manager"}

        class Engineer(Employee):
            language: Mapped[str | None] = mapped_column(String(20))
            __mapper_args__ = {"polymorphic_identity": "engineer"}

    else:

        class Manager(Employee):  # type: ignore[no-redef]
            __tablename__ = "inh_staff_manager"
            id: Mapped[int] = mapped_column(ForeignKey("inh_staff.id"), primary_key=True)
            __mapper_args__ = {"polymorphic_identity": "manager"}

        class Engineer(Employee):  # type: ignore[no-redef]
            __tablename__ = "inh_staff_engineer"
            id: Mapped[int] = mapped_column(ForeignKey("inh_staff.id"), primary_key=True)
            language: Mapped[str | None] = mapped_column(String(20))
            __mapper_args__ = {"polymorphic_identity": "engineer"}

    return Base, Employee, Manager, Engineer


@pytest.mark.parametrize("style", ["single", "joined"])
def test_rows_of_a_hierarchy_referencing_each_other_flush_in_dependency_order(
    backend, style
) -> None:
    Base, Employee, Manager, Engineer = _supervision_models(style == "single")
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    log = StatementLog(eng)
    with Session(eng) as session:
        boss = Employee(name="boss")
        manager = Manager(name="manager", supervisor=boss)
        engineer = Engineer(name="engineer", language="py", supervisor=manager)
        session.add(engineer)  # the others cascade in after it
        session.commit()
    inserts = [s for s in log.statements if s.lstrip().upper().startswith("INSERT")]
    assert inserts and "inh_staff" in inserts[0]
    with Session(eng) as session:
        rows = session.execute(
            select(Employee.name, Employee.kind, Employee.supervisor_id).order_by(Employee.id)
        ).all()
        ids = dict(session.execute(select(Employee.name, Employee.id)).tuples().all())
        assert rows == [
            ("boss", "employee", None),
            ("manager", "manager", ids["boss"]),
            ("engineer", "engineer", ids["manager"]),
        ]
        # Deleted in the order given, the referencing rows still go first (expired objects:
        # their foreign keys load to find out).
        for name in ("boss", "manager", "engineer"):
            session.delete(session.scalars(select(Employee).where(Employee.name == name)).one())
        session.expire_all()
        session.commit()
        assert session.scalars(select(Employee)).all() == []
    eng.dispose()
