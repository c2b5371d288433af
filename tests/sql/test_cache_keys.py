"""Declared cache keys: every builder method changes the key, and equal keys mean equal SQL.

Two statements that share a cache key share one compiled form, so a builder method whose
effect the key misses would run another statement's SQL (with this one's values) — the worst
kind of bug.  The keys derive from each construct's ``_cache_attrs``; these tests check the
declarations are complete.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor.dialects import mysql, postgresql, sqlite
from athanor.sql import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    exists,
    func,
    insert,
    label,
    literal_column,
    select,
    text,
    update,
)
from athanor.sql.compiler import compile_cached
from athanor.sql.elements import ClauseElement
from athanor.sql.selectable import LABEL_STYLE_TABLENAME_PLUS_COL

metadata = MetaData()
t = Table(
    "ck_t",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("a", String(20)),
    Column("b", Integer),
)
u = Table(
    "ck_u", metadata, Column("id", Integer, primary_key=True), Column("t_id", ForeignKey("ck_t.id"))
)

DIALECTS = [sqlite.dialect(), postgresql.dialect(), mysql.dialect()]

Step = Callable[[Any], Any]

SELECT_STEPS: dict[str, Step] = {
    "where": lambda s: s.where(t.c.b > 1),
    "where_other": lambda s: s.where(t.c.a == "x"),
    "filter_by": lambda s: s.filter_by(b=3),
    "order_by": lambda s: s.order_by(t.c.a),
    "order_by_desc": lambda s: s.order_by(t.c.a.desc()),
    "group_by": lambda s: s.group_by(t.c.a),
    "having": lambda s: s.group_by(t.c.a).having(func.count() > 1),
    "limit": lambda s: s.limit(5),
    "offset": lambda s: s.offset(2),
    "distinct": lambda s: s.distinct(),
    "with_for_update": lambda s: s.with_for_update(),
    "for_share": lambda s: s.with_for_update(read=True),
    "nowait": lambda s: s.with_for_update(nowait=True),
    "skip_locked": lambda s: s.with_for_update(skip_locked=True),
    "join": lambda s: s.join(u),
    "outerjoin": lambda s: s.outerjoin(u),
    "select_from": lambda s: s.select_from(u),
    "add_columns": lambda s: s.add_columns(t.c.b),
    "prefix": lambda s: s.prefix_with("HIGH_PRIORITY"),
    "suffix": lambda s: s.suffix_with("-- done"),
    "correlate": lambda s: s.correlate(u),
    "correlate_except": lambda s: s.correlate_except(u),
    "label": lambda s: s.with_only_columns((t.c.a + "x").label("y")),
    "column_type": lambda s: s.with_only_columns(literal_column("1", Integer)),
    "set_label_style": lambda s: s.set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL),
    "text_where": lambda s: s.where(text("ck_t.b > 1")),
    "exists": lambda s: s.where(exists(select(u.c.id).where(u.c.t_id == t.c.id))),
    "scalar_subquery": lambda s: s.add_columns(select(func.count(u.c.id)).scalar_subquery()),
    "cte": lambda s: s.select_from(select(u.c.id).cte("c")),
    "cte_recursive": lambda s: s.select_from(select(u.c.id).cte("c", recursive=True)),
    "subquery": lambda s: s.select_from(select(u.c.id).subquery("c")),
    "table_valued": lambda s: s.select_from(func.json_each(t.c.a).table_valued("value")),
    "table_valued_derived": lambda s: s.select_from(
        func.json_each(t.c.a).table_valued("value").render_derived()
    ),
}

UPSERT_STEPS: dict[str, Step] = {
    "values": lambda s: s.values(a="x"),
    "do_nothing": lambda s: s.on_conflict_do_nothing(),
    "do_nothing_target": lambda s: s.on_conflict_do_nothing(index_elements=["id"]),
    "do_update": lambda s: s.on_conflict_do_update(index_elements=["id"], set_={"a": "y"}),
    "do_update_b": lambda s: s.on_conflict_do_update(index_elements=["id"], set_={"b": 1}),
    "do_update_where": lambda s: s.on_conflict_do_update(
        index_elements=["id"], set_={"a": "y"}, where=t.c.b > 1
    ),
}

DUPLICATE_STEPS: dict[str, Step] = {
    "values": lambda s: s.values(a="x"),
    "duplicate_a": lambda s: s.on_duplicate_key_update(a="y"),
    "duplicate_b": lambda s: s.on_duplicate_key_update(b=1),
}

UPDATE_STEPS: dict[str, Step] = {
    "values": lambda s: s.values(a="x"),
    "values_b": lambda s: s.values(b=1),
    "values_ab": lambda s: s.values(a="x", b=1),
    "values_ba": lambda s: s.values(b=1, a="x"),
    "ordered_ab": lambda s: s.ordered_values((t.c.a, "x"), (t.c.b, 1)),
    "ordered_ba": lambda s: s.ordered_values((t.c.b, 1), (t.c.a, "x")),
    "where": lambda s: s.where(t.c.id == 1),
    "returning": lambda s: s.returning(t.c.id),
    "return_defaults": lambda s: s.return_defaults(),
}

INSERT_STEPS: dict[str, Step] = {
    "values": lambda s: s.values(a="x"),
    "values_b": lambda s: s.values(b=1),
    "multi": lambda s: s.values([{"a": "x"}, {"a": "y"}]),
    "from_select": lambda s: s.from_select(["a"], select(t.c.a)),
    "inline": lambda s: s.inline(),
    "returning": lambda s: s.returning(t.c.id),
    "returning_sorted": lambda s: s.returning(t.c.id, sort_by_parameter_order=True),
    "return_defaults": lambda s: s.return_defaults(),
    "return_defaults_col": lambda s: s.return_defaults(t.c.b),
    "supplemental": lambda s: s.return_defaults(supplemental_cols=[t.c.a]),
}

DELETE_STEPS: dict[str, Step] = {
    "where": lambda s: s.where(t.c.id == 1),
    "where_other": lambda s: s.where(t.c.b == 1),
    "returning": lambda s: s.returning(t.c.id),
}

BASES: dict[str, tuple[Callable[[], Any], dict[str, Step]]] = {
    "select": (lambda: select(t.c.id, t.c.a), SELECT_STEPS),
    "update": (lambda: update(t), UPDATE_STEPS),
    "insert": (lambda: insert(t), INSERT_STEPS),
    "delete": (lambda: delete(t), DELETE_STEPS),
    "upsert": (lambda: postgresql.insert(t), UPSERT_STEPS),
    "duplicate": (lambda: mysql.insert(t), DUPLICATE_STEPS),
}

# Attributes that are not part of a statement's identity: memos, execution options, values
# given with params(); the compile plugin is added to the key by _generate_cache_key; the
# objects select() was given (User.name for its column), which only column_descriptions reads.
NOT_IDENTITY = {
    "_raw_origins",
    "_returning_origins",
    "_ck_memo",
    "_named_memo",
    "_execution_options",
    "_bind_overrides",
    "_compile_plugin",
}


def key(statement: Any) -> Hashable:
    return statement._generate_cache_key()[0]


def compiled_forms(statement: Any) -> list[tuple[str, tuple[str, ...]]]:
    forms = []
    for dialect in DIALECTS:
        try:
            compiled, _ = compile_cached(statement, dialect, None)
        except Exception as error:
            forms.append((type(error).__name__, ()))
            continue
        forms.append((compiled.string, tuple(compiled.result_keys)))
    return forms


CASES = [(base, name) for base, (_, steps) in BASES.items() for name in steps]


@pytest.mark.parametrize(("base", "step"), CASES, ids=[f"{b}.{s}" for b, s in CASES])
def test_every_builder_method_changes_the_key(base: str, step: str) -> None:
    make, steps = BASES[base]
    original = make()
    changed = steps[step](original)
    assert key(changed) != key(original)


@pytest.mark.parametrize(("base", "step"), CASES, ids=[f"{b}.{s}" for b, s in CASES])
def test_builder_methods_set_only_declared_attributes(base: str, step: str) -> None:
    make, steps = BASES[base]
    statement = steps[step](make())
    declared = {name for name, _ in type(statement)._cache_attrs or ()}
    undeclared = set(vars(statement)) - declared - NOT_IDENTITY
    assert not undeclared, f"{type(statement).__name__} sets {undeclared} outside its key"


def test_get_children_comes_from_the_declaration() -> None:
    where = t.c.b > 1
    statement = select(t.c.a).where(where).limit(3)
    children = statement.get_children()
    assert where in children and t.c.a in children
    assert any(isinstance(c, ClauseElement) and c is statement._limit for c in children)
    assert set(map(id, where.get_children())) == {id(where.left), id(where.right)}


@pytest.mark.parametrize("base", sorted(BASES))
def test_pairs_of_builder_calls_with_one_key_have_one_sql(base: str) -> None:
    """Exhaustively over pairs of builder calls: equal keys only for equal SQL."""
    make, steps = BASES[base]
    built = {name: step(make()) for name, step in steps.items()}
    for first_name, first in built.items():
        for second_name, second in built.items():
            if first_name < second_name and key(first) == key(second):
                assert compiled_forms(first) == compiled_forms(second), (first_name, second_name)


def test_ordered_values_do_not_share_sql_with_values() -> None:
    """The same values in another SET order: the key must differ, or the values of one
    statement would be bound to the other's columns."""
    unordered = update(t).values(b=1, a="x")
    ordered = update(t).ordered_values((t.c.b, 1), (t.c.a, "x"))
    assert key(unordered) != key(ordered)


def test_label_type_is_part_of_the_key() -> None:
    as_int = select(label("n", literal_column("1"), Integer))
    as_text = select(label("n", literal_column("1"), String))
    assert key(as_int) != key(as_text)


@st.composite
def statements(draw: st.DrawFn) -> Any:
    base = draw(st.sampled_from(sorted(BASES)))
    make, steps = BASES[base]
    names = draw(st.lists(st.sampled_from(sorted(steps)), max_size=4))
    statement = make()
    for name in names:
        try:
            statement = steps[name](statement)
        except Exception:
            continue
    return statement


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statements(), statements())
def test_equal_keys_mean_equal_sql(first: Any, second: Any) -> None:
    """Whatever the builder calls, statements sharing a key compile to the same SQL and
    result columns on every dialect (so sharing a compiled form is safe)."""
    if key(first) == key(second):
        assert compiled_forms(first) == compiled_forms(second)


def test_select_of_usual_attributes_has_the_short_key() -> None:
    """A select setting only its columns and WHERE keys those alone (behind a marker); one
    setting anything else, even back to its default, has the full key, and the two never
    share a compiled form unless they compile alike."""
    short = select(t).where(t.c.b == 1)
    assert key(short)[:2] == (type(short), "~")
    assert key(select(t).where(t.c.b == 2)) == key(short)
    assert key(select(t).where(t.c.b > 1))[:2] == (type(short), "~")
    reset = [
        short.order_by(t.c.a).order_by(None),
        short.limit(None),
        short.offset(None),
        short.distinct(),
        short.with_for_update(),
        short.select_from(t),
        short.set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL),
    ]
    for other in reset:
        assert key(other)[1] != "~"
        assert key(other) != key(short)
    for other in reset[:3]:
        assert compiled_forms(other) == compiled_forms(short)
    assert key(short.execution_options(yield_per=5)) == key(short)
