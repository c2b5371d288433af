"""Objects built from batches of rows: the shortcuts of the per-row code (no row slice, a
parent's children filed once per run of rows, raw rows for ``selectin``) give the objects the
general code gives, and step aside when their conditions do not hold."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import ForeignKey, String, inspect, select
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)
from athanor.orm.state import InstanceState, new_state
from orm.orm_models import Node, Post, User


class BatchBase(DeclarativeBase):
    pass


class Owner(BatchBase):
    """Two collections: joining both repeats each pet once per car."""

    __tablename__ = "batch_owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    pets: Mapped[list[Pet]] = relationship(order_by="Pet.id")
    cars: Mapped[list[Car]] = relationship(order_by="Car.id")


class Pet(BatchBase):
    __tablename__ = "batch_pets"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("batch_owners.id"))
    name: Mapped[str] = mapped_column(String(20))


class Car(BatchBase):
    __tablename__ = "batch_cars"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("batch_owners.id"))
    name: Mapped[str] = mapped_column(String(20))


@pytest.fixture
def owners(engine: Any) -> Iterator[Any]:
    BatchBase.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            [
                Owner(
                    id=1,
                    name="ann",
                    pets=[Pet(name="rex"), Pet(name="tom")],
                    cars=[Car(name="a"), Car(name="b"), Car(name="c")],
                ),
                Owner(id=2, name="bob", pets=[Pet(name="kit")]),
                Owner(id=3, name="cy"),
            ]
        )
        session.commit()
    yield engine


def _graph(owners: list[Owner]) -> list[tuple[str, list[str], list[str]]]:
    return [(o.name, [p.name for p in o.pets], [c.name for c in o.cars]) for o in owners]


EXPECTED = [("ann", ["rex", "tom"], ["a", "b", "c"]), ("bob", ["kit"], []), ("cy", [], [])]


def test_a_loaded_state_has_the_fields_of_a_new_state(engine: Any) -> None:
    with Session(engine) as session:
        session.add_all([User(username="u0"), User(username="u1")])
        session.commit()
        session.expunge_all()
        first, second = session.scalars(select(User).order_by(User.id)).all()
        loaded = inspect(first)
        made = new_state(first, loaded.mapper, loaded.key, loaded.session_id, None)
        fields = [
            f
            for f in InstanceState.__slots__
            if f != "load_context" and f not in InstanceState._set_later
        ]
        assert {f: getattr(loaded, f) for f in fields} == {f: getattr(made, f) for f in fields}
        # Each object has a committed-state dict of its own: a change to one is not another's.
        first.username = "changed"
        assert "username" in loaded.committed_state
        assert inspect(second).committed_state == {}
        assert loaded.modified and not inspect(second).modified


def test_an_entity_after_other_columns_takes_its_own_columns(engine: Any) -> None:
    with Session(engine) as session:
        session.add(User(username="u0", email="e0", posts=[Post(title="t0")]))
        session.commit()
    with Session(engine) as session:
        # The user's columns start after the post's title: each row is sliced.
        title, user = session.execute(select(Post.title, User).join(Post.author)).one()
        assert (title, user.username, user.email) == ("t0", "u0", "e0")
        assert isinstance(user.created, datetime.datetime)  # its value processor ran
        # The user's columns start the row and a column follows them: no slice needed.
        user2, title2 = session.execute(select(User, Post.title).join(User.posts)).one()
        assert user2 is user and title2 == "t0"
        assert inspect(user).attrs.username.history.unchanged == ["u0"]


def test_two_joined_collections_hold_each_object_once_in_order(owners: Any) -> None:
    with Session(owners) as session:
        stmt = (
            select(Owner).options(joinedload(Owner.pets), joinedload(Owner.cars)).order_by(Owner.id)
        )
        assert _graph(list(session.scalars(stmt).unique())) == EXPECTED


@pytest.mark.parametrize("option", [joinedload, selectinload])
def test_a_collection_already_loaded_keeps_its_unflushed_changes(owners: Any, option: Any) -> None:
    with Session(owners, autoflush=False) as session:
        ann = session.get(Owner, 1)
        assert ann is not None
        removed = ann.pets.pop()
        stmt = select(Owner).options(option(Owner.pets)).order_by(Owner.id)
        again = session.scalars(stmt).unique().all()
        assert again[0] is ann and [p.name for p in ann.pets] == ["rex"]
        assert [p.name for p in again[1].pets] == ["kit"]
        # populate_existing loads the collection again, from the database.
        session.scalars(stmt.execution_options(populate_existing=True)).unique().all()
        assert [p.name for p in ann.pets] == ["rex", "tom"]
        assert removed in ann.pets


def test_a_parent_whose_rows_span_two_batches_gets_every_child(engine: Any) -> None:
    count = 700  # two parents of 700 children: the second one's rows cross row 1,000
    with Session(engine) as session:
        for i in range(2):
            session.add(
                User(username=f"u{i}", posts=[Post(title=f"p{i}-{j}") for j in range(count)])
            )
        session.commit()
    with Session(engine) as session:
        stmt = select(User).options(joinedload(User.posts)).order_by(User.id)
        users = session.scalars(stmt).unique().all()
        assert [[p.title for p in u.posts] for u in users] == [
            [f"p{i}-{j}" for j in range(count)] for i in range(2)
        ]
        assert all(p.author is u for u in users for p in u.posts)


def test_selectin_with_a_joined_collection_below(engine: Any) -> None:
    with Session(engine) as session:
        root = Node(name="root")
        for i in range(2):
            child = Node(name=f"c{i}", parent=root)
            for j in range(2):
                Node(name=f"c{i}-{j}", parent=child)
        session.add(root)
        session.commit()
    with Session(engine) as session:
        stmt = (
            select(Node)
            .where(Node.parent_id.is_(None))
            .options(selectinload(Node.children).joinedload(Node.children))
        )
        (found,) = session.scalars(stmt).all()
        children = sorted(found.children, key=lambda n: n.name)
        assert [c.name for c in children] == ["c0", "c1"]
        assert [sorted(g.name for g in c.children) for c in children] == [
            ["c0-0", "c0-1"],
            ["c1-0", "c1-1"],
        ]
