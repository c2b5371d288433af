"""Core scenarios (insert, load, select, transaction suites), modelled on SQLAlchemy's
``examples/performance``: the same ``customer`` table and the same work for every
implementation. Library bodies use only the SQLAlchemy 2.x Core API through ``ctx.lib.sa``.
"""

from __future__ import annotations

import random
from typing import Any

from bench.databases import (
    INSERT_SQL,
    SELECT_ALL_SQL,
    SELECT_PK_SQL,
    customer_dicts,
    customer_tuples,
)
from bench.registry import EMPTY, LOADED, Body, Ctx, Run, Scenario, register


def expect(got: int, wanted: int) -> None:
    """Fail the run when an implementation did not do all the work."""
    if got != wanted:
        raise AssertionError(f"expected {wanted} rows, got {got}")


class SimpleCustomer:
    """A plain object per row, the floor for loading into objects (and later for the ORM)."""

    __slots__ = ("description", "id", "name")

    def __init__(self, id: int, name: str, description: str) -> None:
        self.id = id
        self.name = name
        self.description = description


# -- insert ----------------------------------------------------------------------------------
def raw_bulk_insert(ctx: Ctx) -> Run:
    conn = ctx.raw_connection()
    sql = ctx.db.sql(INSERT_SQL)
    rows = customer_tuples(ctx.scale.rows)

    def run() -> None:
        conn.cursor().executemany(sql, rows)
        conn.commit()

    return run


def core_bulk_insert(ctx: Ctx) -> Run:
    sa, customer, engine = ctx.lib.sa, ctx.customer, ctx.engine()
    rows = customer_dicts(ctx.scale.rows)

    def run() -> None:
        with engine.begin() as conn:
            conn.execute(sa.insert(customer), rows)

    return run


register(
    Scenario(
        "insert.bulk_executemany",
        "insert",
        "one transaction inserting all rows: raw cursor.executemany vs "
        "conn.execute(insert(customer), list_of_dicts)",
        ops=lambda s: s.rows,
        data=EMPTY,
        raw=raw_bulk_insert,
        lib=core_bulk_insert,
        targets={"athanor/raw": 1.2},
    )
)


# -- load --------------------------------------------------------------------------------------
def _raw_load_setup(ctx: Ctx) -> tuple[Any, int]:
    return ctx.raw_connection(), ctx.scale.load_rows


def _raw_rows(conn: Any) -> list[Any]:
    cur = conn.cursor()
    cur.execute(SELECT_ALL_SQL)
    rows: list[Any] = cur.fetchall()
    cur.close()
    conn.rollback()
    return rows


def raw_load_tuples(ctx: Ctx) -> Run:
    conn, n = _raw_load_setup(ctx)

    def run() -> None:
        expect(len(_raw_rows(conn)), n)

    return run


def core_load_rows(ctx: Ctx) -> Run:
    sa, customer, engine, n = ctx.lib.sa, ctx.customer, ctx.engine(), ctx.scale.load_rows

    def run() -> None:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(customer)).fetchall()
        expect(len(rows), n)

    return run


def raw_load_index(ctx: Ctx) -> Run:
    conn, n = _raw_load_setup(ctx)

    def run() -> None:
        rows = _raw_rows(conn)
        for row in rows:
            _i, _n, _d = row[0], row[1], row[2]
        expect(len(rows), n)

    return run


def core_load_attrs(ctx: Ctx) -> Run:
    sa, customer, engine, n = ctx.lib.sa, ctx.customer, ctx.engine(), ctx.scale.load_rows

    def run() -> None:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(customer)).fetchall()
        for row in rows:
            _i, _n, _d = row.id, row.name, row.description
        expect(len(rows), n)

    return run


def core_load_mappings(ctx: Ctx) -> Run:
    sa, customer, engine, n = ctx.lib.sa, ctx.customer, ctx.engine(), ctx.scale.load_rows

    def run() -> None:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(customer)).mappings().fetchall()
        for row in rows:
            _i, _n, _d = row["id"], row["name"], row["description"]
        expect(len(rows), n)

    return run


def raw_load_objects(ctx: Ctx) -> Run:
    conn, n = _raw_load_setup(ctx)

    def run() -> None:
        objects = [SimpleCustomer(row[0], row[1], row[2]) for row in _raw_rows(conn)]
        expect(len(objects), n)

    return run


def core_load_objects(ctx: Ctx) -> Run:
    sa, customer, engine, n = ctx.lib.sa, ctx.customer, ctx.engine(), ctx.scale.load_rows

    def run() -> None:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(customer)).fetchall()
        objects = [SimpleCustomer(row.id, row.name, row.description) for row in rows]
        expect(len(objects), n)

    return run


def raw_load_stream(ctx: Ctx) -> Run:
    conn, n = _raw_load_setup(ctx)
    size = ctx.scale.yield_per

    def run() -> None:
        cur = ctx.db.server_side_cursor(conn)
        cur.execute(SELECT_ALL_SQL)
        count = 0
        while rows := cur.fetchmany(size):
            count += len(rows)
            for row in rows:
                _i, _n, _d = row[0], row[1], row[2]
        cur.close()
        conn.rollback()
        expect(count, n)

    return run


def core_load_stream(ctx: Ctx) -> Run:
    sa, customer, engine, n = ctx.lib.sa, ctx.customer, ctx.engine(), ctx.scale.load_rows
    size = ctx.scale.yield_per

    def run() -> None:
        count = 0
        with engine.connect() as conn:
            options = conn.execution_options(stream_results=True, yield_per=size)
            result = options.execute(sa.select(customer))
            while rows := result.fetchmany(size):
                count += len(rows)
                for row in rows:
                    _i, _n, _d = row.id, row.name, row.description
        expect(count, n)

    return run


def _load(
    name: str, doc: str, raw: Body, lib: Body, *, memory: bool = False, vs_raw: float | None = None
) -> None:
    register(
        Scenario(
            name,
            "load",
            doc,
            ops=lambda s: s.load_rows,
            data=LOADED,
            raw=raw,
            lib=lib,
            memory=memory,
            targets={} if vs_raw is None else {"athanor/raw": vs_raw},
        )
    )


_load(
    "load.fetchall",
    "fetch every row, touch nothing: raw cursor.fetchall() tuples vs Core Result.fetchall() rows",
    raw_load_tuples,
    core_load_rows,
)
_load(
    "load.fetchall_attrs",
    "fetchall, then read the three columns of every row: raw row[i] vs Core row.name",
    raw_load_index,
    core_load_attrs,
    memory=True,
    vs_raw=1.3,
)
_load(
    "load.fetchall_mappings",
    "fetchall, then read every column by name: raw row[i] vs Core .mappings() row['name']",
    raw_load_index,
    core_load_mappings,
)
_load(
    "load.objects",
    "one plain __slots__ object per row: raw from tuples vs Core from row attributes "
    "(the ORM rows join this suite)",
    raw_load_objects,
    core_load_objects,
    memory=True,
)
_load(
    "load.stream_fetchmany",
    "server-side cursor, fetchmany(yield_per) batches: raw named/SS cursor vs Core "
    "execution_options(stream_results=True, yield_per=N)",
    raw_load_stream,
    core_load_stream,
    memory=True,
)


# -- select --------------------------------------------------------------------------------
def primary_keys(ctx: Ctx) -> list[int]:
    """Existing primary keys in a fixed pseudo-random order."""
    return random.Random(6).sample(range(1, ctx.scale.load_rows + 1), ctx.scale.selects)


def raw_select_pk(ctx: Ctx) -> Run:
    conn, ids = ctx.raw_connection(), primary_keys(ctx)
    cur = conn.cursor()
    sql = ctx.db.sql(SELECT_PK_SQL)

    def run() -> None:
        for ident in ids:
            cur.execute(sql, (ident,))
            row = cur.fetchone()
            _i, _n, _d = row[0], row[1], row[2]
        conn.rollback()

    return run


def core_select_pk_new(ctx: Ctx, **engine_kwargs: Any) -> Run:
    sa, customer, ids = ctx.lib.sa, ctx.customer, primary_keys(ctx)
    engine = ctx.engine(**engine_kwargs)

    def run() -> None:
        with engine.connect() as conn:
            for ident in ids:
                row = conn.execute(sa.select(customer).where(customer.c.id == ident)).one()
                _i, _n, _d = row.id, row.name, row.description

    return run


def core_select_pk_new_uncached(ctx: Ctx) -> Run:
    return core_select_pk_new(ctx, query_cache_size=0)


def core_select_pk_reused(ctx: Ctx) -> Run:
    sa, customer, engine, ids = ctx.lib.sa, ctx.customer, ctx.engine(), primary_keys(ctx)

    def run() -> None:
        stmt = sa.select(customer).where(customer.c.id == sa.bindparam("id"))
        with engine.connect() as conn:
            for ident in ids:
                row = conn.execute(stmt, {"id": ident}).one()
                _i, _n, _d = row.id, row.name, row.description

    return run


register(
    Scenario(
        "select.pk_new_statement",
        "select",
        "short selects by primary key on one connection; Core builds "
        "select(customer).where(customer.c.id == i) every time (statement cache)",
        ops=lambda s: s.selects,
        data=LOADED,
        raw=raw_select_pk,
        lib=core_select_pk_new,
        targets={"athanor/raw": {"sqlite": 3.0, "postgresql": 1.5, "mysql": 1.5}},
    )
)
register(
    Scenario(
        "select.pk_new_statement_uncached",
        "select",
        "select.pk_new_statement with the compiled-statement cache turned off "
        "(query_cache_size=0): what the cache saves",
        ops=lambda s: s.selects,
        data=LOADED,
        raw=raw_select_pk,
        lib=core_select_pk_new_uncached,
    )
)
register(
    Scenario(
        "select.pk_reused_statement",
        "select",
        "short selects by primary key; Core executes one statement built once with bindparam('id')",
        ops=lambda s: s.selects,
        data=LOADED,
        raw=raw_select_pk,
        lib=core_select_pk_reused,
    )
)


# -- transaction --------------------------------------------------------------------------------
def raw_single_inserts(ctx: Ctx) -> Run:
    conn = ctx.raw_connection()
    cur = conn.cursor()
    sql = ctx.db.sql(INSERT_SQL)
    rows = customer_tuples(ctx.scale.single_inserts)

    def run() -> None:
        for row in rows:
            cur.execute(sql, row)
            conn.commit()

    return run


def core_single_inserts(ctx: Ctx) -> Run:
    sa, customer, engine = ctx.lib.sa, ctx.customer, ctx.engine()
    rows = customer_dicts(ctx.scale.single_inserts)

    def run() -> None:
        for params in rows:
            with engine.begin() as conn:
                conn.execute(sa.insert(customer), params)

    return run


register(
    Scenario(
        "transaction.single_inserts",
        "transaction",
        "one row per transaction: raw execute+commit on one connection vs Core "
        "`with engine.begin()` (pool checkout, insert, commit, checkin) per row",
        ops=lambda s: s.single_inserts,
        data=EMPTY,
        raw=raw_single_inserts,
        lib=core_single_inserts,
    )
)
