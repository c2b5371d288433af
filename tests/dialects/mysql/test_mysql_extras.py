"""MySQL/MariaDB-only constructs: MATCH ... AGAINST, BIT, INET4/INET6 and the national and
binary string types, on MariaDB."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor import exc
from athanor.dialects import mysql
from athanor.engine import create_engine
from athanor.sql import Column, Integer, MetaData, Table, insert, select, text
from backends import Backend

pytestmark = pytest.mark.backends("mysql")

metadata = MetaData()
articles = Table(
    "my_articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", mysql.NVARCHAR(100)),
    Column("body", mysql.NVARCHAR(400)),
    mysql_engine="InnoDB",
)
odd = Table(
    "my_odd",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bits", mysql.BIT(12)),
    Column("v4", mysql.INET4()),
    Column("v6", mysql.INET6()),
    Column("code", mysql.NCHAR(3)),
    Column("raw", mysql.BINARY(4)),
    Column("ratio", mysql.REAL(asdecimal=False)),
)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Any]:
    engine = create_engine(backend.url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE FULLTEXT INDEX my_articles_ft ON my_articles (title, body)"))
    yield engine
    engine.dispose()


def test_match_against_with_a_fulltext_index(engine: Any) -> None:
    rows = [
        (1, "Database tuning", "indexes make queries fast"),
        (2, "Gardening", "tomatoes need sun and water"),
        (3, "Query planning", "the planner chooses indexes for queries"),
        (4, "Cooking", "tomatoes and basil"),
        (5, "Travel", "trains across the alps"),
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(articles), [dict(zip(("id", "title", "body"), r, strict=True)) for r in rows]
        )
    # InnoDB updates a FULLTEXT index when the inserting transaction commits
    with engine.connect() as conn:
        found = mysql.match(articles.c.title, articles.c.body, against="indexes")
        ids = conn.scalars(select(articles.c.id).where(found).order_by(articles.c.id)).all()
        assert ids == [1, 3]
        boolean = mysql.match(articles.c.title, articles.c.body, against="+tomatoes -basil")
        where = boolean.in_boolean_mode()
        assert conn.scalars(select(articles.c.id).where(where)).all() == [2]
        relevance = conn.execute(
            select(articles.c.id, found.label("score")).order_by(articles.c.id)
        ).all()
        assert [r.id for r in relevance if r.score > 0] == [1, 3]
    sql = str(select(where).compile(dialect=engine.dialect))
    assert "MATCH (my_articles.title, my_articles.body) AGAINST (%s IN BOOLEAN MODE)" in sql
    natural = found.in_natural_language_mode().with_query_expansion()
    assert natural.modifiers() == "IN NATURAL LANGUAGE MODE WITH QUERY EXPANSION"


def test_match_modifiers_that_cannot_combine() -> None:
    found = mysql.match(articles.c.title, against="x")
    with pytest.raises(exc.ArgumentError, match="BOOLEAN MODE"):
        found.in_boolean_mode().with_query_expansion()
    with pytest.raises(exc.ArgumentError, match="BOOLEAN MODE"):
        found.in_natural_language_mode().in_boolean_mode()
    with pytest.raises(exc.ArgumentError, match="at least one column"):
        mysql.match(against="x")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    bits=st.integers(0, 2**12 - 1),
    v4=st.ip_addresses(v=4).map(str),
    v6=st.ip_addresses(v=6).map(lambda a: a.compressed),
    code=st.text(
        st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs", "Cc", "Zs")),
        min_size=3,
        max_size=3,
    ),
    raw=st.binary(min_size=4, max_size=4),
    ratio=st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 3)),
)
def test_mariadb_types_round_trip(
    engine: Any, bits: int, v4: str, v6: str, code: str, raw: bytes, ratio: float
) -> None:
    row = {"id": 1, "bits": bits, "v4": v4, "v6": v6, "code": code, "raw": raw, "ratio": ratio}
    with engine.begin() as conn:
        conn.execute(odd.delete())
        conn.execute(insert(odd), [row])
        got = dict(conn.execute(select(odd)).one()._mapping)
    # the same address, which MariaDB may spell another way (::ffff:0.0.0.0 for ::ffff:0:0)
    assert ipaddress.ip_address(got.pop("v6")) == ipaddress.ip_address(row.pop("v6"))
    assert got == row
