"""ORM-enabled DML for attributes whose column has another name (``mapped_column("acct_name")``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import String, delete, insert, select, update
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column
from orm.orm_models import StatementLog


class RenamedBase(DeclarativeBase):
    pass


class Account(RenamedBase):
    __tablename__ = "renamed_accounts"

    id: Mapped[int] = mapped_column("acct_id", primary_key=True)
    name: Mapped[str] = mapped_column("acct_name", String(40))
    balance: Mapped[int] = mapped_column("acct_balance", default=0)


@pytest.fixture
def accounts(engine: Any) -> Iterator[Session]:
    RenamedBase.metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(
            insert(Account),
            [{"id": 1, "name": "ann", "balance": 10}, {"id": 2, "name": "bob", "balance": 20}],
        )
        session.execute(insert(Account).values(id=3, name="cy"))
        session.execute(insert(Account).values(acct_id=4, acct_name="dee", acct_balance=5))
        session.commit()
        yield session


def _table(session: Session) -> list[tuple[Any, ...]]:
    table = Account.__table__
    rows = session.execute(select(table).order_by(table.c.id)).all()
    return [tuple(r) for r in rows]


def test_insert_takes_attribute_names_and_column_names(accounts: Session) -> None:
    assert _table(accounts) == [(1, "ann", 10), (2, "bob", 20), (3, "cy", 0), (4, "dee", 5)]
    made = accounts.scalars(
        insert(Account).returning(Account), [{"id": 5, "name": "eve", "balance": 1}]
    ).one()
    assert (made.id, made.name, made.balance) == (5, "eve", 1)
    assert accounts.get(Account, 5) is made


@pytest.mark.parametrize("mode", ["evaluate", "fetch", "auto"])
def test_update_keeps_loaded_objects_in_step(accounts: Session, mode: str) -> None:
    ann, bob = accounts.scalars(select(Account).order_by(Account.id)).all()[:2]
    accounts.execute(
        update(Account).where(Account.name == "ann").values(name="ANN", balance=11),
        execution_options={"synchronize_session": mode},
    )
    accounts.execute(
        update(Account).where(Account.balance > 15).values({"acct_balance": 21}),
        execution_options={"synchronize_session": mode},
    )
    assert (ann.name, ann.balance, bob.balance) == ("ANN", 11, 21)
    assert _table(accounts)[:2] == [(1, "ANN", 11), (2, "bob", 21)]


def test_bulk_update_by_key_and_delete(accounts: Session, sql_log: StatementLog) -> None:
    cy = accounts.get(Account, 3)
    assert cy is not None
    sql_log.clear()
    accounts.execute(update(Account), [{"id": 3, "name": "CY"}, {"id": 4, "name": "DEE"}])
    assert len(sql_log.statements) == 1, "one executemany"
    assert cy.name == "CY"
    accounts.execute(
        delete(Account).where(Account.name == "CY"),
        execution_options={"synchronize_session": "evaluate"},
    )
    assert cy not in accounts
    assert [r[1] for r in _table(accounts)] == ["ann", "bob", "DEE"]
