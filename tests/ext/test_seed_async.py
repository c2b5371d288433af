"""The async tutorials as written, on aiosqlite, asyncpg, psycopg async, asyncmy and aiomysql.

Seed 002 section 3 (async engine, ``async_sessionmaker(engine, class_=AsyncSession,
expire_on_commit=False)``, async CRUD with ``selectinload``) and seed 003's read/write pair of
async engines with one ``async_sessionmaker`` and one FastAPI dependency each.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from athanor import Integer, String, Text, event, exc, func, select
from athanor.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from athanor.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload
from athanor.schema import ForeignKey
from backends import Backend

pytestmark = pytest.mark.usefixtures("async_driver")


class Base(DeclarativeBase):
    pass


# Seed 002 section 2's models, with the ForeignKey the tutorial forgot (see
# examples/orm_declarative.py for the error it gets without one).
class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[str] = mapped_column(String(100))
    age: Mapped[int] = mapped_column(Integer, nullable=True)

    # Relationship
    posts: Mapped[list[Post]] = relationship(back_populates="author")

    def __repr__(self) -> str:
        return f"<User(username={self.username}, email={self.email})>"


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    # Relationship
    author: Mapped[User] = relationship(back_populates="posts")


def test_seed_002_section_3_as_written(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    async_database_url = backend.async_url()

    # --- the tutorial's code from here, with its URL replaced --------------------------------

    # Create async engine
    async_engine = create_async_engine(
        async_database_url,
        echo=True,
        pool_size=20,
        max_overflow=40,
    )

    # Create async session factory
    AsyncSessionLocal = async_sessionmaker(
        async_engine, class_=AsyncSession, expire_on_commit=False
    )

    # Async CRUD operations
    async def create_user(username: str, email: str) -> User:
        async with AsyncSessionLocal() as session:
            user = User(username=username, email=email)
            session.add(user)
            await session.commit()
            return user

    async def get_user_by_username(username: str) -> User | None:
        async with AsyncSessionLocal() as session:
            stmt = select(User).where(User.username == username)
            result = await session.execute(stmt)
            return result.scalar_one_or_none()

    async def get_users_with_posts() -> None:
        """Fetch users with eager loading of posts."""
        async with AsyncSessionLocal() as session:
            stmt = select(User).options(selectinload(User.posts))
            result = await session.execute(stmt)
            users = result.scalars().all()

            for user in users:
                print(f"{user.username} has {len(user.posts)} posts")

    # Usage
    async def main() -> tuple[User, User | None]:
        user = await create_user("async_user", "async@example.com")
        found_user = await get_user_by_username("async_user")
        await get_users_with_posts()
        return user, found_user

    # --- the tutorial's code ends; the tables first, and the engine disposed at the end ----

    async def around_main() -> tuple[User, User | None]:
        try:
            async with async_engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            user, found_user = await main()
            async with AsyncSessionLocal() as session:
                session.add_all(
                    [Post(title=f"t{n}", content="c", user_id=user.id) for n in range(2)]
                )
                await session.commit()
            await get_users_with_posts()
            assert async_engine.pool.checkedout() == 0
            return user, found_user
        finally:
            await async_engine.dispose()

    user, found_user = asyncio.run(around_main())
    # expire_on_commit=False: the returned objects keep their loaded values after their session
    assert found_user is not None
    assert (user.id, user.username, user.email) == (
        found_user.id,
        "async_user",
        "async@example.com",
    )
    printed = [line for line in capsys.readouterr().out.splitlines() if " has " in line]
    assert printed == ["async_user has 0 posts", "async_user has 2 posts"]


def _read_only_on_connect(engine: Any, backend: Backend) -> None:
    """Make every connection of ``engine`` refuse writes, as a replica would."""
    statement = {
        "sqlite": "PRAGMA query_only = ON",
        "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        "mysql": "SET SESSION TRANSACTION READ ONLY",
    }[backend.name]

    @event.listens_for(engine.sync_engine, "connect")
    def read_only(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()  # PostgreSQL's SET is undone by a rollback otherwise


def test_seed_003_read_and_write_engines(backend: Backend) -> None:
    """Writes go through the writer's engine and sessions, reads through the reader's (whose
    connections refuse writes here, so a misrouted write fails)."""

    async def main() -> None:
        write_engine = create_async_engine(backend.async_url(), pool_size=2, max_overflow=0)
        read_engine = create_async_engine(backend.async_url(), pool_size=2, max_overflow=0)
        try:
            async with write_engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            _read_only_on_connect(read_engine, backend)
            WriteSession = async_sessionmaker(write_engine, expire_on_commit=False)
            ReadSession = async_sessionmaker(read_engine, expire_on_commit=False)

            async def get_write_db() -> AsyncIterator[AsyncSession]:
                async with WriteSession() as session:
                    yield session

            async def get_read_db() -> AsyncIterator[AsyncSession]:
                async with ReadSession() as session:
                    yield session

            app = FastAPI()

            @app.post("/users/{name}")
            async def create(name: str, db: AsyncSession = Depends(get_write_db)) -> int:
                user = User(username=name, email=f"{name}@x")
                db.add(user)
                await db.commit()
                return user.id

            @app.get("/users")
            async def names(db: AsyncSession = Depends(get_read_db)) -> list[str]:
                return list(await db.scalars(select(User.username).order_by(User.username)))

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for name in ("bo", "al"):
                    assert (await client.post(f"/users/{name}")).status_code == 200
                assert (await client.get("/users")).json() == ["al", "bo"]
            async with ReadSession() as session:
                session.add(User(username="misrouted", email="m@x"))
                with pytest.raises(exc.DBAPIError):
                    await session.commit()
            async with WriteSession() as session:
                assert await session.scalar(select(func.count()).select_from(User)) == 2
            assert write_engine.pool.checkedout() == read_engine.pool.checkedout() == 0
        finally:
            await read_engine.dispose()
            await write_engine.dispose()

    asyncio.run(main())
