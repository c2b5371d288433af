"""Attribute events of write-only and dynamic collections, in the order of a list collection's:
the other side of the link changes after the listeners registered before the mappers were
configured and before those registered since; a removal fires each listener once, with the
removed object."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import ForeignKey, event, inspect
from athanor.orm import (
    DeclarativeBase,
    DynamicMapped,
    Mapped,
    WriteOnlyMapped,
    configure_mappers,
    mapped_column,
    relationship,
)


class Base(DeclarativeBase):
    pass


class Rack(Base):
    __tablename__ = "woe_racks"

    id: Mapped[int] = mapped_column(primary_key=True)
    crates: WriteOnlyMapped[Crate] = relationship(back_populates="rack")
    boxes: DynamicMapped[Box] = relationship(back_populates="rack")
    bins: Mapped[list[Bin]] = relationship(back_populates="rack")


class Crate(Base):
    __tablename__ = "woe_crates"

    id: Mapped[int] = mapped_column(primary_key=True)
    rack_id: Mapped[int | None] = mapped_column(ForeignKey("woe_racks.id"))
    rack: Mapped[Rack | None] = relationship(back_populates="crates")


class Box(Base):
    __tablename__ = "woe_boxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    rack_id: Mapped[int | None] = mapped_column(ForeignKey("woe_racks.id"))
    rack: Mapped[Rack | None] = relationship(back_populates="boxes")


class Bin(Base):
    __tablename__ = "woe_bins"

    id: Mapped[int] = mapped_column(primary_key=True)
    rack_id: Mapped[int | None] = mapped_column(ForeignKey("woe_racks.id"))
    rack: Mapped[Rack | None] = relationship(back_populates="bins")


seen: list[tuple[str, str, bool]] = []
"""(when the listener was registered, event, whether the item's other side held the rack)."""


def _note(when: str, name: str) -> Any:
    def record(target: Any, value: Any, initiator: Any) -> None:
        seen.append((when, name, value.__dict__.get("rack") is target))

    return record


for _attr in (Rack.crates, Rack.boxes, Rack.bins):
    for _name in ("append", "remove"):
        event.listen(_attr, _name, _note("early", _name))
configure_mappers()
for _attr in (Rack.crates, Rack.boxes, Rack.bins):
    for _name in ("append", "remove"):
        event.listen(_attr, _name, _note("late", _name))


@pytest.fixture(autouse=True)
def _clear() -> None:
    seen.clear()


@pytest.mark.parametrize("kind", [Crate, Box], ids=["write-only", "dynamic"])
def test_the_other_side_changes_between_early_and_late_listeners(kind: type) -> None:
    rack, item = Rack(id=1), kind(id=1)
    collection = rack.crates if kind is Crate else rack.boxes
    adding = collection.add if kind is Crate else collection.append  # type: ignore[attr-defined]
    adding(item)
    assert item.rack is rack  # type: ignore[attr-defined]
    assert seen == [("early", "append", False), ("late", "append", True)]
    seen.clear()
    collection.remove(item)  # type: ignore[attr-defined]
    assert item.rack is None  # type: ignore[attr-defined]
    # Once each: unsetting the other side does not come back to remove it again.
    assert seen == [("early", "remove", True), ("late", "remove", False)]


def test_a_list_collection_orders_them_the_same() -> None:
    rack, item = Rack(id=1), Bin(id=1)
    rack.bins.append(item)
    rack.bins.remove(item)
    assert seen == [
        ("early", "append", False),
        ("late", "append", True),
        ("early", "remove", True),
        ("late", "remove", False),
    ]


def test_moving_an_object_removes_it_from_its_old_write_only_collection() -> None:
    first, second, crate = Rack(id=1), Rack(id=2), Crate(id=1)
    first.crates.add(crate)
    seen.clear()
    second.crates.add(crate)
    assert crate.rack is second
    # The old collection's removal runs inside the new one's backref.
    assert [(when, name) for when, name, _ in seen] == [
        ("early", "append"),
        ("early", "remove"),
        ("late", "remove"),
        ("late", "append"),
    ]
    assert _queued(first) == ([], [])
    assert _queued(second) == ([crate], [])


def _queued(rack: Rack) -> tuple[list[Any], list[Any]]:
    """What the rack's write-only collection has queued to add and to remove."""
    history = inspect(rack).attrs.crates.history
    return list(history.added), list(history.deleted)


def test_every_remove_listener_is_given_the_removed_object() -> None:
    given: list[Any] = []
    rack, item = Rack(id=1), Bin(id=1)
    rack.bins.append(item)
    listeners = [lambda t, v, i: given.append(v), lambda t, v, i: given.append(v)]
    for fn in listeners:
        event.listen(Rack.bins, "remove", fn)
    try:
        rack.bins.remove(item)
    finally:
        for fn in listeners:
            event.remove(Rack.bins, "remove", fn)
    assert given == [item, item]
