"""PostgreSQL range and multirange types: ``INT4RANGE`` ... ``TSTZMULTIRANGE`` and :class:`Range`.

A range value is a :class:`Range` (``Range(1, 10)`` is ``[1,10)``); a multirange value is a
list of them.  Columns of these types have the range operators (``contains``,
``contained_by``, ``overlaps``, ``strictly_left_of``, ``adjacent_to`` ...; see
:class:`~athanor.sql.elements.ColumnOperators`).  Values are sent to psycopg as range literals
(``'[1,10)'``) and to asyncpg as its own range objects; both drivers' results come back as
:class:`Range`.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from athanor import exc
from athanor.sql import types as sqltypes
from athanor.sql.types import Processor

_T = TypeVar("_T")

_BOUNDS = ("[)", "(]", "[]", "()")
_SPECIAL = frozenset(' ,()[]"\\')
"""Characters that make a bound need double quotes in a range literal."""


@dataclasses.dataclass(frozen=True, eq=False)
class Range(Generic[_T]):
    """A range of values: ``lower`` and ``upper`` (None: unbounded) with ``bounds`` saying
    which ends are included (``"[)"`` by default), or the empty range (``empty=True``).

    Ranges are equal when they have the same ends, an unbounded end counting as excluded
    whatever ``bounds`` says of it (as PostgreSQL stores it)."""

    lower: _T | None = None
    upper: _T | None = None
    bounds: str = "[)"
    empty: bool = False

    _is_range_value: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.bounds not in _BOUNDS:
            raise exc.ArgumentError(
                f"Range bounds must be one of {', '.join(_BOUNDS)}, not {self.bounds!r}"
            )

    def _identity(self) -> tuple[Any, ...]:
        if self.empty:
            return (True,)
        return (False, self.lower, self.upper, self.lower_inc, self.upper_inc)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    @property
    def lower_inc(self) -> bool:
        """The lower bound is part of the range."""
        return not self.empty and self.lower is not None and self.bounds[0] == "["

    @property
    def upper_inc(self) -> bool:
        """The upper bound is part of the range."""
        return not self.empty and self.upper is not None and self.bounds[1] == "]"

    @property
    def lower_inf(self) -> bool:
        """No lower bound."""
        return not self.empty and self.lower is None

    @property
    def upper_inf(self) -> bool:
        """No upper bound."""
        return not self.empty and self.upper is None

    @property
    def isempty(self) -> bool:
        return self.empty

    is_empty = isempty

    def __bool__(self) -> bool:
        return not self.empty

    def contains(self, value: Any) -> bool:
        """``value`` (an element, or a Range) lies in this range."""
        if isinstance(value, Range):
            if value.empty:
                return True
            return self._has(value.lower, value.lower_inc, low=True) and self._has(
                value.upper, value.upper_inc, low=False
            )
        return self._has(value, True, low=True) and self._has(value, True, low=False)

    __contains__ = contains

    def _has(self, value: Any, inclusive: bool, *, low: bool) -> bool:
        """``value`` (None: unbounded) is within this range's lower (or upper) end."""
        if self.empty:
            return False
        bound = self.lower if low else self.upper
        if bound is None:
            return True
        if value is None:
            return False
        own_inclusive = self.lower_inc if low else self.upper_inc
        if value == bound:
            return own_inclusive or not inclusive
        return bool(value > bound) if low else bool(value < bound)

    def __str__(self) -> str:
        return _literal(self)


def _element_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        text = value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else str(value)
    else:
        text = str(value)
    if text and not any(c in text for c in _SPECIAL):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: Range[Any]) -> str:
    """The PostgreSQL text form of a range: ``[1,10)``, ``(,"2024-01-01")``, ``empty``."""
    if value.empty:
        return "empty"
    return (
        value.bounds[0]
        + _element_text(value.lower)
        + ","
        + _element_text(value.upper)
        + value.bounds[1]
    )


def _from_driver(raw: Any) -> Range[Any]:
    """A psycopg or asyncpg range object as a :class:`Range`."""
    if raw.isempty:
        return Range(empty=True)
    lower_inc = getattr(raw, "lower_inc", False)
    upper_inc = getattr(raw, "upper_inc", False)
    bounds = ("[" if lower_inc else "(") + ("]" if upper_inc else ")")
    return Range(raw.lower, raw.upper, bounds)


def _checked(value: Any, type_: Any) -> Range[Any]:
    if not isinstance(value, Range):
        raise exc.ArgumentError(
            f"{type(type_).__name__} values are Range objects, e.g. Range(1, 10), not {value!r}"
        )
    return value


def _to_asyncpg(value: Range[Any]) -> Any:
    import asyncpg

    if value.empty:
        return asyncpg.Range(empty=True)
    return asyncpg.Range(
        value.lower,
        value.upper,
        lower_inc=value.bounds[0] == "[",
        upper_inc=value.bounds[1] == "]",
    )


class AbstractRange(sqltypes.TypeEngine[Range[Any]]):
    """Base of the range types; ``pg_name`` is the type's SQL name."""

    pg_name: ClassVar[str] = ""
    _containment = "range"
    python_type_ = Range

    def bind_processor(self, dialect: Any) -> Processor | None:
        if dialect.driver == "asyncpg":
            return lambda value: None if value is None else _to_asyncpg(_checked(value, self))
        return lambda value: None if value is None else _literal(_checked(value, self))

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return lambda value: None if value is None else _from_driver(value)

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        return lambda value: f"'{_literal(_checked(value, self))}'::{self.pg_name}"


class AbstractMultiRange(sqltypes.TypeEngine[list[Range[Any]]]):
    """Base of the multirange types (PostgreSQL 14+); values are lists of :class:`Range`."""

    pg_name: ClassVar[str] = ""
    _containment = "range"
    python_type_ = list

    def _ranges(self, value: Any) -> list[Range[Any]]:
        if isinstance(value, Range) or not isinstance(value, list | tuple):
            raise exc.ArgumentError(
                f"{type(self).__name__} values are lists of Range objects, not {value!r}"
            )
        return [_checked(r, self) for r in value]

    def bind_processor(self, dialect: Any) -> Processor | None:
        if dialect.driver == "asyncpg":
            return lambda value: (
                None if value is None else [_to_asyncpg(r) for r in self._ranges(value)]
            )
        return lambda value: None if value is None else self._text(value)

    def _text(self, value: Any) -> str:
        return "{" + ",".join(_literal(r) for r in self._ranges(value)) + "}"

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return lambda value: None if value is None else [_from_driver(r) for r in value]

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        return lambda value: f"'{self._text(value)}'::{self.pg_name}"


class INT4RANGE(AbstractRange):
    """``INT4RANGE``: a range of integers."""

    pg_name = "INT4RANGE"


class INT8RANGE(AbstractRange):
    """``INT8RANGE``: a range of big integers."""

    pg_name = "INT8RANGE"


class NUMRANGE(AbstractRange):
    """``NUMRANGE``: a range of numerics (Decimal)."""

    pg_name = "NUMRANGE"


class DATERANGE(AbstractRange):
    """``DATERANGE``: a range of dates."""

    pg_name = "DATERANGE"


class TSRANGE(AbstractRange):
    """``TSRANGE``: a range of timestamps without time zone."""

    pg_name = "TSRANGE"


class TSTZRANGE(AbstractRange):
    """``TSTZRANGE``: a range of timestamps with time zone."""

    pg_name = "TSTZRANGE"


class INT4MULTIRANGE(AbstractMultiRange):
    """``INT4MULTIRANGE``."""

    pg_name = "INT4MULTIRANGE"


class INT8MULTIRANGE(AbstractMultiRange):
    """``INT8MULTIRANGE``."""

    pg_name = "INT8MULTIRANGE"


class NUMMULTIRANGE(AbstractMultiRange):
    """``NUMMULTIRANGE``."""

    pg_name = "NUMMULTIRANGE"


class DATEMULTIRANGE(AbstractMultiRange):
    """``DATEMULTIRANGE``."""

    pg_name = "DATEMULTIRANGE"


class TSMULTIRANGE(AbstractMultiRange):
    """``TSMULTIRANGE``."""

    pg_name = "TSMULTIRANGE"


class TSTZMULTIRANGE(AbstractMultiRange):
    """``TSTZMULTIRANGE``."""

    pg_name = "TSTZMULTIRANGE"


__all__ = [
    "DATEMULTIRANGE",
    "DATERANGE",
    "INT4MULTIRANGE",
    "INT4RANGE",
    "INT8MULTIRANGE",
    "INT8RANGE",
    "NUMMULTIRANGE",
    "NUMRANGE",
    "TSMULTIRANGE",
    "TSRANGE",
    "TSTZMULTIRANGE",
    "TSTZRANGE",
    "AbstractMultiRange",
    "AbstractRange",
    "Range",
]
