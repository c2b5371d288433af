"""Operators: division, bitwise, regular expressions, full text, DISTINCT FROM, ANY/ALL, params().

Each is compiled for every dialect and run on every database.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import exc
from athanor.dialects import mysql, postgresql, sqlite
from athanor.engine import Engine, create_engine
from athanor.schema import DDL
from athanor.sql import (
    Column,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    all_,
    any_,
    bindparam,
    insert,
    literal,
    nulls_first,
    nulls_last,
    select,
    text,
    tuple_,
)
from backends import Backend

PG = postgresql.dialect()
SQLITE = sqlite.dialect()
MYSQL = mysql.dialect()

metadata = MetaData()
nums = Table(
    "op_nums",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("i", Integer),
    Column("n", Numeric(10, 2)),
    Column("s", String(40)),
)


def sql(element: Any, dialect: Any = None) -> str:
    return str(element.compile(dialect=dialect)) if dialect is not None else str(element)


@pytest.mark.parametrize(
    ("dialect", "true_div", "floor_div"),
    [
        (
            None,
            "op_nums.i / CAST(:i_1 AS NUMERIC)",
            "CAST(FLOOR(op_nums.i / CAST(:i_2 AS NUMERIC))",
        ),
        (PG, "op_nums.i / CAST(%(i_1)s AS NUMERIC)", "CAST(FLOOR(op_nums.i / CAST(%(i_2)s AS"),
        (SQLITE, "op_nums.i / CAST(? AS REAL)", "(CAST(op_nums.i / CAST(? AS REAL) AS INTEGER) - "),
        (MYSQL, "op_nums.i / %s", "CAST(FLOOR(op_nums.i / %s) AS SIGNED)"),
    ],
)
def test_division_compiles_per_dialect(dialect: Any, true_div: str, floor_div: str) -> None:
    rendered = sql(select(nums.c.i / 2, nums.c.i // 2), dialect)
    assert true_div in rendered
    assert floor_div in rendered
    # Numeric operands divide as they are; floor division takes the floor.
    numeric = sql(select(nums.c.n / 2, nums.c.n // 2), dialect)
    assert "CAST" not in numeric.split(" FROM ")[0] or dialect is SQLITE


def test_division_result_types() -> None:
    assert isinstance((nums.c.i / 2).type, Numeric)
    assert isinstance((nums.c.i // 2).type, Integer)
    assert isinstance((nums.c.n / 2).type, Numeric)


@pytest.mark.parametrize(
    ("dialect", "xor"),
    [(None, "op_nums.i ^ :i_3"), (PG, "op_nums.i # %(i_3)s"), (MYSQL, "op_nums.i ^ %s")],
)
def test_bitwise_compiles(dialect: Any, xor: str) -> None:
    c = nums.c.i
    rendered = sql(
        select(
            c.bitwise_and(1),
            c.bitwise_or(2),
            c.bitwise_xor(3),
            c.bitwise_not(),
            c.bitwise_lshift(4),
            c.bitwise_rshift(5),
        ),
        dialect,
    )
    assert xor in rendered
    assert "~op_nums.i" in rendered
    assert "<<" in rendered and ">>" in rendered


def test_sqlite_xor_is_spelled_with_and_or() -> None:
    assert "((op_nums.i | ?) - (op_nums.i & ?))" in sql(select(nums.c.i.bitwise_xor(3)), SQLITE)


@pytest.mark.parametrize(
    ("dialect", "match", "insensitive", "replace"),
    [
        (
            PG,
            "op_nums.s ~ %(s_3)s",
            "op_nums.s ~* %(s_4)s",
            "REGEXP_REPLACE(op_nums.s, %(s_1)s, %(s_2)s, 'g')",
        ),
        (
            SQLITE,
            "op_nums.s REGEXP ?",
            "op_nums.s REGEXP ('(?i)' || ?)",
            "regexp_replace(op_nums.s, ?, ?)",
        ),
        (
            MYSQL,
            "op_nums.s REGEXP CONCAT('(?-i)', %s)",
            "op_nums.s REGEXP CONCAT('(?i)', %s)",
            "REGEXP_REPLACE(op_nums.s, CONCAT('(?-i)', %s), %s)",
        ),
    ],
)
def test_regexp_compiles(dialect: Any, match: str, insensitive: str, replace: str) -> None:
    stmt = select(nums.c.s.regexp_replace("a", "b", flags="g")).where(
        nums.c.s.regexp_match("^x"), nums.c.s.regexp_match("^y", flags="i")
    )
    rendered = sql(stmt, dialect)
    assert match in rendered and insensitive in rendered and replace in rendered


def test_regexp_negation_and_bad_flags() -> None:
    assert "op_nums.s !~ %(s_1)s" in sql(select(nums.c.id).where(~nums.c.s.regexp_match("x")), PG)
    assert "NOT REGEXP" in sql(select(nums.c.id).where(~nums.c.s.regexp_match("x")), MYSQL)
    with pytest.raises(exc.CompileError, match="flags must be letters"):
        sql(select(nums.c.id).where(nums.c.s.regexp_match("x", flags="i') OR 1=1 --")))


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (PG, "op_nums.s @@ plainto_tsquery(%(s_1)s)"),
        (MYSQL, "MATCH (op_nums.s) AGAINST (%s IN BOOLEAN MODE)"),
        (SQLITE, "op_nums.s MATCH ?"),
    ],
)
def test_match_compiles(dialect: Any, expected: str) -> None:
    assert expected in sql(select(nums.c.id).where(nums.c.s.match("cat")), dialect)


def test_any_all_compile_with_the_value_first() -> None:
    sub = select(nums.c.i).where(nums.c.id > 2).scalar_subquery()
    assert sql(select(literal(5) == any_(sub)), PG) == (
        "SELECT %(param_1)s = ANY (SELECT op_nums.i FROM op_nums WHERE op_nums.id > %(id_1)s) "
        "AS anon_1"
    )
    assert "%(param_1)s > ALL (SELECT" in sql(select(literal(5) > all_(sub)), PG)
    # Python turns ``5 < x`` around to ``x > 5``; the aggregate turns it back.
    assert "%(i_1)s < ANY (op_nums.i)" in sql(select(nums.c.id).where(any_(nums.c.i) > 5), PG)
    with pytest.raises(exc.CompileError, match="SQLite has no ANY"):
        sql(select(literal(5) == any_(sub)), SQLITE)


def test_params_gives_values_to_named_parameters() -> None:
    stmt = select(nums.c.id).where(nums.c.i == bindparam("wanted"))
    assert stmt.params(wanted=3).compile().params == {"wanted": 3}
    assert stmt.params({"wanted": 4}).compile().params == {"wanted": 4}
    assert stmt.compile().params == {"wanted": None}
    assert stmt.params(wanted=3)._generate_cache_key()[0] == stmt._generate_cache_key()[0]


# --- behaviour on every database -------------------------------------------------------------


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(
            insert(nums),
            [
                {"id": 1, "i": 5, "n": decimal.Decimal("7.50"), "s": "Apple pie"},
                {"id": 2, "i": -5, "n": decimal.Decimal("-7.50"), "s": "banana split"},
                {"id": 3, "i": 12, "n": None, "s": None},
            ],
        )
    yield eng
    eng.dispose()


def test_true_and_floor_division(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            select(nums.c.i / 2, nums.c.i // 2, nums.c.n / 2, nums.c.n // 2)
            .where(nums.c.id < 3)
            .order_by(nums.c.id)
        ).all()
    assert [float(r[0]) for r in rows] == [2.5, -2.5]
    assert [r[1] for r in rows] == [2, -3]
    assert all(isinstance(r[1], int) for r in rows)
    assert [float(r[2]) for r in rows] == [3.75, -3.75]
    assert [int(r[3]) for r in rows] == [3, -4]
    with engine.connect() as conn:
        assert float(conn.scalar(select(literal(5) / literal(2)))) == 2.5
        assert conn.scalar(select(literal(-7) // literal(2))) == -4


def test_bitwise_operators(engine: Engine) -> None:
    c = nums.c.i
    with engine.connect() as conn:
        row = conn.execute(
            select(
                c.bitwise_and(6),
                c.bitwise_or(2),
                c.bitwise_xor(6),
                c.bitwise_not(),
                c.bitwise_lshift(2),
                c.bitwise_rshift(1),
            ).where(nums.c.id == 3)
        ).one()
    assert tuple(int(v) for v in row[:3]) == (12 & 6, 12 | 2, 12 ^ 6)
    assert int(row[3]) in (~12, 2**64 + ~12)  # MySQL's ~ is unsigned 64-bit
    assert (int(row[4]), int(row[5])) == (48, 6)


def test_regexp_match_and_replace(engine: Engine) -> None:
    with engine.connect() as conn:
        found = conn.scalars(
            select(nums.c.id).where(nums.c.s.regexp_match("^a")).order_by(nums.c.id)
        ).all()
        insensitive = conn.scalars(
            select(nums.c.id).where(nums.c.s.regexp_match("^a", flags="i")).order_by(nums.c.id)
        ).all()
        negated = conn.scalars(
            select(nums.c.id).where(~nums.c.s.regexp_match("^a", flags="i"))
        ).all()
        replaced = conn.scalar(
            select(nums.c.s.regexp_replace("a(n)", "<\\1>", flags="g")).where(nums.c.id == 2)
        )
    assert found == []
    assert insensitive == [1]
    assert negated == [2]
    assert replaced == "b<n><n>a split"


def test_is_distinct_from_treats_null_as_a_value(engine: Engine) -> None:
    with engine.connect() as conn:
        distinct = conn.scalars(
            select(nums.c.id).where(nums.c.s.is_distinct_from(None)).order_by(nums.c.id)
        ).all()
        same = conn.scalars(select(nums.c.id).where(nums.c.n.is_not_distinct_from(None))).all()
    assert distinct == [1, 2]
    assert same == [3]


def test_any_and_all_with_a_subquery(engine: Engine, backend: Backend) -> None:
    sub = select(nums.c.i).where(nums.c.id < 3).scalar_subquery()
    stmt = select(literal(5) == any_(sub), literal(6) > all_(sub))
    with engine.connect() as conn:
        if backend.name == "sqlite":
            with pytest.raises(exc.CompileError, match=r"in_\(\)"):
                conn.execute(stmt)
            return
        assert tuple(bool(v) for v in conn.execute(stmt).one()) == (True, True)


def test_params_on_execution(engine: Engine) -> None:
    stmt = select(nums.c.s).where(nums.c.id == bindparam("pk"))
    with engine.connect() as conn:
        assert conn.scalar(stmt.params(pk=1)) == "Apple pie"
        assert conn.scalar(stmt.params(pk=2)) == "banana split"
        assert conn.scalar(text("SELECT :v + 1").params(v=41)) == 42


def test_full_text_match(engine: Engine, backend: Backend) -> None:
    docs = Table(
        "op_docs", MetaData(), Column("id", Integer, primary_key=True), Column("body", String(200))
    )
    with engine.begin() as conn:
        if backend.name == "sqlite":
            conn.execute(DDL("CREATE VIRTUAL TABLE op_docs USING fts5(id, body)"))
        else:
            docs.create(conn)
            if backend.name == "mysql":
                conn.execute(DDL("CREATE FULLTEXT INDEX op_docs_body ON op_docs (body)"))
        conn.execute(
            insert(docs),
            [{"id": 1, "body": "the quick brown fox"}, {"id": 2, "body": "a lazy dog sleeps"}],
        )
    with engine.connect() as conn:
        assert conn.scalars(select(docs.c.id).where(docs.c.body.match("fox"))).all() == [1]
        negated = select(docs.c.id).where(~docs.c.body.match("fox"))
        if backend.name == "sqlite":
            with pytest.raises(exc.CompileError, match="cannot negate MATCH"):
                conn.execute(negated)
        else:
            assert conn.scalars(negated).all() == [2]


@pytest.mark.parametrize(
    "column",
    [
        nums.c.i.desc(),
        nums.c.i.asc(),
        nums.c.i.asc().nulls_first(),
        nulls_last(nums.c.i),
        nulls_first(nums.c.i.desc()).label("first"),
    ],
)
def test_an_ordering_is_refused_as_a_selected_column(engine: Engine, column: Any) -> None:
    for dialect in (SQLITE, PG, MYSQL):
        with pytest.raises(exc.CompileError, match=r"\.order_by\(\)"):
            select(column).compile(dialect=dialect)
    with engine.connect() as conn, pytest.raises(exc.CompileError, match="orders rows"):
        conn.execute(select(nums.c.id, column))
    with engine.connect() as conn:
        assert conn.execute(select(nums.c.i).order_by(column)).scalars().all()


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (SQLITE, "(op_nums.i, op_nums.s) = (?, ?)"),
        (PG, "(op_nums.i, op_nums.s) = (%(param_1)s, %(param_2)s)"),
        (MYSQL, "(op_nums.i, op_nums.s) = (%s, %s)"),
    ],
)
def test_a_tuple_comparison_binds_each_member(dialect: Any, expected: str) -> None:
    comparison = tuple_(nums.c.i, nums.c.s) == (5, "Apple pie")
    assert sql(comparison, dialect) == expected
    assert comparison.compile().params == {"param_1": 5, "param_2": "Apple pie"}
    with pytest.raises(exc.ArgumentError, match="tuple_\\(\\) of 2 expressions with 3 values"):
        tuple_(nums.c.i, nums.c.s) == (5, "Apple pie", 1)  # noqa: B015


def test_tuple_comparisons_run(engine: Engine) -> None:
    pair = tuple_(nums.c.i, nums.c.s)
    with engine.connect() as conn:
        ids = select(nums.c.id).order_by(nums.c.id)
        assert conn.execute(ids.where(pair == (5, "Apple pie"))).scalars().all() == [1]
        assert conn.execute(ids.where(pair != (5, "Apple pie"))).scalars().all() == [2, 3]
        assert conn.execute(ids.where(pair < (5, "Apple pie"))).scalars().all() == [2]
        matched = select(nums.c.id, pair == (-5, "banana split")).order_by(nums.c.id)
        assert [(i, bool(m)) for i, m in conn.execute(matched.where(nums.c.id < 3))] == [
            (1, False),
            (2, True),
        ]


def test_tuple_in_expands_each_list_through_one_cached_statement(engine: Engine) -> None:
    pair = tuple_(nums.c.i, nums.c.s)
    ids = select(nums.c.id).order_by(nums.c.id)
    by_bind = ids.where(pair.in_(bindparam("pairs", expanding=True)))
    lists: list[list[tuple[int, str]]] = [
        [(5, "Apple pie"), (-5, "banana split"), (7, "none")],
        [(-5, "banana split")],
        [],
    ]
    with engine.connect() as conn:
        for _ in range(2):
            found = [conn.execute(by_bind, {"pairs": pairs}).scalars().all() for pairs in lists]
            assert found == [[1, 2], [2], []]
            found = [conn.execute(ids.where(pair.in_(pairs))).scalars().all() for pairs in lists]
            assert found == [[1, 2], [2], []]
        assert conn.execute(ids.where(pair.not_in([]))).scalars().all() == [1, 2, 3]
        assert conn.execute(ids.where(pair.not_in(lists[1]))).scalars().all() == [1, 3]
