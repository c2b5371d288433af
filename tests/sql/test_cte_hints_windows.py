"""Data-modifying CTEs, add_cte(), table and statement hints, reduce_columns(), function
aliases, lateral table-valued functions and GROUPS window frames."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from athanor import exc
from athanor.dialects import mysql, postgresql, sqlite
from athanor.engine import Engine, create_engine
from athanor.sql import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    column,
    delete,
    func,
    insert,
    literal,
    select,
    table,
    update,
)
from backends import Backend

PG = postgresql.dialect()
MYSQL = mysql.dialect()
SQLITE = sqlite.dialect()

metadata = MetaData()
parents = Table(
    "ch_parents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
)
children = Table(
    "ch_children",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer, ForeignKey("ch_parents.id")),
    Column("name", String(20)),
)
archive = Table(
    "ch_archive",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(insert(parents), [{"id": i, "name": f"p{i}"} for i in (1, 2, 3)])
        conn.execute(
            insert(children),
            [{"id": i, "parent_id": 1 + i % 2, "name": f"c{i}"} for i in (1, 2, 3)],
        )
    yield eng
    eng.dispose()


def test_dml_cte_compiles_inside_with() -> None:
    moved = delete(parents).where(parents.c.id > 1).returning(parents.c.id, parents.c.name)
    cte = moved.cte("moved")
    stmt = insert(archive).from_select(["id", "name"], select(cte.c.id, cte.c.name))
    assert str(stmt.compile(dialect=PG)) == (
        "WITH moved AS (DELETE FROM ch_parents WHERE ch_parents.id > %(id_1)s "
        "RETURNING ch_parents.id, ch_parents.name) "
        "INSERT INTO ch_archive (id, name) SELECT moved.id, moved.name FROM moved"
    )
    with pytest.raises(exc.ArgumentError, match="needs returning"):
        update(parents).values(name="x").cte()
    with pytest.raises(exc.CompileError, match="no INSERT/UPDATE/DELETE inside WITH"):
        select(cte.c.id).compile(dialect=SQLITE)


@pytest.mark.backends("postgresql")
def test_dml_ctes_run_on_postgresql(engine: Engine) -> None:
    with engine.begin() as conn:
        moved = delete(parents).where(parents.c.id == 3).returning(parents.c.id, parents.c.name)
        cte = moved.cte("moved")
        conn.execute(insert(archive).from_select(["id", "name"], select(cte.c.id, cte.c.name)))
        renamed = update(children).values(name="renamed").returning(children.c.id).cte("renamed")
        result = conn.execute(select(func.count()).select_from(renamed))
        assert result.scalar_one() == 3
        added = insert(parents).values(id=9, name="p9").returning(parents.c.id).cte("added")
        assert conn.execute(select(added.c.id)).scalar_one() == 9
        # add_cte(): the CTE runs although the statement never reads it
        logged = insert(archive).values(id=50, name="side").returning(archive.c.id).cte("logged")
        rows = conn.execute(select(parents.c.id).order_by(parents.c.id).add_cte(logged)).all()
        assert [r.id for r in rows] == [1, 2, 9]
        assert conn.execute(select(archive.c.id).order_by(archive.c.id)).scalars().all() == [
            3,
            50,
        ]
        assert conn.execute(select(children.c.name).distinct()).scalars().all() == ["renamed"]


def test_add_cte_on_every_database(engine: Engine) -> None:
    names = select(parents.c.name).where(parents.c.id < 3).cte("few")
    stmt = select(children.c.id).where(children.c.id == 1).add_cte(names)
    assert str(stmt).startswith("WITH few AS (SELECT ch_parents.name")
    with engine.connect() as conn:
        assert conn.execute(stmt).scalars().all() == [1]
        reading = select(names.c.name).order_by(names.c.name).add_cte(names)
        assert conn.execute(reading).scalars().all() == ["p1", "p2"]


def test_hints_render_per_dialect() -> None:
    hinted = select(parents.c.id).with_hint(parents, "USE INDEX (PRIMARY)", "mysql")
    assert str(hinted.compile(dialect=MYSQL)).endswith("FROM ch_parents USE INDEX (PRIMARY)")
    assert str(hinted.compile(dialect=PG)).endswith("FROM ch_parents")
    aliased = parents.alias("p")
    named = select(aliased.c.id).with_hint(aliased, "FORCE INDEX (PRIMARY) /* %(name)s */")
    assert str(named.compile(dialect=MYSQL)).endswith(
        "FROM ch_parents AS p FORCE INDEX (PRIMARY) /* p */"
    )
    with pytest.raises(exc.CompileError, match="no table hints"):
        named.compile(dialect=PG)
    statement = select(parents.c.id).with_statement_hint("/* mine */", "postgresql")
    assert str(statement.compile(dialect=PG)).endswith("FROM ch_parents /* mine */")
    assert str(statement.compile(dialect=MYSQL)).endswith("FROM ch_parents")
    assert hinted._generate_cache_key() != select(parents.c.id)._generate_cache_key()


@pytest.mark.backends("mysql")
def test_table_hint_runs_on_mysql(engine: Engine) -> None:
    stmt = (
        select(parents.c.name)
        .where(parents.c.id == 2)
        .with_hint(parents, "USE INDEX (PRIMARY)", "mysql")
    )
    with engine.connect() as conn:
        assert conn.execute(stmt).scalar_one() == "p2"


def test_reduce_columns(engine: Engine) -> None:
    joined = select(parents, children).where(parents.c.id == children.c.parent_id)
    assert list(joined.reduce_columns().selected_columns.keys()) == [
        "id",
        "name",
        "id_1",
        "parent_id",
        "name_1",
    ]
    by_name = select(parents, children.c.id).where(parents.c.id == children.c.id)
    reduced = by_name.reduce_columns()
    assert [c.name for c in reduced.selected_columns] == ["id", "name"]
    by_key = select(parents.c.id, children.c.parent_id).reduce_columns(only_synonyms=False)
    assert [c.name for c in by_key.selected_columns] == ["id"]
    with engine.connect() as conn:
        rows = conn.execute(reduced.order_by(parents.c.id)).all()
    assert rows == [(1, "p1"), (2, "p2"), (3, "p3")]


def test_groups_frame_and_one_frame_only() -> None:
    t = table("t", column("x"), column("id"))
    window = func.sum(t.c.x).over(order_by=t.c.id, groups=(-1, 0))
    assert "GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW" in str(select(window))
    with pytest.raises(exc.ArgumentError, match="rows and groups"):
        t.c.x.over(rows=(None, 0), groups=(0, None))


@pytest.mark.backends("sqlite", "postgresql")
def test_groups_frame_runs(engine: Engine) -> None:
    window = func.count().over(order_by=children.c.parent_id, groups=(0, 0))
    with engine.connect() as conn:
        rows = conn.execute(select(children.c.id, window).order_by(children.c.id)).all()
    # parent 2 has children 1 and 3, parent 1 has child 2: each counts its peer group
    assert [r[1] for r in rows] == [2, 1, 2]


def test_function_alias_and_lateral_compile() -> None:
    t = table("t", column("data"), column("n"))
    view = func.unnest(t.c.data).alias("data_view")
    assert str(select(view.column).select_from(t).compile(dialect=PG)) == (
        "SELECT data_view AS data_view FROM t, unnest(t.data) AS data_view"
    )
    series = func.generate_series(1, t.c.n).table_valued("value").lateral("s")
    assert "FROM t, LATERAL generate_series(" in str(
        select(t.c.n, series.c.value).compile(dialect=PG)
    )
    each = func.json_each(t.c.data).table_valued("value").lateral()
    assert ", json_each(t.data) AS anon_1" in str(
        select(t.c.n, each.c.value).compile(dialect=SQLITE)
    )


@pytest.mark.backends("sqlite", "postgresql")
def test_lateral_table_valued_runs(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        values = func.generate_series(1, parents.c.id).table_valued("value")
        series = values.lateral("s").render_derived()
        stmt = select(parents.c.id, series.c.value)
    else:
        counted = func.json_each(func.json_array(parents.c.id, literal(0)))
        series = counted.table_valued("value").lateral("s")
        stmt = select(parents.c.id, series.c.value).where(series.c.value > 0)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(parents.c.id, series.c.value)).all()
    if engine.dialect.name == "postgresql":
        assert rows == [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3)]
    else:
        assert rows == [(1, 1), (2, 2), (3, 3)]
