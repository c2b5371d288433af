"""``index_property``: one element of a JSON (or ARRAY) column as an attribute of its own.

``name = index_property("data", "name")`` reads ``obj.data["name"]`` on an instance and is
``Model.data["name"]`` in SQL on the class; setting it writes the element into a copy of the
container and assigns that back, so the change is flushed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from athanor.ext.hybrid import hybrid_property
from athanor.sql.types import ARRAY

__all__ = ["index_property"]

_NO_DEFAULT: Any = object()


class index_property(hybrid_property[Any]):  # noqa: N801 - SQLAlchemy's name
    """An attribute for element ``index`` of the container held in attribute ``attr_name``.

    Reading a missing element (or any element of a None container) gives ``default`` when one
    is given and raises AttributeError otherwise.  ``datatype`` makes the container when the
    column is None (a dict, or a list for an integer index); ``mutable=False`` refuses
    assignment and deletion.  ``onebased`` shifts an integer index by one in SQL for an ARRAY
    column, whose elements count from 1 there.
    """

    def __init__(
        self,
        attr_name: str,
        index: Any,
        default: Any = _NO_DEFAULT,
        datatype: Callable[[], Any] | None = None,
        mutable: bool = True,
        onebased: bool = True,
    ) -> None:
        self.attr_name = attr_name
        self.index = index
        self.default = default
        is_numeric = isinstance(index, int)
        self.datatype: Callable[[], Any] = datatype or (list if is_numeric else dict)
        self.onebased = onebased and is_numeric
        super().__init__(
            self._read,
            self._write if mutable else None,
            self._remove if mutable else None,
            self.expr_for,
        )
        self.__name__ = f"{attr_name}[{index!r}]"

    def _read(self, instance: Any) -> Any:
        container = getattr(instance, self.attr_name)
        try:
            if container is None:
                raise KeyError(self.index)
            return container[self.index]
        except (KeyError, IndexError):
            if self.default is _NO_DEFAULT:
                raise AttributeError(
                    f"{type(instance).__name__}.{self.__name__} has no element {self.index!r}"
                ) from None
            return self.default

    def _write(self, instance: Any, value: Any) -> None:
        current = getattr(instance, self.attr_name)
        container = self.datatype() if current is None else _copy(current)
        if isinstance(container, list) and isinstance(self.index, int):
            container.extend([None] * (self.index + 1 - len(container)))
        container[self.index] = value
        setattr(instance, self.attr_name, container)

    def _remove(self, instance: Any) -> None:
        current = getattr(instance, self.attr_name)
        if current is None:
            raise AttributeError(self.__name__)
        container = _copy(current)
        try:
            del container[self.index]
        except (KeyError, IndexError):
            raise AttributeError(self.__name__) from None
        setattr(instance, self.attr_name, container)

    def expr_for(self, owner: Any) -> Any:
        """The SQL element ``owner.<attr_name>[index]``; an integer index into an ARRAY column
        is shifted by one when ``onebased`` (JSON arrays count from 0 in SQL too)."""
        column = getattr(owner, self.attr_name)
        index = self.index
        if self.onebased and isinstance(column.type, ARRAY) and not column.type.zero_indexes:
            index += 1
        return column[index]


def _copy(container: Any) -> Any:
    """A shallow copy, so the assignment back is a new value the session sees as a change."""
    return container.copy() if hasattr(container, "copy") else type(container)(container)
