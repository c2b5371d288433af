"""Flushes that write nothing fire the session events SQLAlchemy fires for them: none when
nothing is new, changed or deleted; the whole flush (its subtransaction included) when an
object was changed back to what it held; only ``before_flush`` when that listener leaves
nothing to write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import String, create_engine, event
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column

EVENTS = (
    "before_flush",
    "after_flush",
    "after_flush_postexec",
    "after_transaction_create",
    "after_transaction_end",
)


class Base(DeclarativeBase):
    pass


class Crate(Base):
    __tablename__ = "fwc_crates"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str | None] = mapped_column(String(20))


@pytest.fixture
def session(backend: Any) -> Iterator[Session]:
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Crate(id=1, label="a"))
        session.commit()
        session.connection()  # the session's transaction is begun: only the flush's follow
        yield session
    engine.dispose()


def _log(session: Session) -> list[str]:
    log: list[str] = []
    for name in EVENTS:
        event.listen(session, name, lambda *args, name=name: log.append(name))
    return log


def test_a_flush_with_nothing_new_changed_or_deleted_fires_nothing(session: Session) -> None:
    log = _log(session)
    session.flush()
    assert log == []


def test_a_change_undone_still_flushes_in_a_subtransaction(session: Session) -> None:
    crate = session.get(Crate, 1)
    assert crate is not None
    log = _log(session)
    crate.label = "a"
    assert session.dirty and not session.is_modified(crate)
    session.flush()
    assert log == [
        "before_flush",
        "after_transaction_create",
        "after_flush",
        "after_flush_postexec",
        "after_transaction_end",
    ]
    assert not session.dirty


def test_before_flush_leaving_nothing_to_write_ends_the_flush(session: Session) -> None:
    crate = session.get(Crate, 1)
    assert crate is not None
    log = _log(session)
    event.listen(session, "before_flush", lambda s, *args: s.expunge(crate))
    crate.label = "b"
    session.add(Crate(id=2))
    session.expunge(next(iter(session.new)))
    session.flush()
    assert log == ["before_flush"]
