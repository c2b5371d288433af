"""Sync sessions under FastAPI load: 200 concurrent requests on a pool of 5 + 5, on every database.

FastAPI runs sync routes in a thread pool of 40 and ends a ``yield`` dependency only after the
response is serialised.  A sync route with a response model (a return annotation) needs a
second thread for that serialisation while its session still holds a connection, so with the
hand-written dependency 40 threads can end up blocked in checkouts while the 10 connections
belong to requests waiting for a thread.  ``session_dependency`` admits requests in the event
loop instead; these tests drive both dependencies through sync and async routes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from athanor import create_engine, event, exc, func, select
from athanor.engine import Engine
from athanor.ext.fastapi import session_dependency
from athanor.orm import Session, sessionmaker
from athanor.sql.elements import text
from backends import Backend, settled
from ext.test_async_session import Base, User

SLOW_ROUTE_SECONDS = 0.6


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    """A sync engine on a pool of 5 + 5 with three users; at teardown it waits for requests
    still running in threads to return their connections, then closes them all, before the
    backend fixture drops the tables (a connection left in a transaction would hold locks)."""
    engine = create_engine(backend.url, pool_size=5, max_overflow=5, pool_timeout=10)
    sessions = _SESSIONS[engine] = set()

    @event.listens_for(engine, "connect")
    def remember(dbapi_connection: Any, record: Any) -> None:
        if backend.name == "postgresql":
            sessions.add(dbapi_connection.info.backend_pid)
        elif backend.name == "mysql":
            sessions.add(dbapi_connection.thread_id())

    try:
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all([User(username=f"u{i}", email="e") for i in range(3)])
            session.commit()
        yield engine
    finally:
        _returned(engine)
        engine.dispose()
        del _SESSIONS[engine]


_SESSIONS: dict[Engine, set[int]] = {}
"""Server session ids of the connections each test engine opened."""


def _open_transactions(engine: Engine, backend: Backend) -> int:
    """Sessions opened by ``engine`` that the server sees inside a transaction (not those of
    requests an earlier test abandoned, whose threads may still be finishing)."""
    ids = sorted(_SESSIONS[engine])
    if backend.is_sqlite or not ids:
        return 0
    raw = backend.raw_connect()
    try:
        cur = raw.cursor()
        if backend.name == "postgresql":
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) "
                "AND state LIKE 'idle in transaction%%'",
                (ids,),
            )
        else:
            marks = ", ".join(["%s"] * len(ids))
            cur.execute(
                "SELECT count(*) FROM information_schema.innodb_trx "
                f"WHERE trx_mysql_thread_id IN ({marks})",
                ids,
            )
        return int(cur.fetchone()[0])
    finally:
        raw.close()


def _returned(engine: Engine, timeout: float = 5.0) -> int:
    """Connections still checked out after waiting up to ``timeout`` for them to come back."""
    deadline = time.monotonic() + timeout
    while engine.pool.checkedout() and time.monotonic() < deadline:
        time.sleep(0.02)
    return int(engine.pool.checkedout())


def _app(engine: Engine) -> FastAPI:
    """The tutorial's dependency as written and ``session_dependency``, each behind a sync
    route with a response model (the stalling shape) and a slow sync route; the helper also
    behind an async route."""
    SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)

    def get_db() -> Iterator[Session]:
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

    dependencies: dict[str, Any] = {"plain": get_db, "helper": session_dependency(SessionLocal)}
    app = FastAPI()
    for name, dependency in dependencies.items():

        @app.get(f"/{name}/sync")
        def sync_count(db: Session = Depends(dependency)) -> int:
            return int(db.scalar(select(func.count()).select_from(User)))

        @app.get(f"/{name}/slow")
        def slow_count(db: Session = Depends(dependency)) -> int:
            count = int(db.scalar(select(func.count()).select_from(User)))
            db.execute(text("UPDATE users SET email = 'seen' WHERE id = 1"))
            time.sleep(SLOW_ROUTE_SECONDS)  # the client gives up meanwhile
            return count

    @app.get("/helper/async")
    async def async_count(db: Session = Depends(dependencies["helper"])) -> int:
        # Sync I/O in an async route blocks the event loop: with the hand-written dependency
        # an exhausted pool then blocks it for good (the teardowns that would return the
        # connections need the loop); admitted requests find a connection without waiting.
        return int(db.scalar(select(func.count()).select_from(User)))

    return app


async def _concurrent_gets(app: FastAPI, path: str, count: int = 200) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await asyncio.gather(*(client.get(path) for _ in range(count)))


def _assert_clean(engine: Engine, backend: Backend) -> None:
    assert _returned(engine) == 0
    assert engine.pool.checkedin() <= engine.pool.size()
    assert settled(lambda: _open_transactions(engine, backend)) == 0


@pytest.mark.parametrize("path", ["/helper/sync", "/helper/async"])
def test_200_concurrent_requests_complete(engine: Engine, backend: Backend, path: str) -> None:
    app = _app(engine)
    replies = asyncio.run(_concurrent_gets(app, path))
    assert [(r.status_code, r.json()) for r in replies] == [(200, 3)] * 200
    stats = engine.pool.stats()  # the pool's own clock: a loaded machine slows the whole run
    assert stats.timeouts == 0 and stats.max_wait < engine.pool.timeout()  # nobody waited it out
    _assert_clean(engine, backend)


def test_200_concurrent_callers_through_test_client(engine: Engine, backend: Backend) -> None:
    with TestClient(_app(engine)) as client, ThreadPoolExecutor(50) as callers:
        replies = list(callers.map(lambda _: client.get("/helper/sync"), range(200)))
    assert [(r.status_code, r.json()) for r in replies] == [(200, 3)] * 200
    _assert_clean(engine, backend)


def test_plain_dependency_on_a_sync_route_without_response_model(
    engine: Engine, backend: Backend
) -> None:
    """The hand-written dependency completes 200 requests when nothing needs a thread between
    the route's return and the dependency's teardown."""
    app = _app(engine)

    def get_db() -> Iterator[Session]:
        db = Session(engine)
        try:
            yield db
        finally:
            db.close()

    @app.get("/plain/unannotated")
    def count(db: Session = Depends(get_db)):  # no return annotation: no response model
        return int(db.scalar(select(func.count()).select_from(User)))

    replies = asyncio.run(_concurrent_gets(app, "/plain/unannotated"))
    assert [(r.status_code, r.json()) for r in replies] == [(200, 3)] * 200
    _assert_clean(engine, backend)


@pytest.mark.parametrize("name", ["plain", "helper"])
def test_client_disconnect_mid_request_leaves_the_pool_clean(
    engine: Engine, backend: Backend, name: str
) -> None:
    app = _app(engine)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            with pytest.raises(TimeoutError):  # the client gives up mid-route
                await asyncio.wait_for(client.get(f"/{name}/slow"), SLOW_ROUTE_SECONDS / 4)
            # the route's thread runs on; its session still ends and returns the connection
            await asyncio.to_thread(_returned, engine)
            assert (await client.get(f"/{name}/sync")).json() == 3

    asyncio.run(main())
    _assert_clean(engine, backend)
    with Session(engine) as session:  # the abandoned request's UPDATE was rolled back
        assert session.scalar(select(func.count()).where(User.email == "seen")) == 0


@pytest.mark.backends("sqlite")
def test_the_stall_the_helper_prevents(backend: Backend) -> None:
    """With the hand-written dependency, a sync route with a response model under more than
    40 + pool_size + max_overflow concurrent requests stalls until the pool timeout fails the
    blocked checkouts (FastAPI behaviour this pins down; ``session_dependency`` avoids it)."""
    engine = create_engine(backend.url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    try:
        Base.metadata.create_all(engine)
        transport = httpx.ASGITransport(app=_app(engine), raise_app_exceptions=False)

        async def main() -> list[int]:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                replies = await asyncio.gather(*(client.get("/plain/sync") for _ in range(60)))
            return [r.status_code for r in replies]

        assert 500 in asyncio.run(main())
        assert _returned(engine) == 0
    finally:
        engine.dispose()


@pytest.mark.backends("sqlite")
def test_a_request_waiting_longer_than_the_pool_timeout_gets_a_clear_error(
    backend: Backend,
) -> None:
    engine = create_engine(backend.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        Base.metadata.create_all(engine)
        transport = httpx.ASGITransport(app=_app(engine))

        async def main() -> None:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                holder = asyncio.ensure_future(client.get("/helper/slow"))
                await asyncio.sleep(SLOW_ROUTE_SECONDS / 3)
                with pytest.raises(exc.TimeoutError, match=r"pool_size \+ max_overflow"):
                    await client.get("/helper/sync")
                assert (await holder).json() == 0

        asyncio.run(main())
        assert _returned(engine) == 0
    finally:
        engine.dispose()
