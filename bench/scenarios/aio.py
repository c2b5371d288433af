"""Async scenarios through asyncpg: raw asyncpg vs ``ext.asyncio`` of athanor and SQLAlchemy."""

from __future__ import annotations

from bench.registry import LOADED, AsyncRun, Ctx, Scenario, register
from bench.scenarios.core import expect, primary_keys

ASYNCPG_SELECT_ALL = "SELECT customer.id, customer.name, customer.description FROM customer"
ASYNCPG_SELECT_PK = ASYNCPG_SELECT_ALL + " WHERE customer.id = $1"


async def raw_select_pk(ctx: Ctx) -> AsyncRun:
    conn, ids = await ctx.async_raw_connection(), primary_keys(ctx)

    async def run() -> None:
        for ident in ids:
            row = await conn.fetchrow(ASYNCPG_SELECT_PK, ident)
            _i, _n, _d = row[0], row[1], row[2]

    return run


async def lib_select_pk_new(ctx: Ctx) -> AsyncRun:
    sa, customer, engine, ids = (
        ctx.lib.sa,
        ctx.customer,
        await ctx.async_engine(),
        primary_keys(ctx),
    )

    async def run() -> None:
        async with engine.connect() as conn:
            for ident in ids:
                result = await conn.execute(sa.select(customer).where(customer.c.id == ident))
                row = result.one()
                _i, _n, _d = row.id, row.name, row.description

    return run


async def lib_load_attrs(ctx: Ctx) -> AsyncRun:
    sa, customer, engine = ctx.lib.sa, ctx.customer, await ctx.async_engine()
    n = ctx.scale.load_rows

    async def run() -> None:
        async with engine.connect() as conn:
            result = await conn.execute(sa.select(customer))
            rows = result.fetchall()
        for row in rows:
            _i, _n, _d = row.id, row.name, row.description
        expect(len(rows), n)

    return run


async def raw_load_index(ctx: Ctx) -> AsyncRun:
    conn, n = await ctx.async_raw_connection(), ctx.scale.load_rows

    async def run() -> None:
        rows = await conn.fetch(ASYNCPG_SELECT_ALL)
        for row in rows:
            _i, _n, _d = row[0], row[1], row[2]
        expect(len(rows), n)

    return run


register(
    Scenario(
        "async.select_pk_new_statement",
        "async",
        "select.pk_new_statement through asyncpg: await conn.fetchrow vs AsyncConnection.execute",
        ops=lambda s: s.selects,
        data=LOADED,
        raw=raw_select_pk,
        lib=lib_select_pk_new,
        databases=("postgresql",),
        is_async=True,
    )
)
register(
    Scenario(
        "async.load_fetchall_attrs",
        "async",
        "load.fetchall_attrs through asyncpg: await conn.fetch() Records vs AsyncConnection rows",
        ops=lambda s: s.load_rows,
        data=LOADED,
        raw=raw_load_index,
        lib=lib_load_attrs,
        databases=("postgresql",),
        is_async=True,
    )
)
