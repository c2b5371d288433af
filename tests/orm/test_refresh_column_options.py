"""``Session.refresh()`` and loads of expired attributes use the column options of the query
that loaded the object: undeferred columns load again, ``with_expression`` values are
computed again, columns ``load_only`` left out stay out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import String, create_engine, select, update
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    defer,
    load_only,
    mapped_column,
    query_expression,
    undefer,
    with_expression,
)
from orm.orm_models import StatementLog


class RefreshBase(DeclarativeBase):
    pass


class Doc(RefreshBase):
    __tablename__ = "refresh_docs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(20), deferred=True)
    score: Mapped[int | None] = query_expression()


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    RefreshBase.metadata.create_all(eng)
    with Session(eng) as session:
        session.add(Doc(id=1, title="t", summary="s", body="b"))
        session.commit()
    yield eng
    eng.dispose()


def _change_row(session: Session) -> None:
    """Change the row behind the session's back (its objects keep the old values)."""
    session.execute(
        update(Doc).where(Doc.id == 1).values(title="t2", body="b2", id=1),
        execution_options={"synchronize_session": False},
    )


def _loaded(doc: Doc) -> dict[str, Any]:
    return {k: v for k, v in vars(doc).items() if not k.startswith("_")}


@pytest.mark.parametrize("expire_first", [False, True])
def test_refresh_reloads_undeferred_columns_and_expressions(
    engine: Any, expire_first: bool
) -> None:
    with Session(engine) as session:
        stmt = select(Doc).options(undefer(Doc.body), with_expression(Doc.score, Doc.id + 41))
        doc = session.scalars(stmt).one()
        assert (doc.body, doc.score) == ("b", 42)
        _change_row(session)
        if expire_first:
            session.expire(doc)
        session.refresh(doc)
        assert _loaded(doc) == {"id": 1, "title": "t2", "summary": "s", "body": "b2", "score": 42}


def test_refresh_of_an_expired_undeferred_column(engine: Any) -> None:
    with Session(engine) as session:
        doc = session.scalars(select(Doc).options(undefer(Doc.body))).one()
        _change_row(session)
        session.expire(doc, ["body"])
        session.refresh(doc)
        assert _loaded(doc)["body"] == "b2"


def test_refresh_naming_an_expression_computes_it(engine: Any) -> None:
    with Session(engine) as session:
        doc = session.scalars(select(Doc).options(with_expression(Doc.score, Doc.id * 7))).one()
        session.refresh(doc, ["score"])
        assert doc.score == 7


def test_refresh_naming_a_deferred_column_loads_only_it(engine: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        doc = session.get(Doc, 1)
        assert doc is not None and "body" not in vars(doc)
        log.clear()
        session.refresh(doc, ["body"])
        assert _loaded(doc)["body"] == "b"
        assert len(log.selects) == 1 and "title" not in log.selects[0]
        session.refresh(doc)
        assert "body" not in vars(doc)  # a whole-object refresh leaves deferred columns out


@pytest.mark.parametrize(
    "option", [load_only(Doc.title), defer(Doc.summary)], ids=["load_only", "defer"]
)
def test_refresh_keeps_columns_the_query_left_out(engine: Any, option: Any) -> None:
    log = StatementLog(engine)
    with Session(engine) as session:
        doc = session.scalars(select(Doc).options(option)).one()
        log.clear()
        session.refresh(doc)
        assert sorted(_loaded(doc)) == ["id", "title"]
        assert len(log.selects) == 1 and "summary" not in log.selects[0]
        # Still loaded enough: get() does not load it again.
        assert session.get(Doc, 1) is doc
        assert len(log.selects) == 1


def test_expired_object_loads_its_expression_again_on_access(engine: Any) -> None:
    with Session(engine) as session:
        stmt = select(Doc).options(with_expression(Doc.score, Doc.id + 1))
        doc = session.scalars(stmt).one()
        session.commit()  # expires it
        assert doc.title == "t"
        assert vars(doc)["score"] == 2
