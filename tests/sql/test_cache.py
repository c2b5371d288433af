"""The structural statement cache: keys ignore values, extraction order, and the cost of keys."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from athanor.dialects import postgresql, sqlite
from athanor.sql import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    text,
)
from athanor.sql.compiler import cache_key, compile_cached

metadata = MetaData()
t = Table(
    "customer",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255)),
    Column("description", String(255)),
)
child = Table(
    "child",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cid", ForeignKey("customer.id")),
)


def test_same_shape_same_key_different_values() -> None:
    a = select(t).where(t.c.id == 5)
    b = select(t).where(t.c.id == 6)
    assert cache_key(a) == cache_key(b)
    assert cache_key(a) != cache_key(select(t).where(t.c.id > 5))
    assert cache_key(a) != cache_key(select(t).where(t.c.name == "x"))
    assert cache_key(select(t).limit(1)) != cache_key(select(t))


def test_cached_compile_reuses_and_extracts_new_values() -> None:
    cache: dict[object, object] = {}
    dialect = sqlite.dialect()
    first, extracted = compile_cached(select(t).where(t.c.id == 5), dialect, cache)
    second, extracted2 = compile_cached(select(t).where(t.c.id == 6), dialect, cache)
    assert first is second
    assert len(cache) == 1
    assert first.prepare(extracted2, None)[1] == [6]
    assert first.prepare(extracted, None)[1] == [5]


def test_extraction_order_follows_structure_not_render_order() -> None:
    cte = select(t.c.id).where(t.c.name == "in-cte").cte("c")
    stmt = select(cte.c.id).where(cte.c.id > 3).limit(2)
    cache: dict[object, object] = {}
    dialect = sqlite.dialect()
    compiled, extracted = compile_cached(stmt, dialect, cache)
    assert compiled.prepare(extracted, None)[1] == ["in-cte", 3, 2]
    cte2 = select(t.c.id).where(t.c.name == "other").cte("c")
    stmt2 = select(cte2.c.id).where(cte2.c.id > 9).limit(7)
    again, extracted2 = compile_cached(stmt2, dialect, cache)
    assert again is compiled
    assert again.prepare(extracted2, None)[1] == ["other", 9, 7]


def test_anonymous_aliases_of_different_tables_do_not_collide() -> None:
    a = select(t.alias().c.id)
    b = select(child.alias().c.id)
    assert cache_key(a) != cache_key(b)
    c = select(t.alias().c.id)
    assert cache_key(a) == cache_key(c)


def test_explicit_bindparam_names_are_part_of_the_key() -> None:
    assert cache_key(select(t).where(t.c.id == bindparam("a"))) != cache_key(
        select(t).where(t.c.id == bindparam("b"))
    )


def test_text_is_cached_by_its_text() -> None:
    assert cache_key(text("select :x")) == cache_key(text("select :x"))
    assert cache_key(text("select :x")) != cache_key(text("select :y"))


def test_in_list_length_does_not_change_the_key() -> None:
    assert cache_key(select(t).where(t.c.id.in_([1]))) == cache_key(
        select(t).where(t.c.id.in_([1, 2, 3]))
    )


def test_literal_types_change_the_key() -> None:
    assert cache_key(select(literal(1))) != cache_key(select(literal("1")))


def test_insert_values_shape_is_cached() -> None:
    cache: dict[object, object] = {}
    dialect = postgresql.dialect()
    c1, _ = compile_cached(insert(t).values(name="a"), dialect, cache)
    c2, e2 = compile_cached(insert(t).values(name="b"), dialect, cache)
    assert c1 is c2
    assert c2.prepare(e2, None)[1] == {"name": "b"}


def test_functions_are_keyed_by_name() -> None:
    assert cache_key(select(func.max(t.c.id))) != cache_key(select(func.min(t.c.id)))


def _calls(work: Callable[[Any], object], stmt: Any) -> int:
    """How many functions ``work(stmt)`` calls: a measure of cost that machine load cannot skew."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        work(stmt)
    finally:
        sys.setprofile(None)
    return calls


def test_key_is_much_cheaper_than_compiling() -> None:
    dialect = sqlite.dialect()
    key_calls = _calls(lambda stmt: stmt._generate_cache_key(), select(t).where(t.c.id == 5))
    compile_calls = _calls(
        lambda stmt: dialect.statement_compiler(dialect, stmt), select(t).where(t.c.id == 5)
    )
    assert key_calls * 3 < compile_calls


def test_insert_parameters_pick_their_variant_by_names_in_any_order() -> None:
    dialect = sqlite.dialect()
    compiled, extracted = compile_cached(insert(t), dialect, {})
    both = compiled.prepare(extracted, {"name": "a", "description": "b"})
    swapped = compiled.prepare(extracted, {"description": "b", "name": "a"})
    one = compiled.prepare(extracted, {"name": "a"})
    extra = compiled.prepare(extracted, {"name": "a", "unknown": 1})
    again = compiled.prepare(extracted, {"description": "b", "name": "a"})
    assert (
        both[0]
        == swapped[0]
        == again[0]
        == "INSERT INTO customer (name, description) VALUES (?, ?)"
    )
    assert list(both[1]) == list(swapped[1]) == list(again[1]) == ["a", "b"]
    assert one[0] == extra[0] == "INSERT INTO customer (name) VALUES (?)"
    assert list(one[1]) == list(extra[1]) == ["a"]


def test_a_statement_remembers_a_bounded_number_of_parameter_name_orders() -> None:
    from athanor.sql.compiler import _VARIANT_NAMES_KEPT

    dialect = sqlite.dialect()
    compiled, extracted = compile_cached(insert(t), dialect, {})
    for i in range(_VARIANT_NAMES_KEPT + 10):
        sql, values = compiled.prepare(extracted, {"name": "a", f"extra_{i}": i})
        assert sql == "INSERT INTO customer (name) VALUES (?)"
        assert list(values) == ["a"]
    assert len(compiled._variant_of_names) == _VARIANT_NAMES_KEPT
    assert len(compiled._variants) == 1
