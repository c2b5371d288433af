"""Names under SQLAlchemy's module paths: conv, CreateColumn, sort_tables_and_constraints,
the temporary table and view lists of the Inspector, and PostgreSQL's text search functions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import exc, inspect
from athanor.dialects import postgresql, sqlite
from athanor.engine import Engine, create_engine
from athanor.ext.compiler import compiles, deregister
from athanor.schema import (
    CreateColumn,
    CreateTable,
    conv,
    sort_tables,
    sort_tables_and_constraints,
)
from athanor.sql import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
    text,
)
from athanor.sql.naming import conv as naming_conv
from backends import Backend


def test_conv_keeps_a_name_out_of_the_convention() -> None:
    assert naming_conv is conv
    metadata = MetaData(naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"})
    table = Table(
        "named",
        metadata,
        Column("a", Integer),
        Column("b", Integer),
        UniqueConstraint("a", name="custom"),
        UniqueConstraint("b", name=conv("kept_as_is")),
    )
    names = sorted(c.name for c in table.constraints if isinstance(c, UniqueConstraint))
    ddl = str(CreateTable(table).compile(dialect=sqlite.dialect()))
    assert "kept_as_is" in names and "CONSTRAINT kept_as_is UNIQUE (b)" in ddl


def test_create_column_renders_one_column_and_can_be_overridden() -> None:
    table = Table("cc", MetaData(), Column("id", Integer, primary_key=True), Column("x", String(5)))
    assert str(CreateColumn(table.c.x).compile(dialect=postgresql.dialect())) == "x VARCHAR(5)"

    @compiles(CreateColumn, "postgresql")
    def upper_names(element: Any, compiler: Any, **kw: Any) -> str | None:
        if element.element.name == "x":
            return None
        return str(compiler.visit_create_column(element, **kw)).upper()

    try:
        ddl = str(CreateTable(table).compile(dialect=postgresql.dialect()))
    finally:
        deregister(CreateColumn)
    assert "\tID INTEGER " in ddl and "\tx " not in ddl and "PRIMARY KEY (id)" in ddl


def test_sort_tables_and_constraints() -> None:
    metadata = MetaData()
    a = Table(
        "a", metadata, Column("id", Integer, primary_key=True), Column("b_id", ForeignKey("b.id"))
    )
    b = Table(
        "b", metadata, Column("id", Integer, primary_key=True), Column("a_id", ForeignKey("a.id"))
    )
    c = Table(
        "c", metadata, Column("id", Integer, primary_key=True), Column("a_id", ForeignKey("a.id"))
    )
    pairs = sort_tables_and_constraints([c, b, a])
    assert [t.name if t is not None else None for t, _ in pairs][-1] is None
    ordered = [t for t, _ in pairs[:-1]]
    assert ordered.index(c) > ordered.index(a)
    inline = {t.name: [fk.columns.keys() for fk in fks] for t, fks in pairs[:-1]}
    assert inline["c"] == [["a_id"]] and inline["a"] == [] and inline["b"] == []
    assert sorted(fk.table.name for fk in pairs[-1][1]) == ["a", "b"]
    moved = sort_tables_and_constraints([c, a, b], filter_fn=lambda fk: fk.table is c or None)
    assert {fk.table.name for fk in moved[-1][1]} == {"a", "b", "c"}
    inline_all = sort_tables_and_constraints([c, a, b], filter_fn=lambda fk: False)
    assert inline_all[-1][1] == []
    with pytest.raises(exc.ArgumentError, match="extra_dependencies"):
        sort_tables_and_constraints([a], extra_dependencies=[(a, b)])


def _chain() -> tuple[MetaData, Table, Table, Table, Table]:
    """Tables a (referred to by b and c), b (by d), c and d, which refers to c as well."""
    metadata = MetaData()
    a = Table("a", metadata, Column("id", Integer, primary_key=True))
    b = Table(
        "b", metadata, Column("id", Integer, primary_key=True), Column("a_id", ForeignKey("a.id"))
    )
    c = Table(
        "c", metadata, Column("id", Integer, primary_key=True), Column("a_id", ForeignKey("a.id"))
    )
    d = Table(
        "d",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("b_id", ForeignKey("b.id")),
        Column("c_id", ForeignKey("c.id")),
    )
    return metadata, a, b, c, d


def test_sort_tables_is_a_list_in_dependency_then_given_order() -> None:
    """sort_tables() (athanor.schema) returns a list: referred tables first, each round of
    tables whose references are placed in the order given."""
    metadata, a, b, c, d = _chain()
    assert sort_tables([d, c, b, a]) == [a, c, b, d]
    assert sort_tables([a, b, c, d]) == [a, b, c, d]
    assert metadata.sorted_tables == [a, b, c, d]
    assert sort_tables([d, c]) == [c, d]  # tables outside the list do not count
    skipping_b = sort_tables([d, c, b, a], skip_fn=lambda fk: fk.parent.name == "b_id")
    assert skipping_b == [a, c, b, d]  # d still comes after c
    assert sort_tables([d, c, b, a], skip_fn=lambda fk: fk.column.table is a) == [c, b, a, d]
    assert sort_tables([a, d], extra_dependencies=[(d, a)]) == [d, a]


def test_sort_tables_leaves_out_the_foreign_keys_of_a_cycle_with_a_warning() -> None:
    metadata = MetaData()
    z = Table("z", metadata, Column("id", Integer, primary_key=True))
    x = Table(
        "x",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("y_id", ForeignKey("y.id")),
        Column("z_id", ForeignKey("z.id")),
    )
    y = Table(
        "y", metadata, Column("id", Integer, primary_key=True), Column("x_id", ForeignKey("x.id"))
    )
    w = Table(
        "w", metadata, Column("id", Integer, primary_key=True), Column("x_id", ForeignKey("x.id"))
    )
    with pytest.warns(exc.SAWarning, match=r"Cannot order tables x, y by their foreign keys"):
        assert sort_tables([w, x, y, z]) == [x, y, z, w]
    with pytest.warns(exc.SAWarning, match="use_alter"):
        assert metadata.sorted_tables == [x, y, z, w]


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


def test_temp_table_and_view_names(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "mysql":
            with pytest.raises(NotImplementedError, match="does not list temporary tables"):
                inspect(conn).get_temp_table_names()
            return
        conn.execute(text("CREATE TEMPORARY TABLE tmp_scratch (id INTEGER)"))
        conn.execute(text("CREATE TEMPORARY VIEW tmp_look AS SELECT id FROM tmp_scratch"))
        inspector = inspect(conn)
        assert inspector.get_temp_table_names() == ["tmp_scratch"]
        assert inspector.get_temp_view_names() == ["tmp_look"]
        assert "tmp_scratch" not in inspector.get_table_names()
        conn.rollback()


def test_text_search_functions_compile() -> None:
    doc = Table("docs", MetaData(), Column("body", String(100)))
    pg = postgresql.dialect()
    stmt = select(postgresql.to_tsvector("english", doc.c.body))
    assert str(stmt.compile(dialect=pg)).startswith(
        "SELECT to_tsvector(CAST(%(param_1)s AS REGCONFIG), docs.body)"
    )
    assert isinstance(func.to_tsquery("a & b").type, postgresql.TSQUERY)
    assert isinstance(postgresql.to_tsvector(doc.c.body).type, postgresql.TSVECTOR)
    # a lone argument is the text, not the configuration
    assert "REGCONFIG" not in str(select(postgresql.plainto_tsquery("cats")).compile(dialect=pg))
    headline = postgresql.ts_headline("english", doc.c.body, postgresql.to_tsquery("cat"))
    assert "ts_headline(CAST(" in str(select(headline).compile(dialect=pg))
    options = postgresql.ts_headline(doc.c.body, postgresql.to_tsquery("cat"), "MaxWords=3")
    assert "ts_headline(docs.body" in str(select(options).compile(dialect=pg))


@pytest.mark.backends("postgresql")
def test_text_search_functions_run(engine: Engine) -> None:
    document = postgresql.to_tsvector("english", "The cats were running")
    with engine.connect() as conn:
        found = conn.scalar(
            select(document.op("@@")(postgresql.websearch_to_tsquery("english", "cat run")))
        )
        phrase = conn.scalar(
            select(document.op("@@")(postgresql.phraseto_tsquery("english", "cats were running")))
        )
        missing = conn.scalar(
            select(document.op("@@")(postgresql.plainto_tsquery("english", "dog")))
        )
        marked = conn.scalar(
            select(
                postgresql.ts_headline(
                    "english", "The cats were running", postgresql.to_tsquery("english", "cat")
                )
            )
        )
    assert (found, phrase, missing) == (True, True, False)
    assert marked == "The <b>cats</b> were running"
