"""Values never break out of quoting: arbitrary strings as literals, identifiers and parameters."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from athanor.dialects import mysql, postgresql, sqlite
from athanor.engine import Engine, create_engine
from athanor.sql import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    literal,
    literal_column,
    select,
    text,
)
from backends import Backend

DIALECTS = {
    "postgresql": postgresql.dialect(),
    "sqlite": sqlite.dialect(),
    "mysql": mysql.dialect(),
}
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
NO_NUL_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


def _unquote_literal(dialect_name: str, rendered: str) -> str:
    """Parse a rendered string literal back the way the database reads it."""
    pieces = rendered.split(" || char(0) || ") if dialect_name == "sqlite" else [rendered]
    out = []
    for piece in pieces:
        assert piece.startswith("'") and piece.endswith("'"), rendered
        body = piece[1:-1]
        # every quote inside is doubled, so the literal cannot end early
        assert re.fullmatch(r"(?:[^']|'')*", body), rendered
        body = body.replace("''", "'")
        if dialect_name == "mysql":
            body = re.sub(r"\\(.)", lambda m: {"0": "\x00", "\\": "\\"}[m.group(1)], body)
        out.append(body)
    return "\x00".join(out)


@pytest.mark.parametrize("name", sorted(DIALECTS))
@settings(max_examples=300, deadline=None)
@given(value=ANY_TEXT)
def test_string_literals_round_trip_through_quoting(name: str, value: str) -> None:
    dialect = DIALECTS[name]
    if name == "postgresql" and "\x00" in value:
        return
    rendered = select(literal(value, String)).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    )
    body = rendered.string[len("SELECT ") : -len(" AS anon_1")]
    assert _unquote_literal(name, body) == value


@pytest.mark.parametrize("name", sorted(DIALECTS))
@settings(max_examples=300, deadline=None)
@given(value=NO_NUL_TEXT.filter(bool))
def test_identifiers_are_quoted_safely(name: str, value: str) -> None:
    dialect = DIALECTS[name]
    quote = dialect.identifier_preparer.final_quote
    rendered = dialect.identifier_preparer.quote(value)
    if rendered != value:
        assert rendered[0] == quote and rendered[-1] == quote
        assert rendered[1:-1].replace(quote * 2, "").count(quote) == 0
        assert rendered[1:-1].replace(quote * 2, quote) == value
    else:
        assert re.fullmatch(r"[a-z_][a-z0-9_$]*", value)


def test_nul_in_postgresql_literal_is_refused() -> None:
    from athanor import exc

    with pytest.raises(exc.CompileError, match="NUL"):
        select(literal("a\x00b", String)).compile(
            dialect=DIALECTS["postgresql"], compile_kwargs={"literal_binds": True}
        )


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


def _strings(backend: Backend) -> st.SearchStrategy[str]:
    bad = ["\x00"] if backend.name == "postgresql" else []
    tricky = st.sampled_from(
        [
            "'",
            "''",
            "\\",
            "\\'",
            "%",
            "%%",
            "%s",
            "%(x)s",
            ":x",
            "?",
            "$1",
            "--",
            ";",
            '"',
            "`",
            "\x00",
        ]
    )
    alphabet = st.characters(blacklist_categories=("Cs",), blacklist_characters=bad)
    part = st.text(alphabet, max_size=8) | tricky.filter(lambda s: s not in bad)
    return st.lists(part, max_size=6).map("".join)


def test_arbitrary_strings_survive_insert_select_where_like(
    engine: Engine, backend: Backend
) -> None:
    metadata = MetaData()
    table = Table(
        "safety",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("s", Text),
        Column("k", String(200)),
    )
    metadata.create_all(engine)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(value=_strings(backend))
    @example(value="E")  # matches 'other' under MySQL's case-insensitive collation
    def check(value: str) -> None:
        with engine.begin() as conn:
            conn.execute(table.delete())
            conn.execute(table.insert().values(id=1, s=value, k=value))
            conn.execute(table.insert(), [{"id": 2, "s": "other", "k": "other"}])
            assert conn.execute(select(table.c.s).where(table.c.id == 1)).scalar_one() == value
            found = conn.execute(select(table.c.id).where(table.c.s == value)).scalars().all()
            # Only our two rows exist; MySQL collations may also match "other" case- or
            # pad-insensitively, so row 2 is allowed, row 1 is required.
            assert 1 in found and set(found) <= {1, 2}
            if value and not (backend.name == "sqlite" and "\x00" in value):
                # (SQLite's LIKE stops reading a pattern at NUL, a database limitation.)
                hits = (
                    conn.execute(
                        select(table.c.id).where(table.c.s.contains(value, autoescape=True))
                    )
                    .scalars()
                    .all()
                )
                # Row 1 must match; row 2 ("other") must match when value is a substring of it,
                # and may match under case- or accent-insensitive collations (MySQL, SQLite LIKE).
                assert 1 in hits and set(hits) <= {1, 2}
                if value in "other":
                    assert 2 in hits
                prefix = (
                    conn.execute(
                        select(table.c.id).where(table.c.s.startswith(value, autoescape=True))
                    )
                    .scalars()
                    .all()
                )
                assert 1 in prefix and set(prefix) <= {1, 2}
            literal_row = conn.execute(
                select(literal(value, Text)),
            ).scalar_one()
            assert literal_row == value
            inline = conn.execute(
                text("SELECT s FROM safety WHERE id = :id"), {"id": 1}
            ).scalar_one()
            assert inline == value
            rendered = select(literal(value, Text).label("v")).compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True}
            )
            assert conn.exec_driver_sql(rendered.string).scalar_one() == value
            assert (
                conn.execute(
                    select(table.c.id).where(table.c.k == bindparam("k")), {"k": value}
                ).first()
                is not None
            )

    check()


def test_arbitrary_identifiers_cannot_break_out(engine: Engine, backend: Backend) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        name=st.text(st.characters(min_codepoint=32, max_codepoint=0x7FF), min_size=1, max_size=20)
    )
    def check(name: str) -> None:
        if backend.name == "mysql" and name != name.rstrip():
            return
        with engine.connect() as conn:
            row = conn.execute(select(literal_column("42").label(name), literal(7))).one()
            assert tuple(row) == (42, 7)

    check()
