"""Exceptions raised by the ORM (``athanor.orm.exc``): what went wrong and how to fix it."""

from __future__ import annotations

from typing import Any

from athanor import exc as sa_exc
from athanor.exc import MultipleResultsFound, NoResultFound

__all__ = [
    "ConcurrentModificationError",
    "DetachedInstanceError",
    "FlushError",
    "LoaderStrategyException",
    "MappedAnnotationError",
    "MultipleResultsFound",
    "NoResultFound",
    "ObjectDeletedError",
    "ObjectDereferencedError",
    "StaleDataError",
    "UnmappedClassError",
    "UnmappedColumnError",
    "UnmappedError",
    "UnmappedInstanceError",
]


class StaleDataError(sa_exc.AthanorError):
    """An UPDATE or DELETE matched a different number of rows than the flush expected."""


ConcurrentModificationError = StaleDataError


class FlushError(sa_exc.AthanorError):
    """The unit of work could not write the session's changes."""


class UnmappedError(sa_exc.InvalidRequestError):
    """An operation needed a mapped class or instance and got something else."""


class UnmappedClassError(UnmappedError):
    """A class is not mapped."""

    def __init__(self, cls: Any, msg: str | None = None) -> None:
        name = getattr(cls, "__name__", repr(cls))
        super().__init__(
            msg
            or f"Class {name!r} is not mapped; subclass a DeclarativeBase (or use "
            "registry.mapped / registry.map_imperatively) and give it a table"
        )


class UnmappedInstanceError(UnmappedError):
    """An object is not an instance of a mapped class."""

    def __init__(self, obj: Any, msg: str | None = None) -> None:
        super().__init__(
            msg
            or f"Class {type(obj).__name__!r} is not mapped; only instances of mapped classes "
            "can be added to a Session"
        )


class UnmappedColumnError(sa_exc.InvalidRequestError):
    """A column is not mapped by the mapper it was looked up in."""


class MappedAnnotationError(sa_exc.ArgumentError):
    """A ``Mapped[...]`` annotation could not be turned into a column or relationship."""


class LoaderStrategyException(sa_exc.InvalidRequestError):
    """A loader option names an attribute its strategy cannot load (``load_only()`` of a
    relationship); raised when a statement with the option runs."""


class DetachedInstanceError(sa_exc.AthanorError):
    """An attribute of an object that is not in a Session needed to be loaded."""

    code = "bhk3"


class ObjectDeletedError(sa_exc.InvalidRequestError):
    """An expired object's row no longer exists in the database."""


class ObjectDereferencedError(sa_exc.AthanorError):
    """An operation needed an object that was already garbage collected."""
