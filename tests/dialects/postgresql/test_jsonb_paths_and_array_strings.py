"""JSONB SQL/JSON path operators (path_exists, path_match, delete_path), and statements with
PostgreSQL arrays and types printed with str() (no dialect)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import athanor
from athanor import exc
from athanor.dialects import postgresql, sqlite
from athanor.engine import Engine, create_engine
from athanor.schema import CreateTable
from athanor.sql import ARRAY, Column, Integer, MetaData, String, Table, cast, insert, select
from backends import Backend

metadata = MetaData()
docs = Table(
    "jp_docs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", postgresql.JSONB),
    Column("tags", postgresql.ARRAY(String(10))),
)


def test_path_operators_compile() -> None:
    stmt = select(
        docs.c.body.path_exists("$.a"),
        docs.c.body.path_match("$.n > 1"),
        docs.c.body.delete_path(["a", "b"]),
    )
    assert str(stmt.compile(dialect=postgresql.dialect())) == (
        "SELECT jp_docs.body @? CAST(%(param_1)s AS JSONPATH) AS anon_1, "
        "jp_docs.body @@ CAST(%(param_2)s AS JSONPATH) AS anon_2, "
        "jp_docs.body #- CAST(%(param_3)s AS TEXT[]) AS anon_3 FROM jp_docs"
    )
    with pytest.raises(exc.ArgumentError, match="works on PostgreSQL JSONB"):
        docs.c.tags.path_exists("$.a")


def test_str_renders_arrays_and_postgresql_types() -> None:
    assert "\ttags VARCHAR(10)[]" in str(CreateTable(docs))
    assert str(select(postgresql.array([1, 2]))) == "SELECT ARRAY[:param_1, :param_2] AS anon_1"
    assert "CAST(jp_docs.body AS INTEGER[])" in str(select(cast(docs.c.body, ARRAY(Integer))))
    assert "@? CAST(:param_1 AS JSONPATH)" in str(select(docs.c.body.path_exists("$.a")))
    assert athanor.schema.CreateTable is CreateTable
    with pytest.raises(exc.CompileError, match="sqlite has no arrays"):
        select(postgresql.array([1])).compile(dialect=sqlite.dialect())
    with pytest.raises(exc.CompileError, match="no ARRAY type"):
        CreateTable(docs).compile(dialect=sqlite.dialect())


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.mark.backends("postgresql")
def test_path_operators_run(engine: Engine) -> None:
    rows = [
        {"id": 1, "body": {"a": {"b": 1, "c": 2}, "n": 5}, "tags": ["x"]},
        {"id": 2, "body": {"n": 0}, "tags": []},
    ]
    with engine.begin() as conn:
        conn.execute(insert(docs), rows)
        having_a = select(docs.c.id).where(docs.c.body.path_exists("$.a.b"))
        assert conn.execute(having_a).scalars().all() == [1]
        big = select(docs.c.id).where(docs.c.body.path_match("$.n > 1"))
        assert conn.execute(big).scalars().all() == [1]
        pruned = select(docs.c.body.delete_path(["a", "b"])).where(docs.c.id == 1)
        assert conn.execute(pruned).scalar_one() == {"a": {"c": 2}, "n": 5}
        text_of = select(docs.c.body["n"].astext, docs.c.body[("a", "c")].astext)
        assert conn.execute(text_of.where(docs.c.id == 1)).one() == ("5", "2")
        arrays = select(postgresql.array([docs.c.id, 7])).where(docs.c.id == 2)
        assert conn.execute(arrays).scalar_one() == [2, 7]
