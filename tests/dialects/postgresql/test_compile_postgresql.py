"""PostgreSQL-specific compilation: pyformat, numeric_dollar, ILIKE, DISTINCT ON, sequences."""

from __future__ import annotations

from athanor.dialects import postgresql
from athanor.sql import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    String,
    Table,
    literal,
    select,
    text,
)

dialect = postgresql.dialect()
metadata = MetaData()
t = Table("t", metadata, Column("id", Integer, primary_key=True), Column("User", String(5)))
seq = Sequence("my_seq", schema="s")


def sql(stmt: object, d: object = dialect, **kw: object) -> str:
    return stmt.compile(dialect=d, **kw).string  # type: ignore[attr-defined]


def test_dialect_without_driver_and_quoting() -> None:
    assert postgresql.dialect is postgresql.PostgreSQLDialect
    assert (
        sql(select(t.c.User).where(t.c.id == 1)) == 'SELECT t."User" FROM t WHERE t.id = %(id_1)s'
    )


def test_numeric_dollar_numbers_in_text_order() -> None:
    d = postgresql.dialect(paramstyle="numeric_dollar")
    cte = select(t.c.id).where(t.c.User == "x").cte("c")
    stmt = select(cte.c.id).where(cte.c.id > 5).limit(3)
    compiled = stmt.compile(dialect=d)
    assert compiled.string == (
        'WITH c AS (SELECT t.id FROM t WHERE t."User" = $1) SELECT c.id FROM c '
        "WHERE c.id > $2 LIMIT $3"
    )
    assert compiled.positiontup == ["User_1", "id_1", "limit_1"]


def test_percent_doubled_only_with_parameters() -> None:
    assert sql(text("SELECT 'a%'")) == "SELECT 'a%'"
    assert sql(text("SELECT 'a%' WHERE 1 = :x")) == "SELECT 'a%%' WHERE 1 = %(x)s"


def test_sequence_next_value_and_binary_literal() -> None:
    assert sql(select(seq.next_value())) == "SELECT nextval('s.my_seq') AS anon_1"
    rendered = sql(
        select(literal(b"\x00\xff", LargeBinary)), compile_kwargs={"literal_binds": True}
    )
    assert rendered == "SELECT '\\x00ff'::bytea AS anon_1"


def test_for_update_forms() -> None:
    assert sql(select(t.c.id).with_for_update(read=True, key_share=True)).endswith("FOR KEY SHARE")
    assert sql(select(t.c.id).with_for_update(key_share=True)).endswith("FOR NO KEY UPDATE")
