"""SQLite-specific compilation: quoting, LIMIT forms, functions, literals, capabilities."""

from __future__ import annotations

from athanor.dialects import sqlite
from athanor.sql import Column, Integer, LargeBinary, MetaData, String, Table, func, literal, select

dialect = sqlite.dialect()
t = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("select", String(5)))


def sql(stmt: object, **kw: object) -> str:
    return stmt.compile(dialect=dialect, **kw).string  # type: ignore[attr-defined]


def test_dialect_constructs_without_driver_and_uses_qmark() -> None:
    assert dialect.name == "sqlite"
    assert dialect.paramstyle == "qmark"
    assert sql(select(t.c.select).where(t.c.id == 1)) == 'SELECT t."select" FROM t WHERE t.id = ?'


def test_offset_without_limit_and_now() -> None:
    assert sql(select(t.c.id).offset(5)) == "SELECT t.id FROM t LIMIT -1 OFFSET ?"
    assert sql(select(func.now(), func.char_length(t.c.select))) == (
        'SELECT CURRENT_TIMESTAMP AS now_1, length(t."select") AS char_length_1 FROM t'
    )


def test_literals_with_nul_and_binary() -> None:
    rendered = sql(
        select(literal("a\x00'b", String), literal(b"\x01\xff", LargeBinary)),
        compile_kwargs={"literal_binds": True},
    )
    assert rendered == "SELECT 'a' || char(0) || '''b' AS anon_1, X'01ff' AS anon_2"


def test_returning_and_bind_limit_follow_version() -> None:
    old = sqlite.dialect()
    old.server_version_info = (3, 31, 1)
    assert not old.insert_returning
    assert old.max_bind_params == 999
    new = sqlite.dialect()
    new.server_version_info = (3, 45, 0)
    assert new.insert_returning
    assert new.max_bind_params == 32766


def test_is_distinct_from() -> None:
    assert sql(select(t.c.id).where(t.c.id.is_distinct_from(3))).endswith("WHERE t.id IS NOT ?")
