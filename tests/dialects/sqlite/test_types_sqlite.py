"""SQLite storage formats of the generic types."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from athanor.dialects import sqlite
from athanor.sql import Boolean, DateTime, Interval, Numeric, Time

dialect = sqlite.dialect()


def test_datetime_stored_as_iso_text_with_offset() -> None:
    bind = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None
    value = dt.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert bind(value) == "2024-05-06 07:08:09.000010+02:00"
    result = DateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert result is not None
    assert result("2024-05-06 07:08:09") == dt.datetime(2024, 5, 6, 7, 8, 9)


def test_numeric_scale_and_boolean_and_interval() -> None:
    result = Numeric(10, 2).dialect_impl(dialect).result_processor(dialect, None)
    assert result is not None
    assert result(1.1) == Decimal("1.10")
    assert Boolean().dialect_impl(dialect).result_processor(dialect, None)(1) is True  # type: ignore[misc]
    interval = Interval().dialect_impl(dialect)
    stored = interval.bind_processor(dialect)(dt.timedelta(days=1, seconds=5))  # type: ignore[misc]
    assert stored == "1970-01-02 00:00:05.000000"
    assert interval.result_processor(dialect, None)(stored) == dt.timedelta(days=1, seconds=5)  # type: ignore[misc]
    assert Time().dialect_impl(dialect).bind_processor(dialect)(dt.time(1, 2)) == "01:02:00.000000"  # type: ignore[misc]
