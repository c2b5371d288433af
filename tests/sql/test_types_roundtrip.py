"""Every type round-trips the same Python value on every database (hypothesis-driven)."""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor.engine import Engine, create_engine
from athanor.sql import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Enum,
    Float,
    Integer,
    Interval,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    TypeDecorator,
    Unicode,
    Uuid,
    select,
)
from backends import Backend


class Color(enum.Enum):
    RED = "r"
    GREEN = "g"
    BLUE = "b"


class CommaList(TypeDecorator):
    """A user type: a list of strings stored as one comma-separated string."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else ",".join(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.split(",")


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


def _text(backend: Backend, max_size: int) -> st.SearchStrategy[str]:
    # PostgreSQL text cannot hold NUL; everything else must survive unchanged.
    exclude = ["\x00"] if backend.name == "postgresql" else []
    alphabet = st.characters(blacklist_categories=("Cs",), blacklist_characters=exclude)
    return st.text(alphabet, max_size=max_size)


_OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))


def _json(backend: Backend) -> st.SearchStrategy[Any]:
    leaves = (
        st.none()
        | st.booleans()
        | st.integers(-(2**53), 2**53)
        | st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False)
        | _text(backend, 20)
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(_text(backend, 10), inner, max_size=4)
        ),
        max_leaves=10,
    )


def _float_equal(a: Any, b: Any) -> bool:
    return a == b or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6))


Case = tuple[str, Any, Callable[[Backend], st.SearchStrategy[Any]], Callable[[Any, Any], bool]]

CASES: list[Case] = [
    ("integer", Integer, lambda b: st.integers(-(2**31), 2**31 - 1), lambda a, b: a == b),
    ("bigint", BigInteger, lambda b: st.integers(-(2**63), 2**63 - 1), lambda a, b: a == b),
    ("smallint", SmallInteger, lambda b: st.integers(-(2**15), 2**15 - 1), lambda a, b: a == b),
    ("string", String(60), lambda b: _text(b, 60), lambda a, b: a == b),
    ("text", Text, lambda b: _text(b, 500), lambda a, b: a == b),
    ("unicode", Unicode(40), lambda b: _text(b, 40), lambda a, b: a == b),
    ("boolean", Boolean, lambda b: st.booleans(), lambda a, b: a is b),
    (
        "float",
        Float,
        lambda b: (
            st.floats(-1e30, 1e30, allow_nan=False)
            .filter(lambda f: f == 0 or abs(f) > 1e-30)
            .map(lambda f: float(f"{f:.6g}"))
        ),
        _float_equal,
    ),
    (
        "double",
        Double,
        lambda b: st.floats(-1e300, 1e300, allow_nan=False, allow_subnormal=False),
        lambda a, b: a == b,
    ),
    (
        "numeric",
        Numeric(14, 4),
        lambda b: st.decimals(Decimal("-99999999.9999"), Decimal("99999999.9999"), places=4),
        lambda a, b: a == b and isinstance(b, Decimal),
    ),
    (
        "date",
        Date,
        lambda b: st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)),
        lambda a, b: a == b,
    ),
    (
        "datetime",
        DateTime,
        lambda b: st.datetimes(dt.datetime(1000, 1, 1), dt.datetime(9999, 12, 31)),
        lambda a, b: a == b and b.tzinfo is None,
    ),
    (
        "datetime_tz",
        DateTime(timezone=True),
        lambda b: st.datetimes(
            dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1), timezones=_OFFSETS
        ),
        lambda a, b: a == b and b.tzinfo is not None,
    ),
    ("time", Time, lambda b: st.times(), lambda a, b: a == b),
    (
        "interval",
        Interval,
        lambda b: st.timedeltas(dt.timedelta(days=-1000), dt.timedelta(days=1000)),
        lambda a, b: a == b,
    ),
    ("binary", LargeBinary, lambda b: st.binary(max_size=300), lambda a, b: a == b),
    ("json", JSON, _json, lambda a, b: a == b),
    ("enum_python", Enum(Color), lambda b: st.sampled_from(Color), lambda a, b: a is b),
    (
        "enum_strings",
        Enum("small", "medium", "large", name="size"),
        lambda b: st.sampled_from(["small", "medium", "large"]),
        lambda a, b: a == b,
    ),
    ("uuid", Uuid, lambda b: st.uuids(), lambda a, b: a == b),
    (
        "type_decorator",
        CommaList(100),
        lambda b: st.lists(st.text("abcxyz", min_size=1, max_size=5), min_size=1, max_size=5),
        lambda a, b: a == b,
    ),
]


@pytest.mark.parametrize(("name", "type_", "strategy", "same"), CASES, ids=[c[0] for c in CASES])
def test_type_round_trip(
    engine: Engine,
    backend: Backend,
    name: str,
    type_: Any,
    strategy: Callable[[Backend], st.SearchStrategy[Any]],
    same: Callable[[Any, Any], bool],
) -> None:
    metadata = MetaData()
    table = Table(
        f"rt_{name}",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("value", type_),
    )
    metadata.create_all(engine)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(value=strategy(backend))
    def check(value: Any) -> None:
        with engine.begin() as conn:
            conn.execute(table.delete())
            conn.execute(table.insert().values(id=1, value=value))
            got = conn.execute(select(table.c.value).where(table.c.id == 1)).scalar_one()
            assert same(value, got), (value, got)
            conn.execute(table.insert(), {"id": 2, "value": value})
            got = conn.execute(select(table.c.value).where(table.c.id == 2)).scalar_one()
            assert same(value, got), (value, got)
            assert conn.execute(select(table.c.value).where(table.c.id == 3)).first() is None

    check()
    with engine.begin() as conn:
        conn.execute(table.insert(), {"id": 9, "value": None})
        assert conn.execute(select(table.c.value).where(table.c.id == 9)).scalar_one() is None
