"""MySQL conversions: 0/1 booleans, TIME as timedelta, aware date-times stored as UTC."""

from __future__ import annotations

import datetime as dt

from athanor.dialects import mysql
from athanor.sql import Boolean, DateTime, Time

dialect = mysql.dialect()


def test_time_boolean_and_aware_datetime() -> None:
    result = Time().dialect_impl(dialect).result_processor(dialect, None)
    assert result is not None
    assert result(dt.timedelta(hours=3, minutes=4, seconds=5, microseconds=6)) == dt.time(
        3, 4, 5, 6
    )
    assert Boolean().dialect_impl(dialect).result_processor(dialect, None)(0) is False  # type: ignore[misc]
    tz = DateTime(timezone=True).dialect_impl(dialect)
    aware = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    stored = tz.bind_processor(dialect)(aware)  # type: ignore[misc]
    assert stored == dt.datetime(2024, 1, 1, 9)
    assert tz.result_processor(dialect, None)(stored) == aware  # type: ignore[misc]
    assert DateTime().dialect_impl(dialect).bind_processor(dialect) is None
