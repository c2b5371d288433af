"""CursorResult on real driver cursors: every fetch method, views, closing and errors."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from athanor import exc
from athanor.engine.result import CursorResult, FrozenResult, MappingResult, ScalarResult
from athanor.engine.row import Row, RowMapping
from backends import Backend

PEOPLE = [(1, "ada", 10), (2, "bob", 20), (3, "cy", None), (4, "dee", 20)]
SELECT = "SELECT id, name, score FROM people ORDER BY id"


@pytest.fixture
def conn(backend: Backend) -> Iterator[Any]:
    """An autocommit driver connection with a ``people`` table of four rows."""
    connection = backend.raw_connect()
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(50), score INTEGER)")
    cursor.execute(
        "INSERT INTO people (id, name, score) VALUES "
        "(1, 'ada', 10), (2, 'bob', 20), (3, 'cy', NULL), (4, 'dee', 20)"
    )
    cursor.close()
    yield connection
    connection.close()


class OnClose:
    """The on_close callback an engine would pass: closes the cursor, counts the calls."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        self.cursor.close()


def run(
    connection: Any, sql: str = SELECT, cursor: Any = None, **kw: Any
) -> tuple[CursorResult, OnClose]:
    """Execute ``sql`` on a fresh driver cursor and wrap it the way the engine does."""
    cursor = cursor if cursor is not None else connection.cursor()
    cursor.execute(sql)
    on_close = OnClose(cursor)
    keys = [column[0] for column in cursor.description]
    return CursorResult(cursor, keys=keys, on_close=on_close, **kw), on_close


def test_iteration_gives_rows_with_attribute_access(conn: Any) -> None:
    result, on_close = run(conn)
    rows = list(result)
    assert rows == PEOPLE
    assert all(isinstance(row, Row) for row in rows)
    assert [(row.id, row.name, row.score) for row in rows] == PEOPLE
    assert rows[0]._mapping == {"id": 1, "name": "ada", "score": 10}
    assert on_close.calls == 1
    assert not result.closed
    assert list(result) == []


def test_all_and_fetchall_exhaust_and_release_once(conn: Any) -> None:
    result, on_close = run(conn)
    assert result.all() == PEOPLE
    assert on_close.calls == 1
    assert result.all() == []
    assert result.fetchall() == []
    assert result.fetchone() is None
    assert result.fetchmany(3) == []
    assert result.first() is None
    assert on_close.calls == 1


def test_fetchone_fetchmany_and_iteration_mix(conn: Any) -> None:
    result, on_close = run(conn)
    for row in result:
        assert row == PEOPLE[0]
        break
    assert result.fetchone() == PEOPLE[1]
    assert result.fetchmany(1) == [PEOPLE[2]]
    assert on_close.calls == 0
    assert next(result) == PEOPLE[3]
    assert result.fetchone() is None
    assert on_close.calls == 1
    with pytest.raises(StopIteration):
        next(result)


def test_fetchmany_default_size_is_the_cursor_arraysize(conn: Any) -> None:
    result, _ = run(conn)
    result._source.origin.arraysize = 3
    assert result.fetchmany() == PEOPLE[:3]
    assert result.fetchmany(10) == PEOPLE[3:]


def test_partitions(conn: Any) -> None:
    result, on_close = run(conn)
    assert list(result.partitions(3)) == [PEOPLE[:3], PEOPLE[3:]]
    assert on_close.calls == 1
    result, _ = run(conn, yield_per=2)
    assert [len(part) for part in result.partitions()] == [2, 2]


def test_first_returns_a_row_and_closes(conn: Any) -> None:
    result, on_close = run(conn)
    assert result.first() == PEOPLE[0]
    assert result.closed
    assert on_close.calls == 1
    with pytest.raises(exc.ResourceClosedError, match="closed"):
        result.fetchone()
    with pytest.raises(exc.ResourceClosedError):
        result.all()
    result, _ = run(conn, "SELECT id FROM people WHERE id < 0")
    assert result.first() is None


def test_one_and_one_or_none(conn: Any) -> None:
    result, on_close = run(conn, "SELECT id, name FROM people WHERE id = 2")
    row = result.one()
    assert row == (2, "bob")
    assert row.name == "bob"
    assert on_close.calls == 1
    with pytest.raises(exc.ResourceClosedError):
        result.fetchone()

    result, on_close = run(conn, "SELECT id FROM people WHERE id < 0")
    with pytest.raises(exc.NoResultFound, match="one row"):
        result.one()
    assert on_close.calls == 1

    result, on_close = run(conn)
    with pytest.raises(exc.MultipleResultsFound, match="more than one"):
        result.one()
    assert on_close.calls == 1
    assert result.closed

    assert run(conn, "SELECT id FROM people WHERE id < 0")[0].one_or_none() is None
    assert run(conn, "SELECT id FROM people WHERE id = 4")[0].one_or_none() == (4,)
    with pytest.raises(exc.MultipleResultsFound):
        run(conn)[0].one_or_none()


def test_scalar_methods(conn: Any) -> None:
    result, on_close = run(conn)
    assert result.scalar() == 1
    assert on_close.calls == 1
    with pytest.raises(exc.ResourceClosedError):
        result.fetchone()
    assert run(conn, "SELECT id FROM people WHERE id < 0")[0].scalar() is None
    assert run(conn, "SELECT name FROM people WHERE id = 3")[0].scalar_one() == "cy"
    assert run(conn, "SELECT score FROM people WHERE id = 3")[0].scalar_one_or_none() is None
    assert run(conn, "SELECT id FROM people WHERE id < 0")[0].scalar_one_or_none() is None
    with pytest.raises(exc.NoResultFound):
        run(conn, "SELECT id FROM people WHERE id < 0")[0].scalar_one()
    with pytest.raises(exc.MultipleResultsFound):
        run(conn)[0].scalar_one()
    with pytest.raises(exc.MultipleResultsFound):
        run(conn)[0].scalar_one_or_none()


def test_scalars_by_position_and_key(conn: Any) -> None:
    result, on_close = run(conn)
    scalars = result.scalars()
    assert isinstance(scalars, ScalarResult)
    assert scalars.fetchmany(2) == [1, 2]
    assert result.fetchone() == PEOPLE[2]
    assert list(scalars) == [4]
    assert on_close.calls == 1
    assert run(conn)[0].scalars("name").all() == ["ada", "bob", "cy", "dee"]
    assert run(conn)[0].scalars(-1).all() == [10, 20, None, 20]
    assert run(conn)[0].scalars(2).first() == 10
    with pytest.raises(exc.NoSuchColumnError):
        run(conn)[0].scalars("nope")
    with pytest.raises(IndexError):
        run(conn)[0].scalars(3)
    assert list(run(conn)[0].scalars(1).partitions(3)) == [["ada", "bob", "cy"], ["dee"]]
    scalars = run(conn)[0].scalars()
    scalars.close()
    with pytest.raises(exc.ResourceClosedError):
        scalars.all()


def test_mappings(conn: Any) -> None:
    result, on_close = run(conn)
    mappings = result.mappings()
    assert isinstance(mappings, MappingResult)
    assert mappings.keys() == ["id", "name", "score"]
    first = mappings.fetchone()
    assert isinstance(first, RowMapping)
    assert first == {"id": 1, "name": "ada", "score": 10}
    assert first["name"] == "ada"
    assert next(mappings)["id"] == 2
    assert [m["id"] for m in mappings.all()] == [3, 4]
    assert mappings.fetchone() is None
    assert on_close.calls == 1
    assert run(conn)[0].mappings().columns("score", "id").first() == {"score": 10, "id": 1}
    assert run(conn, "SELECT id FROM people WHERE id = 1")[0].mappings().one() == {"id": 1}


def test_columns_selects_and_reorders(conn: Any) -> None:
    result, _ = run(conn)
    picked = result.columns("name", 0)
    assert picked.keys() == ["name", "id"]
    row = picked.fetchone()
    assert row == ("ada", 1)
    assert (row.name, row.id) == ("ada", 1)
    assert result.fetchone() == PEOPLE[1]
    assert picked.columns("id").all() == [(3,), (4,)]
    assert run(conn)[0].columns(1).scalars().all() == ["ada", "bob", "cy", "dee"]
    with pytest.raises(exc.NoSuchColumnError, match="nope"):
        run(conn)[0].columns("nope")


def test_keys_view(conn: Any) -> None:
    result, _ = run(conn)
    keys = result.keys()
    assert keys == ["id", "name", "score"]
    assert list(keys) == ["id", "name", "score"]
    assert "name" in keys
    assert "nope" not in keys
    assert len(keys) == 3
    result.close()
    assert result.keys() == ["id", "name", "score"]


def test_unique(conn: Any) -> None:
    result, _ = run(conn, "SELECT score FROM people ORDER BY id")
    assert result.unique().all() == [(10,), (20,), (None,)]
    result, _ = run(conn)
    assert [row.id for row in result.unique(lambda row: row.score)] == [1, 2, 3]
    assert run(conn)[0].scalars("score").unique().all() == [10, 20, None]
    assert run(conn)[0].unique(lambda row: row.score).scalars("score").all() == [10, 20, None]
    assert run(conn)[0].columns("score").unique().fetchmany(3) == [(10,), (20,), (None,)]
    mappings = run(conn)[0].columns("score").mappings().unique()
    assert mappings.all() == [{"score": 10}, {"score": 20}, {"score": None}]
    with pytest.raises(exc.MultipleResultsFound):
        run(conn, "SELECT score FROM people WHERE score > 0")[0].unique().columns("score").one()
    assert run(conn, "SELECT score FROM people WHERE score = 20")[0].unique().one() == (20,)
    assert run(conn, "SELECT score FROM people WHERE id > 1")[0].unique().scalars().all() == [
        20,
        None,
    ]


def test_freeze_replays_rows(conn: Any) -> None:
    calls: list[Any] = []

    def shout(value: str) -> str:
        calls.append(value)
        return value.upper()

    result, on_close = run(conn, processors=[None, shout, None])
    frozen = result.freeze()
    assert isinstance(frozen, FrozenResult)
    assert on_close.calls == 1
    expected = [(i, name.upper(), score) for i, name, score in PEOPLE]
    assert frozen().all() == expected
    assert frozen().all() == expected
    assert frozen().scalars("name").all() == ["ADA", "BOB", "CY", "DEE"]
    assert frozen().mappings().first() == {"id": 1, "name": "ADA", "score": 10}
    assert frozen.data == expected
    assert len(calls) == 4
    assert frozen.with_new_rows([(9, "ZED", 1)])().one().name == "ZED"
    closed, _ = run(conn)
    closed.close()
    with pytest.raises(exc.ResourceClosedError):
        closed.freeze()


def test_close_discards_rows_and_releases_once(conn: Any) -> None:
    result, on_close = run(conn)
    assert result.fetchone() == PEOPLE[0]
    result.close()
    result.close()
    assert result.closed
    assert on_close.calls == 1
    for fetch in (
        result.fetchone,
        result.fetchall,
        result.all,
        result.first,
        result.one,
        result.scalar,
        lambda: result.fetchmany(2),
        lambda: list(result),
        lambda: list(result.partitions(2)),
        lambda: result.scalars().all(),
        lambda: result.mappings().fetchone(),
    ):
        with pytest.raises(exc.ResourceClosedError, match="closed"):
            fetch()


def test_closing_during_iteration_stops_it(conn: Any) -> None:
    result, on_close = run(conn)
    iterator = iter(result)
    assert next(iterator) == PEOPLE[0]
    result.close()
    with pytest.raises(exc.ResourceClosedError):
        next(iterator)
    assert on_close.calls == 1


def test_context_manager_closes(conn: Any) -> None:
    with run(conn)[0] as result:
        assert result.fetchone() == PEOPLE[0]
    assert result.closed


def test_statement_without_rows(conn: Any) -> None:
    cursor = conn.cursor()
    cursor.execute("UPDATE people SET score = 30 WHERE score = 20")
    on_close = OnClose(cursor)
    result = CursorResult(None, rowcount=cursor.rowcount, returns_rows=False, on_close=on_close)
    assert on_close.calls == 1
    assert result.rowcount == 2
    assert result.returns_rows is False
    assert result.closed
    assert not result.is_insert
    for fetch in (
        result.fetchone,
        result.fetchall,
        result.all,
        result.first,
        result.one,
        result.scalar,
        result.keys,
        lambda: result.fetchmany(1),
        lambda: list(result),
        lambda: result.scalars().all(),
    ):
        with pytest.raises(exc.ResourceClosedError, match="does not return rows"):
            fetch()
    with pytest.raises(exc.InvalidRequestError, match="single-row insert"):
        _ = result.inserted_primary_key
    result.close()
    assert on_close.calls == 1


def test_insert_attributes(conn: Any) -> None:
    cursor = conn.cursor()
    cursor.execute("INSERT INTO people (id, name, score) VALUES (7, 'eve', 1)")
    result = CursorResult(
        None,
        rowcount=cursor.rowcount,
        lastrowid=7,
        inserted_primary_key=(7,),
        returns_rows=False,
        on_close=OnClose(cursor),
    )
    assert result.inserted_primary_key == (7,)
    assert result.is_insert
    assert result.lastrowid == 7
    assert result.rowcount == 1


def test_ambiguous_columns(conn: Any) -> None:
    result, _ = run(conn, "SELECT id AS a, name AS a, score FROM people ORDER BY id")
    row = result.fetchone()
    assert row is not None
    assert (row[0], row[1], row.score) == (1, "ada", 10)
    with pytest.raises(exc.AmbiguousColumnError, match="Ambiguous column name 'a'"):
        _ = row.a
    with pytest.raises(exc.AmbiguousColumnError, match="'a'"):
        row._mapping["a"]
    with pytest.raises(exc.AmbiguousColumnError, match="'a'"):
        result.scalars("a")
    with pytest.raises(exc.AmbiguousColumnError, match="'a'"):
        result.columns("a")
    assert issubclass(exc.AmbiguousColumnError, exc.InvalidRequestError)
    assert result.columns(1).fetchone() == ("bob",)


class Col:
    """Stands in for a schema Column: any hashable object can be a key object."""

    def __init__(self, name: str) -> None:
        self.name = name


def test_key_objects(conn: Any) -> None:
    id_col, name_col, score_col = Col("id"), Col("name"), Col("score")
    result, _ = run(conn, key_objects=[(id_col,), (name_col, "alias"), (score_col,)])
    keys = result.keys()
    assert id_col in keys
    assert "alias" in keys
    row = result.fetchone()
    assert row is not None
    assert row._mapping[name_col] == "ada"
    assert row._mapping["alias"] == "ada"
    assert result.scalars(score_col).first() == 20
    picked, _ = run(conn, key_objects=[(id_col,), (name_col,), (score_col,)])
    assert picked.columns(score_col, name_col).mappings().first() == {"score": 10, "name": "ada"}


def test_processors_convert_their_columns_only(conn: Any) -> None:
    seen: list[Any] = []

    def double(value: Any) -> Any:
        seen.append(value)
        return None if value is None else value * 2

    processors = [None, str.title, double]
    expected = [(i, name.title(), None if s is None else s * 2) for i, name, s in PEOPLE]
    assert run(conn, processors=processors)[0].all() == expected
    assert None in seen
    assert list(run(conn, processors=processors)[0]) == expected
    assert run(conn, processors=processors)[0].fetchone() == expected[0]
    assert run(conn, processors=processors)[0].scalars(2).all() == [20, 40, None, 40]
    assert run(conn, processors=processors)[0].scalars(1).first() == "Ada"
    assert run(conn, processors=processors)[0].columns(2, 1).first() == (20, "Ada")
    assert run(conn, processors=[None, None, None])[0].all() == PEOPLE


def test_row_logger_sees_every_row_once(conn: Any) -> None:
    def fetch_styles(result: CursorResult) -> list[Any]:
        out = [result.fetchone()]
        out.extend(result.fetchmany(1))
        for row in result:
            out.append(row)
            break
        out.extend(result.fetchall())
        return out

    logged: list[Any] = []
    result, _ = run(conn, row_logger=logged.append)
    assert fetch_styles(result) == PEOPLE
    assert logged == PEOPLE


def test_fetchall_leaves_garbage_collection_as_it_was(conn: Any) -> None:
    assert gc.isenabled()
    run(conn)[0].all()
    assert gc.isenabled()
    gc.disable()
    try:
        run(conn)[0].all()
        assert not gc.isenabled()
    finally:
        gc.enable()

    def fail(value: Any) -> Any:
        raise ValueError(value)

    with pytest.raises(ValueError):
        run(conn, processors=[fail, None, None])[0].all()
    assert gc.isenabled()


def test_large_result_in_chunks(conn: Any) -> None:
    digits = " UNION ALL ".join(f"SELECT {d} AS n" for d in range(10))
    sql = (
        f"SELECT a.n * 1000 + b.n * 100 + c.n * 10 + d.n + 1 AS g "
        f"FROM ({digits}) a, ({digits}) b, ({digits}) c, ({digits}) d "
        "WHERE a.n < 5 ORDER BY g"
    )
    cursor = conn.cursor()
    result, on_close = run(conn, sql, cursor=cursor)
    expected = [(i,) for i in range(1, 5001)]
    head = [result.fetchone() for _ in range(3)]
    middle = list(zip(range(2000), result, strict=False))
    assert head + [row for _, row in middle] + result.all() == expected
    assert on_close.calls == 1
    assert sum(len(p) for p in run(conn, sql)[0].partitions(1000)) == 5000


class RecordingCursor:
    """A real driver cursor with its fetch calls recorded."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.calls: list[tuple[str, int | None]] = []

    def fetchone(self) -> Any:
        self.calls.append(("fetchone", None))
        return self.cursor.fetchone()

    def fetchmany(self, size: int) -> Any:
        self.calls.append(("fetchmany", size))
        return self.cursor.fetchmany(size)

    def fetchall(self) -> Any:
        self.calls.append(("fetchall", None))
        return self.cursor.fetchall()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


def server_side_cursor(backend: Backend, connection: Any, stack: ExitStack) -> Any:
    """A streaming cursor: a named cursor on PostgreSQL, SSCursor on MariaDB."""
    if backend.name == "postgresql":
        stack.enter_context(connection.transaction())
        return connection.cursor(name="athanor_stream")
    if backend.name == "mysql":
        import pymysql.cursors

        return connection.cursor(pymysql.cursors.SSCursor)
    return connection.cursor()


@pytest.mark.parametrize(
    "consume",
    [list, lambda r: r.all(), lambda r: [row for part in r.partitions() for row in part]],
)
def test_server_side_cursor_streams_with_yield_per(
    backend: Backend, conn: Any, consume: Callable[[CursorResult], list[Any]]
) -> None:
    with ExitStack() as stack:
        cursor = RecordingCursor(server_side_cursor(backend, conn, stack))
        result, on_close = run(conn, cursor=cursor, yield_per=3, is_server_side=True)
        assert result.is_server_side
        assert result.fetchone() == PEOPLE[0]
        assert on_close.calls == 0
        assert consume(result) == PEOPLE[1:]
        assert on_close.calls == 1
    assert set(cursor.calls) == {("fetchmany", 3)}


def test_server_side_cursor_closed_early_is_released(backend: Backend, conn: Any) -> None:
    with ExitStack() as stack:
        cursor = server_side_cursor(backend, conn, stack)
        result, on_close = run(conn, cursor=cursor, is_server_side=True)
        result.yield_per(1)
        assert next(iter(result)) == PEOPLE[0]
        result.close()
        assert on_close.calls == 1
    with pytest.raises(exc.ResourceClosedError):
        result.fetchone()


def test_tuples_and_t_are_the_same_result(conn: Any) -> None:
    result, _ = run(conn)
    assert result.tuples() is result
    assert result.t is result
