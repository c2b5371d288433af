"""PostgreSQL range and multirange types: values round-trip through psycopg and asyncpg, and
the range operators select the rows PostgreSQL says they should."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor import exc
from athanor.dialects import postgresql as pg
from athanor.dialects.postgresql import Range
from athanor.engine import create_engine
from athanor.ext.asyncio import create_async_engine
from athanor.sql import Column, Integer, MetaData, String, Table, insert, literal, select
from backends import Backend

pytestmark = pytest.mark.backends("postgresql")

metadata = MetaData()
spans = Table(
    "rg_spans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("i4", pg.INT4RANGE),
    Column("i8", pg.INT8RANGE),
    Column("num", pg.NUMRANGE),
    Column("d", pg.DATERANGE),
    Column("ts", pg.TSRANGE),
    Column("tstz", pg.TSTZRANGE),
    Column("im", pg.INT4MULTIRANGE),
    Column("dm", pg.DATEMULTIRANGE),
)
COLUMNS = ("i4", "i8", "num", "d", "ts", "tstz")


@pytest.fixture
def engine(backend: Backend) -> Iterator[Any]:
    engine = create_engine(backend.url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _discrete(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[Range[Any]]:
    """Ranges as PostgreSQL stores discrete ones: ``[lower,upper)``, an open end ``(``/``)``."""

    def build(a: Any, b: Any, lower_inf: bool, upper_inf: bool) -> Range[Any]:
        low, high = min(a, b), max(a, b)
        lower = None if lower_inf else low
        upper = None if upper_inf else high
        return Range(lower, upper, ("(" if lower is None else "[") + ")")

    return st.builds(build, elements, elements, st.booleans(), st.booleans()).filter(
        lambda r: r.lower is None or r.upper is None or r.lower < r.upper
    )


def _continuous(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[Range[Any]]:
    """Ranges of continuous values: any bounds, an unbounded end always exclusive."""

    def build(a: Any, b: Any, bounds: str, lower_inf: bool, upper_inf: bool) -> Range[Any]:
        low, high = min(a, b), max(a, b)
        lower = None if lower_inf else low
        upper = None if upper_inf else high
        left = "(" if lower is None else bounds[0]
        right = ")" if upper is None else bounds[1]
        return Range(lower, upper, left + right)

    return st.builds(
        build,
        elements,
        elements,
        st.sampled_from(["[)", "(]", "[]", "()"]),
        st.booleans(),
        st.booleans(),
    ).filter(lambda r: r.lower is None or r.upper is None or r.lower < r.upper)


_dates = st.dates(datetime.date(1, 1, 2), datetime.date(9999, 12, 30))
_stamps = st.datetimes(datetime.datetime(1900, 1, 1), datetime.datetime(2200, 1, 1))
STRATEGIES = {
    "i4": _discrete(st.integers(-(2**31), 2**31 - 2)),
    "i8": _discrete(st.integers(-(2**63), 2**63 - 2)),
    "num": _continuous(
        st.decimals(
            allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9
        )
    ),
    "d": _discrete(_dates),
    "ts": _continuous(_stamps),
    "tstz": _continuous(_stamps.map(lambda v: v.replace(tzinfo=datetime.UTC))),
}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_range_values_round_trip_psycopg(engine: Any, data: st.DataObject) -> None:
    row = {name: data.draw(STRATEGIES[name], label=name) for name in COLUMNS}
    with engine.begin() as conn:
        conn.execute(spans.delete())
        conn.execute(insert(spans), [{"id": 1, **row}])
        got = conn.execute(select(*[spans.c[name] for name in COLUMNS])).one()
    assert dict(zip(COLUMNS, got, strict=True)) == row


def test_range_values_round_trip_asyncpg(engine: Any, backend: Backend) -> None:
    tz = datetime.UTC
    row = {
        "id": 1,
        "i4": Range(1, 10),
        "i8": Range(None, 2**40),
        "num": Range(Decimal("1.5"), Decimal("2.25"), "(]"),
        "d": Range(datetime.date(2024, 1, 1), None),
        "ts": Range(datetime.datetime(2024, 1, 1, 8), datetime.datetime(2024, 1, 1, 9), "[]"),
        "tstz": Range(datetime.datetime(2024, 1, 1, 8, tzinfo=tz), None, "(]"),
        "im": [Range(1, 3), Range(5, 8)],
        "dm": [Range(datetime.date(2024, 1, 1), datetime.date(2024, 2, 1))],
    }
    canonical = {**row, "tstz": Range(row["tstz"].lower, None, "()")}

    async def main() -> Any:
        async_engine = create_async_engine(backend.async_url())
        try:
            async with async_engine.begin() as conn:
                await conn.execute(insert(spans), [row])
                result = await conn.execute(select(spans))
                return result.one()
        finally:
            await async_engine.dispose()

    got = asyncio.run(main())
    assert dict(zip(spans.c.keys(), got, strict=True)) == canonical
    with engine.connect() as conn:  # and what psycopg reads of asyncpg's writing
        assert dict(conn.execute(select(spans)).one()._mapping) == canonical


def test_empty_ranges_and_multiranges(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(spans),
            [{"id": 1, "i4": Range(empty=True), "im": [Range(1, 3), Range(3, 6), Range(9, 10)]}],
        )
        i4, im = conn.execute(select(spans.c.i4, spans.c.im)).one()
    assert i4 == Range(empty=True) and not i4
    assert im == [Range(1, 6), Range(9, 10)]  # PostgreSQL merges adjacent ranges


def test_range_operators(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(spans),
            [
                {"id": 1, "i4": Range(1, 5)},
                {"id": 2, "i4": Range(5, 10)},
                {"id": 3, "i4": Range(20, 30)},
            ],
        )

        def ids(criterion: Any) -> list[int]:
            return conn.scalars(select(spans.c.id).where(criterion).order_by(spans.c.id)).all()

        c = spans.c.i4
        assert ids(c.contains(7)) == [2]
        assert ids(c.contains(Range(21, 25))) == [3]
        assert ids(c.contained_by(Range(0, 11))) == [1, 2]
        assert ids(c.overlaps(Range(4, 6))) == [1, 2]
        assert ids(c.strictly_left_of(Range(10, 11))) == [1, 2]
        assert ids(c.strictly_right_of(Range(0, 10))) == [3]
        assert ids(c.not_extend_right_of(Range(0, 10))) == [1, 2]
        assert ids(c.not_extend_left_of(Range(5, 6))) == [2, 3]
        assert ids(c.adjacent_to(Range(10, 20))) == [2, 3]
        assert conn.scalar(select(c.union(Range(5, 7))).where(spans.c.id == 1)) == Range(1, 7)
        assert conn.scalar(select(c.intersection(Range(3, 8))).where(spans.c.id == 2)) == Range(
            5, 8
        )
        assert conn.scalar(select(c.difference(Range(1, 3))).where(spans.c.id == 1)) == Range(3, 5)


def test_python_side_range_membership() -> None:
    r = Range(1, 5)
    assert [value in r for value in (0, 1, 4, 5)] == [False, True, True, False]
    assert Range(None, 5, "(]").contains(5) is True
    assert (Range(2, 3) in r) is True
    assert (Range(4, 6) in r) is False
    assert Range(empty=True).contains(1) is False
    assert r.contains(Range(empty=True)) is True
    assert (r.lower_inc, r.upper_inc, r.lower_inf) == (True, False, False)
    assert Range(None, 1).lower_inf is True


def test_bad_range_input_is_a_clear_error(engine: Any) -> None:
    with pytest.raises(exc.ArgumentError, match="bounds must be one of"):
        Range(1, 2, "<>")
    with pytest.raises(exc.ArgumentError, match="needs a PostgreSQL range expression"):
        spans.c.id.strictly_left_of(5)
    with (
        pytest.raises(exc.ArgumentError, match=r"INT4RANGE values are Range objects"),
        engine.begin() as conn,
    ):
        conn.execute(insert(spans), [{"id": 1, "i4": (1, 5)}])
    assert "LIKE" in str(literal("abc").contains("b")) and "LIKE" in str(
        Column("s", String).contains("x")
    )
