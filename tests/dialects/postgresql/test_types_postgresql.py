"""PostgreSQL: the driver returns native values, so most types need no result conversion."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor.dialects import postgresql
from athanor.engine import Engine, create_engine
from athanor.sql import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Uuid,
    select,
)
from athanor.sql.types import processors_for
from backends import Backend

dialect = postgresql.dialect()


def test_no_result_processors_for_native_types() -> None:
    types = [Integer(), String(), Numeric(), DateTime(timezone=True), Boolean(), Uuid(), JSON()]
    assert processors_for(types, dialect) is None


def test_json_binds_serialize_and_jsonb_exists() -> None:
    bind = JSON().dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None
    assert bind({"a": [1, None]}) == '{"a": [1, null]}'
    assert issubclass(postgresql.JSONB, postgresql.JSON)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


@pytest.mark.backends("postgresql")
def test_array_and_jsonb_round_trip(engine: Engine) -> None:
    metadata = MetaData()
    t = Table(
        "pg_types",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("tags", postgresql.ARRAY(String(20))),
        Column("doc", postgresql.JSONB),
    )
    metadata.create_all(engine)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        tags=st.lists(
            st.text(
                st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=20,
            ),
            max_size=5,
        ),
        doc=st.dictionaries(
            st.text("abc", max_size=3), st.integers(-1000, 1000) | st.text("xyz", max_size=3)
        ),
    )
    def check(tags: list[str], doc: dict[str, object]) -> None:
        with engine.begin() as conn:
            conn.execute(t.delete())
            conn.execute(t.insert().values(id=1, tags=tags, doc=doc))
            row = conn.execute(select(t.c.tags, t.c.doc).where(t.c.id == 1)).one()
            assert row.tags == tags
            assert row.doc == doc
            if tags:
                assert conn.execute(select(t.c.tags[1])).scalar() == tags[0]

    check()
