"""``TypeEngine.with_variant``: one column type, a different stored type per database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from athanor import exc
from athanor.dialects import mysql, postgresql, sqlite
from athanor.engine import Engine, create_engine
from athanor.inspection import inspect
from athanor.sql import (
    JSON,
    Column,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    cast,
    select,
    text,
)
from athanor.sql.ddl import CreateTable
from backends import Backend


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


class Tagged(TypeDecorator[str]):
    """Stores ``tag:<value>``; reads back the bare value."""

    impl = String(30)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else f"tag:{value}"

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else value.removeprefix("tag:")


def test_each_dialect_renders_its_variant_and_others_the_base_type() -> None:
    code = String(10).with_variant(Text(), "postgresql").with_variant(String(40), "mysql")
    table = Table("notes", MetaData(), Column("code", code))

    def column_sql(dialect: object) -> str:
        return str(CreateTable(table).compile(dialect=dialect)).splitlines()[1].strip()

    assert column_sql(postgresql.dialect()) == "code TEXT"
    assert column_sql(mysql.dialect()) == "code VARCHAR(40)"
    assert column_sql(sqlite.dialect()) == "code VARCHAR(10)"
    assert str(select(cast(table.c.code, code)).compile(dialect=postgresql.dialect())) == (
        "SELECT CAST(notes.code AS TEXT) AS code FROM notes"
    )


def test_variants_take_part_in_the_type_identity() -> None:
    plain = String(10)
    varied = plain.with_variant(Text(), "postgresql")
    assert plain._ck != varied._ck
    assert varied._ck == String(10).with_variant(Text(), "postgresql")._ck
    assert "_variant_mapping" not in plain.__dict__  # the original is left alone


def test_a_dialect_named_twice_or_none_named_is_refused() -> None:
    varied = String(10).with_variant(Text(), "postgresql")
    with pytest.raises(exc.ArgumentError, match="already has a variant for dialect 'postgresql'"):
        varied.with_variant(String(20), "postgresql")
    with pytest.raises(exc.ArgumentError, match="needs the dialect names"):
        String(10).with_variant(Text())


def test_variant_columns_store_and_convert_through_the_variant(
    engine: Engine, backend: Backend
) -> None:
    metadata = MetaData()
    table = Table(
        "variant_docs",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("doc", JSON().with_variant(postgresql.JSONB(), "postgresql")),
        Column("label", String(10).with_variant(Tagged(), "sqlite", "mysql", "mariadb")),
        Column("kind", String(8).with_variant(Enum("a", "b", name="variant_kind"), "postgresql")),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), {"doc": {"k": [1, 2]}, "label": "x", "kind": "a"})
        assert conn.execute(select(table.c.doc, table.c.label, table.c.kind)).one() == (
            {"k": [1, 2]},
            "x",
            "a",
        )
        stored = conn.execute(select(cast(table.c.label, String(30)))).scalar_one()
    assert stored == ("x" if backend.name == "postgresql" else "tag:x")
    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("variant_docs")}
    if backend.name == "postgresql":
        assert isinstance(columns["doc"], postgresql.JSONB)
        assert isinstance(columns["kind"], Enum) and columns["kind"].name == "variant_kind"
    metadata.drop_all(engine)
    if backend.name == "postgresql":
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM pg_type WHERE typname = 'variant_kind'")
            assert conn.execute(query).scalar() == 0
