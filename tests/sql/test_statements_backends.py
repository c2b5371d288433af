"""SELECT / INSERT / UPDATE / DELETE behaviour on every database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest

from athanor import exc
from athanor.engine import Engine, create_engine
from athanor.sql import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    bindparam,
    case,
    cast,
    delete,
    exists,
    extract,
    func,
    insert,
    insert_sentinel,
    label,
    literal,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from backends import Backend


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


@pytest.fixture
def schema(engine: Engine) -> tuple[Table, Table]:
    metadata = MetaData()
    users = Table(
        "users",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(50), nullable=False),
        Column("age", Integer),
        Column("created", DateTime, default=lambda: dt.datetime(2024, 1, 2, 3, 4, 5)),
    )
    posts = Table(
        "posts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", ForeignKey("users.id")),
        Column("title", String(100)),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            users.insert(),
            [
                {"name": n, "age": a}
                for n, a in [("ann", 30), ("bob", 20), ("cy", None), ("di", 41)]
            ],
        )
        conn.execute(
            posts.insert(),
            [{"user_id": u, "title": f"p{u}{i}"} for u in (1, 1, 2, 4) for i in range(1)],
        )
    return users, posts


def test_seed_core_example(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, _ = schema
    with engine.connect() as conn:
        result = conn.execute(users.insert().values(name="john_doe", age=30))
        conn.commit()
        new_id = result.inserted_primary_key[0]
        assert new_id == 5
        rows = conn.execute(select(users).where(users.c.age > 25).order_by(users.c.id)).all()
        assert [(r.name, r.age) for r in rows] == [("ann", 30), ("di", 41), ("john_doe", 30)]
        assert rows[0].created == dt.datetime(2024, 1, 2, 3, 4, 5)


def test_inserted_primary_key_forms(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, _ = schema
    with engine.begin() as conn:
        assert conn.execute(users.insert(), {"name": "e"}).inserted_primary_key == (5,)
        assert conn.execute(users.insert().values(id=50, name="f")).inserted_primary_key == (50,)
        assert conn.execute(users.insert(), {"id": 60, "name": "g"}).inserted_primary_key == (60,)


class _Shouted(TypeDecorator[str]):
    """Upper-cases values on their way to the database (a bind processor)."""

    impl = String(50)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.upper()


def test_parameters_given_by_key_as_dict_or_other_mapping(engine: Engine) -> None:
    """A dict of parameters is read by key in one step; any other Mapping, a missing key (a
    column default) and a parameter used twice give the same statements and values."""
    metadata = MetaData()
    notes = Table(
        "keyed_notes",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("word", _Shouted),
        Column("other", _Shouted),
        Column("size", Integer, default=7),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        first = conn.execute(notes.insert(), {"word": "a", "other": "b", "size": 1})
        second = conn.execute(
            notes.insert(), MappingProxyType({"word": "c", "other": "d", "size": 2})
        )
        third = conn.execute(notes.insert(), {"word": "e", "other": "f"})
        keys = [r.inserted_primary_key[0] for r in (first, second, third)]
        assert keys == [1, 2, 3]
        shouted = _Shouted()
        both = or_(
            notes.c.word == bindparam("w", type_=shouted),
            notes.c.other == bindparam("w", type_=shouted),
        )
        for params in ({"w": "d"}, MappingProxyType({"w": "d"})):
            found = conn.execute(select(notes.c.id).where(both), params).scalars().all()
            assert found == [2]
        rows = conn.execute(select(notes).order_by(notes.c.id)).all()
    assert [tuple(r) for r in rows] == [(1, "A", "B", 1), (2, "C", "D", 2), (3, "E", "F", 7)]


def test_join_group_having_order(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, posts = schema
    count = func.count(posts.c.id)
    stmt = (
        select(users.c.name, count.label("n"))
        .select_from(users.outerjoin(posts))
        .group_by(users.c.id, users.c.name)
        .having(count > 0)
        .order_by(users.c.name)
    )
    with engine.connect() as conn:
        assert conn.execute(stmt).all() == [("ann", 2), ("bob", 1), ("di", 1)]


def test_in_empty_not_in_empty_and_tuples(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, _ = schema
    with engine.connect() as conn:
        ids = lambda stmt: sorted(conn.execute(stmt).scalars().all())  # noqa: E731
        assert ids(select(users.c.id).where(users.c.id.in_([1, 3, 99]))) == [1, 3]
        assert ids(select(users.c.id).where(users.c.id.in_([]))) == []
        assert ids(select(users.c.id).where(users.c.id.not_in([]))) == [1, 2, 3, 4]
        assert ids(select(users.c.id).where(~users.c.id.in_([]), users.c.id < 3)) == [1, 2]
        with pytest.raises(exc.StatementError, match="'x'"):
            conn.execute(select(users.c.id).where(users.c.id.in_(bindparam("x"))))
        stmt = select(users.c.id).where(users.c.id.in_(bindparam("ids")))
        assert sorted(conn.execute(stmt, {"ids": [2, 4]}).scalars()) == [2, 4]
        stmt = select(users.c.id).where(
            tuple_(users.c.id, users.c.name).in_([(1, "ann"), (2, "x")])
        )
        assert ids(stmt) == [1]


def test_null_handling_case_cast(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, _ = schema
    kind = case((users.c.age == None, "unknown"), (users.c.age < 25, "young"), else_="old")  # noqa: E711
    stmt = select(users.c.name, kind.label("kind"), cast(users.c.age, String(10))).order_by(
        users.c.id
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    assert [(r.name, r.kind) for r in rows] == [
        ("ann", "old"),
        ("bob", "young"),
        ("cy", "unknown"),
        ("di", "old"),
    ]
    assert rows[0][2] == "30"


def test_subqueries_exists_and_correlation(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, posts = schema
    has_posts = exists().where(posts.c.user_id == users.c.id)
    counted = select(func.count(posts.c.id)).where(posts.c.user_id == users.c.id).scalar_subquery()
    with engine.connect() as conn:
        assert conn.execute(select(users.c.name).where(~has_posts)).scalars().all() == ["cy"]
        rows = conn.execute(select(users.c.name, counted.label("c")).order_by(users.c.id)).all()
        assert [r.c for r in rows] == [2, 1, 0, 1]
        sq = select(posts.c.user_id, func.count().label("n")).group_by(posts.c.user_id).subquery()
        joined = select(users.c.name, sq.c.n).join(sq, users.c.id == sq.c.user_id)
        assert sorted(conn.execute(joined).all()) == [("ann", 2), ("bob", 1), ("di", 1)]


def test_recursive_cte(engine: Engine, backend: Backend) -> None:
    metadata = MetaData()
    tree = Table(
        "tree",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("tree.id")),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            tree.insert(),
            [
                {"id": 1, "parent_id": None},
                {"id": 2, "parent_id": 1},
                {"id": 3, "parent_id": 2},
                {"id": 4, "parent_id": None},
            ],
        )
        rec = select(tree.c.id).where(tree.c.id == 1).cte("r", recursive=True)
        rec = rec.union_all(select(tree.c.id).join(rec, tree.c.parent_id == rec.c.id))
        assert sorted(conn.execute(select(rec.c.id)).scalars()) == [1, 2, 3]


def test_window_functions_and_unions(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, posts = schema
    with engine.connect() as conn:
        ranked = select(
            users.c.name, func.row_number().over(order_by=users.c.name.desc()).label("rn")
        ).order_by(users.c.name)
        assert [r.rn for r in conn.execute(ranked)] == [4, 3, 2, 1]
        both = union_all(select(users.c.id), select(posts.c.id)).subquery()
        assert conn.execute(select(func.count()).select_from(both)).scalar() == 8


def test_like_family(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, _ = schema
    with engine.connect() as conn:
        names = lambda crit: sorted(conn.execute(select(users.c.name).where(crit)).scalars())  # noqa: E731
        assert names(users.c.name.like("%n%")) == ["ann"]
        assert names(users.c.name.ilike("%N%")) == ["ann"]
        assert names(users.c.name.startswith("b")) == ["bob"]
        assert names(users.c.name.endswith("y")) == ["cy"]
        assert names(users.c.name.contains("_", autoescape=True)) == []
        assert names(users.c.name.istartswith("B")) == ["bob"]
        assert names(users.c.name.iendswith("Y")) == ["cy"]
        assert names(users.c.name.iendswith("%", autoescape=True)) == []
        assert names(users.c.name.icontains("N")) == ["ann"]
        assert names(users.c.age.isnot_distinct_from(None)) == ["cy"]


def test_limit_offset(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, _ = schema
    with engine.connect() as conn:
        base = select(users.c.id).order_by(users.c.id)
        assert conn.execute(base.limit(2)).scalars().all() == [1, 2]
        assert conn.execute(base.limit(2).offset(1)).scalars().all() == [2, 3]
        assert conn.execute(base.offset(3)).scalars().all() == [4]


def test_update_with_correlated_subquery_and_delete(
    engine: Engine, schema: tuple[Table, Table]
) -> None:
    users, posts = schema
    counted = select(func.count(posts.c.id)).where(posts.c.user_id == users.c.id).scalar_subquery()
    with engine.begin() as conn:
        assert conn.execute(update(users).values(age=counted)).rowcount == 4
        assert conn.execute(select(users.c.age).order_by(users.c.id)).scalars().all() == [
            2,
            1,
            0,
            1,
        ]
        conn.execute(delete(posts))
        assert conn.execute(delete(users).where(users.c.age > 0)).rowcount == 3
        assert conn.execute(select(users.c.name)).scalars().all() == ["cy"]


def test_update_executemany_with_bindparams(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, _ = schema
    stmt = update(users).where(users.c.id == bindparam("b_id")).values(name=bindparam("b_name"))
    with engine.begin() as conn:
        conn.execute(stmt, [{"b_id": 1, "b_name": "A"}, {"b_id": 2, "b_name": "B"}])
        assert conn.execute(select(users.c.name).order_by(users.c.id)).scalars().all()[:2] == [
            "A",
            "B",
        ]


def test_batched_executemany_insert(engine: Engine, backend: Backend) -> None:
    metadata = MetaData()
    t = Table(
        "many",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(20)),
        Column("n", Integer, default=5),
    )
    metadata.create_all(engine)
    rows = [{"name": f"r{i}"} for i in range(2500)]
    with engine.begin() as conn:
        conn.execute(insert(t), rows)
        assert conn.execute(select(func.count(), func.sum(t.c.n)).select_from(t)).one() == (
            2500,
            12500,
        )
        assert conn.execute(select(t.c.name).where(t.c.id == 2500)).scalar() == "r2499"


def test_returning_where_supported(
    engine: Engine, backend: Backend, schema: tuple[Table, Table]
) -> None:
    users, _ = schema
    with engine.begin() as conn:
        stmt = insert(users).values(name="r", age=1).returning(users.c.id, users.c.name)
        if not engine.dialect.insert_returning:
            with pytest.raises(exc.CompileError, match="RETURNING"):
                conn.execute(stmt)
            return
        row = conn.execute(stmt).one()
        assert (row.id, row.name) == (5, "r")
        deleted = (
            conn.execute(delete(users).where(users.c.id == 5).returning(users.c.name))
            .scalars()
            .all()
        )
        assert deleted == ["r"]


def test_extract_and_label(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, _ = schema
    stmt = select(extract("year", users.c.created), label("who", users.c.name)).where(
        users.c.id == 1
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    assert row._fields == ("anon_1", "who")
    assert (int(row.anon_1), row.who) == (2024, "ann")


def test_text_with_bindparams_and_columns(engine: Engine, schema: tuple[Table, Table]) -> None:
    users, _ = schema
    with engine.connect() as conn:
        stmt = text("SELECT id, created FROM users WHERE name = :n").columns(
            users.c.id, users.c.created
        )
        row = conn.execute(stmt, {"n": "bob"}).one()
        assert row.created == dt.datetime(2024, 1, 2, 3, 4, 5)
        assert (
            conn.execute(
                text(
                    "SELECT :x || 'a'"
                    if engine.dialect.name != "mysql"
                    else "SELECT concat(:x, 'a')"
                ).bindparams(x="b")
            ).scalar()
            == "ba"
        )
        assert conn.execute(select(literal(5) + 1)).scalar() == 6


def test_json_elements(engine: Engine, backend: Backend) -> None:
    metadata = MetaData()
    docs = Table("docs", metadata, Column("id", Integer, primary_key=True), Column("doc", JSON))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            docs.insert().values(id=1, doc={"name": "x'y", "n": 7, "tags": ["a", "b"], "f": 1.5})
        )
        row = conn.execute(
            select(
                docs.c.doc["name"].as_string(),
                docs.c.doc["n"].as_integer(),
                docs.c.doc["tags"],
                docs.c.doc["tags"][1].as_string(),
                docs.c.doc["f"].as_float(),
            )
        ).one()
        assert tuple(row) == ("x'y", 7, ["a", "b"], "b", 1.5)
        found = conn.execute(select(docs.c.id).where(docs.c.doc["n"].as_integer() == 7)).scalar()
        assert found == 1


def test_insert_sentinel_column_stays_out_of_select_star(engine: Engine) -> None:
    metadata = MetaData()
    notes = Table(
        "sentinel_notes",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("body", String(20)),
        insert_sentinel("sentinel", default=7),
    )
    sentinel = notes.c.sentinel
    assert sentinel._insert_sentinel and sentinel.nullable
    assert isinstance(sentinel.type, Integer)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            rows = [{"id": 1, "body": "a"}, {"id": 2, "body": "b"}]
            returned = conn.execute(
                insert(notes).returning(notes.c.id, sort_by_parameter_order=True), rows
            )
            assert returned.scalars().all() == [1, 2]
            assert [tuple(r) for r in conn.execute(select(notes).order_by(notes.c.id))] == [
                (1, "a"),
                (2, "b"),
            ]
            # named explicitly it is a column like another; its default filled it in
            assert conn.execute(select(sentinel)).scalars().all() == [7, 7]
        shown = insert_sentinel("shown", omit_from_statements=False)
        assert "shown" in str(select(Table("t2", MetaData(), Column("id", Integer), shown)))
    finally:
        metadata.drop_all(engine)


def test_prefix_with_for_one_dialect_makes_insert_ignore_duplicates(
    engine: Engine, schema: tuple[Table, Table], backend: Backend
) -> None:
    users, _ = schema
    duplicate = (
        insert(users)
        .prefix_with("OR IGNORE", dialect="sqlite")
        .prefix_with("IGNORE", dialect="mysql")
        .values(id=1, name="again")
    )
    if backend.name == "postgresql":
        with pytest.raises(exc.IntegrityError), engine.begin() as conn:
            conn.execute(duplicate)
        return
    with engine.begin() as conn:
        assert conn.execute(duplicate).rowcount == 0
        assert conn.execute(select(users.c.name).where(users.c.id == 1)).scalar() == "ann"
        quiet = (
            update(users)
            .prefix_with("LOW_PRIORITY", dialect="mysql")
            .values(age=31)
            .where(users.c.id == 1)
        )
        assert conn.execute(quiet).rowcount == 1
        assert (
            conn.execute(
                delete(users).prefix_with("QUICK", dialect="mysql").where(users.c.name == "nobody")
            ).rowcount
            == 0
        )
        hinted = select(users.c.age).prefix_with("SQL_NO_CACHE", dialect="mysql")
        assert conn.execute(hinted.where(users.c.id == 1)).scalar() == 31


def test_insert_from_select_adds_python_side_defaults_unless_told_not_to(engine: Engine) -> None:
    metadata = MetaData()
    source = Table("source_rows", metadata, Column("a", Integer))
    target = Table(
        "copied_rows",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("label", String(10), default="copied"),
        Column("weight", Integer, default=lambda: 5),
        Column("note", String(10)),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(source), [{"a": 1}, {"a": 2}])
        conn.execute(insert(target).from_select(["id"], select(source.c.a + 10)))
        conn.execute(
            insert(target).from_select(["id"], select(source.c.a + 20), include_defaults=False)
        )
        rows = conn.execute(
            select(target.c.id, target.c.label, target.c.weight).order_by(target.c.id)
        ).all()
    assert rows == [(11, "copied", 5), (12, "copied", 5), (21, None, None), (22, None, None)]


def test_a_default_taking_the_context_sees_the_statement_s_own_values(engine: Engine) -> None:
    """``get_current_parameters()`` holds the row's values by parameter name, also those the
    statement gives itself (``values(a=5)``, a WHERE clause's), not only those passed to
    ``execute()``."""
    seen: list[dict[str, Any]] = []

    def doubled(context: Any) -> int:
        current = dict(context.get_current_parameters())
        seen.append(current)
        return int(current["a"]) * 2

    metadata = MetaData()
    rows = Table(
        "ctx_rows",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("a", Integer),
        Column("label", String(10), default="x"),
        Column("b", Integer, default=doubled, onupdate=doubled),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(rows).values(id=1, a=5))
        conn.execute(insert(rows), [{"id": 2, "a": 6}, {"id": 3, "a": 7}])
        conn.execute(update(rows).where(rows.c.id == 1).values(a=8))
        stored = conn.execute(select(rows.c.id, rows.c.b).order_by(rows.c.id)).all()
    assert stored == [(1, 16), (2, 12), (3, 14)]
    assert seen == [
        {"id": 1, "a": 5, "label": "x", "b": None},
        {"id": 2, "a": 6, "label": "x", "b": None},
        {"id": 3, "a": 7, "label": "x", "b": None},
        {"a": 8, "b": None, "id_1": 1},
    ]


def test_portable_aggregate_and_random_functions(
    engine: Engine, schema: tuple[Table, Table], backend: Backend
) -> None:
    users, posts = schema
    with engine.connect() as conn:
        joined = conn.execute(
            select(posts.c.user_id, func.aggregate_strings(posts.c.title, " | ").label("titles"))
            .group_by(posts.c.user_id)
            .order_by(posts.c.user_id)
        ).all()
        shuffled = conn.execute(select(users.c.id).order_by(func.random())).scalars().all()
        assert sorted(shuffled) == [1, 2, 3, 4]
        if backend.name == "postgresql":
            ids = conn.execute(select(func.array_agg(users.c.id))).scalar()
            assert sorted(ids) == [1, 2, 3, 4]
            median = select(func.percentile_disc(0.5).within_group(users.c.age))
            assert conn.execute(median).scalar() == 30
            per_age = conn.execute(
                select(users.c.age, func.count())
                .group_by(func.grouping_sets(users.c.age, tuple_()))
                .order_by(users.c.age)
            ).all()
            assert (None, 4) in per_age and (30, 1) in per_age  # the grand total row
    titles = {user_id: sorted(value.split(" | ")) for user_id, value in joined}
    expected: dict[int, list[str]] = {}
    with engine.connect() as conn:
        for user_id, title in conn.execute(select(posts.c.user_id, posts.c.title)):
            expected.setdefault(user_id, []).append(title)
    assert titles == {k: sorted(v) for k, v in expected.items()}
    assert type(func.array_agg(users.c.id).type).__name__ == "ARRAY"
    assert isinstance(func.mode().within_group(users.c.age).type, Integer)
    assert isinstance(func.aggregate_strings(users.c.name, ",").type, String)


def test_json_paths_typed_elements_and_json_null(engine: Engine) -> None:
    metadata = MetaData()
    docs = Table(
        "json_docs",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("doc", JSON),
        Column("maybe", JSON(none_as_null=True)),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(docs),
            [
                {"id": 1, "doc": {"a": {"b": [1, 2]}, "ok": True, "price": "12.50"}, "maybe": None},
                {"id": 2, "doc": {"a": {"b": [7]}, "ok": False, "price": "3"}, "maybe": JSON.NULL},
            ],
        )
        row = conn.execute(
            select(
                docs.c.doc[("a", "b", 1)].as_integer(),
                docs.c.doc[("a", "b")],
                docs.c.doc["ok"].as_boolean(),
                docs.c.doc["price"].as_numeric(10, 2),
            ).where(docs.c.id == 1)
        ).one()
        assert row == (2, [1, 2], True, Decimal("12.50"))
        flagged = select(docs.c.id).where(docs.c.doc["ok"].as_boolean() == False)  # noqa: E712
        assert conn.execute(flagged).scalars().all() == [2]
        sql_null = conn.execute(select(docs.c.id).where(docs.c.maybe.is_(None))).scalars().all()
        assert sql_null == [1]  # JSON.NULL is stored as the JSON null, not SQL NULL


@contextmanager
def _table_missing_its_last_column(engine: Engine, name: str) -> Iterator[Table]:
    """A Table of ``id`` and ``name`` over a database table that also has ``note``: the
    column a test appends later, dropped afterwards."""
    full = MetaData()
    Table(
        name,
        full,
        Column("id", Integer, primary_key=True),
        Column("name", String(20)),
        Column("note", String(20)),
    )
    full.create_all(engine)
    try:
        yield Table(
            name, MetaData(), Column("id", Integer, primary_key=True), Column("name", String(20))
        )
    finally:
        full.drop_all(engine)


def test_column_added_to_table_after_use_is_written(engine: Engine) -> None:
    with _table_missing_its_last_column(engine, "late_col") as table, engine.begin() as conn:
        conn.execute(insert(table), {"name": "before"})
        table.append_column(Column("note", String(20)))
        conn.execute(insert(table), {"name": "after", "note": "kept"})
        rows = conn.execute(select(table).order_by(table.c.id)).all()
    assert [tuple(r) for r in rows] == [(1, "before", None), (2, "after", "kept")]


def test_statements_run_before_a_column_is_added_see_the_column(engine: Engine) -> None:
    with _table_missing_its_last_column(engine, "late_col2") as table:
        add = insert(table)
        query = select(table).where(table.c.id == 1)
        everything = select(table).order_by(table.c.id)
        with engine.begin() as conn:
            conn.execute(add, {"name": "before"})
            assert conn.execute(query).all() == [(1, "before")]
            assert conn.execute(everything).all() == [(1, "before")]
            table.append_column(Column("note", String(20), default="dflt"))
            conn.execute(add, {"name": "after"})
            assert conn.execute(query).all() == [(1, "before", None)]
            assert conn.execute(select(table).where(table.c.id == 1)).all() == [(1, "before", None)]
            assert conn.execute(everything).all() == [(1, "before", None), (2, "after", "dflt")]


def test_statements_pickle_and_run_after_unpickling(engine: Engine) -> None:
    import pickle

    metadata = MetaData()
    parents = Table(
        "pickled_parent",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(20), server_default="anon"),
    )
    Table(
        "pickled_child",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("pickled_parent.id")),
    )
    metadata.create_all(engine)
    try:
        add = insert(parents).values(name=bindparam("n"))
        rename = update(parents).where(parents.c.id == bindparam("i")).values(name="renamed")
        query = (
            select(parents.c.name, func.count().label("n"))
            .where(parents.c.id.in_([1, 2, 3]))
            .group_by(parents.c.name)
            .order_by(parents.c.name)
        )
        remove = delete(parents).where(parents.c.name == "b")
        raw = text("SELECT count(*) FROM pickled_parent WHERE id > :low").bindparams(low=0)
        with engine.connect() as conn:  # what was run before pickles as well
            assert conn.execute(query).all() == []
        # types remember per-dialect variants, keyed by dialect classes some made at run time
        query.compile(dialect=create_engine("mariadb+pymysql://u@h/db").dialect)
        with engine.begin() as conn:
            for statement, params in [
                (add, [{"n": "a"}, {"n": "b"}, {"n": "c"}]),
                (rename, {"i": 3}),
                (remove, None),
            ]:
                conn.execute(pickle.loads(pickle.dumps(statement)), params)
            assert conn.execute(pickle.loads(pickle.dumps(query))).all() == [
                ("a", 1),
                ("renamed", 1),
            ]
            assert conn.execute(pickle.loads(pickle.dumps(raw))).scalar() == 2
        copied = pickle.loads(pickle.dumps(metadata))
        assert sorted(copied.tables) == ["pickled_child", "pickled_parent"]
        assert [c.name for c in copied.tables["pickled_parent"].c] == ["id", "name"]
    finally:
        metadata.drop_all(engine)
