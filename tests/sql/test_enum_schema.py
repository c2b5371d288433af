"""The schema of a named (PostgreSQL) enum type: ``schema=``, else the owning table's with
``inherit_schema=True``, else the MetaData's, else none; every place that names or creates
the type agrees (column DDL, array element, CAST, CREATE/DROP TYPE, reflection, migrations)."""

from __future__ import annotations

from pathlib import Path

import pytest

import athanor as sa
from athanor import inspect
from athanor.migrate import command
from athanor.schema import CreateTable
from athanor.types import ARRAY, Enum
from migrate.migrate_project import attributes_project

SCHEMA = "test_schema_enums"


def _pg_dialect() -> object:
    return sa.create_engine("postgresql+psycopg://u@h/d").dialect


def _mood(**kw: object) -> Enum:
    return Enum("sad", "ok", "happy", name="mood", **kw)


def _ddl_and_cast(table: sa.Table, dialect: object) -> tuple[str, str]:
    ddl = str(CreateTable(table).compile(dialect=dialect))
    cast = str(sa.select(sa.cast("ok", table.c.m.type)).compile(dialect=dialect))
    return ddl, cast


def test_the_schema_is_rendered_the_same_in_every_place() -> None:
    dialect = _pg_dialect()
    in_schema = sa.Table(
        "t", sa.MetaData(), sa.Column("m", _mood()), sa.Column("ms", ARRAY(_mood())), schema="s"
    )
    ddl, cast = _ddl_and_cast(in_schema, dialect)
    assert "m mood," in ddl and "ms mood[]" in ddl and "AS mood)" in cast  # not the table's

    shared = _mood(inherit_schema=True)
    first = sa.Table(
        "t", sa.MetaData(), sa.Column("m", shared), sa.Column("ms", ARRAY(shared)), schema="s"
    )
    ddl, cast = _ddl_and_cast(first, dialect)
    assert "m s.mood," in ddl and "ms s.mood[]" in ddl and "AS s.mood)" in cast
    assert shared.schema == "s"  # the table's schema is copied onto the type
    second = sa.Table("t2", sa.MetaData(), sa.Column("m", shared), schema="other")
    assert "m other.mood" in str(CreateTable(second).compile(dialect=dialect))
    assert "m s.mood," in str(CreateTable(first).compile(dialect=dialect))  # unchanged

    by_metadata = sa.Table("t", sa.MetaData(schema="ms"), sa.Column("m", _mood()))
    assert "m ms.mood" in _ddl_and_cast(by_metadata, dialect)[0]
    given = sa.Table("t", sa.MetaData(), sa.Column("m", _mood(metadata=sa.MetaData(schema="x"))))
    assert "m x.mood" in _ddl_and_cast(given, dialect)[0]
    explicit = sa.Table("t", sa.MetaData(schema="ms"), sa.Column("m", _mood(schema="e")))
    assert "m e.mood" in _ddl_and_cast(explicit, dialect)[0]


def test_inherit_schema_changes_nothing_where_enums_are_column_types() -> None:
    for url in ("sqlite://", "mysql+pymysql://u@h/d"):
        dialect = sa.create_engine(url).dialect
        plain = sa.Table("t", sa.MetaData(), sa.Column("m", _mood()), schema="s")
        inherited = sa.Table("t", sa.MetaData(), sa.Column("m", _mood(inherit_schema=True)))
        inherited.schema = "s"
        assert str(CreateTable(plain).compile(dialect=dialect)) == str(
            CreateTable(inherited).compile(dialect=dialect)
        )


def _types(conn: sa.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        sa.text(
            "SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n "
            "ON n.oid = t.typnamespace WHERE t.typname LIKE 'mood%' AND t.typtype = 'e' "
            "ORDER BY 1, 2"
        )
    ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.backends("postgresql")
def test_create_reflect_and_drop_on_postgresql(backend) -> None:
    engine = sa.create_engine(backend.url)
    metadata = sa.MetaData()
    plain, inherited = _mood(), Enum("sad", "ok", name="mood_here", inherit_schema=True)
    table = sa.Table(
        "feelings",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("m", plain),
        sa.Column("ms", ARRAY(plain)),
        sa.Column("h", inherited),
        sa.Column("hs", ARRAY(inherited, dimensions=2)),
        schema=SCHEMA,
    )
    log: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: log.append(a[2]))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        metadata.create_all(engine)
        with engine.begin() as conn:
            assert _types(conn) == [("public", "mood"), (SCHEMA, "mood_here")]
            conn.execute(
                sa.insert(table),
                {"id": 1, "m": "ok", "ms": ["sad", "happy"], "h": "sad", "hs": [["ok", "sad"]]},
            )
            row = conn.execute(
                sa.select(table.c.m, table.c.ms, table.c.hs, sa.cast("ok", inherited))
            ).one()
            assert tuple(row) == ("ok", ["sad", "happy"], [["ok", "sad"]], "ok")
        columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("feelings", SCHEMA)}
        assert (columns["m"].name, columns["m"].schema) == ("mood", None)
        assert (columns["ms"].item_type.name, columns["ms"].item_type.schema) == ("mood", None)
        assert columns["h"].schema == SCHEMA and columns["hs"].item_type.schema == SCHEMA
        assert columns["ms"].item_type.enums == plain.enums
        del log[:]
        metadata.create_all(engine)  # checkfirst: everything exists
        assert not [s for s in log if s.startswith("CREATE")]
        metadata.drop_all(engine)
        assert f"DROP TYPE {SCHEMA}.mood_here" in log and "DROP TYPE mood" in log
        with engine.connect() as conn:
            assert _types(conn) == []

        moved = engine.execution_options(schema_translate_map={None: SCHEMA})
        other = sa.MetaData()
        sa.Table("moved", other, sa.Column("m", _mood()), sa.Column("ms", ARRAY(_mood())))
        other.create_all(moved)
        with moved.begin() as conn:
            assert _types(conn) == [(SCHEMA, "mood")]
            conn.execute(sa.text(f"INSERT INTO {SCHEMA}.moved VALUES ('ok', '{{sad}}')"))
            assert conn.execute(sa.select(other.tables["moved"].c.ms)).scalar() == ["sad"]
        other.drop_all(moved)
        with engine.connect() as conn:
            assert _types(conn) == []
    finally:
        engine.dispose()


def _models(labels: tuple[str, ...]) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "people",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("away", Enum("in", "out", name="mood_away", schema=SCHEMA)),
        sa.Column("moods", ARRAY(Enum(*labels, name="mood"))),
    )
    return metadata


@pytest.mark.backends("postgresql")
def test_migrations_with_enums_in_another_schema_and_in_arrays(backend, tmp_path: Path) -> None:
    engine = sa.create_engine(backend.url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    config = attributes_project(tmp_path, backend.url).config()

    config.attributes["target_metadata"] = _models(("sad", "ok", "happy"))
    made = command.revision(config, "first", autogenerate=True, rev_id="first")
    assert made is not None and made.path is not None
    source = Path(made.path).read_text()
    assert f'sa.Enum("in", "out", name="mood_away", schema="{SCHEMA}")' in source
    assert 'sa.ARRAY(sa.Enum("sad", "ok", "happy", name="mood"))' in source
    command.upgrade(config, "head")
    with engine.begin() as conn:
        assert _types(conn) == [("public", "mood"), (SCHEMA, "mood_away")]
        conn.execute(sa.text("INSERT INTO people VALUES (1, 'in', '{happy,ok}')"))
    command.check(config)  # reflection gives back what the models say

    config.attributes["target_metadata"] = _models(("happy", "ok"))
    made = command.revision(config, "fewer", autogenerate=True, rev_id="fewer")
    assert made is not None and made.path is not None
    upgrade = Path(made.path).read_text().split("def downgrade")[0]
    assert "ALTER TABLE people ALTER COLUMN moods TYPE mood[] USING moods::text[]::mood[]" in (
        upgrade
    )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT moods::text FROM people")).scalar() == "{happy,ok}"
    command.check(config)

    command.downgrade(config, "base")
    with engine.connect() as conn:
        assert _types(conn) == []
    engine.dispose()


def test_enum_schema_options_on_every_database(backend) -> None:
    """``inherit_schema=True`` and ``metadata=`` on a table without a schema change nothing:
    PostgreSQL's types are made in the default schema, MySQL's ENUM and SQLite's CHECK are
    column definitions, and values round-trip."""
    metadata = sa.MetaData()
    table = sa.Table(
        "moods_everywhere",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("m", _mood(inherit_schema=True)),
        sa.Column("n", Enum("in", "out", name="mood_n", metadata=sa.MetaData())),
    )
    engine = sa.create_engine(backend.url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.insert(table), [{"id": 1, "m": "happy", "n": "out"}])
            assert tuple(conn.execute(sa.select(table.c.m, table.c.n)).one()) == ("happy", "out")
            if backend.name == "postgresql":
                assert _types(conn) == [("public", "mood"), ("public", "mood_n")]
        reflected = {c["name"]: c["type"] for c in inspect(engine).get_columns(table.name)}
        if backend.name != "sqlite":
            assert isinstance(reflected["m"], Enum) and reflected["m"].schema is None
        metadata.drop_all(engine)
        if backend.name == "postgresql":
            with engine.connect() as conn:
                assert _types(conn) == []
    finally:
        engine.dispose()
