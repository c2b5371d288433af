"""The tutorial's async ORM CRUD: async_sessionmaker(expire_on_commit=False), AsyncSession,
objects used after their session closed, and relationships loaded with awaitable_attrs.

Run: ASYNC_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/test python examples/async_orm.py
"""

from __future__ import annotations

import asyncio
import os

from athanor import ForeignKey, String, select
from athanor.ext.asyncio import AsyncAttrs, AsyncSession, async_sessionmaker, create_async_engine
from athanor.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(AsyncAttrs, DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "example_async_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[str] = mapped_column(String(100))
    posts: Mapped[list[Post]] = relationship(back_populates="author")


class Post(Base):
    __tablename__ = "example_async_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(ForeignKey("example_async_users.id"))
    author: Mapped[User] = relationship(back_populates="posts")


async def main(async_database_url: str) -> list[str]:
    async_engine = create_async_engine(async_database_url, pool_size=20, max_overflow=40)
    async with async_engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    AsyncSessionLocal = async_sessionmaker(  # noqa: N806 - the tutorial's name
        async_engine, class_=AsyncSession, expire_on_commit=False
    )

    async def create_user(username: str, email: str) -> User:
        async with AsyncSessionLocal() as session:
            user = User(username=username, email=email, posts=[Post(title="hello")])
            session.add(user)
            await session.commit()
            return user

    async def get_user_by_username(username: str) -> User | None:
        async with AsyncSessionLocal() as session:
            stmt = select(User).where(User.username == username)
            result = await session.execute(stmt)
            return result.scalar_one_or_none()

    async def get_users_with_posts() -> list[str]:
        async with AsyncSessionLocal() as session:
            result = await session.execute(select(User).order_by(User.id))
            lines = []
            for user in result.scalars().all():
                posts = await user.awaitable_attrs.posts
                lines.append(f"{user.username} has {len(posts)} posts")
            return lines

    try:
        user = await create_user("async_user", "async@example.com")
        found_user = await get_user_by_username("async_user")
        assert found_user is not None and found_user.id == user.id
        lines = await get_users_with_posts()
        for line in lines:
            print(line)
        return lines
    finally:
        async with async_engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
        await async_engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(os.environ.get("ASYNC_DATABASE_URL", "sqlite+aiosqlite:///./async_orm.db")))
