"""Collections keyed by object identity rather than equality."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableSet
from typing import Any


class IdentitySet(MutableSet[Any]):
    """A set of objects compared by identity (``is``), kept in insertion order.

    Mapped objects may define ``__eq__``/``__hash__`` on their column values, or be
    unhashable; membership here never calls either.  :attr:`Session.new`, ``dirty`` and
    ``deleted`` are such sets.
    """

    __slots__ = ("_members",)

    def __init__(self, iterable: Iterable[Any] = ()) -> None:
        self._members: dict[int, Any] = {id(obj): obj for obj in iterable}

    @classmethod
    def _from_iterable(cls, iterable: Iterable[Any]) -> IdentitySet:
        return cls(iterable)

    def __contains__(self, obj: object) -> bool:
        return id(obj) in self._members

    def __iter__(self) -> Iterator[Any]:
        return iter(self._members.values())

    def __len__(self) -> int:
        return len(self._members)

    def add(self, value: Any) -> None:
        self._members[id(value)] = value

    def discard(self, value: Any) -> None:
        self._members.pop(id(value), None)

    def copy(self) -> IdentitySet:
        return IdentitySet(self)

    def union(self, *others: Iterable[Any]) -> IdentitySet:
        result = self.copy()
        for other in others:
            for obj in other:
                result.add(obj)
        return result

    def intersection(self, other: Iterable[Any]) -> IdentitySet:
        wanted = IdentitySet(other)
        return IdentitySet(obj for obj in self if obj in wanted)

    def difference(self, other: Iterable[Any]) -> IdentitySet:
        unwanted = IdentitySet(other)
        return IdentitySet(obj for obj in self if obj not in unwanted)

    def issubset(self, other: Iterable[Any]) -> bool:
        return self <= IdentitySet(other)

    def issuperset(self, other: Iterable[Any]) -> bool:
        return self >= IdentitySet(other)

    def __repr__(self) -> str:
        return f"IdentitySet({list(self._members.values())!r})"

    __hash__ = None  # type: ignore[assignment]
