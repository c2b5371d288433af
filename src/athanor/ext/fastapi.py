"""FastAPI glue: a per-request session dependency made from a session factory.

``get_db = session_dependency(SessionLocal)`` gives what the per-request pattern spells out by
hand: a session opened for the request, committed when the route returns, rolled back when it
raises, and always closed so its connection goes back to the pool.  An ``async_sessionmaker``
gives an async dependency.  Nothing here imports FastAPI; use it with ``Depends(get_db)``.

Why the sync dependency is an ``async def`` generator: FastAPI runs sync routes in a thread
pool (anyio's, 40 threads by default), and the hand-written ``def get_db(): ... finally:
db.close()`` returns the connection only at teardown, after the route's thread is gone.  When
something between the route's return and that teardown needs a thread of the same pool (the
validation of a sync route's ``response_model`` or return annotation, sync background tasks),
more than ``40 + pool_size + max_overflow`` concurrent requests can leave every thread blocked
in a pool checkout while every connection belongs to a request waiting for a thread: nothing
moves until the pool timeout fails the waiting checkouts.  The dependency made here admits at
most ``pool_size + max_overflow`` requests at a time, waiting in the event loop (not in a
thread) before the route starts, and ends the session in a thread outside that pool, so a
checkout made by an admitted request never waits on a request that needs a thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from athanor import exc
from athanor.engine import Engine
from athanor.ext.asyncio.session import AsyncSession, async_sessionmaker
from athanor.orm.session import Session
from athanor.pool import QueuePool


def session_dependency(
    factory: Callable[[], Any], *, commit: bool = True
) -> Callable[[], AsyncIterator[Any]]:
    """A FastAPI dependency yielding a session from ``factory`` for one request.

    With ``commit=True`` the session commits after the route returns without error; any error
    rolls it back.  ``async_sessionmaker`` gives an AsyncSession; ``sessionmaker`` a Session
    for sync (or async) routes, with requests beyond the bound engine's ``pool_size +
    max_overflow`` waiting their turn in the event loop, for up to the pool timeout, before
    the route runs (see the module docstring for the thread-pool stall this prevents).
    """
    if isinstance(factory, async_sessionmaker) or (
        isinstance(factory, type) and issubclass(factory, AsyncSession)
    ):

        async def get_async_session() -> AsyncIterator[AsyncSession]:
            async with factory() as session:
                try:
                    yield session
                    if commit:
                        await session.commit()
                except BaseException:
                    await session.rollback()
                    raise

        return get_async_session

    from anyio import CancelScope, CapacityLimiter, Semaphore, fail_after, to_thread
    from anyio.lowlevel import RunVar

    admission: RunVar[Semaphore] = RunVar("athanor_session_admission")

    async def get_session() -> AsyncIterator[Session]:
        limit = _concurrency_limit(factory)
        slots = None
        if limit is not None:
            slots = admission.get(None)
            if slots is None:
                slots = Semaphore(limit[0])
                admission.set(slots)
            try:
                with fail_after(limit[1]):
                    await slots.acquire()
            except TimeoutError:
                raise exc.TimeoutError(
                    f"{limit[0]} requests already hold this dependency's sessions (the pool's "
                    f"pool_size + max_overflow) and none ended within {limit[1]:.2f} seconds "
                    "(the pool timeout); raise pool_size, max_overflow or pool_timeout"
                ) from None
        try:
            session = cast(Session, factory())
            succeeded = False
            try:
                yield session
                succeeded = True
            finally:
                # Ending the session (I/O) runs in a thread of its own, never in the loop nor
                # waiting for a thread of the pool the routes run in; a cancelled request
                # still returns its connection.
                with CancelScope(shield=True):
                    await to_thread.run_sync(
                        _end_session, session, commit and succeeded, limiter=CapacityLimiter(1)
                    )
        finally:
            if slots is not None:
                slots.release()

    return get_session


def _end_session(session: Session, commit: bool) -> None:
    """Commit when asked, then close (a failed commit, or no commit, rolls back)."""
    try:
        if commit:
            session.commit()
    finally:
        session.close()


def _concurrency_limit(factory: Callable[[], Any]) -> tuple[int, float] | None:
    """(sessions that may be open at once, seconds to wait for a turn) for ``factory``'s
    engines: the smallest ``pool_size + max_overflow`` among bounded queue pools, else None."""
    kw: dict[str, Any] = getattr(factory, "kw", {})
    engines = [kw.get("bind"), *(kw.get("binds") or {}).values()]
    limits = [
        (pool.size() + pool._max_overflow, pool.timeout())
        for engine in engines
        if isinstance(engine, Engine)
        and isinstance(pool := engine.pool, QueuePool)
        and pool.size() > 0
        and pool._max_overflow >= 0
    ]
    return min(limits) if limits else None
