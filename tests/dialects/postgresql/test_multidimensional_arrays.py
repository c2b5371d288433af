"""PostgreSQL multi-dimensional arrays: reflection keeps their declared dimensions, and
chained subscripts index them."""

from __future__ import annotations

import enum
from collections.abc import Iterator

import pytest

from athanor import inspect
from athanor.engine import Engine, create_engine
from athanor.migrate.autogenerate import compare_metadata
from athanor.migrate.runtime import MigrationContext
from athanor.sql import ARRAY, Column, Enum, Integer, MetaData, String, Table, select, text
from backends import Backend

pytestmark = pytest.mark.backends("postgresql")


class Shade(enum.Enum):
    LIGHT = 1
    DARK = 2


def _model() -> MetaData:
    metadata = MetaData()
    Table(
        "grids",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("flat", ARRAY(Integer)),
        Column("plane", ARRAY(Integer, dimensions=2)),
        Column("cube", ARRAY(String(10), dimensions=3)),
        Column("shades", ARRAY(Enum(Shade, name="grid_shade"), dimensions=2)),
    )
    return metadata


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    _model().create_all(eng)
    yield eng
    eng.dispose()


def test_get_columns_reports_declared_dimensions(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE raw_grids (id int PRIMARY KEY, m numeric(6, 2)[][])"))
        conn.execute(text("CREATE VIEW grid_view AS SELECT plane FROM grids"))
    found = {c["name"]: c["type"] for c in inspect(engine).get_columns("grids")}
    assert found["flat"].dimensions is None
    assert repr(found["plane"]) == "ARRAY(INTEGER(), dimensions=2)"
    assert found["cube"].dimensions == 3 and found["cube"].item_type.length == 10
    assert found["shades"].dimensions == 2
    assert found["shades"].item_type.enums == ("LIGHT", "DARK")
    [raw] = [c for c in inspect(engine).get_columns("raw_grids") if c["name"] == "m"]
    assert raw["type"].dimensions == 2
    assert (raw["type"].item_type.precision, raw["type"].item_type.scale) == (6, 2)
    # A view does not keep the declared dimensions: its arrays reflect as of any dimensions.
    [view_column] = inspect(engine).get_columns("grid_view")
    assert isinstance(view_column["type"], ARRAY) and view_column["type"].dimensions is None


def test_autoloaded_table_reads_and_writes_nested_arrays(engine: Engine) -> None:
    grids = Table("grids", MetaData(), autoload_with=engine)
    assert grids.c.plane.type.dimensions == 2 and grids.c.cube.type.dimensions == 3
    row = {
        "id": 1,
        "flat": [1, 2],
        "plane": [[1, 2], [3, 4]],
        "cube": [[["a"], ["b"]]],
        "shades": [["LIGHT"], ["DARK"]],
    }
    with engine.begin() as conn:
        conn.execute(grids.insert(), row)
        assert dict(conn.execute(select(grids)).one()._mapping) == row


def test_chained_subscripts_index_a_multidimensional_array(engine: Engine) -> None:
    grids = _model().tables["grids"]
    element = grids.c.plane[2][1]
    sql = str(select(element).compile(dialect=engine.dialect))
    assert sql == "SELECT grids.plane[%s::INTEGER][%s::INTEGER] AS anon_1 FROM grids"
    with engine.begin() as conn:
        conn.execute(grids.insert(), {"id": 1, "plane": [[1, 2], [3, 4]], "cube": [[["x", "y"]]]})
        assert conn.execute(select(element)).scalar_one() == 3
        assert conn.execute(select(grids.c.cube[1][1][2])).scalar_one() == "y"


def test_autogenerate_sees_no_change_in_multidimensional_arrays(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(connection=conn)
        assert compare_metadata(context, _model()) == []
