"""Concrete-table inheritance loaded polymorphically: ``ConcreteBase``,
``AbstractConcreteBase`` and ``polymorphic_union()``, with relationships to and from the
concrete classes, on every database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Column, ForeignKey, Integer, MetaData, String, Table, create_engine, select
from athanor import exc as sa_exc
from athanor.ext.declarative import AbstractConcreteBase as ExtAbstractConcreteBase
from athanor.ext.declarative import ConcreteBase as ExtConcreteBase
from athanor.orm import (
    AbstractConcreteBase,
    ConcreteBase,
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    joinedload,
    mapped_column,
    polymorphic_union,
    registry,
    relationship,
    selectinload,
    subqueryload,
    with_polymorphic,
)
from orm.orm_models import StatementLog


class Base(DeclarativeBase):
    pass


class Company(Base):
    __tablename__ = "cc_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    employees: Mapped[list[Employee]] = relationship(back_populates="company")


class Employee(ConcreteBase, Base):
    __tablename__ = "cc_employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("cc_company.id"))
    company: Mapped[Company | None] = relationship(back_populates="employees")
    __mapper_args__ = {"polymorphic_identity": "employee", "concrete": True}


class Manager(Employee):
    __tablename__ = "cc_manager"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    manager_data: Mapped[str] = mapped_column(String(40))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("cc_company.id"))
    company: Mapped[Company | None] = relationship(back_populates="employees")
    __mapper_args__ = {"polymorphic_identity": "manager", "concrete": True}


class Engineer(Employee):
    __tablename__ = "cc_engineer"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    engineer_info: Mapped[str] = mapped_column(String(40))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("cc_company.id"))
    company: Mapped[Company | None] = relationship(back_populates="employees")
    __mapper_args__ = {"polymorphic_identity": "engineer", "concrete": True}


class Shop(Base):
    __tablename__ = "cc_shop"
    id: Mapped[int] = mapped_column(primary_key=True)
    items: Mapped[list[Item]] = relationship(back_populates="shop")


class Item(AbstractConcreteBase, Base):
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("cc_shop.id"))

    @declared_attr
    def shop(cls) -> Mapped[Shop]:  # noqa: N805 - called with each class
        return relationship("Shop", back_populates="items")


class Book(Item):
    __tablename__ = "cc_book"
    title: Mapped[str] = mapped_column(String(50))
    __mapper_args__ = {"polymorphic_identity": "book", "concrete": True}


class Record(Item):
    __tablename__ = "cc_record"
    artist: Mapped[str] = mapped_column(String(50))
    __mapper_args__ = {"polymorphic_identity": "record", "concrete": True}


class Party(AbstractConcreteBase, Base):
    strict_attrs = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Customer(Party):
    __tablename__ = "cc_customer"
    account: Mapped[str] = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_identity": "customer", "concrete": True}


class Supplier(Party):
    __tablename__ = "cc_supplier"
    rating: Mapped[int]
    __mapper_args__ = {"polymorphic_identity": "supplier", "concrete": True}


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    with Session(eng) as session:
        session.add(
            Company(
                name="Krusty Krab",
                employees=[
                    Employee(id=1, name="Plankton"),
                    Manager(id=1, name="Mr. Krabs", manager_data="Eugene"),
                    Engineer(id=2, name="SpongeBob", engineer_info="fry cook"),
                    Engineer(id=3, name="Squidward", engineer_info="cashier"),
                ],
            )
        )
        session.add_all(
            [Customer(id=1, name="Pearl", account="A-1"), Supplier(id=1, name="Kelp Co", rating=4)]
        )
        session.commit()
    yield eng
    eng.dispose()


def names(objects: Any) -> list[tuple[str, str]]:
    return [(type(o).__name__, o.name) for o in objects]


def test_query_of_the_base_returns_every_class_from_one_union(engine) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        found = session.scalars(select(Employee).order_by(Employee.name)).all()
        assert names(found) == [
            ("Manager", "Mr. Krabs"),
            ("Employee", "Plankton"),
            ("Engineer", "SpongeBob"),
            ("Engineer", "Squidward"),
        ]
        assert found[0].manager_data == "Eugene" and found[2].engineer_info == "fry cook"
        assert len(log.selects) == 1
        assert "UNION ALL" in log.selects[0]
        # Rows keep their own identities: Manager 1 and Employee 1 are different objects.
        assert session.get(Manager, 1) is found[0]
        assert session.get(Engineer, 2) is found[2]


def test_filters_and_order_on_base_attributes_read_the_union(engine) -> None:
    with Session(engine) as session:
        stmt = select(Employee).where(Employee.name.like("S%")).order_by(Employee.id.desc())
        assert names(session.scalars(stmt)) == [
            ("Engineer", "Squidward"),
            ("Engineer", "SpongeBob"),
        ]
        assert session.scalars(select(Employee.name).where(Employee.id == 1)).all() in (
            ["Plankton", "Mr. Krabs"],
            ["Mr. Krabs", "Plankton"],
        )
        assert session.query(Employee).filter(Employee.name == "Mr. Krabs").one().id == 1
        assert session.scalars(select(Manager)).one().manager_data == "Eugene"


def test_with_polymorphic_of_a_concrete_base_reads_its_union(engine) -> None:
    wp = with_polymorphic(Employee, [Manager, Engineer])
    with Session(engine) as session:
        stmt = (
            select(wp)
            .join(wp.company)
            .where(wp.Engineer.engineer_info == "cashier", Company.name == "Krusty Krab")
        )
        assert names(session.scalars(stmt)) == [("Engineer", "Squidward")]
        stmt = select(wp).where(wp.Manager.manager_data == "Eugene")
        assert names(session.scalars(stmt)) == [("Manager", "Mr. Krabs")]


def test_union_sql(engine) -> None:
    sql = " ".join(str(select(Employee).where(Employee.name == "x")).split())
    assert sql.startswith("SELECT pjoin.id, pjoin.name, pjoin.company_id, pjoin.type")
    assert "FROM cc_employee UNION ALL SELECT cc_manager.id" in sql
    assert "CAST(NULL AS VARCHAR(40)) AS manager_data" in sql
    assert "'engineer' AS type FROM cc_engineer) AS pjoin WHERE pjoin.name = :name_1" in sql


@pytest.mark.parametrize("option", [None, selectinload, joinedload, subqueryload])
def test_relationships_to_and_from_concrete_classes(engine, option) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        stmt = select(Company)
        if option is not None:
            stmt = stmt.options(option(Company.employees))
        company = session.scalars(stmt).unique().one()
        assert sorted(names(company.employees)) == [
            ("Employee", "Plankton"),
            ("Engineer", "SpongeBob"),
            ("Engineer", "Squidward"),
            ("Manager", "Mr. Krabs"),
        ]
        assert len(log.selects) == (1 if option is joinedload else 2)
        manager = session.scalars(select(Manager)).one()
        assert manager.company is company
        joined = select(Employee.name).join(Employee.company).where(Company.name == "Krusty Krab")
        assert len(session.scalars(joined).all()) == 4


def test_abstract_concrete_base_maps_to_the_union_of_its_subclasses(engine) -> None:
    with Session(engine) as session:
        found = session.scalars(select(Party).order_by(Party.name)).all()
        assert names(found) == [("Supplier", "Kelp Co"), ("Customer", "Pearl")]
        assert (found[0].rating, found[1].account) == (4, "A-1")
        pearl = session.scalars(select(Party).where(Party.name == "Pearl")).one()
        assert pearl is found[1]
    # strict_attrs: only what the base declares is mapped on it.
    assert set(Party.__mapper__.attrs.keys()) == {"id", "name"}


def test_relationships_to_and_from_an_abstract_concrete_base(engine) -> None:
    with Session(engine) as session:
        session.add(Shop(id=1, items=[Book(id=1, title="Moby"), Record(id=1, artist="Bach")]))
        session.commit()
    for option in (None, selectinload, joinedload):
        with Session(engine) as session:
            stmt = select(Shop) if option is None else select(Shop).options(option(Shop.items))
            shop = session.scalars(stmt).unique().one()
            found = sorted((type(i).__name__, i.id) for i in shop.items)
            assert found == [("Book", 1), ("Record", 1)]
            assert session.scalars(select(Record)).one().shop is shop
            assert len(session.scalars(select(Item).where(Item.shop_id == 1)).all()) == 2


def test_ext_declarative_exports_the_same_classes() -> None:
    assert ExtConcreteBase is ConcreteBase
    assert ExtAbstractConcreteBase is AbstractConcreteBase


def test_polymorphic_union_with_imperative_mappings(backend) -> None:
    metadata = MetaData()
    pets = Table(
        "cc_pet", metadata, Column("id", Integer, primary_key=True), Column("name", String(20))
    )
    dogs = Table(
        "cc_dog",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(20)),
        Column("tricks", Integer),
    )

    class Pet:
        pass

    class Dog(Pet):
        pass

    pjoin = polymorphic_union({"pet": pets, "dog": dogs}, "kind", "pjoin")
    reg = registry()
    reg.map_imperatively(
        Pet,
        pets,
        with_polymorphic=("*", pjoin),
        polymorphic_on=pjoin.c.kind,
        polymorphic_identity="pet",
    )
    reg.map_imperatively(Dog, dogs, inherits=Pet, concrete=True, polymorphic_identity="dog")
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(pets.insert(), [{"id": 1, "name": "goldie"}])
        conn.execute(dogs.insert(), [{"id": 1, "name": "rex", "tricks": 3}])
    with Session(eng) as session:
        found = session.scalars(select(Pet).order_by(pjoin.c.name)).all()
        assert [(type(p), p.name) for p in found] == [(Pet, "goldie"), (Dog, "rex")]
        assert found[1].tricks == 3
    eng.dispose()
    reg.dispose()
    bare = " ".join(str(select(polymorphic_union({"pet": pets}, None, cast_nulls=False))).split())
    assert bare == (
        "SELECT p_union.id, p_union.name FROM (SELECT cc_pet.id, cc_pet.name FROM cc_pet) "
        "AS p_union"
    )


def test_concrete_hierarchy_mistakes_are_explained() -> None:
    class Other(DeclarativeBase):
        pass

    class Animal(ConcreteBase, Other):
        __tablename__ = "cc_animal"
        id: Mapped[int] = mapped_column(primary_key=True)
        __mapper_args__ = {"polymorphic_identity": "animal", "concrete": True}

    class Cat(Animal):
        __tablename__ = "cc_cat"
        id: Mapped[int] = mapped_column(primary_key=True)
        __mapper_args__ = {"concrete": True}

    with pytest.raises(sa_exc.InvalidRequestError, match="Cat is part of a concrete-table"):
        Other.registry.configure()

    class Lonely(DeclarativeBase):
        pass

    class Shape(AbstractConcreteBase, Lonely):
        id: Mapped[int] = mapped_column(primary_key=True)

    with pytest.raises(sa_exc.InvalidRequestError, match="no mapped concrete subclass"):
        select(Shape)
