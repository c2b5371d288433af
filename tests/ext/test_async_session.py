"""AsyncSession, async_sessionmaker, async_scoped_session and AsyncAttrs on every async driver."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from athanor import ForeignKey, String, event, exc, func, select
from athanor.ext.asyncio import (
    AsyncAttrs,
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_scoped_session,
    async_sessionmaker,
)
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from athanor.sql.elements import text
from athanor.util.async_adapter import wait_for_background_closes
from backends import Backend, settled
from ext.test_async_cancellation import _engine, _open_transactions, _server_sleep

pytestmark = pytest.mark.usefixtures("async_driver")


class Base(AsyncAttrs, DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[str] = mapped_column(String(100))
    posts: Mapped[list[Post]] = relationship(back_populates="author", cascade="all, delete-orphan")


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User] = relationship(back_populates="posts")


def run(backend: Backend, body: Callable[[AsyncEngine], Awaitable[Any]], **kw: Any) -> Any:
    """Run ``body(engine)`` with the tables created; checks that no connection leaked."""

    async def main() -> Any:
        engine = _engine(backend, **kw)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            outcome = await body(engine)
            await wait_for_background_closes()
            assert engine.pool.checkedout() == 0
            return outcome
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _server_transactions_settle(backend: Backend) -> int:
    if backend.name == "sqlite":
        return 0
    return settled(lambda: _open_transactions(backend))


def test_seed_async_crud(backend: Backend) -> None:
    """The async CRUD of the tutorial: a factory with expire_on_commit=False, objects used
    after their session is closed."""

    async def body(engine: AsyncEngine) -> None:
        AsyncSessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

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

        user = await create_user("async_user", "async@example.com")
        assert user.id is not None and user.username == "async_user"
        found = await get_user_by_username("async_user")
        assert found is not None and found is not user
        assert (found.id, found.email) == (user.id, "async@example.com")
        assert await get_user_by_username("nobody") is None

    run(backend, body)


def test_session_methods(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        factory = async_sessionmaker(engine)
        async with factory.begin() as session:
            session.add_all([User(username=f"u{i}", email=f"u{i}@x") for i in range(3)])
            alice = User(username="alice", email="a@x", posts=[Post(title="p1")])
            session.add(alice)
            await session.flush()
            assert alice.id is not None and alice in session
            assert await session.scalar(select(func.count()).select_from(User)) == 4
            alice_id = alice.id
        async with factory() as session:
            alice = await session.get_one(User, alice_id)
            assert alice.username == "alice"
            assert await session.get(User, 10_000) is None
            with pytest.raises(exc.NoResultFound):
                await session.get_one(User, 10_000)
            names = (await session.scalars(select(User.username).order_by(User.username))).all()
            assert names == ["alice", "u0", "u1", "u2"]
            alice.email = "changed@x"
            assert list(session.dirty) == [alice]
            await session.rollback()
            await session.refresh(alice)
            assert alice.email == "a@x"
            session.expire(alice, ["email"])
            await session.refresh(alice, ["email"])
            assert alice.email == "a@x"
            async with session.begin_nested():
                session.add(User(username="gone", email="g@x"))
            assert session.in_transaction()
            try:
                async with session.begin_nested():
                    session.add(User(username="rolled", email="r@x"))
                    await session.flush()
                    raise RuntimeError("back to the savepoint")
            except RuntimeError:
                pass
            await session.commit()
            usernames = set((await session.scalars(select(User.username))).all())
            assert "gone" in usernames and "rolled" not in usernames
            merged = await session.merge(User(id=alice_id, username="alice", email="m@x"))
            assert merged is alice and alice.email == "m@x"
            await session.delete(alice)
            await session.commit()
            assert await session.scalar(select(func.count()).select_from(Post)) == 0
        async with factory() as session:
            streamed = []
            async with session.stream_scalars(select(User).order_by(User.id)) as objects:
                async for user in objects:
                    streamed.append(user.username)
            assert streamed == ["u0", "u1", "u2", "gone"]
            result = await session.stream(select(User.username).where(User.username == "u1"))
            assert (await result.all()) == [("u1",)]

    run(backend, body)


def test_connection_run_sync_info_and_invalidate(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        session = AsyncSession(engine, info={"tenant": 7})
        assert session.info is session.sync_session.info and session.info["tenant"] == 7
        conn = await session.connection()
        assert isinstance(conn, AsyncConnection) and conn.in_transaction()
        assert await conn.scalar(text("SELECT 5")) == 5

        def sync_work(sync_session: Session, name: str) -> int:
            sync_session.add(User(username=name, email="s@x", posts=[Post(title="t")]))
            sync_session.flush()
            user = sync_session.scalars(select(User)).one()
            return len(user.posts)  # a lazy load is fine inside run_sync

        assert await session.run_sync(sync_work, "sync") == 1
        await session.invalidate()
        assert not session.in_transaction()
        async with AsyncSession(engine) as fresh:
            # the invalidated session's uncommitted rows are gone
            assert await fresh.scalar(select(func.count()).select_from(User)) == 0
        await session.close()

    run(backend, body)


def test_events_reach_the_sync_session(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        seen: list[str] = []
        factory = async_sessionmaker(engine)
        event.listen(factory, "before_commit", lambda s: seen.append("factory"))
        async with factory() as session:
            event.listen(session, "after_flush", lambda s, ctx: seen.append("instance"))
            event.listen(session.sync_session, "after_commit", lambda s: seen.append("sync"))
            session.add(User(username="e", email="e@x"))
            await session.commit()
        async with AsyncSession(engine) as other:  # not made by the factory
            other.add(User(username="f", email="f@x"))
            await other.commit()
        assert seen == ["factory", "instance", "sync"]

    run(backend, body)


def test_lazy_load_outside_the_bridge_names_the_attribute_and_the_fixes(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        factory = async_sessionmaker(engine, expire_on_commit=False)
        async with factory() as session:
            session.add(User(username="lazy", email="l@x", posts=[Post(title="p")]))
            await session.commit()
        async with factory() as session:
            user = (await session.scalars(select(User))).one()
            with pytest.raises(exc.MissingGreenlet) as caught:
                _ = user.posts
            message = str(caught.value)
            for needed in ("User.posts", "selectinload(User.posts)", "awaitable_attrs.posts"):
                assert needed in message
            assert 'lazy="raise"' in message
            assert [p.title for p in await user.awaitable_attrs.posts] == ["p"]
            assert user.posts[0].author is user  # loaded now: plain access works
            session.expire(user, ["email"])
            with pytest.raises(exc.MissingGreenlet, match=r"User\.email") as caught:
                _ = user.email
            assert "await session.refresh(obj)" in str(caught.value)
            assert await user.awaitable_attrs.email == "l@x"
            # the refused loads left the session usable
            assert await session.scalar(select(func.count()).select_from(Post)) == 1

    run(backend, body)


def test_refused_lazy_load_is_caught_as_sqlalchemy_raises_it(backend: Backend) -> None:
    """Bare (``except MissingGreenlet``) or as a StatementError whose ``orig`` says why, with
    the code ``xd2s``: the two forms code written for SQLAlchemy catches."""

    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            session.add(User(username="code", email="c@x"))
            await session.commit()
            user = (await session.scalars(select(User))).one()
            try:
                _ = user.posts
            except exc.StatementError as wrapped:
                assert isinstance(wrapped.orig, exc.MissingGreenlet)
                assert wrapped.code == wrapped.orig.code == "xd2s"
                assert isinstance(wrapped, exc.InvalidRequestError)
            else:
                pytest.fail("a lazy load outside the bridge was not refused")
            session.expire(user)
            with pytest.raises(exc.MissingGreenlet) as caught:
                _ = user.email
            assert caught.value.code == "xd2s"
            async with engine.connect() as conn:
                with pytest.raises(exc.MissingGreenlet) as caught:
                    conn.sync_connection.execute(text("SELECT 1"))
                assert caught.value.code == "xd2s"

    run(backend, body)


def test_execute_refuses_sync_use_and_stream_results(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            with pytest.raises(TypeError, match="async with"), session:
                pass
            with pytest.raises(exc.InvalidRequestError, match="stream"):
                await session.execute(select(User.id), execution_options={"stream_results": True})

    run(backend, body)


def test_async_scoped_session_is_per_task(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        registry = async_scoped_session(
            async_sessionmaker(engine, expire_on_commit=False), scopefunc=asyncio.current_task
        )

        async def handler(n: int) -> tuple[int, int]:
            session = registry()
            assert registry() is session and registry.has()
            registry.add(User(username=f"t{n}", email="t@x"))
            await registry.commit()
            count = await registry.scalar(select(func.count()).select_from(User))
            ident = id(session)
            await registry.remove()
            assert not registry.has()
            return ident, count

        outcomes = await asyncio.gather(*(handler(n) for n in range(5)))
        assert len({ident for ident, _ in outcomes}) == 5
        async with AsyncSession(engine) as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 5

    run(backend, body)


@pytest.mark.backends("postgresql", "mysql")
def test_cancelled_query_leaves_nothing_behind(backend: Backend) -> None:
    sleep_sql = _server_sleep(backend, 5)
    assert sleep_sql is not None

    async def body(engine: AsyncEngine) -> int:
        factory = async_sessionmaker(engine)

        async def request() -> None:
            async with factory() as session:
                session.add(User(username="cancelled", email="c@x"))
                await session.flush()
                await session.execute(text(sleep_sql))

        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(request(), 0.3)
        assert time.monotonic() - started < 4
        await wait_for_background_closes()
        assert engine.pool.checkedout() == 0
        async with factory() as session:  # the next request on the pool is served correctly
            assert await session.scalar(select(func.count()).select_from(User)) == 0
            assert await session.scalar(text("SELECT 41 + 1")) == 42
        return 0

    run(backend, body, pool_size=1, max_overflow=0)
    assert _server_transactions_settle(backend) == 0


def test_cancelled_flush_leaves_nothing_behind(backend: Backend) -> None:
    """Cancel a task while its flush waits between two INSERTs (the pause is an awaited sleep
    inside the statement hook, so the cancellation lands mid-flush)."""

    async def body(engine: AsyncEngine) -> None:
        from athanor.util.concurrency import await_only

        def pause(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO POSTS"):
                await_only(asyncio.sleep(5))

        event.listen(engine.sync_engine, "before_cursor_execute", pause)
        factory = async_sessionmaker(engine)

        async def request() -> None:
            async with factory() as session:
                session.add(User(username="half", email="h@x", posts=[Post(title="p")]))
                await session.commit()

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(request(), 0.3)
        event.remove(engine.sync_engine, "before_cursor_execute", pause)
        await wait_for_background_closes()
        assert engine.pool.checkedout() == 0
        async with factory() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 0
            session.add(User(username="whole", email="w@x", posts=[Post(title="p")]))
            await session.commit()
            assert await session.scalar(select(func.count()).select_from(Post)) == 1

    run(backend, body, pool_size=1, max_overflow=0)
    assert _server_transactions_settle(backend) == 0


def test_execute_reads_every_object_before_returning(backend: Backend) -> None:
    """An ORM result of AsyncSession.execute holds every row already: its connection is back
    in the pool before the first row is read, and fetchmany / scalars read all objects."""

    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            session.add_all(
                [User(username=f"buf{i}", email=f"buf{i}@example.com") for i in range(5)]
            )
            await session.commit()
        async with AsyncSession(engine) as session:
            stmt = select(User).where(User.username.like("buf%")).order_by(User.username)
            result = await session.execute(stmt)
            await session.close()
            assert engine.pool.checkedout() == 0
            first = result.fetchmany(2)
            rest = result.scalars().all()
            names = [row[0].username for row in first] + [u.username for u in rest]
            assert names == [f"buf{i}" for i in range(5)]
            assert result.fetchone() is None

    run(backend, body)


def test_buffered_objects_log_their_rows_and_follow_yield_per(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """All rows are fetched and turned into objects at once inside execute(): each row is
    still logged under echo="debug", and a yield_per result (converted batch by batch) gives
    the same objects in the same order."""

    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            session.add_all(
                [User(username=f"logged{i}", email=f"logged{i}@example.com") for i in range(5)]
            )
            await session.commit()
        stmt = select(User).where(User.username.like("logged%")).order_by(User.username)
        async with AsyncSession(engine) as session:
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="athanor.engine"):
                users = (await session.scalars(stmt)).all()
            logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Row")]
            assert [u.username for u in users] == [f"logged{i}" for i in range(5)]
            assert len(logged) == 5
            assert all(f"logged{i}" in message for i, message in enumerate(logged))
        async with AsyncSession(engine) as session:
            result = await session.execute(stmt.execution_options(yield_per=2))
            assert [u.username for u in result.scalars()] == [f"logged{i}" for i in range(5)]

    run(backend, body, echo="debug")


def test_scalars_and_scalar_pass_every_argument_on(backend: Backend) -> None:
    """scalars() and scalar() reach the bridge without execute(): execution options (here
    populate_existing), bind arguments and parameters still apply, load listeners added after
    the first select run for the next one, and a from_statement() select loads objects."""

    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            session.add(User(username="passed", email="before@example.com"))
            await session.commit()
        by_name = select(User).where(User.username == "passed")
        async with AsyncSession(engine) as session:
            user = (await session.scalars(by_name)).one()
            await session.execute(
                text("UPDATE users SET email = 'after@example.com' WHERE username = 'passed'")
            )
            assert (await session.scalars(by_name)).one().email == "before@example.com"
            refreshed = (
                await session.scalars(by_name, execution_options={"populate_existing": True})
            ).one()
            assert refreshed is user and user.email == "after@example.com"
            assert (
                await session.scalar(select(User.email), bind_arguments={"mapper": User})
                == "after@example.com"
            )
            named = text("SELECT * FROM users WHERE username = :name")
            found = await session.scalars(select(User).from_statement(named), {"name": "passed"})
            assert found.one() is user
        loaded: list[str] = []

        def on_load(target: User, context: Any) -> None:
            loaded.append(target.username)

        event.listen(User, "load", on_load)
        try:
            async with AsyncSession(engine) as session:
                assert (await session.scalars(by_name)).one().username == "passed"
        finally:
            event.remove(User, "load", on_load)
        assert loaded == ["passed"]

    run(backend, body)


def test_entity_selects_by_key_in_one_session(backend: Backend) -> None:
    """Many (await session.scalars(select(User).where(User.id == i))).one() in one session,
    rows fetched as each statement runs: the right objects, one per identity, a missing key
    raising NoResultFound and a load listener still seeing objects made as fetched."""

    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            session.add_all([User(username=f"k{i}", email=f"k{i}@x") for i in range(5)])
            await session.commit()
            ids = (await session.scalars(select(User.id).order_by(User.id))).all()
            for _ in range(2):
                users = [
                    (await session.scalars(select(User).where(User.id == i))).one() for i in ids
                ]
                assert [u.username for u in users] == [f"k{i}" for i in range(5)]
            again = (await session.scalars(select(User).where(User.id == ids[0]))).one()
            assert again is users[0]
            with pytest.raises(exc.NoResultFound):
                (await session.scalars(select(User).where(User.id == -1))).one()
            loaded: list[str] = []
            listener = lambda target, context: loaded.append(target.username)  # noqa: E731
            event.listen(User, "load", listener)
            try:
                del users, again
                session.expunge_all()
                result = await session.scalars(select(User).where(User.id == ids[1]))
                assert loaded == ["k1"]  # buffered: made inside the bridge, as fetched there
                assert result.one().username == "k1"
            finally:
                event.remove(User, "load", listener)
            await session.rollback()

    run(backend, body)


def test_options_and_binds_reach_the_sync_session(backend: Backend) -> None:
    # Only the options given are passed on; binds are handed over as the sync engines.
    async def body(engine: AsyncEngine) -> None:
        plain = AsyncSession(engine)
        assert plain.sync_session.bind is engine.sync_engine
        assert plain.sync_session.expire_on_commit and plain.sync_session.autoflush
        bound = AsyncSession(binds={User: engine}, expire_on_commit=False)
        assert bound.sync_session.bind is None
        assert bound.sync_session.get_bind(User) is engine.sync_engine
        assert not bound.sync_session.expire_on_commit
        async with bound:
            user = User(username="b", email="b@x")
            bound.add(user)
            await bound.commit()
            assert user.username == "b"  # not expired: no load needed
        await plain.close()

    run(backend, body)
