"""Per-request sessions in FastAPI, through TestClient and httpx.AsyncClient on every driver."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient

from athanor import create_engine, func, select
from athanor.engine import Engine
from athanor.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from athanor.ext.fastapi import session_dependency
from athanor.orm import Session, sessionmaker
from athanor.sql.elements import text
from athanor.util.async_adapter import wait_for_background_closes
from backends import Backend
from ext.test_async_cancellation import _engine, _server_sleep
from ext.test_async_session import Base, User, _server_transactions_settle

pytestmark = pytest.mark.usefixtures("async_driver")


def _sync_engine(backend: Backend, **kw: Any) -> Engine:
    engine = create_engine(backend.url, **kw)
    Base.metadata.create_all(engine)
    return engine


def _sync_app(session_local: sessionmaker) -> FastAPI:
    """The tutorial's sync routes, with its get_db dependency written out as it is there."""

    def get_db() -> Iterator[Session]:
        db = session_local()
        try:
            yield db
        finally:
            db.close()

    save_db = session_dependency(session_local)
    app = FastAPI()

    @app.get("/users/{user_id}")
    def read_user(user_id: int, db: Session = Depends(get_db)):
        user = db.get(User, user_id)
        if user is None:
            raise HTTPException(status_code=404, detail="no such user")
        return user

    @app.post("/users/{name}")
    def create_user(name: str, db: Session = Depends(save_db)):
        user = User(username=name, email=f"{name}@x")
        db.add(user)
        db.flush()
        if name.startswith("fail"):
            raise RuntimeError("the route failed after writing")
        return user

    @app.get("/count")
    def count(db: Session = Depends(get_db)) -> int:
        return int(db.scalar(select(func.count()).select_from(User)))

    return app


def _async_app(async_session_local: async_sessionmaker, slow_sql: str | None = None) -> FastAPI:
    """The tutorial's async dependency, as written there, and routes using it."""

    async def get_async_db() -> AsyncIterator[AsyncSession]:
        async with async_session_local() as session:
            try:
                yield session
                await session.commit()
            except:
                await session.rollback()
                raise

    app = FastAPI()

    @app.get("/users/{user_id}")
    async def read_user(user_id: int, db: AsyncSession = Depends(get_async_db)):
        return await db.get(User, user_id)

    @app.post("/users/{name}")
    async def create_user(name: str, db: AsyncSession = Depends(get_async_db)):
        user = User(username=name, email=f"{name}@x")
        db.add(user)
        await db.flush()
        if name.startswith("fail"):
            raise RuntimeError("the route failed after writing")
        if slow_sql is not None and name.startswith("slow"):
            await db.execute(text(slow_sql))
        return user

    get_db = session_dependency(async_session_local)

    @app.get("/count")
    async def count(db: AsyncSession = Depends(get_db)) -> int:
        await db.execute(select(User.id).limit(1))
        return int(await db.scalar(select(func.count()).select_from(User)))

    return app


def test_sync_routes_through_test_client(backend: Backend) -> None:
    engine = _sync_engine(backend, pool_size=5, max_overflow=5)
    try:
        client = TestClient(_sync_app(sessionmaker(bind=engine, autoflush=False)))
        created = client.post("/users/ann")
        assert created.status_code == 200
        body = created.json()
        assert body["username"] == "ann" and isinstance(body["id"], int)
        assert client.get(f"/users/{body['id']}").json() == body
        assert client.get("/users/999").status_code == 404
        failing = TestClient(client.app, raise_server_exceptions=False)
        assert failing.post("/users/failing").status_code == 500
        assert client.get("/count").json() == 1  # the failed route's INSERT was rolled back
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()


def test_async_routes_through_httpx(backend: Backend) -> None:
    async def main() -> None:
        engine = _engine(backend, pool_size=5, max_overflow=5)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            app = _async_app(async_sessionmaker(engine, expire_on_commit=False, autoflush=False))
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                created = (await client.post("/users/bob")).json()
                assert created["username"] == "bob"
                assert (await client.get(f"/users/{created['id']}")).json() == created
                assert (await client.post("/users/failing")).status_code == 500
                assert (await client.get("/count")).json() == 1
            assert engine.pool.checkedout() == 0
        finally:
            await engine.dispose()

    asyncio.run(main())


def test_async_routes_through_test_client(backend: Backend) -> None:
    engine: AsyncEngine = _engine(backend)

    async def setup() -> None:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()

    asyncio.run(setup())
    app = _async_app(async_sessionmaker(engine, expire_on_commit=False))
    with TestClient(app) as client:  # its own event loop, in another thread
        try:
            created = client.post("/users/cy").json()
            assert client.get(f"/users/{created['id']}").json() == created
            assert client.get("/count").json() == 1
        finally:  # the connections belong to the client's loop: close them there
            client.portal.call(engine.dispose)


async def _200_concurrent_counts(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        replies = await asyncio.gather(*(client.get("/count") for _ in range(200)))
    assert [r.status_code for r in replies] == [200] * 200
    assert {r.json() for r in replies} == {3}


def test_200_concurrent_requests_on_a_pool_of_5_plus_5(backend: Backend) -> None:
    async def main() -> None:
        engine = _engine(backend, pool_size=5, max_overflow=5, pool_timeout=60)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            async with AsyncSession(engine) as session:
                session.add_all([User(username=f"u{i}", email="e") for i in range(3)])
                await session.commit()
            await _200_concurrent_counts(_async_app(async_sessionmaker(engine)))
            assert engine.pool.checkedout() == 0 and engine.pool.size() == 5
        finally:
            await engine.dispose()

    asyncio.run(main())


@pytest.mark.backends("postgresql", "mysql")
def test_client_disconnect_mid_request_leaves_the_pool_clean(backend: Backend) -> None:
    async def main() -> None:
        engine = _engine(backend, pool_size=2, max_overflow=0)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            app = _async_app(async_sessionmaker(engine), slow_sql=_server_sleep(backend, 5))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                started = time.monotonic()
                # the client gives up: the request's task is cancelled mid-query
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(client.post("/users/slow"), 0.3)
                assert time.monotonic() - started < 4
                await wait_for_background_closes()
                assert engine.pool.checkedout() == 0
                assert (await client.get("/count")).json() == 0
        finally:
            await engine.dispose()

    asyncio.run(main())
    assert _server_transactions_settle(backend) == 0
