"""Behaviour the ORM querying guide documents, checked on every database: legacy Query
methods (set operations, correlate, value, autoflush, only_return_tuples, a Query inside
``in_()``), ``Session.get()`` options, named aliases as row keys, eager loaders refused on
write-only collections, and the ``identity_token`` carried into relationship loads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import ForeignKey, String, create_engine, exc, func, inspect, select
from athanor.orm import (
    DeclarativeBase,
    DynamicMapped,
    Mapped,
    Session,
    WriteOnlyMapped,
    aliased,
    immediateload,
    joinedload,
    mapped_column,
    query_expression,
    relationship,
    selectinload,
    subqueryload,
    with_loader_criteria,
)
from orm.orm_models import StatementLog


class GuideBase(DeclarativeBase):
    pass


class Member(GuideBase):
    __tablename__ = "guide_members"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(30))
    loans: Mapped[list[Loan]] = relationship(back_populates="member", order_by="Loan.id")
    history: WriteOnlyMapped[Loan] = relationship(viewonly=True)
    recent: DynamicMapped[Loan] = relationship(viewonly=True)
    notes: Mapped[list[Note]] = relationship(order_by="Note.id")


class Loan(GuideBase):
    __tablename__ = "guide_loans"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    member_id: Mapped[int] = mapped_column(ForeignKey("guide_members.id"))
    title: Mapped[str] = mapped_column(String(30))
    member: Mapped[Member] = relationship(back_populates="loans")


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    GuideBase.metadata.create_all(eng)
    with Session(eng) as session:
        for i, name in enumerate(["ann", "bob", "cy", "dee"], start=1):
            session.add(
                Member(
                    id=i,
                    name=name,
                    loans=[Loan(id=i * 10 + j, title=f"{name}-{j}") for j in range(i - 1)],
                )
            )
        session.commit()
    yield eng
    eng.dispose()


def _names(members: Any) -> list[str]:
    return [m.name for m in members]


def test_query_set_operations_keep_the_entity_and_adapt_later_criteria(engine: Any) -> None:
    with Session(engine) as session:
        low = session.query(Member).filter(Member.id <= 2)
        mid = session.query(Member).filter(Member.id.between(2, 3))
        assert _names(low.union(mid).order_by(Member.id)) == ["ann", "bob", "cy"]
        # A query of one class gives each object once, even where UNION ALL repeats its row.
        assert _names(low.union_all(mid).filter(Member.name != "ann").order_by(Member.name)) == [
            "bob",
            "cy",
        ]
        assert _names(low.intersect(mid)) == ["bob"]
        assert _names(low.except_(mid)) == ["ann"]
        names = session.query(Member.name).filter(Member.id == 1)
        more = session.query(Member.name).filter(Member.id == 4)
        assert sorted(names.union(more).all()) == [("ann",), ("dee",)]


def test_query_of_an_aliased_subquery_returns_objects(engine: Any) -> None:
    with Session(engine) as session:
        sub = session.query(Member).filter(Member.id > 2).subquery()
        found = session.query(aliased(Member, sub)).all()
        assert sorted(_names(found)) == ["cy", "dee"]
        assert all(isinstance(m, Member) for m in found)


def test_query_inside_in_and_as_correlated_scalar(engine: Any) -> None:
    with Session(engine) as session:
        borrowers = session.query(Loan.member_id)
        assert session.query(Member.name).filter(Member.id.in_(borrowers)).order_by(
            Member.id
        ).all() == [("bob",), ("cy",), ("dee",)]
        count = (
            session.query(func.count(Loan.id))
            .filter(Loan.member_id == Member.id)
            .correlate(Member)
            .as_scalar()
        )
        assert session.query(Member.name, count).order_by(Member.id).all() == [
            ("ann", 0),
            ("bob", 1),
            ("cy", 2),
            ("dee", 3),
        ]


def test_query_value_autoflush_and_tuples(engine: Any) -> None:
    with Session(engine) as session:
        assert session.query(Member).filter(Member.id == 2).value(Member.name) == "bob"
        assert session.query(Member).filter(Member.id == 99).value(Member.name) is None
        session.add(Member(id=5, name="eve"))
        assert session.query(Member).autoflush(False).filter(Member.name == "eve").all() == []
        assert session.query(Member).filter(Member.name == "eve").count() == 1
        (row,) = session.query(Member).only_return_tuples(True).filter(Member.id == 1).all()
        assert row[0].name == "ann"
        assert _names(session.query(Member).enable_assertions(False).filter(Member.id == 1)) == [
            "ann"
        ]


def test_get_applies_loader_options_and_for_update(engine: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        member = session.get(Member, 3, options=[selectinload(Member.loans)])
        assert "loans" in member.__dict__ and len(member.loans) == 2
        assert len(log.selects) == 2
        session.expunge_all()
        log.clear()
        locked = session.get(Member, 2, with_for_update=True)
        assert locked.name == "bob"
        if engine.dialect.name != "sqlite":
            assert "FOR UPDATE" in log.selects[0].upper()


def test_named_alias_is_the_row_key(engine: Any) -> None:
    with Session(engine) as session:
        first = aliased(Member, name="first")
        row = session.execute(select(first).where(first.id == 1)).one()
        assert row.first.name == "ann"
        sub = select(Member).where(Member.id == 2).subquery()
        over = aliased(Member, sub, name="picked")
        assert session.execute(select(over)).one().picked.name == "bob"


@pytest.mark.parametrize("loader", [selectinload, joinedload, subqueryload, immediateload])
def test_eager_loading_a_query_only_collection_is_refused(engine: Any, loader: Any) -> None:
    with Session(engine) as session:
        for attr in (Member.history, Member.recent):
            with pytest.raises(exc.InvalidRequestError, match=attr.key):
                session.scalars(select(Member).options(loader(attr))).all()


@pytest.mark.parametrize("loader", [None, selectinload, subqueryload, immediateload, joinedload])
def test_identity_token_reaches_the_related_objects(engine: Any, loader: Any) -> None:
    with Session(engine) as session:
        stmt = select(Member).where(Member.id == 3).execution_options(identity_token="east")
        if loader is not None:
            stmt = stmt.options(loader(Member.loans))
        member = session.scalars(stmt).unique().one()
        loans = member.loans
        assert [inspect(loan).identity_token for loan in loans] == ["east", "east"]
        # The same rows without the token are other objects; many-to-one goes back to the
        # token's own parent without SQL.
        plain = session.scalars(select(Loan).where(Loan.member_id == 3)).all()
        assert not {id(p) for p in plain} & {id(loan) for loan in loans}
        assert all(loan.member is member for loan in loans)
        assert inspect(plain[0].member).identity_token is None


def test_identity_token_reaches_selectin_many_to_one(engine: Any) -> None:
    with Session(engine) as session:
        stmt = (
            select(Loan)
            .where(Loan.member_id == 2)
            .options(selectinload(Loan.member))
            .execution_options(identity_token="west")
        )
        (loan,) = session.scalars(stmt).all()
        assert inspect(loan.__dict__["member"]).identity_token == "west"


class Note(GuideBase):
    __tablename__ = "guide_notes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    member_id: Mapped[int] = mapped_column(ForeignKey("guide_members.id"))
    stars: Mapped[int]
    boosted: Mapped[int | None] = query_expression()


def test_with_expression_along_a_selectin_path(engine: Any) -> None:
    with Session(engine) as session:
        session.add_all([Note(id=1, member_id=2, stars=3), Note(id=2, member_id=2, stars=4)])
        session.commit()
        member = session.scalars(
            select(Member)
            .where(Member.id == 2)
            .options(selectinload(Member.notes).with_expression(Note.boosted, Note.stars * 10))
        ).one()
        assert sorted(n.boosted for n in member.__dict__["notes"]) == [30, 40]


def test_innerjoin_below_an_outer_join_keeps_parents_without_children(engine: Any) -> None:
    # Members without loans must survive joinedload(loans).joinedload(member, innerjoin=True).
    for innerjoin in (True, "unnested"):
        with Session(engine) as session:
            stmt = (
                select(Member)
                .order_by(Member.id)
                .options(joinedload(Member.loans).joinedload(Loan.member, innerjoin=innerjoin))
            )
            members = session.scalars(stmt).unique().all()
            assert [len(m.loans) for m in members] == [0, 1, 2, 3]


def test_joinedload_from_an_aliased_entity(engine: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        alias = aliased(Member)
        stmt = select(alias).order_by(alias.id).options(joinedload(alias.loans))
        members = session.scalars(stmt).unique().all()
        assert [[loan.title for loan in m.__dict__["loans"]] for m in members] == [
            [],
            ["bob-0"],
            ["cy-0", "cy-1"],
            ["dee-0", "dee-1", "dee-2"],
        ]
        assert len(log.selects) == 1


def test_query_count_applies_loader_criteria(engine: Any) -> None:
    with Session(engine) as session:
        query = session.query(Loan).options(with_loader_criteria(Loan, Loan.id > 30))
        assert query.count() == len(query.all()) == 4
