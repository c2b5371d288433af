"""SQLite storage of the generic types.

SQLite has no date, time, decimal or boolean storage classes: date-times are stored as ISO 8601
text (with the UTC offset for time-zone aware values, so they round-trip), decimals as
numbers converted back to :class:`decimal.Decimal`, booleans as 0/1 and intervals as a
date-time offset from the epoch.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

from athanor.sql import types as sqltypes
from athanor.sql.types import Processor


def _as_stored_literal(to_text: Processor) -> Callable[[Any], str]:
    """Literals written as the values are stored, so that ``literal_binds`` SQL compares
    equal to stored text (``'... 01:02:03.000000'``, not ``'... 01:02:03'``)."""
    return lambda value: sqltypes._quote_string_literal(to_text(value))


def _datetime_to_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return value.isoformat(sep=" ", timespec="microseconds")


def _text_to_datetime(value: Any) -> Any:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


class SQLiteDateTime(sqltypes.DateTime):
    """``DATETIME`` stored as ``YYYY-MM-DD HH:MM:SS.ffffff[+HH:MM]`` text."""

    def bind_processor(self, dialect: Any) -> Processor | None:
        return _datetime_to_text

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        return _as_stored_literal(_datetime_to_text)

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return _text_to_datetime


def _text_to_date(value: Any) -> Any:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value[:10])


class SQLiteDate(sqltypes.Date):
    """``DATE`` stored as ``YYYY-MM-DD`` text."""

    def bind_processor(self, dialect: Any) -> Processor | None:
        return lambda value: value if value is None or isinstance(value, str) else value.isoformat()

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return _text_to_date


def _text_to_time(value: Any) -> Any:
    if value is None or isinstance(value, dt.time):
        return value
    return dt.time.fromisoformat(value)


def _time_to_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat(timespec="microseconds")


class SQLiteTime(sqltypes.Time):
    """``TIME`` stored as ``HH:MM:SS.ffffff[+HH:MM]`` text."""

    def bind_processor(self, dialect: Any) -> Processor | None:
        return _time_to_text

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        return _as_stored_literal(_time_to_text)

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return _text_to_time


class SQLiteNumeric(sqltypes.Numeric):
    """``NUMERIC``: decimals are sent as text and read back as :class:`decimal.Decimal`."""

    def bind_processor(self, dialect: Any) -> Processor | None:
        return lambda v: str(v) if isinstance(v, decimal.Decimal) else v

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        if not self.asdecimal:
            return super().result_processor(dialect, coltype)
        scale = self.scale if self.scale is not None else self.decimal_return_scale
        if scale is None:
            return sqltypes._to_decimal
        template = f"%.{scale}f"

        def process(value: Any) -> Any:
            if value is None or isinstance(value, decimal.Decimal):
                return value
            return decimal.Decimal(template % value)

        return process


class SQLiteFloat(sqltypes.Float):
    """``FLOAT``: decimals are sent as floats."""

    def bind_processor(self, dialect: Any) -> Processor | None:
        return lambda v: float(v) if isinstance(v, decimal.Decimal) else v


class SQLiteInterval(sqltypes.Interval):
    """An interval stored as the date-time ``1970-01-01 + interval`` in text."""

    def bind_processor(self, dialect: Any) -> Processor | None:
        epoch = self.epoch
        return lambda v: v if v is None else _datetime_to_text(epoch + v)

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        epoch = self.epoch
        return lambda v: v if v is None else _text_to_datetime(v) - epoch


colspecs: dict[type, type] = {
    sqltypes.DateTime: SQLiteDateTime,
    sqltypes.Date: SQLiteDate,
    sqltypes.Time: SQLiteTime,
    sqltypes.Float: SQLiteFloat,
    sqltypes.Numeric: SQLiteNumeric,
    sqltypes.Boolean: sqltypes._IntBoolean,
    sqltypes.Interval: SQLiteInterval,
}
"""Generic type -> the SQLite variant with SQLite's conversions."""

__all__ = [
    "SQLiteDate",
    "SQLiteDateTime",
    "SQLiteFloat",
    "SQLiteInterval",
    "SQLiteNumeric",
    "SQLiteTime",
    "colspecs",
]
