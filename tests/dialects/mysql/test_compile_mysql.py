"""MySQL-specific compilation: backticks, format paramstyle, LIMIT, CAST names, literals."""

from __future__ import annotations

from athanor.dialects import mysql
from athanor.sql import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    cast,
    literal,
    select,
)

dialect = mysql.dialect()
t = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("key", String(5)))


def sql(stmt: object, **kw: object) -> str:
    return stmt.compile(dialect=dialect, **kw).string  # type: ignore[attr-defined]


def test_backticks_format_and_limit() -> None:
    assert sql(select(t.c.key).where(t.c.id == 1).limit(2).offset(4)) == (
        "SELECT t.`key` FROM t WHERE t.id = %s LIMIT %s, %s"
    )


def test_cast_names() -> None:
    stmt = select(
        cast(t.c.id, String(5)),
        cast(t.c.key, Integer),
        cast(t.c.id, Numeric(8, 2)),
        cast(t.c.key, DateTime),
    )
    assert sql(stmt) == (
        "SELECT CAST(t.id AS CHAR) AS id, CAST(t.`key` AS SIGNED) AS `key`, "
        "CAST(t.id AS DECIMAL(8, 2)) AS id__1, CAST(t.`key` AS DATETIME) AS key__1 FROM t"
    )


def test_string_literals_escape_backslashes_and_nul() -> None:
    rendered = sql(select(literal("a\\'b\x00", String)), compile_kwargs={"literal_binds": True})
    assert rendered == "SELECT 'a\\\\''b\\0' AS anon_1"


def test_concat_and_null_safe_comparison() -> None:
    assert sql(select(t.c.key + "x")) == "SELECT concat(t.`key`, %s) AS anon_1 FROM t"
    assert sql(select(t.c.id).where(t.c.id.is_not_distinct_from(None))).endswith(
        "WHERE t.id <=> NULL"
    ) or "<=>" in sql(select(t.c.id).where(t.c.id.is_not_distinct_from(1)))


def test_sequence_defaults_on_mariadb_and_lightweight_tables() -> None:
    """On MariaDB (assumed until connected) a Sequence default is ``NEXT VALUE FOR`` and the
    key comes back with RETURNING; an ``optional`` one leaves the column to AUTO_INCREMENT;
    an INSERT into a ``table()`` clause, which has no autoincrement column, still compiles."""
    from athanor.sql import Sequence, column, insert, table

    seq = Table(
        "s",
        MetaData(),
        Column("id", Integer, Sequence("s_seq"), primary_key=True),
        Column("x", Integer),
    )
    optional = Table(
        "o",
        MetaData(),
        Column("id", Integer, Sequence("o_seq", optional=True), primary_key=True),
        Column("x", Integer),
    )
    assert sql(insert(seq).values(x=1)) == (
        "INSERT INTO s (id, x) VALUES (NEXT VALUE FOR s_seq, %s) RETURNING id"
    )
    assert sql(insert(optional).values(x=1)) == "INSERT INTO o (x) VALUES (%s)"
    assert sql(insert(table("plain", column("x"))).values(x=1)) == (
        "INSERT INTO plain (x) VALUES (%s)"
    )
