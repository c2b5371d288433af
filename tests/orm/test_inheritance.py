"""Single-table and joined-table inheritance: flushing, polymorphic loading, identity and
mapping errors, on every database."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from athanor import String, create_engine, insert, inspect, select, text
from athanor import exc as sa_exc
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column
from orm.inheritance_models import (
    STYLES,
    SCompany,
    SEmployee,
    SingleBase,
    SManager,
    seed,
)
from orm.orm_models import StatementLog


@pytest.fixture
def engine(backend: Any, m: SimpleNamespace) -> Iterator[Any]:
    eng = create_engine(backend.url)
    m.base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def single_engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    SingleBase.metadata.create_all(eng)
    yield eng
    eng.dispose()


def test_flush_writes_discriminators_and_base_query_returns_subclasses(engine, m) -> None:
    seed(engine, m)
    with engine.connect() as conn:
        types = conn.execute(text(f"SELECT name, type FROM {m.Employee.__tablename__}")).all()
    assert sorted(types) == [
        ("Mr. Krabs", "manager"),
        ("Plankton", "employee"),
        ("SpongeBob", "engineer"),
        ("Squidward", "principal"),
    ]
    log = StatementLog(engine)
    with Session(engine) as session:
        found = session.scalars(select(m.Employee).order_by(m.Employee.id)).all()
        assert [type(e) for e in found] == [m.Manager, m.Engineer, m.Principal, m.Employee]
        assert [e.name for e in found] == ["Mr. Krabs", "SpongeBob", "Squidward", "Plankton"]
        assert len(log.selects) == 1
        assert " JOIN " not in log.selects[0]
        # Subclass columns were not in the base query: each loads on first access.
        assert found[0].manager_name == "Eugene"
        assert found[2].level == 3
        assert len(log.selects) == 3


def test_new_objects_get_their_discriminator_before_flush(m) -> None:
    assert m.Manager(name="x").type == "manager"
    assert m.Principal(name="y").type == "principal"
    assert m.Employee(name="z").type == "employee"


def test_subclass_query_returns_its_subtree_only(engine, m) -> None:
    seed(engine, m)
    log = StatementLog(engine)
    with Session(engine) as session:
        engineers = session.scalars(select(m.Engineer).order_by(m.Engineer.id)).all()
        assert [(type(e), e.engineer_info) for e in engineers] == [
            (m.Engineer, "fry cook"),
            (m.Principal, "cashier"),
        ]
        (manager,) = session.scalars(select(m.Manager)).all()
        assert manager.manager_name == "Eugene"
        assert session.scalars(select(m.Principal)).one().level == 3
    sql = log.selects[0]
    if m.single:
        assert "type IN" in sql and " JOIN " not in sql
    else:
        assert "JOIN j_engineer ON" in sql and "IN (" not in sql
    assert len(log.selects) == 3


def test_identity_map_is_keyed_by_the_base_class(engine, m) -> None:
    seed(engine, m)
    with Session(engine) as session:
        manager = session.scalars(select(m.Manager)).one()
        assert inspect(manager).key[0] is m.Employee
        log = StatementLog(engine)
        assert session.get(m.Employee, manager.id) is manager
        assert session.get(m.Manager, manager.id) is manager
        assert session.get(m.Engineer, manager.id) is None
        assert log.statements == []
    with Session(engine) as session:
        first = session.get(m.Employee, manager.id)
        assert type(first) is m.Manager
        by_name = select(m.Employee).where(m.Employee.name == "Mr. Krabs")
        assert session.scalars(by_name).one() is first


def test_update_touches_only_changed_tables_and_delete_goes_child_first(engine, m) -> None:
    seed(engine, m)
    log = StatementLog(engine)
    with Session(engine) as session:
        principal = session.scalars(select(m.Principal)).one()
        log.clear()
        principal.level = 4
        session.flush()
        principal.name = "Squiddy"
        session.flush()
        updates = [s.split(" SET")[0] for s in log.statements if s.startswith("UPDATE")]
        if m.single:
            assert updates == ["UPDATE s_employee", "UPDATE s_employee"]
        else:
            assert updates == ["UPDATE j_principal", "UPDATE j_employee"]
        principal.level = 5
        principal.engineer_info = "register"
        principal.name = "Squidward T."
        log.clear()
        session.flush()
        assert len([s for s in log.statements if s.startswith("UPDATE")]) == (1 if m.single else 3)
        log.clear()
        session.delete(principal)
        session.commit()
        deletes = [s.split(" WHERE")[0] for s in log.statements if s.startswith("DELETE")]
        if m.single:
            assert deletes == ["DELETE FROM s_employee"]
        else:
            assert deletes == [
                "DELETE FROM j_principal",
                "DELETE FROM j_engineer",
                "DELETE FROM j_employee",
            ]
    with Session(engine) as session:
        assert [e.name for e in session.scalars(select(m.Engineer))] == ["SpongeBob"]
        assert session.scalars(select(m.Employee.name).order_by(m.Employee.id)).all() == [
            "Mr. Krabs",
            "SpongeBob",
            "Plankton",
        ]


def test_inserts_keep_the_order_objects_were_added(engine, m) -> None:
    with Session(engine) as session:
        people = [
            m.Engineer(name="a", engineer_info="x"),
            m.Manager(name="b", manager_name="y"),
            m.Engineer(name="c", engineer_info="z"),
        ]
        session.add_all(people)
        session.flush()
        assert [p.id for p in people] == sorted(p.id for p in people)


def test_relationships_load_subclass_instances(engine, m) -> None:
    seed(engine, m)
    with Session(engine) as session:
        company = session.scalars(select(m.Company)).one()
        assert [type(e) for e in company.employees] == [
            m.Manager,
            m.Engineer,
            m.Principal,
            m.Employee,
        ]
        assert all(e.company is company for e in company.employees)
        engineer = session.scalars(select(m.Engineer).where(m.Engineer.name == "SpongeBob")).one()
        engineer.company = None
        session.commit()
        assert [e.name for e in company.employees] == ["Mr. Krabs", "Squidward", "Plankton"]


def test_relationship_to_a_single_table_subclass_adds_the_discriminator(single_engine) -> None:
    seed(single_engine, STYLES["single"])
    log = StatementLog(single_engine)
    with Session(single_engine) as session:
        company = session.scalars(select(SCompany)).one()
        assert [x.name for x in company.managers] == ["Mr. Krabs"]
    assert "s_employee.type IN" in log.selects[1]


def test_mapper_inspection(m) -> None:
    base, manager, principal = (inspect(c) for c in (m.Employee, m.Manager, m.Principal))
    assert manager.inherits is base
    assert principal.inherits is inspect(m.Engineer)
    assert principal.base_mapper is base and base.inherits is None
    assert manager.polymorphic_identity == "manager"
    assert base.polymorphic_map == {
        "employee": base,
        "manager": manager,
        "engineer": inspect(m.Engineer),
        "principal": principal,
    }
    assert manager.single is m.single
    assert principal.isa(base) and not manager.isa(principal)
    assert [x.class_ for x in inspect(m.Engineer).self_and_descendants] == [
        m.Engineer,
        m.Principal,
    ]
    assert set(principal.attrs.keys()) >= {"id", "name", "type", "engineer_info", "level"}
    assert "level" not in inspect(m.Engineer).attrs
    assert manager.polymorphic_on is base.polymorphic_on


def test_single_table_subclass_columns_are_nullable() -> None:
    table = SEmployee.__table__
    assert table.c.manager_name.nullable and table.c.level.nullable
    assert not table.c.name.nullable
    assert SManager.__table__ is table


def test_unknown_discriminator_value_is_a_clear_error(engine, m) -> None:
    seed(engine, m)
    with engine.begin() as conn:
        conn.execute(insert(m.Employee.__table__).values(id=99, name="ghost", type="intern"))
    with (
        Session(engine) as session,
        pytest.raises(sa_exc.InvalidRequestError, match=r"'intern'.*polymorphic_identity"),
    ):
        session.scalars(select(m.Employee)).all()


def test_polymorphic_identity_without_polymorphic_on_is_refused() -> None:
    class Base(DeclarativeBase):
        pass

    class Animal(Base):
        __tablename__ = "inh_animal"
        id: Mapped[int] = mapped_column(primary_key=True)
        __mapper_args__ = {"polymorphic_identity": "animal"}

    with pytest.raises(sa_exc.ArgumentError, match="no polymorphic_on; add"):

        class Dog(Animal):
            __mapper_args__ = {"polymorphic_identity": "dog"}


def test_duplicate_polymorphic_identity_is_refused() -> None:
    class Base(DeclarativeBase):
        pass

    class Animal(Base):
        __tablename__ = "inh_animal"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "animal"}

    class Dog(Animal):
        __mapper_args__ = {"polymorphic_identity": "dog"}

    with pytest.raises(sa_exc.ArgumentError, match="'dog' is already used by 'Dog'"):

        class Wolf(Animal):
            __mapper_args__ = {"polymorphic_identity": "dog"}


def test_joined_subclass_without_foreign_key_names_the_fix() -> None:
    class Base(DeclarativeBase):
        pass

    class Animal(Base):
        __tablename__ = "inh_animal"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "animal"}

    fix = r'ForeignKey\("inh_animal.id"\).*inherit_condition'
    with pytest.raises(sa_exc.ArgumentError, match=fix):

        class Dog(Animal):
            __tablename__ = "inh_dog"
            id: Mapped[int] = mapped_column(primary_key=True)
            __mapper_args__ = {"polymorphic_identity": "dog"}


def test_polymorphic_on_on_a_subclass_is_refused() -> None:
    class Base(DeclarativeBase):
        pass

    class Animal(Base):
        __tablename__ = "inh_animal"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(String(20))
        other: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "animal"}

    with pytest.raises(sa_exc.ArgumentError, match="belongs on the base"):

        class Dog(Animal):
            __mapper_args__ = {"polymorphic_on": "other", "polymorphic_identity": "dog"}


def test_inherit_condition_joins_on_a_column_without_foreign_key(backend) -> None:
    class Base(DeclarativeBase):
        pass

    class Animal(Base):
        __tablename__ = "inh_animal"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "animal"}

    class Dog(Animal):
        __tablename__ = "inh_dog"
        dog_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        bark: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {
            "polymorphic_identity": "dog",
            "inherit_condition": dog_id == Animal.id,
        }

    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    with Session(eng) as session:
        session.add(Dog(id=7, dog_id=7, bark="woof"))
        session.commit()
    with Session(eng) as session:
        dog = session.scalars(select(Animal)).one()
        assert type(dog) is Dog and dog.bark == "woof"
    eng.dispose()


def test_discriminator_from_a_case_expression(backend) -> None:
    from athanor import case

    class Base(DeclarativeBase):
        pass

    class Vehicle(Base):
        __tablename__ = "inh_vehicle"
        id: Mapped[int] = mapped_column(primary_key=True)
        wheels: Mapped[int] = mapped_column()
        __mapper_args__ = {
            "polymorphic_on": case((wheels == 2, "bike"), else_="car"),
            "polymorphic_identity": "car",
        }

    class Bike(Vehicle):
        __mapper_args__ = {"polymorphic_identity": "bike"}

    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    with Session(eng) as session:
        session.add_all([Vehicle(wheels=4), Bike(wheels=2)])
        session.commit()
    with Session(eng) as session:
        found = session.scalars(select(Vehicle).order_by(Vehicle.id)).all()
        assert [type(v) for v in found] == [Vehicle, Bike]
        assert "_sa_polymorphic_on" not in found[0].__dict__
        assert [b.wheels for b in session.scalars(select(Bike))] == [2]
    eng.dispose()


def test_legacy_query_on_subclasses(engine, m) -> None:
    seed(engine, m)
    with Session(engine) as session:
        assert [e.name for e in session.query(m.Engineer).order_by(m.Engineer.id)] == [
            "SpongeBob",
            "Squidward",
        ]
        assert session.query(m.Manager).count() == 1
        assert session.query(m.Employee).filter_by(name="Squidward").one().level == 3
