"""The names a SELECT gives its unlabelled columns, which are the keys of its rows
(``result.keys()``, ``row._mapping``, ``mappings()``), as SQLAlchemy names them: a function
``count_1``, a repeat of a column ``x__1``, another column of a taken name ``x_1``, an anonymous
label ``x_1`` / ``anon_1``; ``selected_columns`` and a subquery's ``.c`` keep a function's own
name (``count``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from athanor.engine import Engine, create_engine
from athanor.sql import (
    LABEL_STYLE_NONE,
    LABEL_STYLE_TABLENAME_PLUS_COL,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    select,
    text,
    type_coerce,
    union_all,
)
from backends import Backend

metadata = MetaData()
t = Table(
    "lbl_t",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("x", Integer),
    Column("a", String(20)),
)
u = Table(
    "lbl_u",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("x", Integer),
    Column("t_id", Integer),
)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(t.insert(), [{"id": 1, "x": 2, "a": "q"}])
        conn.execute(u.insert(), [{"id": 1, "x": 3, "t_id": 1}])
    yield eng
    metadata.drop_all(eng)
    eng.dispose()


CASES: dict[str, tuple[Callable[[], Any], list[str]]] = {
    "function": (lambda: select(func.count(t.c.id)), ["count_1"]),
    "count(*)": (lambda: select(func.count()).select_from(t), ["count_1"]),
    "two functions": (lambda: select(func.count(t.c.id), func.max(t.c.x)), ["count_1", "max_1"]),
    "one function twice": (
        lambda: select(func.count(t.c.id), func.count(t.c.x)),
        ["count_1", "count_2"],
    ),
    "column and function of its name": (
        lambda: select(t.c.x, func.max(t.c.x)).group_by(t.c.x),
        ["x", "max_1"],
    ),
    "explicit label beside a function": (
        lambda: select(func.count(t.c.id).label("n"), func.count(t.c.x)),
        ["n", "count_1"],
    ),
    "function under cast": (lambda: select(cast(func.count(t.c.id), String)), ["count_1"]),
    "function under type_coerce": (
        lambda: select(type_coerce(func.count(t.c.id), String)),
        ["count_1"],
    ),
    "column twice": (lambda: select(t.c.a, t.c.a), ["a", "a__1"]),
    "column three times": (lambda: select(t.c.a, t.c.a, t.c.a), ["a", "a__1", "a__2"]),
    "same-named columns": (
        lambda: select(t.c.id, u.c.id, t.c.x, u.c.x).where(t.c.id == u.c.t_id),
        ["id", "id_1", "x", "x_1"],
    ),
    "same-named column repeated": (
        lambda: select(t.c.x, u.c.x, t.c.x, u.c.x).where(t.c.id == u.c.t_id),
        ["x", "x_1", "x__1", "x__2"],
    ),
    "label taking a column's name": (
        lambda: select(t.c.id.label("x"), t.c.x, t.c.x),
        ["x", "x_1", "x__1"],
    ),
    "explicit labels kept as given": (
        lambda: select(t.c.x.label("v"), t.c.id.label("v")),
        ["v", "v"],
    ),
    "cast of a taken name": (lambda: select(t.c.x, cast(t.c.x, String)), ["x", "x__1"]),
    "anonymous label of a column": (lambda: select(t.c.x.label(None)), ["x_1"]),
    "anonymous labels": (
        lambda: select(t.c.x.label(None), t.c.x.label(None), (t.c.x + 1).label(None)),
        ["x_1", "x_2", "anon_1"],
    ),
    "anonymous label of a function": (lambda: select(func.count(t.c.id).label(None)), ["count_1"]),
    "expressions": (
        lambda: select(t.c.id, t.c.x + 1, t.c.x * 2, literal(1)),
        ["id", "anon_1", "anon_2", "anon_3"],
    ),
    "window function": (lambda: select(func.row_number().over(order_by=t.c.id)), ["anon_1"]),
    "aggregate filter": (lambda: select(func.count(t.c.id).filter(t.c.x > 0)), ["anon_1"]),
    "negated function": (lambda: select(-func.count(t.c.id)), ["anon_1"]),
    "case": (lambda: select(case((t.c.x > 1, "a"), else_="b")), ["anon_1"]),
    "cast of a column": (lambda: select(cast(t.c.x, String)), ["x"]),
    "literal_column twice": (lambda: select(literal_column("1"), literal_column("1")), ["1", "1"]),
    "tablename_plus_col": (
        lambda: (
            select(t.c.id, u.c.id, func.count(t.c.x), t.c.x + 1, t.c.id)
            .where(t.c.id == u.c.t_id)
            .group_by(t.c.id, u.c.id, t.c.x)
            .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
        ),
        ["lbl_t_id", "lbl_u_id", "count_1", "anon_1", "lbl_t_id__1"],
    ),
    "label style none": (
        lambda: select(t.c.id, u.c.id).where(t.c.id == u.c.t_id).set_label_style(LABEL_STYLE_NONE),
        ["id", "id"],
    ),
    "union": (
        lambda: union_all(select(func.count(t.c.id)), select(func.count(u.c.id))),
        ["count_1"],
    ),
}


@pytest.mark.parametrize("case_name", list(CASES))
def test_result_keys(engine: Engine, case_name: str) -> None:
    make, expected = CASES[case_name]
    stmt = make()
    with engine.connect() as conn:
        result = conn.execute(stmt)
        assert list(result.keys()) == expected
        row = result.first()
    assert row is not None
    assert list(row._mapping.keys()) == expected
    assert list(row._fields) == expected
    with engine.connect() as conn:
        mapped = conn.execute(stmt).mappings().first()
    assert mapped is not None
    assert list(mapped.keys()) == expected


def test_rendered_labels() -> None:
    stmt = select(t.c.a, t.c.a, func.count(t.c.id), func.max(t.c.x), t.c.x.label(None))
    assert str(stmt) == (
        "SELECT lbl_t.a, lbl_t.a AS a__1, count(lbl_t.id) AS count_1, max(lbl_t.x) AS max_1, "
        "lbl_t.x AS x_1 FROM lbl_t"
    )


def test_selected_columns_keep_function_names() -> None:
    stmt = select(func.count(t.c.id), t.c.a, t.c.a, func.max(t.c.x), t.c.x + 1)
    assert list(stmt.selected_columns.keys()) == ["count", "a", "a_1", "max", "anon_1"]
    assert list(stmt.subquery().c.keys()) == ["count", "a", "a_1", "max", "anon_1"]
    assert [d["name"] for d in stmt.column_descriptions] == ["count", "a", "a_1", "max", "anon_1"]


def test_subquery_and_cte_columns(engine: Engine) -> None:
    """A subquery's column is keyed by the function's name but refers to its ``count_1``;
    selected from outside, it is ``count_1`` again."""
    inner = select(t.c.a, func.count(t.c.id), t.c.a, func.max(t.c.x)).group_by(t.c.a)
    sub = inner.subquery()
    cte = inner.cte()
    with engine.connect() as conn:
        for source in (sub, cte):
            result = conn.execute(select(source))
            assert list(result.keys()) == ["a", "count_1", "a_1", "max_1"]
            assert result.one() == ("q", 1, "q", 2)
            result = conn.execute(select(source.c.count, source.c.max, source.c.a_1))
            assert list(result.keys()) == ["count_1", "max_1", "a"]
            assert result.one() == (1, 2, "q")
        total = conn.execute(select(func.sum(sub.c.count))).one()
        assert list(total._mapping) == ["sum_1"]
        assert total.sum_1 == 1


def test_textual_columns(engine: Engine) -> None:
    stmt = text("SELECT x, id FROM lbl_t").columns(t.c.x, t.c.id)
    with engine.connect() as conn:
        assert list(conn.execute(stmt).keys()) == ["x", "id"]
        assert list(conn.execute(select(stmt.subquery())).keys()) == ["x", "id"]


def test_extract_key(engine: Engine) -> None:
    stmt = select(extract("year", func.current_date()))
    with engine.connect() as conn:
        assert list(conn.execute(stmt).keys()) == ["anon_1"]


def test_order_by_name_of_a_function() -> None:
    """``order_by()`` by name takes the function's key or the name the statement gives it."""
    for name in ("count", "count_1"):
        stmt = select(t.c.a, func.count(t.c.id)).group_by(t.c.a).order_by(name)
        assert str(stmt).endswith("ORDER BY count_1")


_POOL: list[Callable[[], Any]] = [
    lambda: t.c.x,
    lambda: t.c.a,
    lambda: u.c.x,
    lambda: t.c.id,
    lambda: u.c.id,
    lambda: func.count(t.c.id),
    lambda: func.max(t.c.x),
    lambda: func.max(u.c.x),
    lambda: t.c.x + 1,
    lambda: t.c.x.label(None),
    lambda: func.count(t.c.x).label(None),
    lambda: cast(t.c.x, String),
    lambda: literal(5),
]
_SHARED = [make() for make in _POOL]
_AS = re.compile(r" AS (\w+)$")


@functools.cache
def _sqlite() -> Engine:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"id": 1, "x": 2, "a": "q"}])
        conn.execute(u.insert(), [{"id": 1, "x": 3, "t_id": 1}])
    return engine


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_POOL) - 1), st.booleans()), min_size=1, max_size=8))
def test_names_unique_rendered_and_reachable(picks: list[tuple[int, bool]]) -> None:
    """Whatever is selected (the same objects again or equal new ones): the names are unique,
    each is the name the SQL gives its column and the key of its value in the rows, and a
    SELECT over the statement as a subquery finds every value."""
    columns = [_SHARED[i] if again else _POOL[i]() for i, again in picks]
    stmt = select(*columns).where(t.c.id == u.c.t_id)
    labels = [name for name, _ in stmt._named_columns()]
    assert len(set(labels)) == len(labels)
    rendered = str(stmt).split(" FROM ", 1)[0].removeprefix("SELECT ").split(", ")
    for name, sql in zip(labels, rendered, strict=True):
        found = _AS.search(sql)
        assert (found.group(1) if found else sql.rsplit(".", 1)[-1]) == name
    keys = list(stmt.selected_columns.keys())
    assert len(set(keys)) == len(keys)
    assert list(stmt.subquery().c.keys()) == keys
    with _sqlite().connect() as conn:
        row = conn.execute(stmt).one()
        assert list(row._mapping) == labels
        outer = conn.execute(select(stmt.subquery())).one()
    assert tuple(outer) == tuple(row)


def test_returning_keys(engine: Engine) -> None:
    """RETURNING names its columns as a SELECT does."""
    with engine.begin() as conn:
        result = conn.execute(
            t.insert()
            .values(id=2, x=5, a="Z")
            .returning(t.c.id, func.lower(t.c.a), t.c.x + 1, t.c.x, t.c.x)
        )
        assert list(result.keys()) == ["id", "lower_1", "anon_1", "x", "x__1"]
        assert result.one() == (2, "z", 6, 5, 5)
        result = conn.execute(t.delete().where(t.c.id == 2).returning(t.c.id, literal(7)))
        assert list(result.keys()) == ["id", "anon_1"]
        assert result.one() == (2, 7)
