"""Async scenarios through asyncpg: raw asyncpg vs ``ext.asyncio`` of athanor and SQLAlchemy,
for Core (AsyncConnection) and the ORM (AsyncSession)."""

from __future__ import annotations

from bench.databases import customer_dicts, customer_tuples
from bench.registry import EMPTY, LOADED, AsyncRun, Ctx, Scenario, register
from bench.scenarios.core import SimpleCustomer, expect, primary_keys
from bench.scenarios.orm import customer_class

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


# -- issue 12: the ORM through AsyncSession ------------------------------------------------
ASYNCPG_INSERT = "INSERT INTO customer (name, description) VALUES ($1, $2)"


async def raw_load_objects(ctx: Ctx) -> AsyncRun:
    conn, n = await ctx.async_raw_connection(), ctx.scale.load_rows

    async def run() -> None:
        rows = await conn.fetch(ASYNCPG_SELECT_ALL)
        objects = [SimpleCustomer(row[0], row[1], row[2]) for row in rows]
        expect(len(objects), n)

    return run


async def orm_load_objects(ctx: Ctx) -> AsyncRun:
    customer, engine = customer_class(ctx), await ctx.async_engine()
    select, session_cls, n = ctx.lib.sa.select, ctx.lib.asyncio.AsyncSession, ctx.scale.load_rows

    async def run() -> None:
        async with session_cls(engine) as session:
            objects = (await session.scalars(select(customer))).all()
            expect(len(objects), n)

    return run


register(
    Scenario(
        "async.orm_load_objects",
        "async",
        "orm.load_objects through AsyncSession on asyncpg: (await session.scalars(select("
        "Customer))).all() (raw: await conn.fetch() into plain __slots__ objects)",
        ops=lambda s: s.load_rows,
        data=LOADED,
        raw=raw_load_objects,
        lib=orm_load_objects,
        databases=("postgresql",),
        is_async=True,
        targets={"athanor/raw": 3.0},
    )
)


async def orm_select_pk(ctx: Ctx) -> AsyncRun:
    customer, engine, ids = customer_class(ctx), await ctx.async_engine(), primary_keys(ctx)
    select, session_cls = ctx.lib.sa.select, ctx.lib.asyncio.AsyncSession

    async def run() -> None:
        async with session_cls(engine) as session:
            for ident in ids:
                c = (await session.scalars(select(customer).where(customer.id == ident))).one()
                _i, _n, _d = c.id, c.name, c.description

    return run


register(
    Scenario(
        "async.orm_select_pk",
        "async",
        "orm.select_pk_new_statement through AsyncSession on asyncpg: (await session.scalars("
        "select(Customer).where(Customer.id == i))).one() (raw: await conn.fetchrow)",
        ops=lambda s: s.selects,
        data=LOADED,
        raw=raw_select_pk,
        lib=orm_select_pk,
        databases=("postgresql",),
        is_async=True,
        targets={"athanor/sqlalchemy": 0.5},
    )
)


async def raw_bulk_insert(ctx: Ctx) -> AsyncRun:
    conn, rows = await ctx.async_raw_connection(), customer_tuples(ctx.scale.rows)

    async def run() -> None:
        async with conn.transaction():
            await conn.executemany(ASYNCPG_INSERT, rows)

    return run


async def orm_add_all(ctx: Ctx) -> AsyncRun:
    customer, engine = customer_class(ctx), await ctx.async_engine()
    rows, session_cls = customer_dicts(ctx.scale.rows), ctx.lib.asyncio.AsyncSession

    async def run() -> None:
        async with session_cls(engine) as session:
            session.add_all([customer(name=r["name"], description=r["description"]) for r in rows])
            await session.commit()

    return run


register(
    Scenario(
        "async.orm_add_all_commit",
        "async",
        "orm.add_all_commit through AsyncSession on asyncpg: session.add_all(objects) + await "
        "session.commit(), keys generated by the database (raw: await conn.executemany)",
        ops=lambda s: s.rows,
        data=EMPTY,
        raw=raw_bulk_insert,
        lib=orm_add_all,
        databases=("postgresql",),
        is_async=True,
        targets={"athanor/sqlalchemy": 0.5},
    )
)
