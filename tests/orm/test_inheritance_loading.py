"""Polymorphic loading options (with_polymorphic, selectin_polymorphic, polymorphic_load),
of_type joins, ORM-enabled DML and concrete-table inheritance, on every database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from athanor import (
    ForeignKey,
    String,
    create_engine,
    delete,
    event,
    insert,
    or_,
    select,
    update,
)
from athanor import exc as sa_exc
from athanor.orm import (
    Bundle,
    DeclarativeBase,
    Mapped,
    Session,
    aliased,
    composite,
    joinedload,
    lazyload,
    mapped_column,
    relationship,
    selectin_polymorphic,
    selectinload,
    with_polymorphic,
)
from orm.inheritance_models import (
    STYLES,
    SCompany,
    SEmployee,
    SEngineer,
    SManager,
    SPrincipal,
    seed,
)
from orm.orm_models import StatementLog, compiled


@pytest.fixture
def engine(seeded_hierarchy: Any) -> Any:
    return seeded_hierarchy


def test_with_polymorphic_loads_subclass_columns_in_one_query(engine, m) -> None:
    wp = with_polymorphic(m.Employee, [m.Manager, m.Engineer])
    log = StatementLog(engine)
    with Session(engine) as session:
        found = session.scalars(select(wp).order_by(wp.id)).all()
        assert [type(e) for e in found] == [m.Manager, m.Engineer, m.Principal, m.Employee]
        assert found[0].manager_name == "Eugene"
        assert [found[1].engineer_info, found[2].engineer_info] == ["fry cook", "cashier"]
        assert len(log.selects) == 1
        # Principal was not named: its own column still loads on access.
        assert found[2].level == 3
        assert len(log.selects) == 2


def test_with_polymorphic_star_and_filtering_on_subclass_columns(engine, m) -> None:
    wp = with_polymorphic(m.Employee, "*")
    log = StatementLog(engine)
    with Session(engine) as session:
        stmt = (
            select(wp)
            .where(
                or_(
                    getattr(wp, m.Manager.__name__).manager_name == "Eugene",
                    getattr(wp, m.Principal.__name__).level == 3,
                )
            )
            .order_by(wp.id)
        )
        found = session.scalars(stmt).all()
        assert [(type(e), e.name) for e in found] == [
            (m.Manager, "Mr. Krabs"),
            (m.Principal, "Squidward"),
        ]
        assert found[1].level == 3 and found[1].engineer_info == "cashier"
    assert len(log.selects) == 1


def test_with_polymorphic_sql(m) -> None:
    sql = compiled(select(with_polymorphic(m.Employee, [m.Manager, m.Principal])))
    if m.single:
        assert sql == (
            "SELECT s_employee.id, s_employee.name, s_employee.type, s_employee.company_id, "
            "s_employee.manager_name, s_employee.engineer_info, s_employee.level FROM s_employee"
        )
    else:
        assert sql == (
            "SELECT j_employee.id, j_employee.name, j_employee.type, j_employee.company_id, "
            "j_manager.manager_name, j_engineer.engineer_info, j_principal.level "
            "FROM j_employee LEFT OUTER JOIN j_manager ON j_manager.id = j_employee.id "
            "LEFT OUTER JOIN j_engineer ON j_engineer.id = j_employee.id "
            "LEFT OUTER JOIN j_principal ON j_principal.id = j_engineer.id"
        )


def test_with_polymorphic_refuses_a_class_outside_the_hierarchy(m) -> None:
    with pytest.raises(sa_exc.ArgumentError, match="is not a mapped subclass of"):
        with_polymorphic(m.Manager, [m.Engineer])


def test_selectin_polymorphic_runs_one_select_per_subclass(engine, m) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        stmt = (
            select(m.Employee)
            .options(selectin_polymorphic(m.Employee, [m.Manager, m.Engineer]))
            .order_by(m.Employee.id)
        )
        found = session.scalars(stmt).all()
        assert len(log.selects) == 3
        assert found[0].manager_name == "Eugene"
        assert [found[1].engineer_info, found[2].engineer_info] == ["fry cook", "cashier"]
        assert len(log.selects) == 3
    manager_sql = next(s for s in log.selects[1:] if "manager_name" in s)
    assert " IN (" in manager_sql
    if not m.single:
        assert "j_employee JOIN j_manager" in manager_sql


def test_of_type_join_to_a_subclass(engine, m) -> None:
    with Session(engine) as session:
        stmt = (
            select(m.Company.name, m.Engineer.name)
            .join(m.Company.employees.of_type(m.Engineer))
            .where(m.Engineer.engineer_info == "fry cook")
        )
        assert session.execute(stmt).all() == [("Krusty Krab", "SpongeBob")]
        companies = select(m.Company).join(m.Company.employees.of_type(m.Manager))
        assert [c.name for c in session.scalars(companies)] == ["Krusty Krab"]
    sql = compiled(select(m.Company).join(m.Company.employees.of_type(m.Engineer)))
    if m.single:
        assert (
            "JOIN s_employee ON s_company.id = s_employee.company_id AND s_employee.type IN" in sql
        )
    else:
        assert (
            "JOIN (j_employee JOIN j_engineer ON j_engineer.id = j_employee.id) "
            "ON j_company.id = j_employee.company_id" in sql
        )


def test_relationship_loaders_return_subclasses(engine, m) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        companies = session.scalars(
            select(m.Company).options(selectinload(m.Company.employees))
        ).all()
        assert [type(e) for e in companies[0].employees] == [
            m.Manager,
            m.Engineer,
            m.Principal,
            m.Employee,
        ]
        assert len(log.selects) == 2


def test_selectinload_of_type_with_polymorphic(engine, m) -> None:
    wp = with_polymorphic(m.Employee, [m.Manager, m.Engineer])
    log = StatementLog(engine)
    with Session(engine) as session:
        stmt = select(m.Company).options(selectinload(m.Company.employees.of_type(wp)))
        company = session.scalars(stmt).one()
        assert company.employees[0].manager_name == "Eugene"
        assert company.employees[2].engineer_info == "cashier"
    assert len(log.selects) == 2


@pytest.mark.parametrize("option", [selectinload, joinedload])
def test_loader_of_type_a_subclass_still_loads_every_related_object(engine, m, option) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        stmt = select(m.Company).options(option(m.Company.employees.of_type(m.Principal)))
        company = session.scalars(stmt).unique().one()
        statements = len(log.selects)
        assert [e.name for e in company.employees] == [
            "Mr. Krabs",
            "SpongeBob",
            "Squidward",
            "Plankton",
        ]
        principal = company.employees[2]
        # The subclass's columns (its parent's included) came with the load.
        assert (principal.engineer_info, principal.level) == ("cashier", 3)
        assert len(log.selects) == statements == (2 if option is selectinload else 1)


def test_subclass_query_fills_in_objects_a_base_query_loaded(engine, m) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        employees = session.scalars(select(m.Employee).order_by(m.Employee.id)).all()
        session.scalars(select(m.Manager)).all()
        statements = len(log.selects)
        assert employees[0].manager_name == "Eugene"
        assert len(log.selects) == statements == 2


def test_joinedload_of_type_with_polymorphic_loads_subclass_columns(engine, m) -> None:
    wp = with_polymorphic(m.Employee, [m.Manager, m.Engineer], flat=True)
    log = StatementLog(engine)
    with Session(engine) as session:
        stmt = select(m.Company).options(joinedload(m.Company.employees.of_type(wp)))
        company = session.scalars(stmt).unique().one()
        found = [(type(e), e.__dict__.get("manager_name")) for e in company.employees]
        assert found == [
            (m.Manager, "Eugene"),
            (m.Engineer, None),
            (m.Principal, None),
            (m.Employee, None),
        ]
        assert company.employees[1].engineer_info == "fry cook"
    assert len(log.selects) == 1


@pytest.mark.parametrize("strategy", ["select", "selectin", "joined"])
def test_relationship_to_a_subclass_with_each_loader(engine, m, strategy) -> None:
    option = {"select": lazyload, "selectin": selectinload, "joined": joinedload}[strategy]
    log = StatementLog(engine)
    with Session(engine) as session:
        stmt = select(m.Company).options(option(m.Company.engineers))
        company = session.scalars(stmt).unique().one()
        assert [(type(e), e.engineer_info) for e in company.engineers] == [
            (m.Engineer, "fry cook"),
            (m.Principal, "cashier"),
        ]
    # joinedload is one statement, joining a joined-table subclass's tables (aliased).
    assert len(log.selects) == (1 if strategy == "joined" else 2)
    if strategy == "joined" and not m.single:
        assert "LEFT OUTER JOIN (j_employee AS" in log.selects[0]


@pytest.fixture
def single_engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    SEmployee.metadata.create_all(eng)
    seed(eng, STYLES["single"])
    yield eng
    eng.dispose()


def test_orm_dml_on_single_table_subclasses_keeps_to_their_rows(single_engine) -> None:
    with Session(single_engine) as session:
        session.execute(update(SEngineer).values(engineer_info="on leave"))
        session.execute(delete(SManager))
        session.execute(insert(SManager), [{"name": "Karen", "manager_name": "K"}])
        session.commit()
        rows = session.execute(
            select(SEmployee.name, SEmployee.type, SEmployee.__table__.c.engineer_info).order_by(
                SEmployee.id
            )
        ).all()
        assert rows == [
            ("SpongeBob", "engineer", "on leave"),
            ("Squidward", "principal", "on leave"),
            ("Plankton", "employee", None),
            ("Karen", "manager", None),
        ]
        assert (
            type(session.scalars(select(SEmployee).where(SEmployee.name == "Karen")).one())
            is SManager
        )
        assert session.query(SPrincipal).update({"level": 9}) == 1
        assert session.scalars(select(SCompany)).one().name == "Krusty Krab"


@pytest.fixture
def joined_engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    STYLES["joined"].base.metadata.create_all(eng)
    seed(eng, STYLES["joined"])
    yield eng
    eng.dispose()


def test_bulk_update_by_primary_key_of_a_joined_subclass_updates_each_table(
    joined_engine,
) -> None:
    m = STYLES["joined"]
    log = StatementLog(joined_engine)
    with Session(joined_engine) as session:
        krabs = session.scalars(select(m.Manager)).one()
        log.clear()
        session.execute(
            update(m.Manager), [{"id": krabs.id, "name": "Eugene Krabs", "manager_name": "Boss"}]
        )
        updates = [s for s in log.statements if s.startswith("UPDATE")]
        assert [u.split(" SET")[0] for u in updates] == ["UPDATE j_employee", "UPDATE j_manager"]
        assert (krabs.name, krabs.manager_name) == ("Eugene Krabs", "Boss")
        session.commit()
        row = session.execute(select(m.Manager.name, m.Manager.manager_name)).one()
        assert tuple(row) == ("Eugene Krabs", "Boss")
        with pytest.raises(sa_exc.InvalidRequestError, match="no column attribute 'salary'"):
            session.execute(update(m.Manager), [{"id": krabs.id, "salary": 1}])


@pytest.mark.parametrize("sync", ["auto", "fetch", "evaluate", False])
def test_update_of_a_joined_subclass_with_criteria(joined_engine, sync) -> None:
    m = STYLES["joined"]
    log = StatementLog(joined_engine)
    with Session(joined_engine) as session:
        krabs = session.scalars(select(m.Manager)).one()
        stmt = update(m.Manager).where(m.Manager.id == krabs.id).values(manager_name="Boss")
        result = session.execute(stmt, execution_options={"synchronize_session": sync})
        assert result.rowcount == 1
        assert next(s for s in log.statements if s.startswith("UPDATE")).startswith(
            "UPDATE j_manager SET manager_name="
        )
        assert krabs.manager_name == ("Eugene" if sync is False else "Boss")
        # Criteria on a parent table's column select the keys with a subquery.
        if sync != "evaluate":
            stmt = (
                update(m.Engineer)
                .where(m.Engineer.name == "SpongeBob")
                .values(engineer_info="grill")
            )
            result = session.execute(stmt, execution_options={"synchronize_session": sync})
            assert result.rowcount == 1
        session.commit()
        rows = session.execute(
            select(m.Engineer.name, m.Engineer.engineer_info).order_by(m.Engineer.id)
        ).all()
        expected = "fry cook" if sync == "evaluate" else "grill"
        assert rows == [("SpongeBob", expected), ("Squidward", "cashier")]
        # A criterion reading both tables: the keys are selected first, then updated.
        mixed = update(m.Manager).where(
            or_(m.Manager.manager_name == "x", m.Manager.name == "Mr. Krabs")
        )
        result = session.execute(
            mixed.values(manager_name="z"), execution_options={"synchronize_session": sync}
        )
        assert result.rowcount == 1
        assert session.scalars(select(m.Manager.manager_name)).all() == ["z"]
        mixed_delete = delete(m.Manager).where(
            or_(m.Manager.manager_name == "z", m.Manager.name == "y")
        )
        with pytest.raises(sa_exc.InvalidRequestError, match="mixes columns of 'j_manager'"):
            session.execute(mixed_delete)


@pytest.mark.parametrize("sync", ["auto", "fetch", False])
def test_update_of_a_joined_subclass_setting_parent_table_columns(joined_engine, sync) -> None:
    m = STYLES["joined"]
    log = StatementLog(joined_engine)
    with Session(joined_engine) as session:
        engineers = session.scalars(select(m.Engineer).order_by(m.Engineer.id)).all()
        log.clear()
        stmt = (
            update(m.Engineer)
            .where(m.Engineer.engineer_info != "x", m.Engineer.name.like("S%"))
            .values({m.Engineer.name: m.Employee.name + "!", "engineer_info": "grill"})
        )
        result = session.execute(stmt, execution_options={"synchronize_session": sync})
        assert result.rowcount == 2
        heads = [s.split(" SET")[0] for s in log.statements if s.startswith("UPDATE")]
        assert heads == ["UPDATE j_employee", "UPDATE j_engineer"]
        if sync is not False:
            # The objects in the session get the new values without another SELECT.
            assert engineers[0].__dict__["name"] == "SpongeBob!"
            assert engineers[1].__dict__["engineer_info"] == "grill"
        else:
            assert engineers[0].__dict__["name"] == "SpongeBob"
        session.commit()
        rows = session.execute(
            select(m.Engineer.name, m.Engineer.engineer_info).order_by(m.Engineer.id)
        ).all()
        assert rows == [("SpongeBob!", "grill"), ("Squidward!", "grill")]
        assert session.scalars(select(m.Manager.name)).all() == ["Mr. Krabs"]
        nothing = update(m.Manager).where(m.Manager.name == "nobody").values(name="x")
        assert session.execute(nothing).rowcount == 0
        crossing = update(m.Manager).values(name=m.Manager.manager_name)
        with pytest.raises(sa_exc.InvalidRequestError, match="reads columns of j_manager"):
            session.execute(crossing)
    with pytest.raises(sa_exc.CompileError, match=r"run it with Session\.execute"):
        str(update(m.Manager).values(name="x"))


def test_delete_of_a_joined_subclass_deletes_its_own_table_rows(joined_engine) -> None:
    m = STYLES["joined"]
    with Session(joined_engine) as session:
        squidward = session.scalars(select(m.Principal)).one()
        key = squidward.id
        result = session.execute(delete(m.Principal).where(m.Principal.name == "Squidward"))
        assert result.rowcount == 1
        assert squidward not in session
        # As documented for SQLAlchemy: the parent tables' rows go with their own DELETEs.
        session.execute(delete(m.Engineer).where(m.Engineer.id == key))
        session.execute(delete(m.Employee).where(m.Employee.id == key))
        session.commit()
        assert session.scalars(select(m.Employee.name).order_by(m.Employee.id)).all() == [
            "Mr. Krabs",
            "SpongeBob",
            "Plankton",
        ]


def test_bulk_insert_of_a_joined_subclass_writes_each_table(joined_engine) -> None:
    m = STYLES["joined"]
    log = StatementLog(joined_engine)
    with Session(joined_engine) as session:
        rows = [{"name": "Karen", "manager_name": "K"}, {"name": "Pearl", "manager_name": "P"}]
        assert session.execute(insert(m.Manager), rows).rowcount == 2
        inserts = [s.split(" (")[0] for s in log.statements if s.startswith("INSERT")]
        assert inserts[-1] == "INSERT INTO j_manager" and set(inserts) == {
            "INSERT INTO j_employee",
            "INSERT INTO j_manager",
        }
        made = session.scalars(
            insert(m.Principal).returning(m.Principal),
            [{"name": "Gary", "engineer_info": "snail", "level": 1}],
        ).all()
        assert [(type(p), p.name, p.level) for p in made] == [(m.Principal, "Gary", 1)]
        session.commit()
        found = session.scalars(select(m.Manager).order_by(m.Manager.id)).all()
        assert [(e.name, e.manager_name) for e in found][-2:] == [("Karen", "K"), ("Pearl", "P")]
        assert session.get(m.Employee, made[0].id) is made[0]
        with pytest.raises(sa_exc.InvalidRequestError, match="one INSERT each"):
            session.execute(insert(m.Manager).values(manager_name="y"))


def test_polymorphic_load_mapper_arguments(backend) -> None:
    class Base(DeclarativeBase):
        pass

    class Asset(Base):
        __tablename__ = "inh_asset"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "asset"}

    class Stock(Asset):
        __tablename__ = "inh_stock"
        id: Mapped[int] = mapped_column(ForeignKey("inh_asset.id"), primary_key=True)
        ticker: Mapped[str] = mapped_column(String(10))
        __mapper_args__ = {"polymorphic_identity": "stock", "polymorphic_load": "inline"}

    class Bond(Asset):
        __tablename__ = "inh_bond"
        id: Mapped[int] = mapped_column(ForeignKey("inh_asset.id"), primary_key=True)
        coupon: Mapped[int]
        __mapper_args__ = {"polymorphic_identity": "bond", "polymorphic_load": "selectin"}

    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    with Session(eng) as session:
        session.add_all([Stock(ticker="ACME"), Bond(coupon=5), Asset(), Bond(coupon=7)])
        session.commit()
    log = StatementLog(eng)
    with Session(eng) as session:
        found = session.scalars(select(Asset).order_by(Asset.id)).all()
        assert [type(a) for a in found] == [Stock, Bond, Asset, Bond]
        assert (found[0].ticker, found[1].coupon, found[3].coupon) == ("ACME", 5, 7)
    assert len(log.selects) == 2
    assert "LEFT OUTER JOIN inh_stock" in log.selects[0]
    assert "inh_bond" in log.selects[1] and " IN (" in log.selects[1]
    eng.dispose()
    with pytest.raises(sa_exc.ArgumentError, match=r"polymorphic_load='eager'; use \"inline\""):

        class Option(Asset):
            __tablename__ = "inh_option"
            id: Mapped[int] = mapped_column(ForeignKey("inh_asset.id"), primary_key=True)
            __mapper_args__ = {"polymorphic_identity": "option", "polymorphic_load": "eager"}


def test_polymorphic_rows_make_their_objects_in_row_order(engine, m) -> None:
    """Rows of one class in a run load together, yet objects (and their ``load`` events)
    still come in row order across the classes."""
    with Session(engine) as session:
        session.add_all(
            [
                m.Manager(name="Pearl", manager_name="P"),
                m.Manager(name="Patrick", manager_name="Q"),
                m.Engineer(name="Sandy", engineer_info="scientist"),
            ]
        )
        session.commit()
    loaded: list[str] = []

    def on_load(obj: Any, context: Any) -> None:
        loaded.append(obj.name)

    event.listen(m.Employee, "load", on_load, propagate=True)
    try:
        with Session(engine) as session:
            found = session.scalars(select(m.Employee).order_by(m.Employee.id)).all()
    finally:
        event.remove(m.Employee, "load", on_load)
    names = [e.name for e in found]
    assert [type(e) for e in found] == [
        m.Manager,
        m.Engineer,
        m.Principal,
        m.Employee,
        m.Manager,
        m.Manager,
        m.Engineer,
    ]
    assert (
        loaded
        == names
        == [
            "Mr. Krabs",
            "SpongeBob",
            "Squidward",
            "Plankton",
            "Pearl",
            "Patrick",
            "Sandy",
        ]
    )


def test_aliased_joined_subclass_reads_all_its_tables(engine, m) -> None:
    manager = aliased(m.Manager)
    flat = aliased(m.Engineer, flat=True)
    with Session(engine) as session:
        assert session.scalars(select(manager).where(manager.name == "Mr. Krabs")).all() == [
            session.scalars(select(m.Manager)).one()
        ]
        pairs = (
            select(m.Employee.name, manager.manager_name)
            .join(manager, m.Employee.company_id == manager.company_id)
            .where(m.Employee.id != manager.id)
            .order_by(m.Employee.id)
        )
        assert session.execute(pairs).all() == [
            ("SpongeBob", "Eugene"),
            ("Squidward", "Eugene"),
            ("Plankton", "Eugene"),
        ]
        of_type = (
            select(m.Company.name, flat.name)
            .join(m.Company.employees.of_type(flat))
            .where(flat.engineer_info == "cashier")
        )
        assert session.execute(of_type).all() == [("Krusty Krab", "Squidward")]
    if not m.single:
        sql = compiled(select(flat))
        assert "FROM j_employee AS " in sql and " JOIN j_engineer AS " in sql
        assert "j_employee." not in sql and "j_engineer." not in sql


@pytest.mark.parametrize("how", ["aliased", "flat", "innerjoin", "selectable"])
def test_with_polymorphic_arguments(engine, m, how) -> None:
    sub = [m.Engineer] if how == "innerjoin" else [m.Manager, m.Engineer]
    kw: dict[str, Any] = {how: True}
    if how == "selectable":
        kw = {"selectable": with_polymorphic(m.Employee, sub)._entity._proxied_from}
    wp = with_polymorphic(m.Employee, sub, **kw)
    engineer = getattr(wp, m.Engineer.__name__)
    log = StatementLog(engine)
    with Session(engine) as session:
        found = session.scalars(
            select(wp).where(engineer.engineer_info != "x").order_by(wp.id)
        ).all()
        assert [(type(e), e.engineer_info) for e in found] == [
            (m.Engineer, "fry cook"),
            (m.Principal, "cashier"),
        ]
        assert len(log.selects) == 1
    sql = compiled(select(wp))
    if how in ("aliased", "flat"):
        assert f"{m.Employee.__table__.name} AS " in sql
    if how == "innerjoin" and not m.single:
        assert "LEFT OUTER" not in sql and " JOIN j_engineer ON" in sql


def test_two_aliased_with_polymorphic_entities_in_one_statement(engine, m) -> None:
    managers = with_polymorphic(m.Employee, [m.Manager], aliased=True)
    engineers = with_polymorphic(m.Employee, [m.Engineer], aliased=True)
    stmt = (
        select(managers.name, engineers.name)
        .join(engineers, managers.company_id == engineers.company_id)
        .where(
            getattr(managers, m.Manager.__name__).manager_name == "Eugene",
            getattr(engineers, m.Engineer.__name__).engineer_info == "fry cook",
        )
    )
    with Session(engine) as session:
        assert session.execute(stmt).all() == [("Mr. Krabs", "SpongeBob")]


def test_query_with_polymorphic(engine, m) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        query = session.query(m.Employee).with_polymorphic([m.Manager])
        assert query.filter(m.Manager.manager_name == "Eugene").one().name == "Mr. Krabs"
        everyone = session.query(m.Employee).with_polymorphic("*").order_by(m.Employee.id).all()
        assert [e.name for e in everyone][:2] == ["Mr. Krabs", "SpongeBob"]
        assert everyone[2].level == 3
        assert len(log.selects) == 2
    with pytest.raises(sa_exc.InvalidRequestError, match="needs a query of a mapped class"):
        Session().query(m.Employee.name).with_polymorphic("*")


def test_joined_subclass_collection_under_limit_is_one_statement(engine, m) -> None:
    with Session(engine) as session:
        session.add(
            m.Company(
                name="Chum Bucket", employees=[m.Engineer(name="Karen", engineer_info="computer")]
            )
        )
        session.commit()
    log = StatementLog(engine)
    with Session(engine) as session:
        stmt = (
            select(m.Company)
            .options(joinedload(m.Company.engineers))
            .order_by(m.Company.name.desc())
            .limit(1)
        )
        (company,) = session.scalars(stmt).unique().all()
        assert company.name == "Krusty Krab"
        assert [e.name for e in company.engineers] == ["SpongeBob", "Squidward"]
        engineer = (
            session.scalars(
                select(m.Engineer)
                .options(joinedload(m.Engineer.company).joinedload(m.Company.employees))
                .order_by(m.Engineer.id)
                .offset(1)
                .limit(1)
            )
            .unique()
            .one()
        )
        assert engineer.name == "Squidward"
        assert len(engineer.company.employees) == 4
        assert len(log.selects) == 2


def test_joined_collections_under_limit_of_polymorphic_and_aliased_entities(engine, m) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        wp = with_polymorphic(m.Employee, "*")
        stmt = (
            select(wp)
            .options(joinedload(wp.company).joinedload(m.Company.employees))
            .order_by(wp.id)
            .limit(2)
        )
        first_two = session.scalars(stmt).unique().all()
        assert [type(e) for e in first_two] == [m.Manager, m.Engineer]
        assert len(first_two[0].company.employees) == 4
        engineer = aliased(m.Engineer, name="e")
        stmt = (
            select(engineer)
            .options(joinedload(engineer.company).joinedload(m.Company.engineers))
            .order_by(engineer.id.desc())
            .limit(1)
        )
        (last,) = session.scalars(stmt).unique().all()
        assert last.name == "Squidward" and len(last.company.engineers) == 2
        assert len(log.selects) == 2


@pytest.mark.parametrize("style", ["with_polymorphic", "of_type"])
@pytest.mark.parametrize("option", [selectinload, joinedload])
def test_loader_option_on_a_subclass_relationship(backend, style, option) -> None:
    class Base(DeclarativeBase):
        pass

    class Office(Base):
        __tablename__ = "inh_office"
        id: Mapped[int] = mapped_column(primary_key=True)
        staff: Mapped[list[Staff]] = relationship(order_by="Staff.id")

    class Staff(Base):
        __tablename__ = "inh_staff"
        id: Mapped[int] = mapped_column(primary_key=True)
        office_id: Mapped[int] = mapped_column(ForeignKey("inh_office.id"))
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "staff"}

    class Boss(Staff):
        __tablename__ = "inh_boss"
        id: Mapped[int] = mapped_column(ForeignKey("inh_staff.id"), primary_key=True)
        files: Mapped[list[File]] = relationship(order_by="File.id")
        __mapper_args__ = {"polymorphic_identity": "boss"}

    class File(Base):
        __tablename__ = "inh_file"
        id: Mapped[int] = mapped_column(primary_key=True)
        boss_id: Mapped[int] = mapped_column(ForeignKey("inh_boss.id"))
        title: Mapped[str] = mapped_column(String(20))

    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    with Session(eng) as session:
        boss = Boss(files=[File(title="budget"), File(title="plan")])
        session.add(Office(id=1, staff=[boss, Staff()]))
        session.commit()
    log = StatementLog(eng)
    with Session(eng) as session:
        if style == "with_polymorphic":
            wp = with_polymorphic(Staff, [Boss])
            stmt = select(wp).options(option(wp.Boss.files)).order_by(wp.id)
            people = session.scalars(stmt).unique().all()
        else:
            path = selectinload(Office.staff.of_type(Boss))
            stmt = select(Office).options(path.options(option(Boss.files)))
            people = session.scalars(stmt).one().staff
        statements = len(log.selects)
        assert [type(p) for p in people] == [Boss, Staff]
        assert [f.title for f in people[0].files] == ["budget", "plan"]
        assert "files" not in people[1].__dict__
        assert len(log.selects) == statements
    eng.dispose()


@dataclass
class Spot:
    x: int | None
    y: int | None


def test_composite_and_bundle_of_a_single_table_subclass_keep_to_its_rows(backend) -> None:
    class Base(DeclarativeBase):
        pass

    class Figure(Base):
        __tablename__ = "inh_figure"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "figure"}

    class Dot(Figure):
        x: Mapped[int | None]
        y: Mapped[int | None]
        at: Mapped[Spot] = composite("x", "y")
        __mapper_args__ = {"polymorphic_identity": "dot"}

    class Box(Figure):
        __mapper_args__ = {"polymorphic_identity": "box"}

    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    with Session(eng) as session:
        session.add_all([Dot(id=1, at=Spot(1, 2)), Box(id=2), Figure(id=3)])
        session.commit()
        assert session.scalars(select(Dot.at)).all() == [Spot(1, 2)]
        rows = session.execute(select(Bundle("b", Box.id, Box.kind))).all()
        assert [tuple(row.b) for row in rows] == [(2, "box")]
        assert session.execute(select(Bundle("f", Figure.id)).order_by(Figure.id)).all() == [
            ((1,),),
            ((2,),),
            ((3,),),
        ]
    eng.dispose()
