"""``inspect(obj)``: the registry that maps an object to its inspection interface.

This module sits in the lowest layer, so it knows no concrete classes; higher layers register
a factory per class at import time (the engine layer registers Engine and Connection ->
:class:`athanor.engine.reflection.Inspector`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from athanor import exc

_registrars: dict[type, Callable[[Any], Any]] = {}


def register(type_: type, factory: Callable[[Any], Any]) -> None:
    """Make ``inspect(obj)`` return ``factory(obj)`` for instances of ``type_`` (and subclasses)."""
    _registrars[type_] = factory


def _factory_for(cls: type) -> Callable[[Any], Any] | None:
    for base in cls.__mro__:
        factory = _registrars.get(base)
        if factory is not None:
            return factory
    return None


def inspect(subject: Any, raiseerr: bool = True) -> Any:
    """The inspection object for ``subject`` (an Inspector for an Engine or Connection).

    Raises :class:`~athanor.exc.NoInspectionAvailable` for an unregistered type, or returns
    None when ``raiseerr`` is false.
    """
    factory = _factory_for(type(subject))
    result = factory(subject) if factory is not None else None
    if result is None and raiseerr:
        raise exc.NoInspectionAvailable(
            f"No inspection system is available for object of type {type(subject)!r}"
        )
    return result
