"""Compile-only tests of INSERT / UPDATE / DELETE, defaults, RETURNING and executemany steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from athanor import exc
from athanor.dialects import mysql, postgresql, sqlite
from athanor.sql import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Sequence,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from athanor.sql.compiler import compile_cached

metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("age", Integer, default=7),
    Column("created", DateTime, default=lambda: dt.datetime(2020, 1, 1)),
    Column("updated", DateTime, onupdate=func.now()),
)
posts = Table(
    "posts",
    metadata,
    Column("id", Integer, Sequence("posts_seq"), primary_key=True),
    Column("user_id", ForeignKey("users.id")),
    Column("title", String(200)),
)

PG = postgresql.dialect()
SQLITE = sqlite.dialect()
MYSQL = mysql.dialect()


def prepare(stmt: Any, dialect: Any, params: Any = None) -> tuple[str, Any]:
    compiled, extracted = compile_cached(stmt, dialect, None)
    return compiled.prepare(extracted, params)


def test_insert_values_with_defaults() -> None:
    stmt = insert(users).values(name="john")
    sql, params = prepare(stmt, SQLITE)
    assert sql == "INSERT INTO users (name, age, created) VALUES (?, ?, ?)"
    assert params == ["john", 7, "2020-01-01 00:00:00.000000"]
    assert str(stmt) == "INSERT INTO users (name, age, created) VALUES (:name, :age, :created)"


def test_insert_postgresql_returns_primary_key() -> None:
    compiled = insert(users).values(name="x").compile(dialect=PG)
    assert compiled.string == (
        "INSERT INTO users (name, age, created) VALUES (%(name)s, %(age)s, %(created)s) "
        "RETURNING id"
    )
    assert compiled.implicit_returning_pk
    assert not compiled.returns_rows
    assert compiled.inserted_primary_key({}, None, (42,)) == (42,)


def test_inserted_primary_key_from_params_and_lastrowid() -> None:
    compiled, extracted = compile_cached(insert(users).values(id=5, name="x"), SQLITE, None)
    _, params = compiled.prepare(extracted, None)
    assert compiled.inserted_primary_key(params, 99, None) == (5,)
    compiled, extracted = compile_cached(insert(users).values(name="x"), MYSQL, None)
    _, params = compiled.prepare(extracted, None)
    assert not compiled.implicit_returning_pk
    assert compiled.inserted_primary_key(params, 12, None) == (12,)


def test_insert_without_values_compiles_per_parameter_keys() -> None:
    compiled, extracted = compile_cached(insert(users), SQLITE, None)
    assert compiled.string == "INSERT INTO users (age, created) VALUES (?, ?)"
    sql, params = compiled.prepare(extracted, {"id": 3, "name": "n"})
    assert sql == "INSERT INTO users (id, name, age, created) VALUES (?, ?, ?, ?)"
    assert list(params) == [3, "n", 7, "2020-01-01 00:00:00.000000"]
    assert compiled.inserted_primary_key(params, None, None) == (3,)


def test_insert_default_values_forms() -> None:
    """Executed without parameters, an INSERT of no values inserts a row of defaults."""
    t = Table("only_pk", MetaData(), Column("id", Integer, primary_key=True))
    assert compile_cached(insert(t), SQLITE, None)[0].string == "INSERT INTO only_pk DEFAULT VALUES"
    assert compile_cached(insert(t), MYSQL, None)[0].string == "INSERT INTO only_pk () VALUES ()"


def test_str_of_insert_and_update_without_values_shows_every_column() -> None:
    accounts = Table(
        "user_account",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("name", String(30)),
        Column("fullname", String),
    )
    assert str(insert(accounts)) == (
        "INSERT INTO user_account (id, name, fullname) VALUES (:id, :name, :fullname)"
    )
    assert insert(accounts).compile(dialect=PG).string == (
        "INSERT INTO user_account (id, name, fullname) "
        "VALUES (%(id)s, %(name)s, %(fullname)s) RETURNING id"
    )
    assert str(update(accounts)) == (
        "UPDATE user_account SET id=:id, name=:name, fullname=:fullname"
    )
    # Given values, only those (and columns with defaults) are rendered.
    assert str(insert(accounts).values(name="x")) == (
        "INSERT INTO user_account (name) VALUES (:name)"
    )


def test_insert_sequence_on_postgresql() -> None:
    compiled = insert(posts).values(title="t").compile(dialect=PG)
    assert compiled.string == (
        "INSERT INTO posts (id, title) VALUES (nextval('posts_seq'), %(title)s) RETURNING id"
    )
    assert insert(posts).values(title="t").compile(dialect=SQLITE).string == (
        "INSERT INTO posts (title) VALUES (?)"
    )


def test_multi_row_insert() -> None:
    stmt = insert(users).values([{"name": "a", "age": 1}, {"name": "b", "age": 2}])
    sql, params = prepare(stmt, PG)
    assert sql == (
        "INSERT INTO users (name, age, created) VALUES (%(name_1)s, %(age_1)s, %(created_1)s), "
        "(%(name_2)s, %(age_2)s, %(created_2)s)"
    )
    assert params["name_2"] == "b"
    assert params["created_2"] == dt.datetime(2020, 1, 1)


def test_insert_from_select() -> None:
    stmt = insert(posts).from_select(["user_id", "title"], select(users.c.id, users.c.name))
    assert str(stmt) == (
        "INSERT INTO posts (user_id, title) SELECT users.id, users.name FROM users"
    )


def test_returning_per_capability() -> None:
    stmt = insert(users).values(name="x").returning(users.c.id, users.c.name)
    compiled = stmt.compile(dialect=PG)
    assert compiled.string.endswith("RETURNING users.id, users.name")
    assert compiled.returns_rows
    assert compiled.result_keys == ["id", "name"]
    old_sqlite = sqlite.dialect()
    old_sqlite.server_version_info = (3, 31, 0)
    with pytest.raises(exc.CompileError, match="RETURNING"):
        stmt.compile(dialect=old_sqlite)
    maria = mysql.dialect()
    maria.is_mariadb = True
    maria.server_version_info = (10, 11, 2)
    assert stmt.compile(dialect=maria).string.endswith("RETURNING users.id, users.name")
    with pytest.raises(exc.CompileError, match="UPDATE"):
        update(users).values(name="y").returning(users.c.id).compile(dialect=maria)
    mysql8 = mysql.dialect()
    mysql8.is_mariadb = False
    mysql8.server_version_info = (8, 0, 36)
    with pytest.raises(exc.CompileError, match="RETURNING"):
        stmt.compile(dialect=mysql8)


def test_update_with_onupdate_and_correlated_subquery() -> None:
    stmt = (
        update(users)
        .where(users.c.id == 5)
        .values(
            name="n",
            age=select(func.count(posts.c.id))
            .where(posts.c.user_id == users.c.id)
            .scalar_subquery(),
        )
    )
    assert str(stmt) == (
        "UPDATE users SET name=:name, age=(SELECT count(posts.id) AS count_1 FROM posts "
        "WHERE posts.user_id = users.id), updated=now() WHERE users.id = :id_1"
    )


def test_update_from_other_table_per_dialect() -> None:
    stmt = update(users).where(users.c.id == posts.c.user_id, posts.c.title == "x").values(name="n")
    assert stmt.compile(dialect=PG).string == (
        "UPDATE users SET name=%(name)s, updated=now() FROM posts WHERE users.id = posts.user_id "
        "AND posts.title = %(title_1)s"
    )
    assert stmt.compile(dialect=MYSQL).string == (
        "UPDATE users, posts SET name=%s, updated=now() WHERE users.id = posts.user_id "
        "AND posts.title = %s"
    )


def test_update_executemany_with_bindparams() -> None:
    stmt = update(users).where(users.c.id == bindparam("b_id")).values(name=bindparam("b_name"))
    compiled, extracted = compile_cached(stmt, SQLITE, None)
    steps = compiled.prepare_many(
        extracted, [{"b_id": 1, "b_name": "a"}, {"b_id": 2, "b_name": "b"}]
    )
    assert steps == [
        (
            "UPDATE users SET name=?, updated=CURRENT_TIMESTAMP WHERE users.id = ?",
            [["a", 1], ["b", 2]],
            True,
            None,
        )
    ]


def test_delete_and_returning() -> None:
    stmt = delete(users).where(users.c.age > 3).returning(users.c.id)
    assert stmt.compile(dialect=PG).string == (
        "DELETE FROM users WHERE users.age > %(age_1)s RETURNING users.id"
    )
    assert str(delete(users)) == "DELETE FROM users"


def test_executemany_insert_is_batched_into_multi_row_values() -> None:
    compiled, extracted = compile_cached(insert(users), SQLITE, None)
    rows = [{"name": f"u{i}"} for i in range(5)]
    steps = compiled.prepare_many(extracted, rows)
    assert len(steps) == 1
    sql, params, many, _ = steps[0]
    assert not many
    assert sql == (
        "INSERT INTO users (name, age, created) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?), "
        "(?, ?, ?), (?, ?, ?)"
    )
    assert params[:3] == ["u0", 7, "2020-01-01 00:00:00.000000"]
    assert len(params) == 15


def test_executemany_batches_respect_bind_limit() -> None:
    small = sqlite.dialect()
    small.server_version_info = (3, 31, 0)
    compiled, extracted = compile_cached(insert(users), small, None)
    rows = [{"id": i, "name": "n"} for i in range(1000)]
    steps = compiled.prepare_many(extracted, rows)
    assert all(len(params) <= 999 for _, params, _, _ in steps)
    assert sum(len(params) for _, params, _, _ in steps) == 4000
    assert len(steps) == 5


def test_executemany_named_paramstyle_batches() -> None:
    compiled, extracted = compile_cached(insert(users), PG, None)
    steps = compiled.prepare_many(extracted, [{"name": "a"}, {"name": "b"}])
    sql, params, many, _ = steps[0]
    assert sql == (
        "INSERT INTO users (name, age, created) VALUES (%(name__0)s, %(age__0)s, %(created__0)s), "
        "(%(name__1)s, %(age__1)s, %(created__1)s)"
    )
    assert params["name__1"] == "b"
    assert not many


def test_executemany_with_returning_is_batched_with_returning() -> None:
    compiled, extracted = compile_cached(insert(users).returning(users.c.id), PG, None)
    steps = compiled.prepare_many(extracted, [{"name": "a"}, {"name": "b"}])
    assert len(steps) == 1
    sql, _, many, _ = steps[0]
    assert sql.endswith("(%(name__1)s, %(age__1)s, %(created__1)s) RETURNING users.id")
    assert not many


def test_callable_default_with_context() -> None:
    t = Table(
        "ctx",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("a", Integer),
        Column("b", Integer, default=lambda ctx: ctx.get_current_parameters()["a"] * 2),
    )
    compiled, extracted = compile_cached(insert(t), SQLITE, None)
    _, params = compiled.prepare(extracted, {"a": 21})
    assert list(params) == [21, 42]


def test_values_unknown_column_is_an_error() -> None:
    with pytest.raises(exc.ArgumentError, match="no column 'nope'"):
        insert(users).values(nope=1)


MYSQL_8 = mysql.dialect()
MYSQL_8.is_mariadb = False  # MySQL proper: no RETURNING, only the last row id

generated = Table(
    "generated",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("qty", Integer, server_default="7"),
    Column("tag", String(5), default="x"),
)


@pytest.mark.parametrize(
    ("dialect", "returning"),
    [(PG, " RETURNING id, qty"), (SQLITE, " RETURNING id, qty"), (MYSQL_8, "")],
)
def test_return_defaults_renders_generated_columns(dialect: Any, returning: str) -> None:
    """The database's values come back; the Python default of ``tag`` is a parameter."""
    compiled = insert(generated).values(name="a").return_defaults().compile(dialect=dialect)
    assert compiled.string.endswith(")" + returning)
    assert not compiled.returns_rows
    if returning:
        assert compiled.returned_defaults_keys == ("id", "qty")
        assert compiled.returned_pk_positions == (0,)


def test_return_defaults_named_columns_and_supplemental() -> None:
    stmt = insert(generated).return_defaults(generated.c.qty, supplemental_cols=[generated.c.name])
    compiled = stmt.values(name="a").compile(dialect=PG)
    assert compiled.string.endswith(" RETURNING generated.name, id, qty")
    assert compiled.returns_rows and compiled.result_keys == ["name"]
    assert compiled.returned_defaults_keys == ("id", "qty")


def test_returning_sort_by_parameter_order_adds_the_key() -> None:
    stmt = insert(generated).returning(generated.c.name, sort_by_parameter_order=True)
    compiled, extracted = compile_cached(stmt, PG, None)
    assert compiled.string.endswith(" RETURNING generated.name, id")
    assert compiled.result_keys == ["name"]
    steps = compiled.prepare_many(extracted, [{"name": "a"}, {"name": "b"}])
    assert len(steps) == 1 and steps[0][0].endswith("RETURNING generated.name, id")


def test_return_defaults_changes_the_cache_key() -> None:
    base = insert(generated).values(name="a")
    keys = {
        base._generate_cache_key()[0],
        base.return_defaults()._generate_cache_key()[0],
        base.return_defaults(generated.c.qty)._generate_cache_key()[0],
        base.return_defaults(sort_by_parameter_order=True)._generate_cache_key()[0],
        base.returning(generated.c.id)._generate_cache_key()[0],
        base.returning(generated.c.id, sort_by_parameter_order=True)._generate_cache_key()[0],
    }
    assert len(keys) == 6


def test_parameters_of_a_known_shape_bind_as_the_first_time() -> None:
    """Parameter dicts giving every value, of names seen before, take a kept route: the
    same SQL and values as the first call, for each order of the names, with their type's
    conversion, and the primary key still found from them."""
    compiled, extracted = compile_cached(insert(users), SQLITE, None)
    when = dt.datetime(2021, 5, 6, 7, 8, 9)
    stamp = "2021-05-06 07:08:09.000000"
    sql = "INSERT INTO users (name, age, created) VALUES (?, ?, ?)"
    for name in ("a", "b"):
        params = {"name": name, "age": 3, "created": when}
        assert compiled.prepare(extracted, params) == (sql, [name, 3, stamp])
        assert compiled.inserted_primary_key(compiled.prepare(extracted, params)[1], 5, None) == (
            5,
        )
    for name in ("c", "d"):
        params = {"created": when, "age": 4, "name": name}
        assert compiled.prepare(extracted, params) == (sql, [name, 4, stamp])
    sql = "INSERT INTO users (id, name, age, created) VALUES (?, ?, ?, ?)"
    for key in (9, 10):
        params = {"id": key, "name": "k", "age": 1, "created": when}
        assert compiled.prepare(extracted, params) == (sql, [key, "k", 1, stamp])
        assert compiled.inserted_primary_key(compiled.prepare(extracted, params)[1], 3, None) == (
            key,
        )
    assert len(compiled._routes) == 3
    compiled, extracted = compile_cached(insert(users), PG, None)
    for name in ("g", "h"):
        params = {"name": name, "age": 3, "created": when}
        assert compiled.prepare(extracted, params)[1] == params
    assert len(compiled._routes) == 1
