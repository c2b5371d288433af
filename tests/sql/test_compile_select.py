"""Compile-only tests of SELECT constructs: SQL text and parameters per dialect."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import exc
from athanor.dialects import mysql, postgresql, sqlite
from athanor.sql import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    and_,
    asc,
    bindparam,
    case,
    cast,
    column,
    desc,
    distinct,
    except_,
    exists,
    false,
    func,
    intersect,
    literal,
    literal_column,
    not_,
    null,
    or_,
    select,
    table,
    text,
    true,
    tuple_,
    type_coerce,
    union,
    union_all,
)

metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("age", Integer),
    Column("order", String(10)),
)
posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id")),
    Column("title", String(200)),
    Column("score", Numeric(10, 2)),
)
tree = Table(
    "tree",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", ForeignKey("tree.id")),
)

PG = postgresql.dialect()
SQLITE = sqlite.dialect()
MYSQL = mysql.dialect()


def sql(stmt: Any, dialect: Any = None, **kw: Any) -> str:
    if dialect is None:
        return str(stmt)
    return stmt.compile(dialect=dialect, **kw).string


def test_select_table_where() -> None:
    stmt = select(users).where(users.c.age > 25)
    assert sql(stmt) == (
        'SELECT users.id, users.name, users.age, users."order" FROM users WHERE users.age > :age_1'
    )
    compiled = stmt.compile()
    assert compiled.params == {"age_1": 25}


@pytest.mark.parametrize(
    ("dialect", "placeholder", "order_col"),
    [(PG, "%(age_1)s", '"order"'), (SQLITE, "?", '"order"'), (MYSQL, "%s", "`order`")],
)
def test_paramstyles_and_quoting(dialect: Any, placeholder: str, order_col: str) -> None:
    stmt = select(users.c.order).where(users.c.age > 25)
    assert sql(stmt, dialect) == (
        f"SELECT users.{order_col} FROM users WHERE users.age > {placeholder}"
    )


def test_positiontup_for_positional_dialects() -> None:
    stmt = select(users.c.id).where(users.c.age > 1, users.c.name == "x")
    compiled = stmt.compile(dialect=SQLITE)
    assert compiled.positiontup == ["age_1", "name_1"]
    assert stmt.compile(dialect=PG).positiontup is None
    assert compiled.positional and not stmt.compile(dialect=PG).positional
    assert stmt.compile(dialect=MYSQL).positional


def test_construct_params_overrides_the_statement_values_it_binds() -> None:
    stmt = select(users.c.id).where(users.c.age > 1, users.c.name == bindparam("who", "ann"))
    compiled = stmt.compile(dialect=PG)
    assert compiled.construct_params() == {"age_1": 1, "who": "ann"}
    assert compiled.construct_params({"who": "bob", "unrelated": 3}) == {"age_1": 1, "who": "bob"}


def test_and_or_not_grouping() -> None:
    stmt = select(users.c.id).where(
        or_(users.c.name == None, not_(users.c.age.in_([1, 2]))),  # noqa: E711
        and_(users.c.age > 1, or_(users.c.age < 5, users.c.age > 10)),
    )
    assert sql(stmt) == (
        "SELECT users.id FROM users WHERE (users.name IS NULL OR (users.age NOT IN (:age_1))) "
        "AND users.age > :age_2 AND (users.age < :age_3 OR users.age > :age_4)"
    )


def test_operators_and_python_precedence() -> None:
    expr = (users.c.age + 1) * 2 - users.c.age / 3
    assert sql(select(expr.label("x"))) == (
        "SELECT (users.age + :age_1) * :param_1 - users.age / CAST(:age_2 AS NUMERIC) AS x "
        "FROM users"
    )
    assert sql(select(users.c.id).where(~(users.c.age == 5))) == (
        "SELECT users.id FROM users WHERE users.age != :age_1"
    )
    assert sql(select(users.c.id).where(users.c.age != None)) == (  # noqa: E711
        "SELECT users.id FROM users WHERE users.age IS NOT NULL"
    )


def test_is_between_distinct_collate() -> None:
    stmt = select(users.c.name.collate("C"), distinct(users.c.age)).where(
        users.c.age.between(1, 5), users.c.name.is_not(None), users.c.id.is_(None)
    )
    assert sql(stmt) == (
        'SELECT users.name COLLATE "C" AS anon_1, DISTINCT users.age AS age FROM users '
        "WHERE users.age BETWEEN :age_1 AND :age_2 AND users.name IS NOT NULL AND users.id IS NULL"
    )


def test_like_family_and_autoescape() -> None:
    stmt = select(users.c.id).where(
        users.c.name.like("a%"),
        users.c.name.contains("50%_off", autoescape=True),
        users.c.name.startswith("x"),
        users.c.name.endswith("y"),
    )
    compiled = stmt.compile()
    assert compiled.string == (
        "SELECT users.id FROM users WHERE users.name LIKE :name_1 AND users.name LIKE :name_2 "
        "ESCAPE '/' AND users.name LIKE :name_3 AND users.name LIKE :name_4"
    )
    assert compiled.params == {
        "name_1": "a%",
        "name_2": "%50/%/_off%",
        "name_3": "x%",
        "name_4": "%y",
    }


def test_ilike_per_dialect() -> None:
    stmt = select(users.c.id).where(users.c.name.ilike("%x"))
    assert sql(stmt, PG).endswith("WHERE users.name ILIKE %(name_1)s")
    assert sql(stmt, SQLITE).endswith("WHERE lower(users.name) LIKE lower(?)")
    assert sql(stmt, MYSQL).endswith("WHERE lower(users.name) LIKE lower(%s)")


def test_contains_with_column_uses_concatenation() -> None:
    stmt = select(users.c.id).where(users.c.name.contains(posts.c.title))
    assert "users.name LIKE :param_1 || posts.title || :param_2" in sql(stmt)
    assert "LIKE concat(concat(%s, posts.title), %s)" in sql(stmt, MYSQL)


def test_in_expanding_and_empty() -> None:
    stmt = select(users.c.id).where(users.c.id.in_([1, 2, 3]))
    compiled = stmt.compile(dialect=SQLITE)
    _, extracted = stmt._generate_cache_key()
    sql_text, params = compiled.prepare(extracted, None)
    assert sql_text == "SELECT users.id FROM users WHERE users.id IN (?, ?, ?)"
    assert params == [1, 2, 3]
    empty = select(users.c.id).where(users.c.id.in_([]))
    compiled = empty.compile(dialect=PG)
    sql_text, params = compiled.prepare(empty._generate_cache_key()[1], None)
    assert sql_text == "SELECT users.id FROM users WHERE users.id IN (NULL) AND (1 != 1)"
    not_empty = select(users.c.id).where(users.c.id.not_in([]))
    sql_text, _ = not_empty.compile(dialect=PG).prepare(not_empty._generate_cache_key()[1], None)
    assert sql_text == "SELECT users.id FROM users WHERE (users.id NOT IN (NULL) OR (1 = 1))"


def test_in_expanding_named_and_numeric_dollar() -> None:
    stmt = select(users.c.id).where(users.c.id.in_([7, 8]), users.c.age > 1)
    compiled = stmt.compile(dialect=PG)
    sql_text, params = compiled.prepare(stmt._generate_cache_key()[1], None)
    assert sql_text == (
        "SELECT users.id FROM users WHERE users.id IN (%(id_1_1)s, %(id_1_2)s) "
        "AND users.age > %(age_1)s"
    )
    assert params == {"id_1_1": 7, "id_1_2": 8, "age_1": 1}
    dollar = postgresql.dialect(paramstyle="numeric_dollar")
    sql_text, params = stmt.compile(dialect=dollar).prepare(stmt._generate_cache_key()[1], None)
    assert sql_text == "SELECT users.id FROM users WHERE users.id IN ($1, $2) AND users.age > $3"
    assert params == [7, 8, 1]


def test_in_bindparam_values_at_execution() -> None:
    stmt = select(users.c.id).where(users.c.id.in_(bindparam("ids")))
    compiled = stmt.compile(dialect=SQLITE)
    sql_text, params = compiled.prepare(stmt._generate_cache_key()[1], {"ids": [4, 5]})
    assert sql_text.endswith("IN (?, ?)")
    assert params == [4, 5]


def test_tuple_in() -> None:
    stmt = select(users.c.id).where(tuple_(users.c.id, users.c.age).in_([(1, 2), (3, 4)]))
    sql_text, params = stmt.compile(dialect=SQLITE).prepare(stmt._generate_cache_key()[1], None)
    assert sql_text.endswith("WHERE (users.id, users.age) IN ((?, ?), (?, ?))")
    assert params == [1, 2, 3, 4]


def test_in_subquery() -> None:
    stmt = select(users.c.id).where(users.c.id.in_(select(posts.c.user_id)))
    assert (
        sql(stmt)
        == "SELECT users.id FROM users WHERE users.id IN (SELECT posts.user_id FROM posts)"
    )


def test_order_limit_offset_per_dialect() -> None:
    stmt = select(users.c.id).order_by(users.c.name.desc(), asc(users.c.age)).limit(5).offset(10)
    assert sql(stmt, PG).endswith(
        "ORDER BY users.name DESC, users.age ASC LIMIT %(limit_1)s OFFSET %(offset_1)s"
    )
    assert sql(stmt, SQLITE).endswith("LIMIT ? OFFSET ?")
    assert sql(stmt, MYSQL).endswith("LIMIT %s, %s")
    compiled = stmt.compile(dialect=MYSQL)
    assert compiled.prepare(stmt._generate_cache_key()[1], None)[1] == [10, 5]
    only_offset = select(users.c.id).offset(3)
    assert sql(only_offset, SQLITE).endswith("LIMIT -1 OFFSET ?")
    assert sql(only_offset, MYSQL).endswith("LIMIT %s, 18446744073709551615")
    assert sql(only_offset, PG).endswith("OFFSET %(offset_1)s")


def test_nulls_first_last() -> None:
    stmt = select(users.c.id).order_by(users.c.age.desc().nulls_first(), users.c.name.nulls_last())
    assert sql(stmt, PG).endswith("ORDER BY users.age DESC NULLS FIRST, users.name NULLS LAST")
    assert sql(stmt, MYSQL).endswith(
        "ORDER BY users.age IS NOT NULL, users.age DESC, users.name IS NULL, users.name"
    )


def test_group_by_having_and_func_types() -> None:
    count = func.count(posts.c.id)
    stmt = (
        select(users.c.name, count.label("post_count"))
        .select_from(users.outerjoin(posts))
        .group_by(users.c.id, users.c.name)
        .having(count > 5)
    )
    assert sql(stmt) == (
        "SELECT users.name, count(posts.id) AS post_count FROM users LEFT OUTER JOIN posts "
        "ON users.id = posts.user_id GROUP BY users.id, users.name "
        "HAVING count(posts.id) > :count_1"
    )
    assert isinstance(func.count().type, Integer)
    assert type(func.now().type).__name__ == "DateTime"
    assert type(func.lower(users.c.name).type).__name__ == "String"
    assert func.max(posts.c.score).type is posts.c.score.type
    assert sql(select(func.count())) == "SELECT count(*) AS count_1"


def test_func_rendering() -> None:
    assert (
        sql(select(func.current_timestamp())) == "SELECT CURRENT_TIMESTAMP AS current_timestamp_1"
    )
    assert sql(select(func.now()), SQLITE) == "SELECT CURRENT_TIMESTAMP AS now_1"
    assert sql(select(func.now()), PG) == "SELECT now() AS now_1"
    assert sql(select(func.my_schema.my_fn(1))) == "SELECT my_schema.my_fn(:param_1) AS my_fn_1"
    assert sql(select(func.coalesce(users.c.name, "x"))) == (
        "SELECT coalesce(users.name, :param_1) AS coalesce_1 FROM users"
    )


def test_join_inferred_from_foreign_key() -> None:
    assert sql(select(users.c.name, posts.c.title).join_from(users, posts)) == (
        "SELECT users.name, posts.title FROM users JOIN posts ON users.id = posts.user_id"
    )
    assert sql(select(users.c.name).join(posts)) == (
        "SELECT users.name FROM users JOIN posts ON users.id = posts.user_id"
    )
    stmt = select(posts.c.title).select_from(posts.join(users, isouter=True))
    assert sql(stmt) == (
        "SELECT posts.title FROM posts LEFT OUTER JOIN users ON users.id = posts.user_id"
    )


def test_join_errors_name_tables() -> None:
    other = Table("other", MetaData(), Column("id", Integer, primary_key=True))
    with pytest.raises(exc.NoForeignKeysError, match=r"'users'.*'other'.*ON clause"):
        users.join(other)
    md = MetaData()
    a = Table("a", md, Column("id", Integer, primary_key=True))
    b = Table(
        "b",
        md,
        Column("id", Integer, primary_key=True),
        Column("a1", ForeignKey("a.id")),
        Column("a2", ForeignKey("a.id")),
    )
    with pytest.raises(exc.AmbiguousForeignKeysError, match=r"'a' and 'b'.*2 foreign key paths"):
        a.join(b)


def test_aliases_and_self_join() -> None:
    parent = tree.alias("parent")
    stmt = select(tree.c.id, parent.c.id).join(parent, tree.c.parent_id == parent.c.id)
    assert sql(stmt) == (
        "SELECT tree.id, parent.id AS id_1 FROM tree JOIN tree AS parent "
        "ON tree.parent_id = parent.id"
    )
    anon = users.alias()
    assert sql(select(anon.c.id)) == "SELECT anon_1.id FROM users AS anon_1"


def test_subquery_and_scalar_subquery_correlation() -> None:
    sq = select(posts.c.user_id, func.count().label("n")).group_by(posts.c.user_id).subquery()
    stmt = select(users.c.name, sq.c.n).join(sq, users.c.id == sq.c.user_id)
    assert sql(stmt) == (
        "SELECT users.name, anon_1.n FROM users JOIN (SELECT posts.user_id, count(*) AS n "
        "FROM posts GROUP BY posts.user_id) AS anon_1 ON users.id = anon_1.user_id"
    )
    counted = select(func.count(posts.c.id)).where(posts.c.user_id == users.c.id).scalar_subquery()
    assert sql(select(users.c.name, counted.label("cnt"))) == (
        "SELECT users.name, (SELECT count(posts.id) AS count_1 FROM posts "
        "WHERE posts.user_id = users.id) AS cnt FROM users"
    )


def test_exists() -> None:
    stmt = select(users.c.id).where(exists().where(posts.c.user_id == users.c.id))
    assert sql(stmt) == (
        "SELECT users.id FROM users WHERE EXISTS "
        "(SELECT * FROM posts WHERE posts.user_id = users.id)"
    )
    stmt = select(users.c.id).where(
        ~select(posts.c.id).where(posts.c.user_id == users.c.id).exists()
    )
    assert "WHERE NOT EXISTS (SELECT posts.id FROM posts WHERE posts.user_id = users.id)" in sql(
        stmt
    )


def test_cte_and_recursive_cte() -> None:
    adults = select(users.c.id, users.c.name).where(users.c.age > 5).cte("adults")
    assert sql(select(adults.c.name)) == (
        "WITH adults AS (SELECT users.id, users.name FROM users WHERE users.age > :age_1) "
        "SELECT adults.name FROM adults"
    )
    rec = select(tree.c.id).where(tree.c.parent_id.is_(None)).cte("r", recursive=True)
    rec = rec.union_all(select(tree.c.id).join(rec, tree.c.parent_id == rec.c.id))
    assert sql(select(rec.c.id)) == (
        "WITH RECURSIVE r(id) AS (SELECT tree.id FROM tree WHERE tree.parent_id IS NULL "
        "UNION ALL SELECT tree.id FROM tree JOIN r ON tree.parent_id = r.id) SELECT r.id FROM r"
    )


def test_compound_selects() -> None:
    a, b = select(users.c.id), select(posts.c.id)
    assert sql(union(a, b).order_by("id").limit(3)) == (
        "SELECT users.id FROM users UNION SELECT posts.id FROM posts ORDER BY id LIMIT :limit_1"
    )
    assert " UNION ALL " in sql(union_all(a, b))
    assert " INTERSECT " in sql(intersect(a, b))
    assert " EXCEPT " in sql(except_(a, b))
    assert " EXCEPT ALL " in sql(a.except_all(b))


def test_window_function() -> None:
    stmt = select(
        func.row_number().over(partition_by=users.c.age, order_by=users.c.id.desc()),
        func.sum(users.c.age).over(order_by=users.c.id, rows=(None, 0)),
    )
    assert sql(stmt) == (
        "SELECT row_number() OVER (PARTITION BY users.age ORDER BY users.id DESC) AS anon_1, "
        "sum(users.age) OVER (ORDER BY users.id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
        "AS anon_2 FROM users"
    )


def test_case_cast_type_coerce_literals() -> None:
    stmt = select(
        case((users.c.age < 18, "minor"), else_="adult").label("kind"),
        case({1: "one"}, value=users.c.id),
        cast(users.c.age, String(10)),
        type_coerce(users.c.name, Integer),
        literal(5),
        literal_column("1 + 1"),
        null(),
        true(),
        false(),
    )
    assert sql(stmt) == (
        "SELECT CASE WHEN users.age < :age_1 THEN :param_1 ELSE :param_2 END AS kind, "
        "CASE users.id WHEN :id_1 THEN :param_3 END AS anon_1, "
        "CAST(users.age AS VARCHAR(10)) AS age, users.name AS name, :param_4 AS anon_2, 1 + 1, "
        "NULL AS anon_3, true AS anon_4, false AS anon_5 FROM users"
    )
    assert "CAST(users.age AS CHAR)" in sql(select(cast(users.c.age, String(10))), MYSQL)
    assert "CAST(users.score AS DECIMAL(5, 1))" in sql(
        select(cast(posts.c.score.label("s").element, Numeric(5, 1))).select_from(posts), MYSQL
    ).replace("posts.score", "users.score")


def test_distinct_and_distinct_on() -> None:
    assert sql(select(users.c.name).distinct()) == "SELECT DISTINCT users.name FROM users"
    stmt = select(users.c.name).distinct(users.c.age)
    assert sql(stmt, PG) == "SELECT DISTINCT ON (users.age) users.name FROM users"
    with pytest.raises(exc.CompileError, match="DISTINCT ON"):
        stmt.compile(dialect=SQLITE)


def test_for_update_variants() -> None:
    stmt = select(users.c.id).with_for_update(nowait=True)
    assert sql(stmt, PG).endswith("FOR UPDATE NOWAIT")
    assert sql(stmt, SQLITE) == "SELECT users.id FROM users"
    assert sql(select(users.c.id).with_for_update(read=True), MYSQL).endswith("LOCK IN SHARE MODE")
    assert sql(select(users.c.id).with_for_update(of=users, skip_locked=True), PG).endswith(
        "FOR UPDATE OF users SKIP LOCKED"
    )


def test_lightweight_table_and_columns() -> None:
    t = table("t", column("a"), column("b"))
    assert sql(select(t.c.a).where(t.c.b == 1)) == "SELECT t.a FROM t WHERE t.b = :b_1"


def test_duplicate_result_names_are_deduplicated() -> None:
    stmt = select(users.c.id, posts.c.id).select_from(users.join(posts))
    compiled = stmt.compile()
    assert compiled.string.startswith("SELECT users.id, posts.id AS id_1 FROM")
    assert compiled.result_keys == ["id", "id_1"]
    assert compiled.result_key_objects[1][0] is posts.c.id


def test_filter_by_and_string_criteria_errors() -> None:
    assert sql(select(users).filter_by(name="x")).endswith("WHERE users.name = :name_1")
    with pytest.raises(exc.ArgumentError, match="text"):
        select(users).where("id = 5")
    with pytest.raises(exc.ArgumentError, match="literal_column"):
        select("id")


def test_comparing_with_unsupported_objects_fails_clearly() -> None:
    with pytest.raises(exc.ArgumentError, match="table/selectable"):
        users.c.id == users  # noqa: B015
    with pytest.raises(exc.ArgumentError, match="Cannot compare"):
        users.c.id == len  # noqa: B015
    with pytest.raises(TypeError, match="Boolean value"):
        bool(users.c.id > 5)


def test_text_binds_escapes_and_percent() -> None:
    stmt = text("select * from t where id = :id and x = '\\:y' and z::int and w like '%a'")
    assert sql(stmt, PG) == (
        "select * from t where id = %(id)s and x = ':y' and z::int and w like '%%a'"
    )
    assert (
        sql(stmt, SQLITE) == "select * from t where id = ? and x = ':y' and z::int and w like '%a'"
    )
    compiled = stmt.bindparams(id=5).compile(dialect=MYSQL)
    assert compiled.string.endswith("like '%%a'")
    assert compiled.params == {"id": 5}


def test_text_columns_gives_result_types() -> None:
    stmt = text("select id, name from users").columns(users.c.id, name=String)
    compiled = stmt.compile(dialect=SQLITE)
    assert compiled.returns_rows
    assert compiled.result_keys == ["id", "name"]


def test_literal_binds_render_values() -> None:
    stmt = select(users.c.id).where(users.c.name == "O'Brien\\", users.c.age.in_([1, 2]))
    assert sql(stmt, PG, compile_kwargs={"literal_binds": True}).endswith(
        "WHERE users.name = 'O''Brien\\' AND users.age IN (1, 2)"
    )
    assert sql(stmt, MYSQL, compile_kwargs={"literal_binds": True}).endswith(
        "WHERE users.name = 'O''Brien\\\\' AND users.age IN (1, 2)"
    )


def test_literal_binds_refuses_non_numeric_for_integer() -> None:
    stmt = select(users.c.id).where(users.c.age == "1; drop table users")
    with pytest.raises(ValueError):
        stmt.compile(compile_kwargs={"literal_binds": True})


def test_selected_columns_and_subquery_columns() -> None:
    stmt = select(users.c.id, users.c.name.label("n"))
    assert stmt.selected_columns.keys() == ["id", "n"]
    sq = stmt.subquery("s")
    assert sq.c.keys() == ["id", "n"]
    assert (
        sql(select(sq.c.n)) == "SELECT s.n FROM (SELECT users.id, users.name AS n FROM users) AS s"
    )


def test_desc_function_form_and_order_by_label() -> None:
    stmt = select(users.c.name.label("nm")).order_by(desc("nm"))
    assert sql(stmt) == "SELECT users.name AS nm FROM users ORDER BY nm DESC"


def test_anonymous_names_avoid_explicit_bindparam_names() -> None:
    stmt = select(users.c.id).where(users.c.id == 5, users.c.age == bindparam("id_1"))
    compiled = stmt.compile()
    assert compiled.string.endswith("WHERE users.id = :id_2 AND users.age = :id_1")
    _, extracted = stmt._generate_cache_key()
    assert compiled.prepare(extracted, {"id_1": 9})[1] == {"id_2": 5, "id_1": 9}


def test_json_index_per_dialect() -> None:
    from athanor.sql import JSON

    docs = Table("docs", MetaData(), Column("doc", JSON))
    stmt = select(docs.c.doc["a"], docs.c.doc[0]["b"].as_string(), docs.c.doc["n"].as_integer())
    assert sql(stmt, PG) == (
        "SELECT docs.doc -> %(param_1)s AS anon_1, ((docs.doc -> %(param_2)s) ->> %(param_3)s) "
        "AS anon_2, CAST((docs.doc ->> %(param_4)s) AS INTEGER) AS anon_3 FROM docs"
    )
    compiled = stmt.compile(dialect=MYSQL)
    assert compiled.string == (
        "SELECT JSON_EXTRACT(docs.doc, %s) AS anon_1, JSON_UNQUOTE(JSON_EXTRACT("
        "(JSON_EXTRACT(docs.doc, %s)), %s)) AS anon_2, "
        "CAST(JSON_UNQUOTE(JSON_EXTRACT(docs.doc, %s)) AS SIGNED) AS anon_3 FROM docs"
    )
    _, extracted = stmt._generate_cache_key()
    assert compiled.prepare(extracted, None)[1] == ['$."a"', "$[0]", '$."b"', '$."n"']


def test_text_fragments_in_order_by_and_where() -> None:
    stmt = select(users.c.id).where(text("age > 3")).order_by(text("name DESC"))
    assert sql(stmt) == "SELECT users.id FROM users WHERE age > 3 ORDER BY name DESC"


def test_select_of_a_class_that_is_not_mapped_is_refused() -> None:
    """A class selects as what its ``__clause_element__`` hook gives; one without it is not a
    selectable thing (nor are its instances)."""

    class Plain:
        pass

    with pytest.raises(exc.ArgumentError, match="Cannot select"):
        select(Plain)
    with pytest.raises(exc.ArgumentError, match="Cannot select"):
        select(Plain())
