"""Inheritance details: column selects of subclass attributes, ``@declared_attr`` directives
seen by subclasses, and the flush order of rows of one hierarchy that reference each other,
on every database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import create_engine, select
from athanor.orm import (
    Session,
)
from orm.test_inheritance import STYLES, seed


@pytest.fixture(params=list(STYLES))
def m(request: pytest.FixtureRequest) -> Any:
    return STYLES[request.param]


@pytest.fixture
def engine(backend: Any, m: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    m.base.metadata.create_all(eng)
    seed(eng, m)
    yield eng
    eng.dispose()


def compiled(stmt: Any) -> str:
    return " ".join(str(stmt).split())


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
