"""``Select.fetch()``: FETCH FIRST n ROWS ONLY / WITH TIES where the database has it, LIMIT
for a plain count where it does not, and a CompileError naming the way out for what a
database cannot express."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import Column, Integer, MetaData, Table, create_engine, exc, select

meta = MetaData()
scores = Table(
    "ff_scores", meta, Column("id", Integer, primary_key=True), Column("points", Integer)
)


@pytest.fixture
def engine(backend: Any) -> Any:
    eng = create_engine(backend.url)
    meta.create_all(eng)
    with eng.begin() as conn:
        conn.execute(
            scores.insert(),
            [{"id": i, "points": p} for i, p in enumerate([10, 9, 9, 8, 7], start=1)],
        )
    yield eng
    eng.dispose()


def test_fetch_first_rows_only_everywhere(engine: Any) -> None:
    stmt = select(scores.c.id).order_by(scores.c.points.desc(), scores.c.id).fetch(2)
    with engine.connect() as conn:
        assert conn.execute(stmt).scalars().all() == [1, 2]
        assert conn.execute(stmt.offset(2)).scalars().all() == [3, 4]
        # limit() replaces fetch() and fetch() replaces limit()
        assert conn.execute(stmt.limit(3)).scalars().all() == [1, 2, 3]
        assert conn.execute(stmt.limit(3).fetch(1)).scalars().all() == [1]
        assert conn.execute(stmt.fetch(None)).scalars().all() == [1, 2, 3, 4, 5]


def test_fetch_with_ties_keeps_rows_equal_to_the_last(engine: Any, backend: Any) -> None:
    stmt = select(scores.c.id).order_by(scores.c.points.desc()).fetch(2, with_ties=True)
    with engine.connect() as conn:
        if backend.is_sqlite:
            with pytest.raises(exc.CompileError, match="WITH TIES"):
                conn.execute(stmt)
            return
        assert sorted(conn.execute(stmt).scalars()) == [1, 2, 3]
        assert sorted(conn.execute(stmt.offset(1).fetch(1, with_ties=True)).scalars()) == [2, 3]
        with pytest.raises(exc.CompileError, match="ORDER BY"):
            conn.execute(select(scores.c.id).fetch(1, with_ties=True))


def test_fetch_percent_is_refused_by_name(engine: Any) -> None:
    stmt = select(scores.c.id).order_by(scores.c.id).fetch(40, percent=True)
    with engine.connect() as conn, pytest.raises(exc.CompileError, match="PERCENT"):
        conn.execute(stmt)


def test_fetch_is_part_of_the_cache_key() -> None:
    plain = select(scores.c.id).order_by(scores.c.id)
    keys = {
        plain.fetch(1)._generate_cache_key()[0],
        plain.fetch(1, with_ties=True)._generate_cache_key()[0],
        plain.limit(1)._generate_cache_key()[0],
    }
    assert len(keys) == 3


def test_with_ties_compiles_before_the_first_connection_tells_the_server(backend: Any) -> None:
    stmt = select(scores.c.id).order_by(scores.c.points.desc()).fetch(2, with_ties=True)
    fresh = create_engine(backend.url)
    try:
        if not backend.is_sqlite:
            # not connected yet: the server version is unknown, the server judges the clause
            assert "WITH TIES" in str(stmt.compile(fresh))
        meta.create_all(fresh)
        with fresh.begin() as conn:
            conn.execute(scores.delete())
            conn.execute(scores.insert(), [{"id": 1, "points": 5}, {"id": 2, "points": 5}])
            if backend.is_sqlite:
                with pytest.raises(exc.CompileError, match="WITH TIES"):
                    conn.execute(stmt)
            else:
                assert sorted(conn.execute(stmt).scalars()) == [1, 2]
    finally:
        fresh.dispose()


def test_with_ties_is_refused_once_the_server_is_known_to_be_mysql() -> None:
    engine = create_engine("mysql+pymysql://nobody@127.0.0.1:1/none")
    stmt = select(scores.c.id).order_by(scores.c.points).fetch(2, with_ties=True)
    assert "WITH TIES" in str(stmt.compile(engine))
    engine.dialect.server_version_info = (8, 0, 36)  # what connecting to MySQL 8.0 records
    with pytest.raises(exc.CompileError, match="WITH TIES"):
        stmt.compile(engine)
    engine.dialect.is_mariadb = True
    engine.dialect.server_version_info = (10, 11, 6)
    assert "WITH TIES" in str(stmt.compile(engine))
