"""The workflows of SQLAlchemy's "Asynchronous I/O (asyncio)" documentation, written against
athanor and run on every async driver: the Core and ORM synopses, streaming and result
methods, lazy="raise" with eager loaders, run_sync, events on ``engine.sync_engine`` (with
``run_async`` on the driver connection), the scoped session per task, finding an object's
AsyncSession, several event loops, and the engine-level helpers."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from datetime import datetime
from typing import Any

import pytest

from athanor import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    event,
    exc,
    func,
    inspect,
    select,
    text,
)
from athanor.ext.asyncio import (
    AsyncAttrs,
    AsyncEngine,
    AsyncSession,
    async_object_session,
    async_scoped_session,
    async_session,
    async_sessionmaker,
    close_all_sessions,
    create_async_engine,
)
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)
from athanor.pool import NullPool
from backends import Backend, settled

pytestmark = pytest.mark.usefixtures("async_driver")


class Base(AsyncAttrs, DeclarativeBase):
    pass


class A(Base):
    __tablename__ = "adoc_a"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[str] = mapped_column(String(40))
    create_date: Mapped[datetime] = mapped_column(server_default=func.now())
    bs: Mapped[list[B]] = relationship(order_by="B.id")
    strict_bs: Mapped[list[B]] = relationship(order_by="B.id", lazy="raise", viewonly=True)


class B(Base):
    __tablename__ = "adoc_b"

    id: Mapped[int] = mapped_column(primary_key=True)
    a_id: Mapped[int] = mapped_column(ForeignKey("adoc_a.id"))
    data: Mapped[str] = mapped_column(String(40))


def _run(backend: Backend, scenario: Any, **engine_kw: Any) -> Any:
    async def main() -> Any:
        engine = create_async_engine(backend.async_url(), **engine_kw)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
                await conn.run_sync(Base.metadata.create_all)
            found = await scenario(engine)
            assert engine.pool.checkedout() == 0
            return found
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def _fill(engine: AsyncEngine) -> None:
    factory = async_sessionmaker(engine, expire_on_commit=False)
    async with factory() as session, session.begin():
        session.add_all(
            [
                A(data="a1", bs=[B(data="b1"), B(data="b2")]),
                A(data="a2", bs=[]),
                A(data="a3", bs=[B(data="b3"), B(data="b4")]),
            ]
        )


def test_core_synopsis_streaming_and_results(backend: Backend) -> None:
    meta = MetaData()
    t1 = Table("adoc_t1", meta, Column("id", Integer, primary_key=True), Column("name", String(50)))

    async def scenario(engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await conn.run_sync(meta.drop_all)
            await conn.run_sync(meta.create_all)
            await conn.execute(t1.insert(), [{"name": f"some name {i}"} for i in range(1, 6)])

        async with engine.connect() as conn:
            result = await conn.execute(select(t1).where(t1.c.name == "some name 1"))
            assert [tuple(row) for row in result.fetchall()] == [(1, "some name 1")]

            streamed = await conn.stream(select(t1.c.name).order_by(t1.c.id))
            assert [row.name async for row in streamed] == [f"some name {i}" for i in range(1, 6)]

            streamed = await conn.stream(select(t1.c.id).order_by(t1.c.id))
            chunks = [list(p) async for p in streamed.scalars().partitions(2)]
            assert chunks == [[1, 2], [3, 4], [5]]

            ids = await conn.stream_scalars(select(t1.c.id).where(t1.c.id > 3).order_by(t1.c.id))
            assert await ids.all() == [4, 5]

            streamed = await conn.stream(select(t1.c.name, t1.c.id).order_by(t1.c.id))
            first_two = await streamed.mappings().fetchmany(2)
            assert [m["id"] for m in first_two] == [1, 2]
            await streamed.close()

            doubled = select(t1.c.id % 2).select_from(t1).order_by(t1.c.id)
            assert await (await conn.stream(doubled)).scalars().unique().all() == [1, 0]

            frozen = await (await conn.stream(select(t1.c.id).order_by(t1.c.id))).freeze()
            assert frozen().scalars().all() == [1, 2, 3, 4, 5] == frozen().scalars().all()

            one = await conn.execute(select(t1.c.name).where(t1.c.id == 2))
            assert one.scalar_one() == "some name 2"
            assert await conn.scalar(select(func.count()).select_from(t1)) == 5

            tables = await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())
            assert "adoc_t1" in tables

            with pytest.raises(exc.InvalidRequestError, match="get_raw_connection"):
                _ = conn.connection
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is not None

        conn = await engine.connect()
        assert await conn.scalar(text("SELECT 7")) == 7
        await conn.aclose()
        assert conn.closed

        engine.update_execution_options(logging_token="docs")
        assert engine.get_execution_options()["logging_token"] == "docs"
        assert engine.engine is engine
        engine.clear_compiled_cache()
        assert len(engine.sync_engine._compiled_cache or {}) == 0
        await engine.dispose()  # the pool starts afresh; the engine stays usable
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(t1)) == 5
            await conn.run_sync(meta.drop_all)
            await conn.commit()

    _run(backend, scenario)


def test_orm_synopsis(backend: Backend) -> None:
    async def scenario(engine: AsyncEngine) -> None:
        factory = async_sessionmaker(engine, expire_on_commit=False)
        async with factory() as session, session.begin():
            a1 = A(data="a1", bs=[B(data="b1"), B(data="b2")])
            session.add_all([a1, A(data="a2", bs=[]), A(data="a3", bs=[B(data="b3")])])
        # eager_defaults: the server's create_date came back with the INSERT; with
        # expire_on_commit=False it is readable after the commit without any I/O.
        assert isinstance(a1.create_date, datetime)

        async with factory() as session:
            stmt = select(A).options(selectinload(A.bs)).order_by(A.id)
            result = await session.execute(stmt)
            loaded = {a.data: [b.data for b in a.bs] for a in result.scalars()}
            assert loaded == {"a1": ["b1", "b2"], "a2": [], "a3": ["b3"]}

            result = await session.execute(select(A).order_by(A.id).limit(1))
            a1 = result.scalars().one()
            a1.data = "new data"
            await session.commit()
            assert a1.data == "new data"  # expire_on_commit=False: still loaded

            stream = await session.stream_scalars(select(A.data).order_by(A.id))
            assert [d async for d in stream] == ["new data", "a2", "a3"]

        async with factory() as session:
            a3 = await session.scalar(select(A).where(A.data == "a3"))
            assert a3 is not None
            assert [b.data for b in await a3.awaitable_attrs.bs] == ["b3"]
            joined = await session.execute(select(A).options(joinedload(A.bs)).order_by(A.id))
            assert [len(a.bs) for a in joined.unique().scalars()] == [2, 0, 1]

    _run(backend, scenario)


def test_lazy_raise_refresh_and_run_sync(backend: Backend) -> None:
    async def scenario(engine: AsyncEngine) -> None:
        await _fill(engine)
        async with AsyncSession(engine) as session:
            a1 = await session.scalar(select(A).where(A.data == "a1"))
            assert a1 is not None
            with pytest.raises(exc.InvalidRequestError, match="lazy='raise'"):
                _ = a1.strict_bs
            await session.refresh(a1, attribute_names=["strict_bs"])
            assert [b.data for b in a1.strict_bs] == ["b1", "b2"]

            eager = await session.scalar(
                select(A).where(A.data == "a3").options(selectinload(A.strict_bs))
            )
            assert eager is not None and [b.data for b in eager.strict_bs] == ["b3", "b4"]

            await session.execute(text("UPDATE adoc_a SET data = 'changed' WHERE data = 'a1'"))
            await session.refresh(a1, ["data"])
            assert a1.data == "changed"
            a1.data = "locally"
            await session.refresh(a1, with_for_update=not backend.is_sqlite)
            assert a1.data == "changed"

            def sync_work(sync_session: Session) -> list[str]:
                # Plain lazy loads are allowed in the function run_sync runs.
                a2 = sync_session.scalars(select(A).where(A.data == "a2")).one()
                a2.bs.append(B(data="from sync"))
                sync_session.flush()
                return [b.data for b in a2.bs]

            assert await session.run_sync(sync_work) == ["from sync"]
            await session.commit()
            assert await session.scalar(select(func.count()).select_from(B)) == 5

    _run(backend, scenario)


def _ping_driver(driver_connection: Any) -> Any:
    """An awaitable round trip on the driver's own connection object, per driver."""
    name = type(driver_connection).__module__.split(".")[0]
    if name == "asyncpg":
        return driver_connection.fetchval("SELECT 41 + 1")
    if name == "aiosqlite":

        async def run() -> Any:
            async with driver_connection.execute("SELECT 41 + 1") as cursor:
                return (await cursor.fetchone())[0]

        return run()
    if name == "psycopg":

        async def run_psycopg() -> Any:
            cursor = await driver_connection.execute("SELECT 41 + 1")
            value = (await cursor.fetchone())[0]
            await driver_connection.rollback()
            return value

        return run_psycopg()

    async def run_mysql() -> Any:
        async with driver_connection.cursor() as cursor:
            await cursor.execute("SELECT 41 + 1")
            return (await cursor.fetchone())[0]

    return run_mysql()


def test_events_on_the_sync_engine_and_session(backend: Backend) -> None:
    answers: list[Any] = []
    statements: list[str] = []
    commits: list[str] = []

    async def scenario(engine: AsyncEngine) -> None:
        @event.listens_for(engine.sync_engine, "connect")
        def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
            # Awaitables of the driver, awaited from a synchronous listener.
            answers.append(dbapi_connection.run_async(_ping_driver))

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        await engine.dispose()  # connections opened from now on meet the listener
        factory = async_sessionmaker(engine, expire_on_commit=False)

        @event.listens_for(factory, "before_commit")
        def on_commit(sync_session: Session) -> None:
            commits.append(type(sync_session).__name__)

        async with factory() as session:
            session.add(A(data="evented"))
            await session.commit()

        async with AsyncSession(engine) as other:
            event.listen(other.sync_session, "after_commit", lambda s: commits.append("own"))
            await other.commit()

    _run(backend, scenario)
    assert answers and set(answers) == {42}
    assert any("INSERT INTO adoc_a" in s for s in statements)
    assert commits == ["Session", "own"]


def test_scoped_session_per_task(backend: Backend) -> None:
    async def scenario(engine: AsyncEngine) -> None:
        scoped = async_scoped_session(
            async_sessionmaker(engine, expire_on_commit=False), scopefunc=asyncio.current_task
        )

        async def work(name: str) -> tuple[int, int]:
            session = scoped()
            assert scoped() is session and scoped.has()
            scoped.add(A(data=name))
            await scoped.commit()
            mine = id(session)
            await scoped.remove()
            assert not scoped.has()
            return mine, id(scoped())

        results = await asyncio.gather(work("t1"), work("t2"), work("t3"))
        assert len({first for first, _ in results}) == 3  # one session per task
        assert all(first != again for first, again in results)  # remove() forgets it
        async with AsyncSession(engine) as session:
            names = await session.scalars(select(A.data).order_by(A.data))
            assert names.all() == ["t1", "t2", "t3"]
        await close_all_sessions()

    _run(backend, scenario)


def test_finding_the_async_session(backend: Backend) -> None:
    async def scenario(engine: AsyncEngine) -> None:
        await _fill(engine)
        session = AsyncSession(engine)
        a1 = await session.scalar(select(A).where(A.data == "a1"))
        assert async_object_session(a1) is session
        assert async_session(session.sync_session) is session
        assert AsyncSession.object_session(a1) is session.sync_session
        assert async_session(Session()) is None and async_object_session(A()) is None
        assert session.get_bind() is engine.sync_engine
        assert AsyncSession.identity_key(A, a1.id) == inspect(a1).key  # type: ignore[union-attr]
        await close_all_sessions()  # closes it: the object is detached
        assert async_object_session(a1) is None and inspect(a1).detached

    _run(backend, scenario)


def test_engine_across_event_loops(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine used by several ``asyncio.run()`` calls: NullPool, a pool disposed at the end
    of each loop (as the asyncio documentation advises), or a pool left as it is.  A
    connection bound to its loop (a socket driver's) is closed as that loop ends and replaced
    at the next checkout; aiosqlite's serves every loop.  Nothing is left to the garbage
    collector (no ResourceWarning) and no driver thread fails."""
    url = backend.async_url()
    thread_errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: thread_errors.append(args.exc_value))

    async def once(engine: AsyncEngine, dispose: bool) -> int:
        async with engine.connect() as conn:
            value = await conn.scalar(text("SELECT 3"))
        if dispose:
            await engine.dispose()
        return int(value)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        no_pool = create_async_engine(url, poolclass=NullPool)
        pooled = create_async_engine(url)
        assert [asyncio.run(once(no_pool, False)) for _ in range(3)] == [3, 3, 3]
        assert [asyncio.run(once(pooled, True)) for _ in range(3)] == [3, 3, 3]
        assert pooled.pool.checkedout() == 0

        kept = create_async_engine(url)
        connects: list[object] = []
        event.listen(kept.sync_engine, "connect", lambda dbapi_conn, record: connects.append(1))
        assert [asyncio.run(once(kept, False)) for _ in range(3)] == [3, 3, 3]
        assert kept.pool.checkedout() == 0 and kept.pool.checkedin() == 1
        assert len(connects) == (1 if backend.is_sqlite else 3)
        if not backend.is_sqlite:
            assert settled(backend.server_sessions) == 0  # closed with their loops
        asyncio.run(kept.dispose())
        gc.collect()
    workers = [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]
    for worker in workers:
        worker.join(5)
    assert not [t for t in workers if t.is_alive()]
    assert thread_errors == []
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    if not backend.is_sqlite:
        assert settled(backend.server_sessions) == 0
