"""MySQL/MariaDB handling of the generic types.

PyMySQL returns booleans as 0/1 and TIME values as :class:`datetime.timedelta`; DATETIME has
no time zone, so aware values are stored in UTC and read back as UTC-aware values (the same
instant); intervals are stored as a date-time offset from the epoch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from athanor.sql import types as sqltypes
from athanor.sql.types import Processor


def _aware_to_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


class MySQLDateTime(sqltypes.DateTime):
    """``DATETIME(6)``; with ``timezone=True`` values are stored as UTC."""

    def bind_processor(self, dialect: Any) -> Processor | None:
        return _aware_to_utc if self.timezone else None

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        if not self.timezone:
            return None
        return lambda v: v.replace(tzinfo=dt.UTC) if isinstance(v, dt.datetime) else v


def _timedelta_to_time(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        return dt.time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60, value.microseconds)
    return value


class MySQLTime(sqltypes.Time):
    """``TIME(6)``: the driver's timedelta values become :class:`datetime.time`."""

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return _timedelta_to_time


class MySQLInterval(sqltypes._EpochInterval):
    """An interval stored as the date-time ``1970-01-01 + interval``."""


colspecs: dict[type, type] = {
    sqltypes.DateTime: MySQLDateTime,
    sqltypes.Time: MySQLTime,
    sqltypes.Boolean: sqltypes._IntBoolean,
    sqltypes.Interval: MySQLInterval,
}
"""Generic type -> the MySQL variant with MySQL's conversions."""


class TINYINT(sqltypes.SmallInteger):
    """MySQL ``TINYINT``."""


class MEDIUMINT(sqltypes.Integer):
    """MySQL ``MEDIUMINT``."""


class LONGTEXT(sqltypes.Text):
    """MySQL ``LONGTEXT``."""


class MEDIUMTEXT(sqltypes.Text):
    """MySQL ``MEDIUMTEXT``."""


class TINYTEXT(sqltypes.Text):
    """MySQL ``TINYTEXT``."""


class LONGBLOB(sqltypes.LargeBinary):
    """MySQL ``LONGBLOB``."""


class MEDIUMBLOB(sqltypes.LargeBinary):
    """MySQL ``MEDIUMBLOB``."""


class TINYBLOB(sqltypes.LargeBinary):
    """MySQL ``TINYBLOB``."""


class YEAR(sqltypes.Integer):
    """MySQL ``YEAR``."""


class SET(sqltypes.String):
    """MySQL ``SET`` of string values."""

    def __init__(self, *values: str, **kw: Any) -> None:
        super().__init__(length=max((len(v) for v in values), default=0) * max(len(values), 1))
        self.values = tuple(values)


class ENUM(sqltypes.Enum):
    """MySQL ``ENUM``."""


class JSON(sqltypes.JSON):
    """MySQL ``JSON``."""


__all__ = [
    "ENUM",
    "JSON",
    "LONGBLOB",
    "LONGTEXT",
    "MEDIUMBLOB",
    "MEDIUMINT",
    "MEDIUMTEXT",
    "SET",
    "TINYBLOB",
    "TINYINT",
    "TINYTEXT",
    "YEAR",
    "MySQLDateTime",
    "MySQLInterval",
    "MySQLTime",
    "colspecs",
]


class BIT(sqltypes.TypeEngine[int]):
    """``BIT(length)``: a bit field, read and written as an int."""

    python_type_ = int

    def __init__(self, length: int | None = None) -> None:
        self.length = length

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return lambda value: (
            int.from_bytes(value, "big") if isinstance(value, bytes | bytearray) else value
        )


class INET4(sqltypes.String):
    """``INET4`` (MariaDB 10.10+): an IPv4 address, as a string."""

    def __init__(self) -> None:
        super().__init__()


class INET6(sqltypes.String):
    """``INET6`` (MariaDB 10.5+): an IPv6 (or IPv4-mapped) address, as a string."""

    def __init__(self) -> None:
        super().__init__()
