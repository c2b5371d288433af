"""Columns the server writes on UPDATE (``server_onupdate``: a trigger; ``Computed``) are
expired by the flush that updates their row, so the next access reads the new value instead
of keeping the one loaded before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import Computed, FetchedValue, String, create_engine, select
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column

TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER suc_bump AFTER UPDATE OF label ON suc_parcels "
        "BEGIN UPDATE suc_parcels SET revision = revision + 1 WHERE id = NEW.id; END"
    ],
    "postgresql": [
        "CREATE FUNCTION suc_bump() RETURNS trigger AS "
        "$$ BEGIN NEW.revision := OLD.revision + 1; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER suc_bump BEFORE UPDATE ON suc_parcels "
        "FOR EACH ROW EXECUTE FUNCTION suc_bump()",
    ],
    "mysql": [
        "CREATE TRIGGER suc_bump BEFORE UPDATE ON suc_parcels "
        "FOR EACH ROW SET NEW.revision = OLD.revision + 1"
    ],
}


class Base(DeclarativeBase):
    pass


class Parcel(Base):
    __tablename__ = "suc_parcels"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    weight: Mapped[int]
    revision: Mapped[int] = mapped_column(server_default="0", server_onupdate=FetchedValue())
    # nullable: MariaDB refuses NOT NULL on a generated column
    doubled: Mapped[int | None] = mapped_column(Computed("weight * 2"))


@pytest.fixture
def session(backend: Any) -> Iterator[Session]:
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        for statement in TRIGGERS[backend.name]:
            conn.exec_driver_sql(statement)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def test_a_trigger_written_column_is_read_again_after_the_update(session: Session) -> None:
    parcel = Parcel(label="a", weight=3)
    session.add(parcel)
    session.flush()
    assert (parcel.revision, parcel.doubled) == (0, 6)
    parcel.label = "b"
    session.flush()
    assert "revision" not in parcel.__dict__
    assert parcel.revision == 1
    session.commit()
    parcel.label = "c"
    session.commit()
    assert parcel.revision == 2


def test_a_computed_column_is_read_again_after_its_inputs_change(session: Session) -> None:
    parcel = Parcel(label="a", weight=3)
    session.add(parcel)
    session.commit()
    parcel.weight = 5
    session.commit()
    assert parcel.doubled == 10
    assert session.scalar(select(Parcel.doubled).where(Parcel.id == parcel.id)) == 10
