"""CursorResult's descriptive methods: which defaults were computed where, the parameters
given, rowcount capabilities, the cursor, and combining results (merge, splice)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest

from athanor import exc
from athanor.engine import Engine, create_engine
from athanor.sql import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Table,
    bindparam,
    insert,
    literal,
    select,
    update,
)
from backends import Backend

metadata = MetaData()
defaults = Table(
    "cr_defaults",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("given", Integer),
    Column("scalar", Integer, default=5),
    Column("computed", Integer, default=lambda: 7),
    Column("expression", Integer, default=literal(3) + 1),
    Column("server", Integer, server_default="9"),
    Column("touched", Integer, onupdate=11),
    Column("touched_sql", Integer, onupdate=literal(12) + 0),
)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


def _keys(columns: list[Column]) -> list[str]:
    return [c.key for c in columns]


def test_returned_defaults_hold_only_what_the_database_made(engine: Engine) -> None:
    with engine.begin() as conn:
        result = conn.execute(insert(defaults).values(given=1).return_defaults())
        row = result.returned_defaults
        if engine.dialect.insert_returning:
            assert row is not None
            assert row._mapping == {"id": row.id, "expression": 4, "server": 9}
        else:
            assert row is None
        named = conn.execute(
            insert(defaults).return_defaults(defaults.c.scalar, defaults.c.server)
        ).returned_defaults
        if named is not None:
            assert set(named._fields) == {"id", "server"}
        changed = conn.execute(update(defaults).values(given=2).return_defaults())
        if engine.dialect.update_returning:
            assert changed.returned_defaults is not None
            assert changed.returned_defaults._mapping == {"touched_sql": 12}
        stored = conn.execute(select(defaults.c.scalar, defaults.c.computed)).all()
    assert set(stored) == {(5, 7)}


def test_prefetch_and_postfetch_columns(engine: Engine) -> None:
    with engine.begin() as conn:
        inserted = conn.execute(insert(defaults).values(given=2))
        assert _keys(inserted.prefetch_cols()) == ["scalar", "computed"]
        assert _keys(inserted.postfetch_cols()) == ["expression", "server"]
        assert inserted.last_inserted_params() == {"given": 2, "scalar": 5, "computed": 7}
        many = conn.execute(
            insert(defaults), [{"given": 3, "scalar": 1}, {"given": 4, "scalar": 1}]
        )
        assert _keys(many.prefetch_cols()) == ["computed"]
        assert many.last_inserted_params() == [
            {"given": 3, "scalar": 1, "computed": 7},
            {"given": 4, "scalar": 1, "computed": 7},
        ]
        by_id = conn.execute(
            update(defaults)
            .where(defaults.c.id == bindparam("b_id"))
            .values(given=bindparam("b_given")),
            [{"b_id": 1, "b_given": 6}, {"b_id": 2, "b_given": 7}],
        )
        assert by_id.last_updated_params() == [
            {"b_id": 1, "b_given": 6, "touched": 11},
            {"b_id": 2, "b_given": 7, "touched": 11},
        ]
        updated = conn.execute(update(defaults).values(given=5))
        assert _keys(updated.prefetch_cols()) == ["touched"]
        assert _keys(updated.postfetch_cols()) == ["touched_sql"]
        assert updated.last_updated_params() == {"given": 5, "touched": 11}
        assert updated.rowcount == 3
        selected = conn.execute(select(defaults.c.id))
        with pytest.raises(exc.InvalidRequestError, match="insert\\(\\) or update\\(\\)"):
            selected.prefetch_cols()
        with pytest.raises(exc.InvalidRequestError, match="insert\\(\\)"):
            updated.last_inserted_params()
        selected.close()


def test_last_inserted_params_hold_python_defaults_in_python_form(engine: Engine) -> None:
    stamped = Table(
        "cr_stamped",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime, default=lambda: dt.datetime(2024, 1, 2, 3, 4, 5)),
        Column("day", Date, default=dt.date(2024, 5, 6)),
    )
    stamped.create(engine)
    try:
        with engine.begin() as conn:
            result = conn.execute(insert(stamped), {"id": 1})
            assert result.last_inserted_params() == {
                "id": 1,
                "at": dt.datetime(2024, 1, 2, 3, 4, 5),
                "day": dt.date(2024, 5, 6),
            }
            given = conn.execute(insert(stamped).values(id=2, day=dt.date(2020, 1, 1)))
            assert given.last_inserted_params() == {
                "id": 2,
                "at": dt.datetime(2024, 1, 2, 3, 4, 5),
                "day": dt.date(2020, 1, 1),
            }
            for start, statement in (
                (3, insert(stamped)),
                (5, insert(stamped).returning(stamped.c.id)),
            ):
                many = conn.execute(statement, [{"id": start}, {"id": start + 1}])
                assert many.last_inserted_params() == [
                    {"id": key, "at": dt.datetime(2024, 1, 2, 3, 4, 5), "day": dt.date(2024, 5, 6)}
                    for key in (start, start + 1)
                ]
    finally:
        stamped.drop(engine)


def test_an_executemany_runs_a_default_function_once_per_row(engine: Engine) -> None:
    counter = itertools.count(1)
    numbered = Table(
        "cr_numbered",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("n", Integer, default=lambda: next(counter)),
    )
    numbered.create(engine)
    try:
        with engine.begin() as conn:
            many = conn.execute(insert(numbered), [{"id": 1}, {"id": 2}, {"id": 3}])
            assert many.last_inserted_params() == [{"id": i, "n": i} for i in (1, 2, 3)]
            assert conn.scalars(select(numbered.c.n).order_by(numbered.c.id)).all() == [1, 2, 3]
    finally:
        numbered.drop(engine)


def test_rowcount_capabilities_and_cursor(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(defaults), [{"given": i} for i in range(3)])
        result = conn.execute(select(defaults.c.id), execution_options={"stream_results": True})
        assert result.supports_sane_rowcount() and result.supports_sane_multi_rowcount()
        assert result.cursor is not None and hasattr(result.cursor, "fetchone")
        result.all()
        assert result.cursor is None


def test_merge_and_splice_horizontally(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(defaults), [{"id": i, "given": i * 10} for i in (1, 2, 3)])
        ids = select(defaults.c.id).order_by(defaults.c.id)
        givens = select(defaults.c.given).order_by(defaults.c.id)
        merged = conn.execute(ids).merge(conn.execute(givens))
        assert list(merged.keys()) == ["id"]
        assert merged.scalars().all() == [1, 2, 3, 10, 20, 30]
        first_two = conn.execute(ids.where(defaults.c.id < 3))
        spliced = first_two.splice_horizontally(conn.execute(givens))
        rows = spliced.all()
        assert rows == [(1, 10), (2, 20)]
        assert (rows[1].id, rows[1].given) == (2, 20)
        wide = conn.execute(select(defaults.c.id, defaults.c.given))
        with pytest.raises(exc.ArgumentError, match="same columns"):
            wide.merge(conn.execute(ids))
        wide.close()
