"""A list relationship that keeps each member's position attribute in step with the list.

``bullets: Mapped[list[Bullet]] = relationship(order_by="Bullet.position",
collection_class=ordering_list("position"))`` numbers the bullets 0, 1, 2 ... as they are
appended, inserted, removed or moved, so the flush writes their order.  Values come from an
ordering function (``count_from_0`` by default, ``count_from=1`` or ``ordering_func=``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex

from athanor import exc as sa_exc
from athanor.orm.base import OP_APPEND, OP_REMOVE
from athanor.orm.collections import InstrumentedList

OrderingFunc = Callable[[int, Any], Any]


def count_from_0(index: int, collection: Any) -> int:
    """Positions 0, 1, 2 ..."""
    return index


def count_from_1(index: int, collection: Any) -> int:
    """Positions 1, 2, 3 ..."""
    return index + 1


def count_from_n_factory(start: int) -> OrderingFunc:
    """An ordering function numbering from ``start``."""

    def count(index: int, collection: Any) -> int:
        return index + start

    count.__name__ = f"count_from_{start}"
    return count


class OrderingList(InstrumentedList):
    """A relationship list that sets ``ordering_attr`` of its members from their index.

    Appending numbers the new member (keeping a position it already has unless
    ``reorder_on_append``); inserting, removing, popping, deleting and assigning renumber
    the whole list, as :meth:`reorder` does.  The list as loaded is numbered as appended.
    """

    ordering_attr: str = ""
    ordering_func: OrderingFunc = staticmethod(count_from_0)
    reorder_on_append = False

    def __init__(
        self,
        ordering_attr: str | None = None,
        ordering_func: OrderingFunc | None = None,
        reorder_on_append: bool | None = None,
    ) -> None:
        super().__init__()
        if ordering_attr is not None:
            self.ordering_attr = ordering_attr
        if ordering_func is not None:
            self.ordering_func = ordering_func
        if reorder_on_append is not None:
            self.reorder_on_append = reorder_on_append
        if not self.ordering_attr:
            raise sa_exc.ArgumentError(
                'OrderingList needs the name of the position attribute: ordering_list("position")'
            )

    def _order_entity(self, index: int, entity: Any, reorder: bool = True) -> None:
        have = getattr(entity, self.ordering_attr, None)
        if have is not None and not reorder:
            return
        should = self.ordering_func(index, self)
        if have != should:
            setattr(entity, self.ordering_attr, should)

    def reorder(self) -> None:
        """Set every member's position from its index (after ``sort()``, say)."""
        for index, entity in enumerate(self):
            self._order_entity(index, entity, True)

    _reorder = reorder

    def _sa_fill(self, items: Iterable[Any]) -> None:
        for item in items:
            list.append(self, item)
            self._order_entity(len(self) - 1, item, self.reorder_on_append)

    def _sa_append(self, entity: Any, initiator: Any, op: Any = OP_APPEND) -> None:
        # every append: append(), extend(), and the other side of a bidirectional link
        super()._sa_append(entity, initiator, op)
        self._order_entity(len(self) - 1, entity, self.reorder_on_append)

    def _sa_remove(self, entity: Any, initiator: Any, op: Any = OP_REMOVE) -> None:
        # a member taken away through the other side of a bidirectional link
        super()._sa_remove(entity, initiator, op)
        self._reorder()

    def extend(self, entities: Iterable[Any]) -> None:
        for entity in list(entities):
            self.append(entity)

    def insert(self, index: SupportsIndex, entity: Any) -> None:
        super().insert(index, entity)
        self._reorder()

    def remove(self, entity: Any) -> None:
        super().remove(entity)
        self._reorder()

    def pop(self, index: SupportsIndex = -1) -> Any:
        entity = super().pop(index)
        self._reorder()
        return entity

    def __setitem__(self, index: Any, entity: Any) -> None:
        super().__setitem__(index, entity)
        self._reorder()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._reorder()


def ordering_list(
    attr: str,
    count_from: int | None = None,
    ordering_func: OrderingFunc | None = None,
    reorder_on_append: bool = False,
) -> type[OrderingList]:
    """A ``collection_class`` keeping attribute ``attr`` of the members in step with their
    index: ``count_from=1`` numbers from 1, ``ordering_func(index, collection)`` computes
    any value."""
    if count_from is not None:
        if ordering_func is not None:
            raise sa_exc.ArgumentError(
                "ordering_list() takes count_from= or ordering_func=, not both"
            )
        ordering_func = count_from_n_factory(count_from)
    namespace: dict[str, Any] = {
        "ordering_attr": attr,
        "ordering_func": staticmethod(ordering_func or count_from_0),
        "reorder_on_append": reorder_on_append,
        "__module__": __name__,
    }
    return type("OrderingList", (OrderingList,), namespace)


__all__ = [
    "OrderingList",
    "count_from_0",
    "count_from_1",
    "count_from_n_factory",
    "ordering_list",
]
